"""The steps of one OTel trace as they are emitted, without repeating the history each model call resends.

History is not duplicated. A chat span's input repeats the conversation so far, so every step has a key — its
kind, role and text, or for tool calls and results their call id — and the trace counts how often each key has
been emitted. An input step is emitted only when this span's input holds more copies of its key than the trace
has emitted so far: a message already seen is skipped, while a genuinely repeated one ("continue" said twice) is
still emitted the second time. Outputs are always emitted. A tool span's call is skipped when the model's output
already carried that call id; a tool span without a call id adopts the id of the latest unanswered call of the
same tool.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from agentmortem.readers.genai_messages import RawStep


class StepLog:
    """The raw steps of one trace and how often each step key has been emitted (the history de-duplication)."""

    def __init__(self) -> None:
        self.steps: list[RawStep] = []
        self.emitted: Counter[tuple[Any, ...]] = Counter()
        self.open_calls: dict[str | None, list[str]] = {}

    def add(self, step: RawStep) -> None:
        """Emit a step unconditionally."""
        self.steps.append(step)
        self.emitted[step_key(step)] += 1
        call_id = step.get("call_id")
        if call_id and step["kind"] == "tool_call":
            self.open_calls.setdefault(step.get("tool_name"), []).append(call_id)
        elif call_id and step["kind"] == "tool_result":
            for waiting in self.open_calls.values():
                if call_id in waiting:
                    waiting.remove(call_id)

    def add_once(self, step: RawStep) -> None:
        """Emit a step unless one with its key was already emitted."""
        if not self.emitted[step_key(step)]:
            self.add(step)

    def add_history(self, steps: list[RawStep]) -> None:
        """Emit the input steps the trace has not emitted yet, counting repeats (see the module docstring)."""
        local: Counter[tuple[Any, ...]] = Counter()
        for step in steps:
            key = step_key(step)
            local[key] += 1
            if local[key] > self.emitted[key]:
                self.add(step)

    def unanswered_call_id(self, tool_name: str | None) -> str | None:
        """Call id of the latest emitted call of `tool_name` that has no result yet."""
        waiting = self.open_calls.get(tool_name)
        return waiting[-1] if waiting else None


def step_key(step: RawStep) -> tuple[Any, ...]:
    """What makes two steps the same for de-duplication: call id for tool steps, else kind, role and text."""
    kind = step["kind"]
    if kind in ("tool_call", "tool_result") and step.get("call_id"):
        return (kind, step["call_id"])
    if kind == "tool_call":
        return (kind, step.get("tool_name"), step.get("tool_args"))
    return (kind, step.get("role"), step.get("content", ""))
