"""Redaction speed on the real data, with the literal prefilter and without it, and proof that both agree.

Every text the LLM judge would send from ../shared/data (each step's content and tool arguments, each task) is
redacted twice per run: with the prefilter derived from the rules' patterns (`judges.literals`, the default) and
with it off (every rule's regex tried on every text). The outputs must be byte-identical; the figures are best of
REPEATS, alternating the two, in MB/s of text, as CPU time (redaction is single-threaded, and CPU time stays honest
on a machine other processes share) and wall time. Target: the prefilter at least 3x faster than trying every rule.
Run: .venv/bin/python benchmarks/redaction.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine  # noqa: E402
from agentmortem.judges.redact import Redactions, redact_text  # noqa: E402
from agentmortem.readers import ReadError, read_traces  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SOURCES = [("mad-openai/ag2_gpt4o.jsonl", "openai"), ("mad-openai/metagpt_gpt4o.jsonl", "openai"),
           ("mad-original", None), ("itbench/agent_outputs", "codex")]  # fmt: skip
REPEATS = 5
TARGET_SPEEDUP = 3.0


def shared_texts() -> list[str]:
    """What redaction sees in the shared data: step contents, tool arguments and tasks."""
    errors: list[ReadError] = []
    traces = [t for name, fmt in SOURCES for t in read_traces([DATA / name], errors, format=fmt)]
    if errors:
        sys.exit(f"unreadable shared data: {errors[0]}")
    texts = [s.content for t in traces for s in t.steps] + [t.task for t in traces if t.task is not None]
    return texts + [s.tool_args for t in traces for s in t.steps if s.tool_args is not None]


def redact_all(texts: list[str], *, prefilter: bool) -> tuple[list[str], Redactions]:
    tally = Redactions()
    return [redact_text(text, tally, prefilter=prefilter) for text in texts], tally


def timed(texts: list[str], *, prefilter: bool) -> tuple[float, float]:
    """CPU and wall seconds to redact every text once."""
    cpu, wall = time.process_time(), time.perf_counter()
    redact_all(texts, prefilter=prefilter)
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    if not all((DATA / name).exists() for name, _ in SOURCES):
        sys.exit(f"skipped: real data absent under {DATA}")
    texts = shared_texts()
    megabytes = sum(len(text.encode()) for text in texts) / 1e6
    (on, on_tally), (off, off_tally) = redact_all(texts, prefilter=True), redact_all(texts, prefilter=False)
    identical = on == off and on_tally.counts == off_tally.counts
    runs = [(timed(texts, prefilter=True), timed(texts, prefilter=False)) for _ in range(REPEATS)]
    on_cpu, on_wall = (min(run[0][i] for run in runs) for i in (0, 1))
    off_cpu, off_wall = (min(run[1][i] for run in runs) for i in (0, 1))
    print(machine())
    print(f"{len(texts)} texts, {megabytes:.1f} MB; best of {REPEATS}")
    figures = [("on  (derived literals)", on_cpu, on_wall), ("off (every rule tried)", off_cpu, off_wall)]
    for label, cpu, wall in figures:
        print(f"prefilter {label}: cpu {cpu:6.3f} s = {megabytes / cpu:6.1f} MB/s; wall {wall:6.3f} s")
    print(f"speed-up {off_cpu / on_cpu:.1f}x in CPU time (target >= {TARGET_SPEEDUP:.0f}x)")
    print(f"outputs byte-identical: {identical}; {on_tally.total} redactions {dict(on_tally.counts)}")
    if not identical:
        sys.exit("the prefilter changed a result")
    if off_cpu / on_cpu < TARGET_SPEEDUP:
        sys.exit("below target")


if __name__ == "__main__":
    main()
