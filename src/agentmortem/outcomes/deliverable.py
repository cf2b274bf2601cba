"""Whether an ITBench run's `agent_output.json` is the deliverable its own session wrote.

The scorer and the ITBench judge grade the `agent_output.json` beside the session, but that file is not always
the session's: the SRE agent's harness reuses run folders, so a later run (of another model, in the shared data)
can leave its own file there. Two checks, from the strongest evidence down:

1. **Replay.** The session's own writes of the file are replayed in step order, each only when its tool result
   reports success: `apply_patch` (Add, Update and Delete File; as a tool of its own or through a shell command)
   and shell heredocs (`cat > agent_output.json <<'EOF' … EOF`, `cat <<EOF > …`, `tee`). When that gives a
   document and it differs from the file (compared as JSON, so layout and key order do not count), the file is
   not the session's.
2. **Time.** When there is no write to replay (none recognised, a patch that does not apply, or a write that
   cannot be replayed: an append, a script, a move onto the file), a file modified more than `MTIME_TOLERANCE`
   after the session's last step cannot be the session's either. A matching replay overrides this check, because
   copying a data set gives every file a new modification time.

The facts go to `metadata["itbench"]["agent_output_check"]`; a doubt, as one sentence, to the outcome's
`warnings` (see `outcomes.resolve`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from agentmortem.model import Step, Trace
from agentmortem.readers.itbench_layout import AGENT_OUTPUT

MTIME_TOLERANCE = timedelta(minutes=1)
"""How much later than the session's last step the file may be modified (harness lag, clock skew)."""

_PATCH_START = "*** Begin Patch"
_PATCH_FILE = re.compile(r"\*\*\* (Add|Update|Delete) File: (.+)")
_HEREDOC = re.compile(
    r"(?:cat|tee)\b(?P<head>[^\n]*?)<<-?\s*(?P<q>['\"]?)(?P<tag>\w+)(?P=q)(?P<tail>[^\n]*)\n(?P<body>.*?)\n(?P=tag)\s*(?:\n|$)",
    re.DOTALL,
)
_TARGET = re.compile(r"""(?:>|\btee\s+(?:-a\s+)?)\s*(['"]?)([^\s'"<>|;&]+)\1""")
_OTHER_WRITE = re.compile(r">\s*['\"]?[^\s'\"<>|;&]*agent_output\.json|\b(?:tee|mv|cp|sed\s+-i|python3?|perl)\b|open\(")
"""A shell command that may write agent_output.json in a way that cannot be replayed (it does mention the file)."""


@dataclass
class _Replay:
    """The file's content as the session's writes leave it; `known` is False once a write could not be replayed."""

    content: str | None = None
    writes: int = 0
    last_step: int | None = None
    known: bool = True


def check_deliverable(trace: Trace) -> list[str]:
    """Check a primary ITBench trace's agent_output.json (see the module docstring); the doubts, one sentence each.

    Records the facts in `trace.metadata["itbench"]["agent_output_check"]`; other traces are left alone.
    """
    itbench = trace.metadata.get("itbench")
    if not isinstance(itbench, dict) or not itbench.get("primary") or "run_dir" not in itbench:
        return []
    replay = replay_writes(trace.steps)
    check: dict[str, Any] = {"session_writes": replay.writes, "last_write_step": replay.last_step}
    doubts = _compare(replay, itbench, check)
    if check.get("matches_session") is None:
        doubts += _timing(trace.steps, Path(itbench["run_dir"]) / AGENT_OUTPUT, replay, check)
    itbench["agent_output_check"] = check
    return doubts


def _compare(replay: _Replay, itbench: dict[str, Any], check: dict[str, Any]) -> list[str]:
    if not replay.writes or not replay.known:
        check["matches_session"] = None
        return []
    on_disk = itbench.get("agent_output")
    text = _file_text(Path(itbench["run_dir"]) / AGENT_OUTPUT)
    if replay.content is None:
        check["matches_session"] = text is None
        return [] if text is None else [f"{AGENT_OUTPUT} exists although the session deleted it"]
    check["matches_session"] = text is not None and _same_document(replay.content, on_disk, text)
    if check["matches_session"]:
        return []
    check["session_output"] = replay.content  # what this run delivered, to score by hand if need be
    what = "is missing" if text is None else "differs from what the session wrote"
    return [
        f"{AGENT_OUTPUT} {what} (the session's last write of it is step {replay.last_step}): the outcome grades "
        "a deliverable this run may not have produced"
    ]


def _same_document(written: str, on_disk: Any, text: str) -> bool:
    """Equal as JSON when both parse (layout and key order do not count), else equal as text."""
    if on_disk is not None:
        try:
            return bool(orjson.loads(written) == on_disk)
        except orjson.JSONDecodeError:
            return False
    return written.strip() == text.strip()  # a deliverable that is not JSON is still the session's if it wrote it


def _file_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _timing(steps: list[Step], path: Path, replay: _Replay, check: dict[str, Any]) -> list[str]:
    last = max((step.timestamp for step in steps if step.timestamp is not None), default=None)
    try:
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return []
    check.update(file_modified=modified.isoformat(), session_end=last.isoformat() if last else None)
    if last is None or modified <= last + MTIME_TOLERANCE:
        check["newer_than_session"] = False if last is not None else None
        return []
    check["newer_than_session"] = True
    why = "the session's writes of it could not be replayed" if replay.writes else "the session never wrote it"
    return [
        f"{AGENT_OUTPUT} was modified after the session's last step ({modified:%Y-%m-%d %H:%M} UTC, session ended "
        f"{last.astimezone(UTC):%Y-%m-%d %H:%M} UTC) and {why}: it may not be this run's deliverable"
    ]


