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
REPEATS = 3


def timed_ingest(tmp: Path, run: int) -> tuple[float, Path]:
    db = tmp / f"ingest-{run}.duckdb"
    start = time.perf_counter()
    with Store(db) as store:
        for source, fmt in zip(SOURCES, FORMATS, strict=True):
            ingest([source], store, format=fmt)
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
        ingests = [timed_ingest(Path(tmp), run) for run in range(REPEATS)]
        ingest_s = min(seconds for seconds, _ in ingests)
        annotates = [timed_annotate(ingests[0][1]) for _ in range(REPEATS)]
        annotate_s, annotated = min(annotates)
    traces = in_memory_traces()
    pure_s = min(timed_detectors(traces) for _ in range(REPEATS))
    with tempfile.TemporaryDirectory() as tmp:
        batched_s = min(timed_batched(traces, Path(tmp), run) for run in range(REPEATS))
    steps = sum(len(t.steps) for t in traces)
    print(machine())
    print(f"{len(traces)} traces, {steps} steps; best of {REPEATS}")
    print(f"ingest (read + store):                    {ingest_s:7.3f} s")
    print(f"detectors alone, traces in memory:        {pure_s:7.3f} s = {pure_s / ingest_s:7.1%} of ingest "
          f"({pure_s / len(traces) * 1000:.2f} ms/trace)")  # fmt: skip
    print(f"detectors + one batched annotation write: {batched_s:7.3f} s = {batched_s / ingest_s:7.1%} of ingest")
    share = annotate_s / ingest_s
    print(
        f"detectors via annotate_store ({annotated}): {annotate_s:7.3f} s = {share:7.1%} of ingest (a write per trace)"
    )


def timed_detectors(traces: list[Trace]) -> float:
    judge, taxonomy = DetectorsJudge(), mast()
    start = time.perf_counter()
    for trace in traces:
        judge.annotate(trace, taxonomy)
    return time.perf_counter() - start


def timed_batched(traces: list[Trace], tmp: Path, run: int) -> float:
    """Detectors over traces as ingest hands them over, their annotations written in one transaction."""
    judge, taxonomy = DetectorsJudge(), mast()
    with Store(tmp / f"batched-{run}.duckdb") as store:
        store.add_traces(traces)
        start = time.perf_counter()
        store.put_annotations([judge.annotate(trace, taxonomy) for trace in traces])
        return time.perf_counter() - start


if __name__ == "__main__":
    main()
