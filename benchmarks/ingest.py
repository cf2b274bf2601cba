"""Ingest throughput on the real data in ../shared/data, next to the speed of merely parsing the same bytes.

The floor any reader must pay is parsing the JSON; the target is that a full ingest into the store (read,
normalise, fingerprint, write in transactions) runs at no less than a third of the parse-only speed, best of five.
Parse-only and ingest runs alternate, so background load on a shared machine hits both alike; every run's ratio is
printed with the min and median, and the target is judged on the best of each.
Run: .venv/bin/python benchmarks/ingest.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine  # noqa: E402
from _parse import parse_only  # noqa: E402
from agentmortem.ingest import ingest  # noqa: E402
from agentmortem.store import Store  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SOURCES = ["mad-openai/ag2_gpt4o.jsonl", "mad-openai/metagpt_gpt4o.jsonl", "mad-original", "itbench/agent_outputs"]
REPEATS = 5


def trace_files() -> list[Path]:
    files: list[Path] = []
    for source in SOURCES:
        path = DATA / source
        files += sorted(p for p in path.rglob("*") if p.suffix in {".json", ".jsonl"}) if path.is_dir() else [path]
    return files


def full_ingest() -> tuple[float, int, int]:
    """Seconds for a full ingest into a fresh store; traces and errors."""
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.duckdb") as store:
        start = time.perf_counter()
        report = ingest([DATA / s for s in SOURCES], store)
        return time.perf_counter() - start, report.read, len(report.errors)


def main() -> None:
    if not DATA.exists():
        print(f"skipped: {DATA} is absent (see the README's data section)")
        return
    files = trace_files()
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    parses, runs = [], []
    for _ in range(REPEATS):
        parses.append(parse_only(files))
        runs.append(full_ingest())
    parse_s = min(parses)
    ingest_s, traces, errors = min(runs)
    ratios = [parse / run[0] for parse, run in zip(parses, runs, strict=True)]
    print(f"machine: {machine()}")
    print(f"input: {len(files)} files, {megabytes:.1f} MB, {traces} traces, {errors} read errors")
    print(f"parse only (orjson): {megabytes / parse_s:8.1f} MB/s  ({parse_s * 1000:.0f} ms, best of {REPEATS})")
    rate = f"{ingest_s * 1000:.0f} ms, {traces / ingest_s:.0f} traces/s, best of {REPEATS}"
    print(f"full ingest:        {megabytes / ingest_s:8.1f} MB/s  ({rate})")
    print(f"per-run ratios: {' '.join(f'{r:.2f}' for r in ratios)} (min {min(ratios):.2f}, median "
          f"{statistics.median(ratios):.2f})")  # fmt: skip
    ratio = parse_s / ingest_s
    print(f"ingest speed / parse-only speed, best of {REPEATS}: {ratio:.2f} "
          f"(target >= 0.33: {'met' if ratio >= 1 / 3 else 'NOT met'})")  # fmt: skip


if __name__ == "__main__":
    main()
