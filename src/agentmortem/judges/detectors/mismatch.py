"""FM-2.6 Reasoning–action mismatch, in the one form a program can check: an announced command not run.

An agent message announcing a command or tool in backticks ("Let me run `kubectl get pods`") is compared with
the agent's next tool call (before it speaks again): when the call neither uses that tool nor runs a command
starting with the announced program, the action does not match the stated reasoning. Off by default until its
precision is shown on labelled traces (see docs/detectors.md); unknown for runs without tool calls.
"""

from __future__ import annotations

import re

from agentmortem.judges.detectors.view import Finding, TraceView, is_agent_message, silent
from agentmortem.model import Step

MODE = "FM-2.6"


def detect(view: TraceView) -> Finding | None:
    """Fire on the first announced action whose next call does something else."""
    if not view.calls:
        return None
    announce = re.compile(view.config.mismatch.announce_pattern)
    for step in view.steps:
        match = announce.search(step.content) if is_agent_message(step) else None
        if match is None:
            continue
        call = _next_call(view, step)
        if call is not None and not _matches(view, call, match.group(1)):
            evidence = [view.evidence(step, match=match), view.evidence(call)]
            return Finding(MODE, True, evidence, f"announced `{match.group(1)}` but called {call.tool_name!r}")
    return silent(MODE)


def _next_call(view: TraceView, message: Step) -> Step | None:
    for step in view.steps[message.index + 1 :]:
        if step.kind == "tool_call" and step.agent == message.agent:
            return step
        if is_agent_message(step):
            return None
    return None


def _matches(view: TraceView, call: Step, announced: str) -> bool:
    program = announced.split()[0] if announced.split() else announced
    return program == call.tool_name or program in view.command(call) or program in (call.tool_args or "")
