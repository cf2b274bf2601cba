"""What the detectors add to ingest: the time to judge traces offline next to the time to ingest them.

Target: running the detectors over a store costs no more than 50% of ingesting the same traces. Both are timed
on the real data in ../shared/data (MAD as OpenAI-chat JSONL, the ITBench run), best of REPEATS runs each, and
the pure detector time (traces already in memory, no store) is printed too.
Run: .venv/bin/python benchmarks/detectors_overhead.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine  # noqa: E402
from agentmortem.engines import annotate_store  # noqa: E402
from agentmortem.ingest import ingest  # noqa: E402
from agentmortem.judges.detectors import DetectorsJudge  # noqa: E402
from agentmortem.model import Trace  # noqa: E402
from agentmortem.readers import ReadError, read_traces  # noqa: E402
from agentmortem.store import Store  # noqa: E402
from agentmortem.taxonomy import mast  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SOURCES = [DATA / "mad-openai" / "ag2_gpt4o.jsonl", DATA / "mad-openai" / "metagpt_gpt4o.jsonl",
           DATA / "itbench" / "agent_outputs"]  # fmt: skip
FORMATS = ["openai", "openai", "codex"]
REPEATS = 5


def timed_ingest(tmp: Path, run: int, *, detectors: bool = False) -> tuple[float, Path]:
    """Ingest the sources into a fresh store; with `detectors`, judged inline as `analyze` does."""
    db = tmp / f"ingest-{run}-{detectors}.duckdb"
    judge, taxonomy = DetectorsJudge(), mast()
    annotate = (lambda trace: judge.annotate(trace, taxonomy)) if detectors else None
    start = time.perf_counter()
    with Store(db) as store:
        for source, fmt in zip(SOURCES, FORMATS, strict=True):
            ingest([source], store, format=fmt, annotate=annotate)
    return time.perf_counter() - start, db


def timed_annotate(db: Path) -> tuple[float, int]:
    with Store(db) as store:
        start = time.perf_counter()
        report = annotate_store(store, DetectorsJudge(), redo=True)
        return time.perf_counter() - start, report.annotated


def in_memory_traces() -> list[Trace]:
    errors: list[ReadError] = []
    traces = [t for s, f in zip(SOURCES, FORMATS, strict=True) for t in read_traces([s], errors, format=f)]
    return traces


def main() -> None:
    if not all(s.exists() for s in SOURCES):
        sys.exit(f"skipped: real data absent under {DATA}")
    with tempfile.TemporaryDirectory() as tmp:
        # Alternate plain and judged ingests so background load hits both alike; keep the best of each.
        plain, judged = [], []
        for run in range(REPEATS):
            plain.append(timed_ingest(Path(tmp), run))
            judged.append(timed_ingest(Path(tmp), run, detectors=True))
        ingest_s, inline_s = min(s for s, _ in plain), min(s for s, _ in judged)
        annotates = [timed_annotate(plain[0][1]) for _ in range(REPEATS)]
        annotate_s, annotated = min(annotates)
    traces = in_memory_traces()
    pure_s = min(timed_detectors(traces) for _ in range(REPEATS))
    steps = sum(len(t.steps) for t in traces)
    print(machine())
    print(f"{len(traces)} traces, {steps} steps; best of {REPEATS}")
    print(f"ingest (read + store):                     {ingest_s:7.3f} s")
    added = inline_s / ingest_s - 1
    print(f"ingest with the detectors inline (analyze): {inline_s:7.3f} s = +{added:.1%} (target <= +50%)")
    print(f"detectors alone, traces in memory:         {pure_s:7.3f} s = {pure_s / ingest_s:7.1%} of ingest "
          f"({pure_s / len(traces) * 1000:.2f} ms/trace)")  # fmt: skip
    share = annotate_s / ingest_s
    print(f"detectors via annotate_store ({annotated}, traces read back from the store): {annotate_s:7.3f} s = "
          f"{share:.1%} of ingest")  # fmt: skip


def timed_detectors(traces: list[Trace]) -> float:
    judge, taxonomy = DetectorsJudge(), mast()
    start = time.perf_counter()
    for trace in traces:
        judge.annotate(trace, taxonomy)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
