"""FM-1.4 Loss of conversation history: compaction or truncation, and fetching again what the trace holds.

Fires on a step reporting that the context was compacted, summarised or truncated (by its source type or its
text), and on a call repeated at least `reread_min_gap` steps after an identical call that got an identical,
successful result: the agent fetched again a fact it already had, which it does when that fact has left its
context or its attention.
"""

from __future__ import annotations

from agentmortem.judges.detectors.view import Finding, TraceView, compile_all, first_match, head, silent
from agentmortem.model import Step

MODE = "FM-1.4"


def detect(view: TraceView) -> Finding | None:
    """Fire on a compaction event, else on a long-distance identical re-read."""
    compaction = _compaction(view)
    if compaction is not None:
        return compaction
    pair = _reread(view)
    if pair is not None:
        gap = pair[1].index - pair[0].index
        return Finding(MODE, True, view.evidences(list(pair)), f"fetched again, {gap} steps later, a result it had")
    return silent(MODE)


def _compaction(view: TraceView) -> Finding | None:
    cfg = view.config.history
    patterns = compile_all(cfg.compaction_patterns)
    for step in view.steps:
        if step.source_type and any(m in step.source_type.lower() for m in cfg.compaction_source_types):
            return Finding(MODE, True, [view.evidence(step)], f"context compaction event ({step.source_type})")
        match = first_match(patterns, head(step)) if step.kind in {"system", "event"} else None
        if match is not None:
            return Finding(MODE, True, [view.evidence(step, match=match)], "the context was compacted or truncated")
    return None


def _reread(view: TraceView) -> tuple[Step, Step] | None:
    first_seen: dict[tuple[str, str], Step] = {}
    for call in view.calls:
        result = view.result_of(call)
        if result is None or view.failed(result):
            continue
        key = (view.norm_args(call), result.content)
        earlier = first_seen.setdefault(key, call)
        if earlier is not call and call.index - earlier.index >= view.config.history.reread_min_gap:
            return earlier, call
    return None
