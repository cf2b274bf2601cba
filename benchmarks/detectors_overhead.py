"""The whole `analyze` path (ingest with the offline detectors judging inline) against parsing the same bytes.

Target: in each of five runs, ingest with the detectors inline runs at no less than 0.2x the speed of merely
reading and orjson-parsing the same files (a ratio to parsing, not to ingest, so that a faster ingest does not
make the detectors' target harder to read). Inputs: the real data in ../shared/data (MAD as OpenAI-chat JSONL,
the ITBench run). Each run times parse-only, then the judged ingest, then a plain ingest, back to back, so
background load on a shared machine hits all three alike. Also printed: what the detectors add to a plain ingest,
their compute alone (traces in memory, no store) and `annotate_store` over traces read back from the store.
Ingest is timed as benchmarks/ingest.py times it: a fresh store is opened first, the `ingest` calls are timed.
Run: .venv/bin/python benchmarks/detectors_overhead.py
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
TARGET = 0.2


def source_files() -> list[Path]:
    """The trace files under SOURCES (what the parse-only peer reads)."""
    files: list[Path] = []
    for source in SOURCES:
        files += (
            sorted(p for p in source.rglob("*") if p.suffix in {".json", ".jsonl"}) if source.is_dir() else [source]
        )
    return files


def timed_ingest(tmp: Path, run: int, *, detectors: bool = False) -> tuple[float, Path]:
    """Ingest the sources into a fresh store; with `detectors`, judged inline as `analyze` does."""
    db = tmp / f"ingest-{run}-{detectors}.duckdb"
    judge, taxonomy = DetectorsJudge(), mast()
    annotate = (lambda trace: judge.annotate(trace, taxonomy)) if detectors else None
    with Store(db) as store:
        start = time.perf_counter()
        for source, fmt in zip(SOURCES, FORMATS, strict=True):
            ingest([source], store, format=fmt, annotate=annotate)
        elapsed = time.perf_counter() - start
    return elapsed, db


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
    files = source_files()
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    timed_ingest(Path(tempfile.mkdtemp()), -1, detectors=True)  # warm-up: imports, the taxonomy, regexes
    with tempfile.TemporaryDirectory() as tmp:
        parses, judged, plain = [], [], []
        for run in range(REPEATS):
            parses.append(parse_only(files))
            judged.append(timed_ingest(Path(tmp), run, detectors=True)[0])
            plain.append(timed_ingest(Path(tmp), run)[0])
        annotates = [timed_annotate(Path(tmp) / "ingest-0-False.duckdb") for _ in range(REPEATS)]
        annotate_s, annotated = min(annotates)
    traces = in_memory_traces()
    pure_s = min(timed_detectors(traces) for _ in range(REPEATS))
    steps = sum(len(t.steps) for t in traces)
    ratios = [parse / analyze for parse, analyze in zip(parses, judged, strict=True)]
    print(machine())
    print(f"{len(files)} files, {megabytes:.1f} MB, {len(traces)} traces, {steps} steps; {REPEATS} runs")
    print(
        f"parse only (orjson):                        {min(parses):7.3f} s best, {statistics.median(parses):.3f} median"
    )
    print(
        f"ingest with the detectors inline (analyze): {min(judged):7.3f} s best, {statistics.median(judged):.3f} median"
    )
    print(f"analyze speed / parse-only speed, each run: {' '.join(f'{r:.2f}' for r in ratios)} "
          f"(min {min(ratios):.2f}, median {statistics.median(ratios):.2f}; target >= {TARGET} in every run: "
          f"{'met' if min(ratios) >= TARGET else 'NOT met'})")  # fmt: skip
    ingest_s, inline_s = min(plain), min(judged)
    print(f"ingest alone:                               {ingest_s:7.3f} s best; the detectors inline add "
          f"{inline_s / ingest_s - 1:+.1%}")  # fmt: skip
    print(f"detectors alone, traces in memory:          {pure_s:7.3f} s ({pure_s / len(traces) * 1000:.2f} ms/trace)")
    print(f"detectors via annotate_store ({annotated} traces read back from the store): {annotate_s:7.3f} s")


def timed_detectors(traces: list[Trace]) -> float:
    judge, taxonomy = DetectorsJudge(), mast()
    start = time.perf_counter()
    for trace in traces:
        judge.annotate(trace, taxonomy)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
