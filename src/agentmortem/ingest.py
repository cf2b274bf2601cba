"""Ingest: read trace files, settle each trace's outcome, and store the traces in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from agentmortem.labels import embedded_annotations
from agentmortem.model import Outcome, Trace
from agentmortem.outcomes import DEFAULT_SUCCESS_THRESHOLD, finalize_outcome, load_outcomes_file
from agentmortem.readers import ReadError, read_traces
from agentmortem.store import Store

BATCH_SIZE = 64
"""Traces written per transaction: large enough to amortise commits, small enough to bound memory."""


@dataclass
class IngestReport:
    """What an ingest did."""

    read: int = 0
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    steps: int = 0
    errors: list[ReadError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.errors


def ingest(
    paths: Iterable[str | Path],
    store: Store,
    *,
    format: str | None = None,
    outcomes_file: str | Path | None = None,
    model: str | None = None,
    success_threshold: float = DEFAULT_SUCCESS_THRESHOLD,
    on_trace: Callable[[Trace], None] | None = None,
) -> IngestReport:
    """Read every trace under `paths` and store it; bad files are reported in `IngestReport.errors`.

    `model` overrides the model name of every trace (for sources that do not record it). Outcomes from
    `outcomes_file` take precedence over those found beside or inside the traces.
    """
    report = IngestReport()
    external: dict[str, Outcome] = {}
    if outcomes_file is not None:
        try:
            external = load_outcomes_file(Path(outcomes_file))
        except ReadError as exc:
            report.errors.append(exc)
    batch: list[Trace] = []
    for trace in read_traces(paths, report.errors, format=format):
        if model is not None:
            trace.model = model
        finalize_outcome(trace, external=external, success_threshold=success_threshold)
        report.read += 1
        report.steps += len(trace.steps)
        batch.append(trace)
        if on_trace is not None:
            on_trace(trace)
        if len(batch) >= BATCH_SIZE:
            _flush(store, batch, report)
    _flush(store, batch, report)
    return report


def _flush(store: Store, batch: list[Trace], report: IngestReport) -> None:
    if not batch:
        return
    stats = store.add_traces(batch)
    store.put_annotations([a for trace in batch for a in embedded_annotations(trace)])
    report.added += stats.added
    report.replaced += stats.replaced
    report.unchanged += stats.unchanged
    batch.clear()
