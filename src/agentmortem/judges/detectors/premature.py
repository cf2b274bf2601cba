"""FM-3.1 Premature termination: the run ends, or tries to end, before the required deliverable exists.

Fires on harness nudges asking the agent to resume (the ITBench harness writes "I don't see agent_output.json
file. Please resume the investigation…" when the agent stopped without its deliverable), on aborted turns, on a
run whose last step is a call that never got its result, and — for a task family with a deliverable — on a
deliverable the trace's metadata records as missing or empty.

A model call whose content the telemetry did not capture (`model.content_not_captured`) is an unknown answer,
not a missing one: when such a call comes after the last captured step, the run may well have answered, so the
"cut mid-call" symptom does not count, and with no other symptom the verdict is unknown (None), never absent or
present.
"""

from __future__ import annotations

from typing import Any

from agentmortem.judges.detectors.view import (
    Finding,
    TraceView,
    compile_all,
    first_match,
    head,
    is_harness_message,
    silent,
)
from agentmortem.model import Evidence, content_not_captured

MODE = "FM-3.1"


def detect(view: TraceView) -> Finding | None:
    """Collect every premature-stop symptom; fire when there is at least one."""
    end_unknown = ends_uncaptured(view)
    evidence = [*_nudges(view), *_aborts(view), *([] if end_unknown else _cut_mid_call(view))]
    reasons = []
    if evidence:
        reasons.append(f"{len(evidence)} step(s) show the run stopping before its work was done")
    if _deliverable_missing(view):
        reasons.append("the required deliverable is missing or empty")
        evidence = evidence or ([view.evidence(view.steps[-1])] if view.steps else [])
    if not reasons:
        return None if end_unknown else silent(MODE)
    return Finding(MODE, True, evidence[: view.config.max_evidence], "; ".join(reasons))


def _nudges(view: TraceView) -> list[Evidence]:
    family = view.family
    patterns = compile_all(view.config.premature.nudge_patterns + (family[1].nudge_patterns if family else []))
    first_action = next((s.index for s in view.steps if s.kind == "tool_call" or s.role == "assistant"), None)
    found = []
    for step in view.steps:
        # A nudge only makes sense once the agent has acted and then stopped.
        if first_action is None or step.index <= first_action or not is_harness_message(step):
            continue
        match = first_match(patterns, head(step))
        if match is not None:
            found.append(view.evidence(step, match=match))
    return found


def _aborts(view: TraceView) -> list[Evidence]:
    markers = view.config.premature.abort_source_types
    return [view.evidence(s) for s in view.steps if s.source_type and any(m in s.source_type for m in markers)]


def ends_uncaptured(view: TraceView) -> bool:
    """True when a model call whose content was not captured follows every captured step (the end is unknown)."""
    last_uncaptured = next((s.index for s in reversed(view.steps) if content_not_captured(s)), None)
    if last_uncaptured is None:
        return False
    return all(s.kind == "event" for s in view.steps[last_uncaptured + 1 :])


def _cut_mid_call(view: TraceView) -> list[Evidence]:
    tail = [s for s in view.steps if s.kind != "event"]
    if tail and tail[-1].kind == "tool_call" and tail[-1].pair_index is None:
        return [view.evidence(tail[-1])]
    return []


def _deliverable_missing(view: TraceView) -> bool:
    family = view.family
    if family is None or family[1].deliverable_file is None or family[1].metadata_key is None:
        return False
    section = view.trace.metadata.get(family[1].metadata_key)
    if not isinstance(section, dict) or "agent_output" not in section:
        return False  # the reader did not say either way
    return _empty(section["agent_output"])


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []
