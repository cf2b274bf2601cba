"""What every benchmark shares: the machine it ran on (printed with every figure) and best-of timing."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable


def machine() -> str:
    """One line: CPU model, cores, memory, Python."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            kib = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])
            memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}"


def best_of(run: Callable[[], object], repeats: int) -> float:
    """Fastest wall time of `repeats` runs, in seconds (the least disturbed by whatever else the machine does)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)
