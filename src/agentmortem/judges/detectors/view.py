"""What every detector needs to know about a trace, worked out once per trace.

Detectors see only `Trace`/`Step` objects. This view adds the derived facts several of them share — the shell
command a call runs, its normalised arguments, whether its result reports a failure, the trace's task family —
so each is computed once however many detectors ask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import orjson

from agentmortem.judges.detectors.config import DetectorConfig, FamilyRules
from agentmortem.judges.literals import Guard, guard_for
from agentmortem.model import Evidence, Step, Trace

AGENT_ROLES = frozenset({"assistant", "agent", "model"})
HARNESS_ROLES = frozenset({"user", "system", "developer", "human"})
_SPACES = re.compile(r"\s+")
_GLOBAL_FLAGS = re.compile(r"^\(\?[aiLmsux]+\)")
# Keys whose values change between otherwise identical calls and carry no meaning for repetition.
_VOLATILE_KEYS = frozenset({"timeout", "timeout_ms", "yield_time_ms", "max_output_tokens", "justification"})


@dataclass(frozen=True)
class Finding:
    """A detector's answer for one mode: fired (with evidence) or silent; `None` from a detector means unknown."""

    mode_id: str
    present: bool
    evidence: list[Evidence] = field(default_factory=list)
    explanation: str = ""


def silent(mode_id: str, explanation: str = "") -> Finding:
    """A detector that could look and saw nothing."""
    return Finding(mode_id=mode_id, present=False, explanation=explanation)


