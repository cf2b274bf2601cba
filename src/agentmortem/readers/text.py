"""Plain-text agent logs, the last resort: turn markers at the start of a line split the text into steps.

Recognised markers (case-insensitive, at the very start of a line):

- `Speaker: text` or `Speaker (name): text`, where Speaker is a role word (below).
- `[speaker] text` or `[tool: name] text`; a bracketed label that is not a role word is an agent's name
  (`[Planner] …` → assistant turn of agent "Planner"). Labels starting with a digit (timestamps) and log levels
  (`[INFO]`, `[ERROR]` …) are not markers.
- Markdown headings holding only a speaker: `### Assistant`, `## Tool (kubectl)`, `# Agent: planner`.
- `>>> tool NAME ARGS`: a tool invocation; the lines after it, up to the next marker, are its output, so it
  becomes a tool_call and a paired tool_result. `>>> user …` / `>>> agent …` are turns like the others.

Role words: user, human → user message; assistant, agent, ai, bot, model → assistant message; system → system
step; tool, observation, function → tool_result. Text before the first marker is kept as a message with no role
(`source_type` "text:preamble"). A file with no marker at all is not a text trace. Trace id: the file's name (its
path under the ingest root, see `agentmortem.identity`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from agentmortem.identity import name_after_file
from agentmortem.model import Trace, make_steps
from agentmortem.readers.base import ReadError

RawStep = dict[str, Any]

_ROLE_WORDS: dict[str, tuple[str, str]] = {
    "user": ("message", "user"),
    "human": ("message", "user"),
    "assistant": ("message", "assistant"),
    "agent": ("message", "assistant"),
    "ai": ("message", "assistant"),
    "bot": ("message", "assistant"),
    "model": ("message", "assistant"),
    "system": ("system", "system"),
    "tool": ("tool_result", "tool"),
    "observation": ("tool_result", "tool"),
    "function": ("tool_result", "tool"),
}
_LOG_LEVELS = {"trace", "debug", "info", "notice", "warn", "warning", "error", "critical", "fatal"}
_WORDS = "|".join(_ROLE_WORDS)
_COLON = re.compile(rf"^(?P<word>{_WORDS})(?:\s*\((?P<name>[^)\n]{{1,40}})\))?\s*:(?:\s|$)(?P<rest>.*)$", re.I)
_BRACKET = re.compile(r"^\[(?P<label>[A-Za-z][\w .:/-]{0,39})\]:?(?:\s|$)(?P<rest>.*)$")
_HEADING = re.compile(rf"^#{{1,6}}\s+(?P<word>{_WORDS})\b\s*(?:[(:]\s*(?P<name>[^)\n]{{0,40}}?)\s*\)?)?\s*$", re.I)
_PROMPT = re.compile(rf"^>>>\s*(?P<word>{_WORDS})\b:?\s*(?P<rest>.*)$", re.I)


@dataclass(slots=True)
class Marker:
    """A recognised turn marker: who speaks, in what form, and text on the marker's own line."""

    form: str
    word: str
    name: str | None
    rest: str


@dataclass(slots=True)
class _Block:
    marker: Marker | None
    lines: list[str] = field(default_factory=list)


def parse_marker(line: str) -> Marker | None:
    """The turn marker at the start of `line`, or None."""
    if match := _COLON.match(line):
        return Marker("colon", match["word"].lower(), _clean(match["name"]), match["rest"])
    if match := _HEADING.match(line):
        return Marker("heading", match["word"].lower(), _clean(match["name"]), "")
    if match := _PROMPT.match(line):
        return Marker("prompt", match["word"].lower(), None, match["rest"])
    if match := _BRACKET.match(line):
        return _bracket_marker(match["label"], match["rest"])
    return None


def _bracket_marker(label: str, rest: str) -> Marker | None:
    word, _, name = label.partition(":")
    word = word.strip().lower()
    if word in _LOG_LEVELS:
        return None
    if word in _ROLE_WORDS:
        return Marker("bracket", word, _clean(name), rest)
    return Marker("bracket", "agent", label.strip(), rest)


def _clean(name: str | None) -> str | None:
    return name.strip() or None if name else None


class TextReader:
    """Reads plain-text transcripts split by speaker markers."""

    name: ClassVar[str] = "text"
    description: ClassVar[str] = "Plain-text logs with turn markers (User:, Agent:, [agent], ### Assistant, >>> tool)"

    def sniff(self, path: Path, head: str) -> float:
        """Low confidence, and only when turn markers are present (JSON is never claimed)."""
        if head.lstrip().startswith(("{", "[{", '["', "[\n", "[ ", "[]")):
            return 0.0
        markers = sum(1 for line in head.splitlines() if parse_marker(line) is not None)
        return 0.0 if markers == 0 else (0.2 if markers == 1 else 0.3)

    def read(self, path: Path, errors: list[ReadError]) -> Iterator[Trace]:
        """Yield the file as one trace; ReadError when it is empty, not UTF-8, or has no markers."""
        text = _decode(path, path.read_bytes())
        blocks = _split(text)
        if not any(block.marker for block in blocks):
            raise ReadError(path, "no turn markers (User:, Agent:, [agent], ### Assistant, >>> tool) found")
        raw = [step for number, block in enumerate(blocks) for step in _block_steps(block, number)]
        trace = Trace(
            id=path.stem,
            source_format="text",
            source_path=str(path),
            metadata={"turns": sum(1 for block in blocks if block.marker)},
            steps=make_steps(raw),
        )
        yield name_after_file(trace, path)  # a text transcript has no id of its own


def _decode(path: Path, data: bytes) -> str:
    if not data.strip():
        raise ReadError(path, "empty file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ReadError(path, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line=line) from None


def _split(text: str) -> list[_Block]:
    """Blocks of lines, each opened by a marker (the first may have none: the preamble)."""
    blocks = [_Block(None)]
    for line in text.splitlines():
        marker = parse_marker(line)
        if marker is None:
            blocks[-1].lines.append(line)
            continue
        blocks.append(_Block(marker, [marker.rest] if marker.rest else []))
    if not "".join(blocks[0].lines).strip():
        blocks.pop(0)
    return blocks


def _block_steps(block: _Block, number: int) -> list[RawStep]:
    content = "\n".join(block.lines).strip("\n")
    marker = block.marker
    if marker is None:
        return [{"kind": "message", "content": content, "source_type": "text:preamble"}]
    if marker.form == "prompt" and marker.word == "tool":
        return _tool_invocation(block, f"text-{number}")
    kind, role = _ROLE_WORDS[marker.word]
    step: RawStep = {"kind": kind, "role": role, "content": content, "source_type": f"text:{marker.form}"}
    if kind == "tool_result":
        step["tool_name"] = marker.name
    elif marker.name:
        step["agent"] = marker.name
    return [step]


def _tool_invocation(block: _Block, call_id: str) -> list[RawStep]:
    """`>>> tool NAME ARGS` and its output lines: a tool_call and, when there is output, its tool_result."""
    marker = block.marker
    assert marker is not None  # only called for marker blocks
    name, _, args = marker.rest.strip().partition(" ")
    base = {"tool_name": name or None, "call_id": call_id, "source_type": "text:prompt"}
    steps: list[RawStep] = [{**base, "kind": "tool_call", "role": "assistant", "tool_args": args.strip() or None}]
    output = "\n".join(block.lines[1:]).strip("\n")
    if output:
        steps.append({**base, "kind": "tool_result", "role": "tool", "content": output})
    return steps
