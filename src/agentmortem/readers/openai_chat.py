"""Reader for OpenAI chat-completions message lists: the lingua franca of agent frameworks and benchmark logs.

Accepted shapes (JSON or JSONL):

* a JSON list of messages (one trace);
* a JSON object holding the messages under ``messages``, ``traj``, ``history`` or ``conversation`` (one trace;
  tau-bench result entries, Who&When logs, most framework dumps);
* a JSON list of such objects (one trace each);
* JSONL with one such object (or one bare message list) per line.

Every message becomes one step (``system``/``developer`` -> kind ``system``, ``tool``/``function`` -> kind
``tool_result``, anything else -> kind ``message``; ``name`` is the agent, except on a tool result answering a call,
where it names the tool), and every tool call an assistant message makes becomes a
``tool_call`` step right after it. So a trace has exactly as many steps as messages plus tool calls.

Trace ids come from the record (``id``, ``trace_id``, … ``task_id``, plus ``/trial-<n>`` when a ``trial`` is given).
A record without one is named after its file (`agentmortem.identity.name_after_file`): the file's name for a file
holding one trace (``Hand-Crafted/1`` under the ingest root), ``<name>-<n>`` for the n-th record (from 0) of a list
or JSONL file. Some files repeat ids (the MAD-as-chat files number each benchmark from 0): the reader keeps them as
they are, and ingest stores the n-th repeat as ``<id>~<n>`` (`agentmortem.identity.TraceIds`);
`agentmortem.labels` applies the same rule to label files, so labels written in the same order still line up.

Who&When run files (``mistake_agent``, ``mistake_step``, ``mistake_reason``, ``question``, ``ground_truth``,
``history``; github.com/ag2ai/Agents_Failure_Attribution, huggingface Kevin355/Who_and_When) carry a human reference:
the agent and step of the decisive mistake. In the published files ``mistake_step`` is a *string* ("12") and counts
``history`` from 0 (its authors' prompts number the first message "step 0", and in 160 of the 184 runs the message at
that index is by ``mistake_agent``). The reader keeps the fields in the metadata and adds a label row under
`agentmortem.label_formats.embedded.LABEL_ROWS_KEY`: annotator ``who-and-when`` (kind ``human``), no MAST modes (all
unknown, not absent), ``decisive_step`` = the step of that message, ``decisive_agent`` = ``mistake_agent``. The runs
are all failures; the hand-crafted half spells the outcome ``is_corrected``, read here like ``is_correct``.

A message whose ``role`` is not a chat role (the hand-crafted Who&When runs put the speaker there, e.g.
``Orchestrator (thought)``) and that has no ``name`` has its role as the agent. When messages and steps do not
correspond one to one (tool calls become steps of their own), ``metadata["message_steps"]`` lists the first step of
each message, so labels that count messages (AgentRx) can be placed on steps.

Outcome fields found at the top of a trace object are mapped to ``Trace.outcome`` with ``source="trace"``:
``success`` and ``is_correct`` (or Who&When's ``is_corrected``; booleans) give success directly; ``reward`` gives
the score and counts as success only at 1 or more, because benchmarks that report a reward (tau-bench) pass a task
only at full reward; ``score`` gives the score alone and the ingest threshold decides success. Every such field is
kept in ``metrics``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import orjson

from agentmortem.identity import name_after_file
from agentmortem.label_formats.embedded import LABEL_ROWS_KEY, LABEL_WARNINGS_KEY
from agentmortem.model import Outcome, Step, StepKind, Trace, make_steps
from agentmortem.readers.base import ReadError
from agentmortem.readers.jsonio import first_json_value

MESSAGE_KEYS = ("messages", "traj", "history", "conversation")
"""Keys under which a trace object may hold its message list, in the order they are tried."""

ID_KEYS = ("id", "trace_id", "conversation_id", "session_id", "instance_id", "task_id")
"""Keys naming a trace, in order of preference."""

OUTCOME_KEYS = ("success", "is_correct", "is_corrected", "reward", "score")

MESSAGE_STEPS_KEY = "message_steps"
"""Trace metadata key: the first step index of each message, present when messages and steps differ."""

WHO_WHEN_ANNOTATOR = "who-and-when"
"""Annotator name of the Who&When reference labels."""

CHAT_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
"""Roles of the chat-completions API; any other role a message carries names its speaker."""

_ROLE_KIND: dict[str, StepKind] = {
    "system": "system",
    "developer": "system",
    "tool": "tool_result",
    "function": "tool_result",
}
# Content-part types that belong to Anthropic / Claude messages: a file using them is the claude reader's.
_FOREIGN_PART_TYPES = {"tool_use", "tool_result", "thinking", "redacted_thinking"}
_TEXT_PART_TYPES = {"text", "input_text", "output_text"}
_HEAD_LIST_KEY = re.compile(r'"(?:messages|traj|history|conversation)"\s*:\s*\[\s*\{')
_HEAD_ROLE = re.compile(r'"role"\s*:\s*"')
_HEAD_FOREIGN = re.compile(r'"type"\s*:\s*"(?:tool_use|tool_result)"|"resourceSpans"|"mas_name"\s*:\s*"[^"]*"\s*,')


class OpenAIChatReader:
    """Reads OpenAI chat-completions message lists, as JSON or JSONL."""

    name: ClassVar[str] = "openai"
    description: ClassVar[str] = (
        "OpenAI chat messages (role/content/tool_calls) as JSON or JSONL; tau-bench, Who&When, MAD-as-chat"
    )

    def sniff(self, path: Path, head: str) -> float:
        """Confidence that `head` starts a chat-message file: parse the first record when it is whole."""
        stripped = head.lstrip()
        if not stripped.startswith(("{", "[")):
            return 0.0
        first = _first_record(path, stripped)
        if first is not None:
            return _record_confidence(first)
        return _head_confidence(stripped)

    def read(self, path: Path, errors: list[ReadError]) -> Iterator[Trace]:
        """Yield one trace per chat record in `path`; bad JSONL lines go to `errors` and the rest is read."""
        if path.suffix.lower() == ".jsonl":
            # Line by line: a JSONL file of many traces is never held whole, however large it is.
            with path.open("rb") as handle:
                yield from _jsonl_traces(path, handle, errors)
            return
        data = path.read_bytes()
        if not data.strip():
            raise ReadError(path, "empty file")
        document, warning = _loads_document(data)
        if document is not None:
            for trace in _document_traces(path, document, errors):
                if warning:
                    trace.metadata.setdefault("read_warnings", []).append(warning)
                yield trace
            return
        yield from _jsonl_traces(path, data.split(b"\n"), errors)


# -- sniffing -----------------------------------------------------------------------------------------------


def _first_record(path: Path, head: str) -> Any:
    """The first JSON value of the head (the whole document, or its first JSONL line), or None when cut."""
    value = first_json_value(path, head)
    return value[0] if isinstance(value, list) and value and _has_messages(value[0]) else value


def _record_confidence(record: Any) -> float:
    messages = _messages_of(record)
    if messages is None or not messages:
        return 0.0
    if any(_is_foreign_message(m) for m in messages[:20]):
        return 0.05
    return 0.9 if isinstance(record, dict) else 0.8


def _head_confidence(head: str) -> float:
    """Regex guess for heads cut before the first record ends (very long first lines or documents)."""
    if _HEAD_FOREIGN.search(head[:4096]):
        return 0.05
    if _HEAD_LIST_KEY.search(head) and _HEAD_ROLE.search(head):
        return 0.7
    if re.match(r"\[\s*\{", head) and _HEAD_ROLE.search(head[:2048]):
        return 0.6
    return 0.0


def _has_messages(value: Any) -> bool:
    return isinstance(value, dict) and any(isinstance(value.get(k), list) for k in MESSAGE_KEYS)


def _is_foreign_message(message: Any) -> bool:
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return False
    return any(isinstance(p, dict) and p.get("type") in _FOREIGN_PART_TYPES for p in content)


# -- reading ------------------------------------------------------------------------------------------------


def _loads_document(data: bytes) -> tuple[Any, str | None]:
    """The file as one JSON value (None when it is not one: then it is read as JSONL) and any decoding warning."""
    try:
        return orjson.loads(data), None
    except orjson.JSONDecodeError:
        pass
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return orjson.loads(data.decode("utf-8", errors="replace")), "invalid UTF-8 bytes replaced with U+FFFD"
        except orjson.JSONDecodeError:
            pass
    return None, None


def _document_traces(path: Path, document: Any, errors: list[ReadError]) -> Iterator[Trace]:
    messages = _messages_of(document)
    if messages is not None:
        yield _build_trace(path, document, messages, ordinal=None)
        return
    if document == []:
        raise ReadError(path, "empty JSON list: no traces")
    if not isinstance(document, list):
        raise ReadError(path, f"no message list (expected a list or one of the keys {', '.join(MESSAGE_KEYS)})")
    for ordinal, record in enumerate(document):
        messages = _messages_of(record)
        if messages is None:
            errors.append(ReadError(path, f"item {ordinal}: not a chat trace (no message list)"))
            continue
        yield _build_trace(path, record, messages, ordinal=ordinal)


def _jsonl_traces(path: Path, lines: Iterable[bytes], errors: list[ReadError]) -> Iterator[Trace]:
    ordinal, blank = 0, True
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        blank = False
        record, warning = _loads_line(line)
        messages = _messages_of(record) if record is not None else None
        if messages is None:
            reason = "invalid JSON (truncated or malformed line)" if record is None else "not a chat trace"
            errors.append(ReadError(path, reason, line=number))
            continue
        trace = _build_trace(path, record, messages, ordinal=ordinal, line=number)
        if warning:
            trace.metadata.setdefault("read_warnings", []).append(f"line {number}: {warning}")
        ordinal += 1
        yield trace
    if blank:
        raise ReadError(path, "empty file")


def _loads_line(line: bytes) -> tuple[Any, str | None]:
    """Parse one JSONL line; invalid UTF-8 is replaced (U+FFFD) and reported as a warning, not lost."""
    try:
        return orjson.loads(line), None
    except orjson.JSONDecodeError:
        pass
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("utf-8", errors="replace")
        try:
            return orjson.loads(text), "invalid UTF-8 bytes replaced with U+FFFD"
        except orjson.JSONDecodeError:
            return None, None
    return None, None


def _messages_of(record: Any) -> list[Any] | None:
    """The record's message list (a bare list of role-carrying dicts, or one under a known key), or None."""
    if isinstance(record, list):
        return record if record and all(isinstance(m, dict) and "role" in m for m in record) else None
    if not isinstance(record, dict):
        return None
    for key in MESSAGE_KEYS:
        value = record.get(key)
        if isinstance(value, list) and all(isinstance(m, dict) and "role" in m for m in value):
            return value
    return None