class TraceView:
    """A trace plus the derived, cached facts detectors share."""

    def __init__(self, trace: Trace, config: DetectorConfig) -> None:
        self.trace = trace
        self.steps = trace.steps
        self.config = config
        self._errors = compile_all(config.error_markers)
        self._failed: dict[int, bool] = {}
        self.shared: dict[str, Any] = {}
        """Facts one detector computes and another reuses (e.g. FM-1.3's call runs, read again by FM-1.5)."""

    @cached_property
    def calls(self) -> list[Step]:
        """Tool-call steps, in order."""
        return [s for s in self.steps if s.kind == "tool_call"]

    @cached_property
    def family(self) -> tuple[str, FamilyRules] | None:
        """The task family this trace belongs to, if any (first match in configuration order)."""
        for name, rules in self.config.families.items():
            if rules.metadata_key and rules.metadata_key in self.trace.metadata:
                return name, rules
            benchmark = self.trace.benchmark or ""
            if rules.match_benchmark and re.search(rules.match_benchmark, benchmark):
                return name, rules
        return None

    def command(self, step: Step) -> str:
        """The text a call runs: the shell command for shell tools, else its normalised arguments."""
        return self._call_facts(step)[0]

    def norm_args(self, step: Step) -> str:
        """Tool name plus arguments with key order, whitespace and volatile keys made irrelevant."""
        return self._call_facts(step)[1]

    def _call_facts(self, step: Step) -> tuple[str, str]:
        cache: dict[int, tuple[str, str]] = self.__dict__.setdefault("_facts", {})
        if step.index not in cache:
            cache[step.index] = _call_facts(step)
        return cache[step.index]

    def result_of(self, call: Step) -> Step | None:
        """The tool result paired with `call`, if any."""
        if call.pair_index is None or not 0 <= call.pair_index < len(self.steps):
            return None
        return self.steps[call.pair_index]

    def failed(self, step: Step | None) -> bool:
        """True when a tool result reports a failure (flag, non-zero exit code, or a configured error marker)."""
        if step is None:
            return False
        if step.index not in self._failed:
            self._failed[step.index] = step.is_error or first_match(self._errors, step.content[:2000]) is not None
        return self._failed[step.index]

    def call_failed(self, call: Step) -> bool:
        """True when a call's own result reports a failure."""
        return self.failed(self.result_of(call))

    def evidence(self, step: Step, *, match: re.Match[str] | None = None, text: str | None = None) -> Evidence:
        """Evidence for `step`, quoting around `match` when given (in `text`, default the step's own text)."""
        source = text if text is not None else self._quotable(step)
        width = self.config.quote_chars
        start = max(0, match.start() - width // 3) if match is not None else 0
        return Evidence(step=step.index, quote=_SPACES.sub(" ", source[start : start + width]).strip())

    def _quotable(self, step: Step) -> str:
        # A call's content is usually empty; what it runs is the readable part of its arguments.
        if step.kind == "tool_call" and not step.content:
            return self.command(step)
        return step_text(step)

    def evidences(self, steps: list[Step]) -> list[Evidence]:
        """Evidence for at most `max_evidence` steps, keeping the first and the last."""
        limit = self.config.max_evidence
        chosen = steps if len(steps) <= limit else [*steps[: limit - 1], steps[-1]]
        return [self.evidence(s) for s in chosen]


HARNESS_SCAN_CHARS = 2000
"""Harness notices (limits, nudges, resets, compaction) are short; only this much of a step is searched for them,
which also keeps long task prompts that merely mention such words from matching."""


def head(step: Step) -> str:
    """The part of a step searched for harness notices."""
    return step.content[:HARNESS_SCAN_CHARS]


def step_text(step: Step) -> str:
    """The step's content, or its arguments for a call whose content is empty."""
    return step.content or step.tool_args or ""


def is_agent_message(step: Step) -> bool:
    """A message spoken by an agent (not the user, the harness or a tool)."""
    return step.kind == "message" and (step.role or "assistant") in AGENT_ROLES


def is_harness_message(step: Step) -> bool:
    """A message or instruction from the user or the harness around the agent."""
    return step.kind == "system" or (step.kind == "message" and (step.role or "") in HARNESS_ROLES)


class GuardedPattern:
    """A compiled regex behind a literal prefilter: `search` skips the regex when no required literal occurs."""

    def __init__(self, regex: re.Pattern[str], guard: Guard | None) -> None:
        self.regex = regex
        self.guard = guard

    def search(self, text: str) -> re.Match[str] | None:
        """The regex's first match in `text`, exactly as `re.Pattern.search` finds it."""
        if self.guard is not None and not self.guard.admits(text):
            return None
        return self.regex.search(text)


def compile_all(patterns: list[str]) -> list[GuardedPattern]:
    """The configured regexes as one alternation (one scan of the text instead of one per pattern), cached."""
    return [_combined(tuple(patterns))] if patterns else []


@lru_cache(maxsize=256)
def _combined(patterns: tuple[str, ...]) -> GuardedPattern:
    # A leading global flag such as (?i) becomes a scoped group, which an alternation allows.
    parts = [
        f"(?{p[2 : p.index(')')]}:{p[p.index(')') + 1 :]})" if _GLOBAL_FLAGS.match(p) else f"(?:{p})" for p in patterns
    ]
    return GuardedPattern(re.compile("|".join(parts), re.MULTILINE), guard_for(patterns))


def first_match(patterns: list[GuardedPattern], text: str) -> re.Match[str] | None:
    """The first match of any pattern in `text`."""
    for pattern in patterns:
        match = pattern.search(text)
        if match is not None:
            return match
    return None


def _call_facts(step: Step) -> tuple[str, str]:
    raw = step.tool_args or ""
    args = _parse_json(raw)
    if not isinstance(args, dict):
        text = _SPACES.sub(" ", raw).strip()
        return text, f"{step.tool_name}:{text}"
    stable = {k: v for k, v in args.items() if k not in _VOLATILE_KEYS}
    normalised = _SPACES.sub(" ", orjson.dumps(stable, option=orjson.OPT_SORT_KEYS).decode())
    return _shell_command(args) or normalised, f"{step.tool_name}:{normalised}"


def _shell_command(args: dict[str, Any]) -> str | None:
    """The command of shell-like tools: `{"command": ["bash", "-lc", "…"]}`, `{"cmd": "…"}`, patch `input`."""
    command = args.get("command", args.get("cmd"))
    if isinstance(command, list) and command:
        parts = [str(p) for p in command]
        # `bash -lc "<script>"`: the script is what the agent wrote.
        return parts[-1] if len(parts) >= 3 and parts[-2] in {"-c", "-lc"} else " ".join(parts)
    if isinstance(command, str):
        return command
    patch = args.get("input")
    return patch if isinstance(patch, str) else None


def _parse_json(raw: str) -> Any:
    if not raw.lstrip().startswith("{"):
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
