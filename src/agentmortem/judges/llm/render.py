"""Render trace steps as the text the judge reads: `[step N] kind/agent/tool: content`, inside a unique delimiter."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from agentmortem.model import Step

_FORGED_STEP = re.compile(r"(?m)^\[step (\d+)\]")
_FORGED_DELIMITER = re.compile(r"<<<(BEGIN|END) TRACE_DATA", re.IGNORECASE)


@dataclass(frozen=True)
class StepText:
    """One step ready for the prompt: canonical index, header and (possibly compacted) body."""

    index: int
    header: str
    body: str

    def render(self) -> str:
        """The step as one block of prompt text."""
        return f"[step {self.index}] {self.header}: {self.body}"


def step_header(step: Step) -> str:
    """`kind/agent-or-role/tool`, plus an error mark, naming who did what at this step."""
    parts = [step.kind, step.agent or step.role, step.tool_name]
    header = "/".join(p for p in parts if p)
    return header + " (error)" if step.is_error else header


def step_body(step: Step) -> str:
    """The step's text: content, and for tool calls the arguments as issued."""
    if step.kind == "tool_call" and step.tool_args:
        return f"{step.content}\nargs: {step.tool_args}" if step.content else f"args: {step.tool_args}"
    return step.content


def neutralise(text: str) -> str:
    """Text that can neither close the trace block nor pass itself off as another step of the trace."""
    text = _FORGED_DELIMITER.sub(lambda m: f"<<<{m.group(1)} TRACE-DATA(quoted)", text)
    return _FORGED_STEP.sub(lambda m: f"(step {m.group(1)})", text)


def step_text(step: Step) -> StepText:
    """The prompt form of a step, with its body neutralised."""
    return StepText(step.index, step_header(step), neutralise(step_body(step)))


def delimiter_for(*parts: str) -> str:
    """A delimiter unique to one request, derived from its content so that re-runs hit the cache."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
    return f"TRACE_DATA_{digest}"


def wrap_block(steps: list[StepText], delimiter: str) -> str:
    """The steps inside BEGIN/END lines carrying the delimiter."""
    body = "\n".join(s.render() for s in steps)
    return f"<<<BEGIN {delimiter}>>>\n{body}\n<<<END {delimiter}>>>"