# -- building traces ----------------------------------------------------------------------------------------


def _build_trace(
    path: Path, record: Any, messages: list[Any], *, ordinal: int | None, line: int | None = None
) -> Trace:
    """The trace of one record; `ordinal` is its place in a file of many records, None for a one-trace file."""
    fields: dict[str, Any] = record if isinstance(record, dict) else {}
    metadata = {k: v for k, v in fields.items() if k not in MESSAGE_KEYS}
    if line is not None:
        metadata["source_line"] = line
    inner: dict[str, Any] = fields["metadata"] if isinstance(fields.get("metadata"), dict) else {}
    steps, firsts = build_steps(messages)
    if firsts != list(range(len(firsts))):
        metadata[MESSAGE_STEPS_KEY] = firsts
    if _is_who_when(fields):
        _add_who_when_reference(metadata, fields, firsts)
    own_id = _own_id(fields)
    trace = Trace(
        id=own_id or "",
        source_format="openai",
        source_path=str(path),
        model=_text_or_none(fields.get("model") or inner.get("llm_name") or inner.get("model")),
        agent_system=_text_or_none(inner.get("mas_name") or inner.get("agent_system")),
        benchmark=_text_or_none(inner.get("benchmark_name") or inner.get("benchmark")),
        task=_text_or_none(inner.get("task") or fields.get("task") or fields.get("question")),
        outcome=outcome_from_fields(fields),
        metadata=metadata,
        steps=steps,
    )
    if own_id is not None:
        return trace
    if ordinal is None:  # agentmortem 0.1 named a one-trace file '<stem>-0'
        return name_after_file(trace, path, former=f"{path.stem}-0")
    return name_after_file(trace, path, after=f"-{ordinal}")


