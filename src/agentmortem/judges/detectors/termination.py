"""FM-1.5 Unaware of termination conditions: not knowing when the run should stop.

Fires on any of: an agent that declared the task done and then kept calling tools (`min_actions_after_done`
calls or more); a harness, system or event step saying a turn/step/time limit ended the run; a harness message
telling the agent to stop; a run of repeated calls (as FM-1.3 defines it) that is still going at the end.
"""

from __future__ import annotations

from agentmortem.judges.detectors.repetition import call_runs
from agentmortem.judges.detectors.view import (
    Finding,
    TraceView,
    compile_all,
    first_match,
    head,
    is_agent_message,
    is_harness_message,
    silent,
)
from agentmortem.model import Step, content_not_captured

MODE = "FM-1.5"


def detect(view: TraceView) -> Finding | None:
    """Fire on the first termination symptom found (checked from the most to the least specific)."""
    for check in (_limit_hit, _told_to_stop, _acted_after_done, _loop_at_end):
        finding = check(view)
        if finding is not None:
            return finding
    return silent(MODE)


def _limit_hit(view: TraceView) -> Finding | None:
    patterns = compile_all(view.config.termination.limit_patterns)
    for step in view.steps:
        if step.kind in {"system", "event"} or is_harness_message(step):
            match = first_match(patterns, head(step))
            if match is not None:
                return Finding(MODE, True, [view.evidence(step, match=match)], "the run was ended by a limit")
    return None


def _told_to_stop(view: TraceView) -> Finding | None:
    patterns = compile_all(view.config.termination.stop_patterns)
    for step in view.steps:
        match = first_match(patterns, head(step)) if is_harness_message(step) else None
        if match is not None:
            return Finding(MODE, True, [view.evidence(step, match=match)], "the harness had to tell the agent to stop")
    return None


def _acted_after_done(view: TraceView) -> Finding | None:
    cfg = view.config.termination
    patterns = compile_all(cfg.done_patterns)
    for step in view.steps:
        if not is_agent_message(step):
            continue
        later = [c for c in view.calls if c.index > step.index and c.agent == step.agent]
        if len(later) < cfg.min_actions_after_done:
            continue  # checked before the regex: most messages have no calls after them to judge
        match = first_match(patterns, step.content)
        if match is not None:
            evidence = [view.evidence(step, match=match), *view.evidences(later)[: view.config.max_evidence - 1]]
            return Finding(MODE, True, evidence, f"{len(later)} tool calls after declaring the task done")
    return None


def _loop_at_end(view: TraceView) -> Finding | None:
    runs = call_runs(view)
    if not runs or len(runs[-1]) < view.config.repetition.min_repeats or not _ends_trace(view, runs[-1][-1]):
        return None
    return Finding(MODE, True, view.evidences(runs[-1]), f"the run ends in a loop of {len(runs[-1])} repeated calls")


def _ends_trace(view: TraceView, call: Step) -> bool:
    """Nothing but the call's result and bookkeeping events follow it.

    A model call whose content was not captured may have broken the loop; that is unknown, so it is no end.
    """
    after = view.steps[call.index + 1 :]
    return all(s.kind in {"event", "tool_result"} and not content_not_captured(s) for s in after)
