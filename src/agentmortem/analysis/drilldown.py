"""The drill-down: a bounded set of traces, with their steps and the modes found in them, for the HTML report.

Which traces: per group the most telling ones (failed first, then unknown outcome, then successful; more modes
first), taken from the groups in turn so one large group cannot crowd out the others, and at most
`max_drilldown` in all, failed ones first. Each trace keeps its first `max_steps` steps plus every evidence step,
with content cut to `step_chars` characters, so the report stays small whatever the store holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import zip_longest

from agentmortem.analysis.decisive import decisive_step
from agentmortem.model import Annotation, Step, Trace
from agentmortem.report.report import EvidenceView, ReportSettings, StepView, TraceDetail, TraceMode
from agentmortem.store import Store
from agentmortem.taxonomy import Taxonomy

_CLASS_ORDER = {"f": 0, "u": 1, "s": 2}


def choose(picks: Sequence[tuple[str, str, str]], limit: int) -> list[tuple[str, str]]:
    """(trace id, group) of the drill-down, from the store's per-group picks (rule in the module docstring)."""
    per_group: dict[str, list[tuple[str, str, str]]] = {}
    for pick in picks:
        per_group.setdefault(pick[1], []).append(pick)
    interleaved = [p for round_ in zip_longest(*per_group.values()) for p in round_ if p is not None][:limit]
    interleaved.sort(key=lambda p: _CLASS_ORDER.get(p[2], 1))  # stable: keeps the round-robin order per class
    return [(trace_id, group) for trace_id, group, _ in interleaved]


def trace_details(
    store: Store,
    annotator: str | None,
    chosen: list[tuple[str, str]],
    taxonomy: Taxonomy,
    settings: ReportSettings,
    *,
    fatal: dict[str, list[str]] | None = None,
) -> list[TraceDetail]:
    """Load the chosen traces and their annotations (none when `annotator` is None) and bound them for the report.

    `fatal` (group -> its fatal modes, strongest first) places each failed trace's decisive step.
    """
    ids = [trace_id for trace_id, _ in chosen]
    groups = dict(chosen)
    # Only present verdicts are shown (and place the decisive step): the rest stay in the store.
    found = [] if annotator is None else store.get_annotations(annotator=annotator, trace_ids=ids, present_only=True)
    annotations = {a.trace_id: a for a in found}
    traces = {t.id: t for t in store.iter_traces(ids)}
    fatal = fatal or {}
    return [
        _detail(traces[i], groups[i], annotations.get(i), taxonomy, settings, fatal.get(groups[i], []))
        for i in ids
        if i in traces
    ]


def _detail(
    trace: Trace,
    group: str,
    annotation: Annotation | None,
    taxonomy: Taxonomy,
    settings: ReportSettings,
    fatal: list[str],
) -> TraceDetail:
    modes = _modes(annotation, taxonomy, settings) if annotation is not None else []
    cited = {e.step for m in modes for e in m.evidence}
    kept = [s for s in trace.steps if s.index < settings.max_steps or s.index in cited]
    turn = decisive_step(fatal, annotation) if annotation is not None and trace.outcome.success is False else None
    return TraceDetail(
        id=trace.id, group=group, success=trace.outcome.success, score=trace.outcome.score,
        n_steps=len(trace.steps), steps=[_step_view(s, settings.step_chars) for s in kept],
        steps_omitted=len(trace.steps) - len(kept), modes=modes, decisive_step=turn[0] if turn else None,
        decisive_mode=turn[1] if turn else None,
    )  # fmt: skip


def _modes(annotation: Annotation, taxonomy: Taxonomy, settings: ReportSettings) -> list[TraceMode]:
    order = {mode_id: i for i, mode_id in enumerate(taxonomy.ids)}
    present = sorted((v for v in annotation.verdicts if v.present), key=lambda v: order.get(v.mode_id, len(order)))
    names = {m.id: m.name for m in taxonomy.modes}
    return [
        TraceMode(
            id=v.mode_id,
            name=names.get(v.mode_id, v.mode_id),
            explanation=_cut(v.explanation, settings.step_chars),
            evidence=[EvidenceView(step=e.step, quote=_cut(e.quote, settings.step_chars)) for e in v.evidence],
            confidence=v.confidence,
        )  # fmt: skip
        for v in present
    ]


def _step_view(step: Step, limit: int) -> StepView:
    # A bare tool call has no content; its arguments are what the reader needs to see.
    text = step.content or (step.tool_args or "")
    return StepView(
        index=step.index, kind=step.kind, who=step.agent or step.role, tool=step.tool_name,
        content=_cut(text, limit), truncated=len(text) > limit, is_error=step.is_error,
    )  # fmt: skip


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit]
