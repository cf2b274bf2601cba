"""FM-2.1 Conversation reset: the task re-issued mid-trace, or the history cleared.

The task statement is the first harness message long enough to be one (`min_task_chars`). A later harness
message at least `similarity` alike re-issues it — after the agent has acted, so a prompt sent in two parts at
the start does not count. A system or event step saying the conversation was reset or cleared fires as well.
"""

from __future__ import annotations

from agentmortem.judges.detectors.repetition import similar
from agentmortem.judges.detectors.view import (
    Finding,
    TraceView,
    compile_all,
    first_match,
    head,
    is_harness_message,
    silent,
)
from agentmortem.model import Step

MODE = "FM-2.1"


def detect(view: TraceView) -> Finding | None:
    """Fire on a re-issued task statement or a reported reset."""
    reissued = _reissued_task(view)
    if reissued is not None:
        task, again = reissued
        return Finding(MODE, True, [view.evidence(task), view.evidence(again)], "the task statement was re-issued")
    patterns = compile_all(view.config.reset.reset_patterns)
    for step in view.steps:
        match = first_match(patterns, head(step)) if step.kind in {"system", "event"} else None
        if match is not None:
            return Finding(MODE, True, [view.evidence(step, match=match)], "the conversation history was cleared")
    return silent(MODE)


def _reissued_task(view: TraceView) -> tuple[Step, Step] | None:
    cfg = view.config.reset
    harness = [s for s in view.steps if is_harness_message(s) and len(s.content.strip()) >= cfg.min_task_chars]
    if not harness:
        return None
    task = harness[0]
    candidates = {s.index for s in harness[1:]}
    acted = False
    for step in view.steps[task.index + 1 :]:
        acted = acted or step.kind == "tool_call" or (step.kind == "message" and not is_harness_message(step))
        if acted and step.index in candidates and similar(task.content, step.content, view, threshold=cfg.similarity):
            return task, step
    return None