def _own_id(fields: dict[str, Any]) -> str | None:
    """The record's own id (see ID_KEYS), or None when it has none."""
    base = next((fields[k] for k in ID_KEYS if fields.get(k) not in (None, "")), None)
    if base is None:
        return None
    trial = fields.get("trial")
    # tau-bench repeats each task_id once per trial; the trial number keeps those runs apart.
    return f"{base}/trial-{trial}" if trial is not None else str(base)


def _is_who_when(fields: dict[str, Any]) -> bool:
    return "mistake_step" in fields and "mistake_agent" in fields


def _add_who_when_reference(metadata: dict[str, Any], fields: dict[str, Any], firsts: list[int]) -> None:
    """The Who&When decisive mistake as a label row (see the module docstring), or a label warning saying why not."""
    raw = fields.get("mistake_step")
    text = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
    if not text.isdigit() or int(text) >= len(firsts):
        reason = f"mistake_step {raw!r} is not the index of one of the {len(firsts)} history messages"
        metadata.setdefault(LABEL_WARNINGS_KEY, []).append(f"{reason}; the Who&When reference is left out")
        return
    agent = fields.get("mistake_agent")
    row: dict[str, Any] = {
        "annotator": WHO_WHEN_ANNOTATOR, "annotator_kind": "human", "labels": {},
        "decisive_step": firsts[int(text)], "decisive_agent": agent if isinstance(agent, str) and agent else None,
        "summary": fields.get("mistake_reason") if isinstance(fields.get("mistake_reason"), str) else None,
    }  # fmt: skip
    metadata.setdefault(LABEL_ROWS_KEY, []).append(row)


