"""Settle one trace's outcome from every source that knows something about it.

Sources, highest precedence first (the first that knows wins whole; sources are not blended):

1. an explicit outcomes file given to ingest (`file:<path>`) — the user's word overrides everything;
2. an ITBench `judge_output.json` beside the run (`itbench-judge`);
3. the deterministic ITBench scorer, when a ground truth for the run's scenario was given (`itbench-scorer`);
4. the fields the reader found inside the trace file itself (`trace`).

A score without a success flag gets `success = score >= success_threshold`. An ITBench run whose
`agent_output.json` may not be its session's own gets the reason in `Outcome.warnings` (`outcomes.deliverable`),
unless its outcome came from the user's outcomes file.
"""

from __future__ import annotations

from agentmortem.defaults import DEFAULT_SUCCESS_THRESHOLD as DEFAULT_SUCCESS_THRESHOLD
from agentmortem.model import Outcome, Trace
from agentmortem.outcomes.deliverable import check_deliverable
from agentmortem.outcomes.itbench import GroundTruth, judge_outcome, scorer_outcome


def finalize_outcome(
    trace: Trace,
    *,
    external: dict[str, Outcome],
    success_threshold: float,
    ground_truths: dict[str, GroundTruth] | None = None,
) -> None:
    """Set `trace.outcome` from the highest-precedence source that knows it (see the module docstring)."""
    outcome = pick_outcome(trace, external=external, ground_truths=ground_truths)
    if outcome.success is None and outcome.score is not None:
        outcome.success = outcome.score >= success_threshold
    doubts = check_deliverable(trace)
    if not (outcome.source or "").startswith("file:"):  # the user's outcomes file is their word, not a deliverable's
        outcome.warnings.extend(doubts)
    trace.outcome = outcome


def pick_outcome(
    trace: Trace, *, external: dict[str, Outcome], ground_truths: dict[str, GroundTruth] | None = None
) -> Outcome:
    """A fresh copy of the outcome of the first source, in precedence order, that has one for the trace."""
    if trace.id in external:
        return _copy(external[trace.id])
    itbench = trace.metadata.get("itbench")
    if isinstance(itbench, dict):
        judged = judge_outcome(itbench.get("judge_output"))
        if judged is not None:
            return judged
        scored = scorer_outcome(trace, ground_truths) if ground_truths else None
        if scored is not None:
            return scored
    outcome = _copy(trace.outcome)
    if outcome.source is None and (outcome.success is not None or outcome.score is not None):
        outcome.source = "trace"
    return outcome


def _copy(outcome: Outcome) -> Outcome:
    # Afterwards only success/source are set and warnings added, so a shallow copy with its own lists suffices;
    # pydantic's deep copy costs ~100 µs a trace, which shows in ingest throughput.
    return outcome.model_copy(update={"metrics": dict(outcome.metrics), "warnings": list(outcome.warnings)})
