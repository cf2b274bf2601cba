"""Start-up time of the real console script against bare Python, in the same run.

Each command is timed as a user runs it: `.venv/bin/agentmortem …` as a subprocess, best of N wall times, next to
`python -c pass` with the same interpreter and environment. Target: `--help`, `formats` and `traces list` on a
small store (the examples/ folder ingested) each within 0.5 s of bare Python.

Two settings, because they load our own modules differently:
- no .pyc: PYTHONDONTWRITEBYTECODE=1 and no cache for the agentmortem sources, so they are compiled on every start
  (this development environment); installed libraries keep the caches pip wrote.
- .pyc cached: PYTHONPYCACHEPREFIX points to a fresh folder that a first, untimed run fills; what a user's machine
  sees after the first run.
The budget is judged on wall time, as a user waits; CPU time (user + system) is printed beside it because on a
machine shared with other work the wall time of a short process grows with the load and its CPU time much less.
Run: .venv/bin/python benchmarks/startup.py [N]   (N = repeats, default 10)
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SCRIPT = BIN / "agentmortem"
EXAMPLES = ROOT / "examples"
BUDGET = 0.5
"""Seconds a command may take beyond bare Python start."""


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run; the command must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best(argv: list[str], env: dict[str, str], repeats: int) -> tuple[float, float]:
    """Fastest wall and CPU time of `repeats` runs (the least disturbed by the rest of the machine)."""
    runs = [timed(argv, env) for _ in range(repeats)]
    return min(wall for wall, _ in runs), min(cpu for _, cpu in runs)


def settings(cache: Path) -> dict[str, dict[str, str]]:
    """The two environments compared, named as in the README."""
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    base["COLUMNS"] = "120"
    return {
        "no .pyc (PYTHONDONTWRITEBYTECODE=1)": {**base, "PYTHONDONTWRITEBYTECODE": "1"},
        ".pyc cached": {**base, "PYTHONPYCACHEPREFIX": str(cache)},
    }


def commands(db: Path) -> dict[str, list[str]]:
    """What is timed, bare Python first."""
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "agentmortem --help": [str(SCRIPT), "--help"],
        "agentmortem --version": [str(SCRIPT), "--version"],
        "agentmortem formats": [str(SCRIPT), "formats"],
        "agentmortem traces list": [str(SCRIPT), "--db", str(db), "traces", "list"],
    }


def main() -> int:
    """Print one table per setting; exit 1 when a target command is over budget."""
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    stale = ROOT / "src" / "agentmortem" / "__pycache__"
    print(f"machine: {machine()}; best of {repeats}; budget: bare Python + {BUDGET} s")
    if stale.exists():
        print(f"note: {stale} exists, so the 'no .pyc' figures read cached bytecode for our own modules")
    over = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "small.duckdb"
        subprocess.run([str(SCRIPT), "--db", str(db), "ingest", str(EXAMPLES)], check=True, capture_output=True)
        for name, env in settings(Path(tmp) / "pycache").items():
            runs = commands(db)
            for argv in runs.values():  # untimed: fills the .pyc cache, warms the file system cache
                subprocess.run(argv, env=env, check=True, capture_output=True)
            bare, bare_cpu = best(runs.pop("python -c pass"), env, repeats)
            print(f"\n{name}\n  {'python -c pass':<26} {bare:6.3f} s wall  {bare_cpu:6.3f} s CPU")
            for label, argv in runs.items():
                seconds, cpu = best(argv, env, repeats)
                verdict = "within budget" if seconds - bare <= BUDGET else "OVER BUDGET"
                print(
                    f"  {label:<26} {seconds:6.3f} s wall  {cpu:6.3f} s CPU  "
                    f"(+{seconds - bare:.3f} s wall, +{cpu - bare_cpu:.3f} s CPU: {verdict})"
                )
                if seconds - bare > BUDGET:
                    over.append(f"{label} [{name}]")
    if over:
        print(f"\nover budget: {', '.join(over)}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