def _text_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def outcome_from_fields(fields: dict[str, Any]) -> Outcome:
    """Map top-level outcome fields (success, is_correct, reward, score) to an Outcome; see the module docstring."""
    metrics = {k: fields[k] for k in OUTCOME_KEYS if fields.get(k) is not None}
    if not metrics:
        return Outcome()
    score = _number(fields.get("reward"))
    if score is None:
        score = _number(fields.get("score"))
    success = next(
        (fields[k] for k in ("success", "is_correct", "is_corrected") if isinstance(fields.get(k), bool)), None
    )
    reward = _number(fields.get("reward"))
    if success is None and reward is not None:
        success = reward >= 1.0
    return Outcome(success=success, score=score, source="trace", metrics=metrics)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def build_steps(messages: list[Any]) -> tuple[list[Step], list[int]]:
    """Steps for a message list, and the index of the first step each message produced.

    One step per message, one tool_call step per tool call, results paired. An empty assistant message that only
    carries tool calls is those calls, with no message step of its own. Steps are gathered as plain fields and
    built by `make_steps`, which checks them once per trace.
    """
    steps: list[dict[str, Any]] = []
    firsts: list[int] = []
    pending_legacy: int | None = None  # index of an unanswered legacy function_call
    for message in messages:
        firsts.append(len(steps))
        role = message.get("role")
        role = role if isinstance(role, str) and role else None
        name = message.get("name")
        agent = name if isinstance(name, str) and name else None
        if agent is None and role is not None and role not in CHAT_ROLES:
            agent = role  # frameworks that write the speaker as the role (Magentic-One logs in Who&When)
        content = message.get("content")
        text = content if isinstance(content, str) else content_text(message)
        kind = _ROLE_KIND.get(role, "message") if role else "message"
        step: dict[str, Any] = {"kind": kind, "role": role, "agent": agent, "content": text}
        if kind == "tool_result":
            _set_result_fields(step, message)
            if role == "function" and step["call_id"] is None and pending_legacy is not None:
                step["call_id"], pending_legacy = steps[pending_legacy]["call_id"], None
        calls_only = not text and kind == "message" and bool(message.get("tool_calls") or message.get("function_call"))
        if not calls_only:  # an empty assistant turn that only carries tool calls is those calls, nothing more
            steps.append(step)
        if "tool_calls" in message or "function_call" in message:
            for call in _tool_calls(message):
                steps.append(_tool_call_step(len(steps), call, role=role, agent=agent))
                if call.get("_legacy"):
                    pending_legacy = len(steps) - 1
    return make_steps(steps), firsts


def _set_result_fields(step: dict[str, Any], message: dict[str, Any]) -> None:
    """Set call id, tool name and agent of a tool-result step.

    `name` names the tool when the message answers a call (legacy `function` role, or a `tool_call_id`);
    frameworks that export without call ids (AG2 in MAD) put the answering agent there instead.
    """
    step["call_id"] = _text_or_none(message.get("tool_call_id"))
    if step["role"] == "function" or step["call_id"] is not None:
        step["tool_name"], step["agent"] = step["agent"], None


def content_text(message: dict[str, Any]) -> str:
    """A message's text: a string as is; text parts joined by newlines; other parts shown as '[<type>]'."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_part_text(part) for part in content)
    return orjson.dumps(content).decode()


def _part_text(part: Any) -> str:
    if isinstance(part, str):
        return part
    if not isinstance(part, dict):
        return orjson.dumps(part).decode()
    kind = part.get("type")
    if kind in _TEXT_PART_TYPES or (kind is None and isinstance(part.get("text"), str)):
        text = part.get("text")
        return text if isinstance(text, str) else ""
    return f"[{kind}]"


def _tool_calls(message: dict[str, Any]) -> list[dict[str, Any]]:
    calls = [c for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        calls.append({"function": legacy, "_legacy": True})
    return calls


def _tool_call_step(index: int, call: dict[str, Any], *, role: str | None, agent: str | None) -> dict[str, Any]:
    function: dict[str, Any] = call["function"] if isinstance(call.get("function"), dict) else {}
    arguments = function.get("arguments")
    call_id = _text_or_none(call.get("id"))
    if call_id is None and call.get("_legacy"):
        call_id = f"function_call-{index}"  # legacy calls carry no id; a synthetic one pairs the result
    return {
        "kind": "tool_call",
        "role": role,
        "agent": agent,
        "tool_name": _text_or_none(function.get("name")),
        "tool_args": arguments if isinstance(arguments, str) else _text_or_none(arguments),
        "call_id": call_id,
    }
