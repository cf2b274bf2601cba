"""Ingest: read trace files, settle each trace's outcome, and store the traces in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

from agentmortem.identity import Collision, Duplicate, TraceIds, former_id
from agentmortem.label_formats.embedded import LABEL_WARNINGS_KEY, embedded_annotations
from agentmortem.model import Annotation, Outcome, Trace
from agentmortem.outcomes import DEFAULT_SUCCESS_THRESHOLD, GroundTruth, finalize_outcome, load_outcomes_file
from agentmortem.outcomes.itbench import load_ground_truths
from agentmortem.readers import ReadError, SideFile, read_traces
from agentmortem.store import Store

INGEST_MEMORY_LIMIT = "512MB"
"""DuckDB's memory cap while ingesting; with it, peak memory stays flat however large the input (see README)."""
BATCH_TRACES = 2000
BATCH_CHARS = 32_000_000
"""A batch is written in one transaction once it holds BATCH_TRACES traces or BATCH_CHARS characters of step
content: large enough to amortise each commit's fixed cost, small enough to bound memory."""


_CONTENT = attrgetter("content")


@dataclass
class IngestReport:
    """What an ingest did. Every trace read is accounted for: `read == added + replaced + unchanged + duplicates`."""

    read: int = 0
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    steps: int = 0
    annotated: int = 0
    """Traces annotated inline by the `annotate` callable, if one was given."""
    errors: list[ReadError] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    """Traces read twice in this ingest (same id, same content): stored once."""
    collisions: list[Collision] = field(default_factory=list)
    """Different traces that claimed one id: all stored, the later ones under a suffixed id."""
    renamed: list[tuple[str, str]] = field(default_factory=list)
    """`(former id, id)` of stored traces renamed to the id scheme of this version (counted as unchanged)."""
    skipped: list[SideFile] = field(default_factory=list)
    """Label, ground-truth and outcome files met beside the traces and left to the commands that take them."""
    warnings: list[str] = field(default_factory=list)
    """Doubts about what was read, one line each (e.g. an ITBench outcome the session did not write)."""
    label_warnings: list[str] = field(default_factory=list)
    """Labels inside the traces' records that map to no mode (the reader's `label_warnings`), one line each."""

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.errors

    @property
    def accounted(self) -> bool:
        """True when every trace read was added, replaced, left unchanged or recognised as a duplicate."""
        return self.read == self.added + self.replaced + self.unchanged + len(self.duplicates)


def ingest(
    paths: Iterable[str | Path],
    store: Store,
    *,
    format: str | None = None,
    outcomes_file: str | Path | None = None,
    model: str | None = None,
    success_threshold: float = DEFAULT_SUCCESS_THRESHOLD,
    on_trace: Callable[[Trace], None] | None = None,
    ground_truth: str | Path | None = None,
    annotate: Callable[[Trace], Annotation] | None = None,
) -> IngestReport:
    """Read every trace under `paths` and store it; bad files are reported in `IngestReport.errors`.

    `model` overrides the model name of every trace (for sources that do not record it). Outcomes from
    `outcomes_file` take precedence over those found beside or inside the traces. `ground_truth` (an ITBench
    ground-truth YAML, ground_truths.json or a folder of them) scores ITBench runs that have no judge_output.json.
    `annotate` judges each trace as it is read and stores the annotation with the trace: for judges cheap enough to
    run inline (the offline detectors), it saves reading every trace back from the store to annotate it.
    """
    report = IngestReport()
    external: dict[str, Outcome] = {}
    if outcomes_file is not None:
        try:
            external = load_outcomes_file(Path(outcomes_file), errors=report.errors)
        except ReadError as exc:
            report.errors.append(exc)
    truths: dict[str, GroundTruth] | None = None
    if ground_truth is not None:
        try:
            truths = load_ground_truths(Path(ground_truth), errors=report.errors)
        except ReadError as exc:
            report.errors.append(exc)
    batch: list[Trace] = []
    inline: list[Annotation] = []
    batch_chars = 0
    ids = TraceIds()
    store.limit_memory(INGEST_MEMORY_LIMIT)
    try:
        for trace in read_traces(paths, report.errors, format=format, skipped=report.skipped, ids=ids):
            if model is not None:
                trace.model = model
            finalize_outcome(trace, external=external, success_threshold=success_threshold, ground_truths=truths)
            if trace.outcome.warnings:
                report.warnings.extend(f"{trace.id}: {warning}" for warning in trace.outcome.warnings)
            report.read += 1
            report.steps += len(trace.steps)
            if LABEL_WARNINGS_KEY in trace.metadata:
                report.label_warnings.extend(f"{trace.id}: {w}" for w in trace.metadata[LABEL_WARNINGS_KEY])
            batch.append(trace)
            if annotate is not None:
                inline.append(annotate(trace))
            batch_chars += sum(map(len, map(_CONTENT, trace.steps)))
            if on_trace is not None:
                on_trace(trace)
            if len(batch) >= BATCH_TRACES or batch_chars >= BATCH_CHARS:
                _flush(store, batch, inline, report)
                batch_chars = 0
        _flush(store, batch, inline, report)
    finally:
        store.limit_memory(None)  # back to DuckDB's default for what follows (annotate, report), even on error
    report.duplicates, report.collisions = ids.duplicates, ids.collisions
    report.read += len(ids.duplicates)
    return report


def _flush(store: Store, batch: list[Trace], inline: list[Annotation], report: IngestReport) -> None:
    if not batch:
        return
    renamed = [(trace, former) for trace in batch if (former := former_id(trace)) is not None]
    if renamed:
        report.renamed += store.adopt_former_ids([t for t, _ in renamed], [former for _, former in renamed])
    stats = store.add_traces(batch, annotations=[a for trace in batch for a in embedded_annotations(trace)] + inline)
    report.annotated += len(inline)
    inline.clear()
    report.added += stats.added
    report.replaced += stats.replaced
    report.unchanged += stats.unchanged
    batch.clear()
