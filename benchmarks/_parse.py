"""The parse-only peer the ingest benchmarks compare with: read each file and orjson-parse it, JSONL line by line."""

from __future__ import annotations

import time
from pathlib import Path

import orjson


def parse_only(files: list[Path]) -> float:
    """Seconds to read and orjson-parse every file (JSONL line by line, blank lines skipped)."""
    start = time.perf_counter()
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".jsonl":
            for line in data.splitlines():
                if line.strip():
                    orjson.loads(line)
        else:
            orjson.loads(data)
    return time.perf_counter() - start
