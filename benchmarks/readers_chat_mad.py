"""Throughput of the openai and mad readers on the real MAD data, against raw orjson parsing of the same bytes.

Three figures per source, best of REPEATS: parse-only (read the bytes, orjson each record), reader-only (the reader
yields Trace objects), and a full ingest into a fresh store (reader, outcomes, fingerprints, DuckDB writes, embedded
labels). The target is that ingest keeps at least a third of the parse-only speed.
Run: .venv/bin/python benchmarks/readers_chat_mad.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import best_of, machine  # noqa: E402
from agentmortem.ingest import ingest  # noqa: E402
from agentmortem.readers import ReadError, get_reader  # noqa: E402
from agentmortem.store import Store  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SOURCES = {
    "openai": ["mad-openai/ag2_gpt4o.jsonl", "mad-openai/metagpt_gpt4o.jsonl"],
    "mad": ["mad-original/trace_0_ChatDev.json", "mad-original/trace_1_ChatDev.json", "mad-original/human_sample.json"],
}
REPEATS = 5


def parse_only(files: list[Path]) -> None:
    """Read and orjson-parse every record (JSONL line by line)."""
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".jsonl":
            for line in data.split(b"\n"):
                if line.strip():
                    orjson.loads(line)
        else:
            orjson.loads(data)


def reader_only(fmt: str, files: list[Path]) -> int:
    """Traces the reader yields."""
    reader, errors = get_reader(fmt), list[ReadError]()
    return sum(1 for path in files for _ in reader.read(path, errors))


def full_ingest(fmt: str, files: list[Path]) -> None:
    """Ingest into a fresh store."""
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.duckdb") as store:
        report = ingest(files, store, format=fmt)
        assert report.ok, report.errors


def main() -> None:
    """Print parse-only, reader-only and ingest throughput per format."""
    if not DATA.exists():
        print(f"skipped: {DATA} is absent")
        return
    print(f"machine: {machine()}")
    for fmt, names in SOURCES.items():
        files = [DATA / n for n in names]
        size = sum(p.stat().st_size for p in files) / 1e6
        traces = reader_only(fmt, files)
        parse = best_of(lambda files=files: parse_only(files), REPEATS)
        read = best_of(lambda fmt=fmt, files=files: reader_only(fmt, files), REPEATS)
        full = best_of(lambda fmt=fmt, files=files: full_ingest(fmt, files), REPEATS)
        print(
            f"{fmt}: {len(files)} files, {size:.2f} MB, {traces} traces | parse-only {size / parse:.0f} MB/s | "
            f"reader {size / read:.1f} MB/s ({parse / read:.2f}x parse) | ingest {size / full:.1f} MB/s "
            f"({parse / full:.3f}x parse)"
        )


if __name__ == "__main__":
    main()
