"""FM-1.1 Disobey task specification: touching what the task forbids, or a deliverable off its schema.

Rules come from the trace's task family (see `FamilyRules`): each forbidden pattern is searched in every tool
call's arguments, and a family with a built-in schema has its deliverable (as the reader parsed it into the
trace metadata) checked against it. Traces of no known family stay unknown: the detector cannot know what their
task prescribed.
"""

from __future__ import annotations

import re

from agentmortem.judges.detectors.deliverable import schema_problems
from agentmortem.judges.detectors.verification import written_files
from agentmortem.judges.detectors.view import Finding, TraceView, silent, step_text
from agentmortem.model import Evidence

MODE = "FM-1.1"


def detect(view: TraceView) -> Finding | None:
    """Fire on a forbidden touch or a schema violation; unknown outside known task families."""
    family = view.family
    if family is None:
        return None
    name, rules = family
    for rule in rules.forbidden:
        pattern = re.compile(rule.pattern)
        for call in view.calls:
            text = step_text(call)
            match = pattern.search(text)
            if match is not None:
                return Finding(MODE, True, [view.evidence(call, match=match, text=text)], rule.reason)
    problems = _deliverable_problems(view)
    if problems:
        return Finding(MODE, True, _deliverable_evidence(view), f"the deliverable breaks the {name} schema: {problems}")
    return silent(MODE)


def _deliverable_problems(view: TraceView) -> str:
    family = view.family
    if family is None or family[1].schema_ is None or family[1].metadata_key is None:
        return ""
    section = view.trace.metadata.get(family[1].metadata_key)
    output = section.get("agent_output") if isinstance(section, dict) else None
    if output is None:
        return ""  # a missing deliverable is premature termination (FM-3.1), not a schema breach
    problems = schema_problems(output)
    return "; ".join(problems[:3]) + (f" (+{len(problems) - 3} more)" if len(problems) > 3 else "")


def _deliverable_evidence(view: TraceView) -> list[Evidence]:
    family = view.family
    target = family[1].deliverable_file if family else None
    writes = [c for c in view.calls if target and target in written_files(view, c) and not view.call_failed(c)]
    if writes:
        return [view.evidence(writes[-1])]
    return [view.evidence(view.steps[-1])] if view.steps else []
