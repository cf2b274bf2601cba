"""Settle one trace's outcome from every source that knows something about it. (Placeholder: the outcomes
helper replaces this with the full precedence rules.)
"""

from __future__ import annotations

from agentmortem.model import Outcome, Trace

DEFAULT_SUCCESS_THRESHOLD = 0.5


def finalize_outcome(trace: Trace, *, external: dict[str, Outcome], success_threshold: float) -> None:
    """Set `trace.outcome` from the external table when it has the trace, else keep the reader's."""
    if trace.id in external:
        trace.outcome = external[trace.id]
    if trace.outcome.success is None and trace.outcome.score is not None:
        trace.outcome.success = trace.outcome.score >= success_threshold