# --- replaying the session's writes ---------------------------------------------------------------------------


def replay_writes(steps: list[Step]) -> _Replay:
    """Apply, in order, every successful write of agent_output.json the session's tool calls made."""
    replay = _Replay()
    for step in steps:
        if step.kind != "tool_call" or not step.tool_args or AGENT_OUTPUT not in step.tool_args:
            continue
        if step.pair_index is None or steps[step.pair_index].is_error:
            continue  # a call without a result, or a failed one, wrote nothing
        for operation, payload in _writes(step.tool_args):
            replay.writes += 1
            replay.last_step = step.index
            _apply(replay, operation, payload)
    return replay


def _apply(replay: _Replay, operation: str, payload: list[str]) -> None:
    if operation == "Add":
        replay.content, replay.known = "\n".join(payload) + "\n", True
    elif operation == "Delete":
        replay.content, replay.known = None, True
    elif operation == "Update" and replay.known and replay.content is not None:
        updated = apply_hunks(replay.content, payload)
        replay.content, replay.known = updated, updated is not None
    else:  # an update of content not known, or a write that cannot be replayed
        replay.known = False


def _writes(tool_args: str) -> Iterator[tuple[str, list[str]]]:
    """`(operation, lines)` for each write of agent_output.json in one tool call's arguments."""
    for text in _scripts(tool_args):
        if AGENT_OUTPUT not in text:
            continue
        if _PATCH_START in text:
            yield from _patch_writes(text[text.index(_PATCH_START) :])
        else:
            yield from _heredoc_writes(text)


def _scripts(tool_args: str) -> list[str]:
    """The texts a tool call runs: a patch (`input`), a command line or shell script (`command`, `cmd`)."""
    try:
        value: Any = orjson.loads(tool_args)
    except orjson.JSONDecodeError:
        return [tool_args]
    if isinstance(value, dict):
        action = value["action"] if isinstance(value.get("action"), dict) else {}
        value = value.get("input") or value.get("cmd") or value.get("command") or action.get("command")
    if isinstance(value, list):
        return [part for part in value if isinstance(part, str)]
    return [value] if isinstance(value, str) else []


def _is_target(path: str) -> bool:
    return PurePosixPath(path.strip()).name == AGENT_OUTPUT


def _patch_writes(patch: str) -> Iterator[tuple[str, list[str]]]:
    """The operations of an apply_patch text on agent_output.json, with their lines (Add: content, Update: hunks)."""
    operation: str | None = None
    lines: list[str] = []
    for line in patch.splitlines()[1:]:
        header = _PATCH_FILE.fullmatch(line)
        if header is not None or line.startswith("*** End Patch"):
            if operation is not None:
                yield operation, lines
            operation = header.group(1) if header is not None and _is_target(header.group(2)) else None
            lines = []
        elif operation == "Add":
            lines.append(line[1:] if line.startswith("+") else line)
        elif operation == "Update" and not line.startswith("*** "):
            lines.append(line)
    if operation is not None:
        yield operation, lines


def _heredoc_writes(script: str) -> Iterator[tuple[str, list[str]]]:
    """Heredocs written to agent_output.json; any other write of it (an append, `>`, `mv`, a script) as "Other"."""
    found = False
    for match in _HEREDOC.finditer(script):
        redirect = _TARGET.search(match.group("head") + " " + match.group("tail"))
        if redirect is not None and _is_target(redirect.group(2)):
            found = True
            appends = ">>" in match.group(0).split("\n")[0]
            yield ("Other" if appends else "Add"), match.group("body").split("\n")
    if not found and _OTHER_WRITE.search(script):
        yield "Other", []


def apply_hunks(content: str, hunks: list[str]) -> str | None:
    """`content` with the Update hunks of an apply_patch applied; None when a hunk's old lines are not found."""
    lines = content.split("\n")
    position = 0
    for old, new in _split_hunks(hunks):
        at = _find(lines, old, position)
        if at is None:
            return None
        lines[at : at + len(old)] = new
        position = at + len(new)
    return "\n".join(lines)


def _split_hunks(hunks: list[str]) -> Iterator[tuple[list[str], list[str]]]:
    old: list[str] = []
    new: list[str] = []
    for line in hunks:
        if line.startswith("@@"):
            if old or new:
                yield old, new
            old, new = [], []
            continue
        tag, text = line[:1], line[1:]
        if tag in (" ", "-", ""):
            old.append(text)
        if tag in (" ", "+", ""):
            new.append(text)
    if old or new:
        yield old, new


def _find(lines: list[str], block: list[str], start: int) -> int | None:
    """Where `block` occurs in `lines` at or after `start` (exactly, else ignoring trailing spaces)."""
    for key in (lambda s: s, str.rstrip):
        wanted = [key(line) for line in block]
        for at in range(start, len(lines) - len(block) + 1):
            if [key(line) for line in lines[at : at + len(block)]] == wanted:
                return at
    return None
