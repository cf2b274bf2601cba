"""Codex reader throughput against the floor of merely parsing the same bytes with orjson.

Inputs: the real ITBench rollout in ../shared/data (1 MB, 119 rows) and a synthetic rollout built from it by
repeating its rows (with fresh call ids) to about 50 MB. Figures: MB/s for parse-only (read + orjson.loads per
line), for the reader alone (CodexReader.read -> Trace), and for a full ingest into a temporary store (read,
outcome, fingerprint, DuckDB write), each best of REPEATS. Target (issue 13): the ingest of the ~53 MB rollout at
least 0.6x parse-only speed.
Run: .venv/bin/python benchmarks/codex_reader.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine  # noqa: E402
from agentmortem.ingest import ingest  # noqa: E402
from agentmortem.readers.codex import CodexReader  # noqa: E402
from agentmortem.store import Store  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
ROLLOUT = DATA / "itbench/agent_outputs/2/1/sessions/rollout-2026-01-15T12-15-06-diagnosis.jsonl"
TARGET_BYTES = 50 * 1024 * 1024
REPEATS = 5
TARGET = 0.6


def synthetic(path: Path) -> None:
    """The real rollout's rows repeated to TARGET_BYTES, call ids renamed per copy so pairing stays one-to-one."""
    rows = ROLLOUT.read_bytes().splitlines()
    header, body = rows[0], rows[1:]
    size, copy = 0, 0
    with path.open("wb") as out:
        out.write(header + b"\n")
        while size < TARGET_BYTES:
            for row in body:
                line = row.replace(b"chatcmpl-tool-", f"copy{copy}-".encode()) + b"\n"
                out.write(line)
                size += len(line)
            copy += 1


def parse_only(path: Path) -> float:
    start = time.perf_counter()
    for line in path.read_bytes().split(b"\n"):
        if line.strip():
            orjson.loads(line)
    return time.perf_counter() - start


def reader_only(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    steps = sum(len(t.steps) for t in CodexReader().read(path, []))
    return time.perf_counter() - start, steps


def full_ingest(path: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.duckdb") as store:
        start = time.perf_counter()
        report = ingest([path], store, format="codex")
        elapsed = time.perf_counter() - start
    assert report.read == 1 and not report.errors, report.errors
    return elapsed


def best(fn, path: Path) -> float:  # type: ignore[no-untyped-def]
    return min(fn(path) for _ in range(REPEATS))


def main() -> None:
    if not ROLLOUT.exists():
        sys.exit(f"real data not available: {ROLLOUT} is absent")
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "rollout-synthetic.jsonl"
        synthetic(big)
        for path in (ROLLOUT, big):
            megabytes = path.stat().st_size / 1e6
            parse = best(parse_only, path)
            read = min(reader_only(path)[0] for _ in range(REPEATS))
            steps = reader_only(path)[1]
            store = best(full_ingest, path)
            print(f"{path.name}: {megabytes:.1f} MB, {steps} steps")
            print(f"  parse-only  {megabytes / parse:8.1f} MB/s")
            print(f"  reader      {megabytes / read:8.1f} MB/s  ({parse / read:.2f} of parse-only)")
            verdict = "met" if parse / store >= TARGET else "NOT met"
            share = f"{parse / store:.2f} of parse-only; {verdict} at {TARGET}"
            print(f"  ingest      {megabytes / store:8.1f} MB/s  ({share})")


if __name__ == "__main__":
    main()
