"""The machine a benchmark ran on, printed with every figure."""

from __future__ import annotations

import os
import platform


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
