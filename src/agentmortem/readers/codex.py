"""Codex CLI session files (`rollout-*.jsonl`) and ITBench run directories built around them.

Every row is `{"timestamp", "type", "payload"}`. How rows become steps (one step per meaningful row, in file
order, numbered 0..n-1):

* `response_item` / `message` → a `message` step with the row's role; the text parts are joined. Messages the
  harness injects as context rather than conversation (role `system` or `developer`, and user-role blocks that
  open with `<environment_context>`, `<user_instructions>` or `# AGENTS.md instructions`) become `system` steps.
  Harness nudges such as "I don't see agent_output.json file…" stay user messages: they are turns of the dialogue.
* `response_item` / `reasoning` → an assistant `message` step (source_type `response_item/reasoning`) holding the
  readable summary or reasoning text; encrypted-only reasoning carries no text and is skipped (and counted).
* `function_call`, `custom_tool_call`, `local_shell_call`, `web_search_call` → `tool_call` steps (arguments kept
  exactly as issued); `function_call_output` / `custom_tool_call_output` → `tool_result` steps, paired to their
  call by `call_id`. An output that is a JSON object `{"output", "metadata": {"exit_code"}}` is unwrapped to its
  text, and a non-zero exit code marks the step `is_error`; MCP outputs (a JSON list of `{"text"}` parts) are
  joined; outputs that open with an error phrase ("failed to parse function arguments", "error:" …) or carry
  `success: false` / `isError: true` are errors too.
* Each message is written twice by Codex, as a `response_item` message and as an `event_msg` `user_message` /
  `agent_message` (likewise `agent_reasoning` mirrors reasoning, and `exec_command_*`, `mcp_tool_call_*`,
  `patch_apply_*` mirror tool calls). The `response_item` form is the one kept — it is what the model saw, with
  its role. The `event_msg` message forms are used only when a file has no `response_item` message at all.
* Other `event_msg` rows (`turn_aborted`, `error`, `stream_error`, `task_started`, `task_complete`,
  `context_compacted` …) and top-level `compacted` rows become `event` steps with source_type
  `event_msg/<type>`; `turn_aborted`, `error` and `stream_error` are marked `is_error`. A `token_count` event
  becomes an `event` step carrying the last call's input/output tokens; when its `info` is null it reports
  nothing and is dropped.
* `session_meta` and `turn_context` are not steps: they give the session id, CLI version, task (the
  `instructions`, else the first real user message) and model (`turn_context.model`), kept in
  `metadata["codex"]` along with the number of model turns, the last cumulative token usage and the counts of
  rows skipped by type.

A standalone rollout file becomes the trace `codex/<session id>` (`codex/<file name>` without one, the file name
being its path under the ingest root). A directory laid out as ITBench run outputs is
read run by run (see `itbench_layout` for the layouts and the trace id scheme). Bad rows, including a truncated
last line, are reported as `ReadError`s with their line number and the rest of the file is read; bytes that are
not UTF-8 are replaced with U+FFFD and the line numbers noted in `metadata["codex"]["invalid_utf8_lines"]`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import orjson

from agentmortem.identity import name_after_file
from agentmortem.model import Trace, make_steps
from agentmortem.readers import itbench_layout
from agentmortem.readers.base import ReadError, iso_timestamp

ROW_TYPES = frozenset({"session_meta", "turn_context", "response_item", "event_msg", "compacted"})
"""The `type` of every row of a Codex rollout file."""

_LEGACY_ITEM_TYPES = frozenset(
    {"message", "reasoning", "function_call", "function_call_output", "custom_tool_call", "local_shell_call"}
)
_MIRROR_EVENTS = frozenset(
    {
        "agent_reasoning", "agent_reasoning_raw_content", "agent_reasoning_section_break", "agent_reasoning_delta",
        "agent_message_delta", "exec_command_begin", "exec_command_end", "exec_command_output_delta",
        "mcp_tool_call_begin", "mcp_tool_call_end", "patch_apply_begin", "patch_apply_end", "web_search_begin",
        "web_search_end",
    }
)  # fmt: skip
_MESSAGE_EVENTS = {"user_message": "user", "agent_message": "assistant"}
_ERROR_EVENTS = frozenset({"turn_aborted", "error", "stream_error"})
_CONTEXT_PREFIXES = ("<environment_context>", "<user_instructions>", "# AGENTS.md instructions")
_ERROR_OUTPUT = re.compile(
    r"\s*(failed to parse function arguments|unsupported call|error\b|err:|execution error|exec command rejected|"
    r"command timed out|tool call error)",
    re.IGNORECASE,
)
_HEAD_ROW = re.compile(r'\s*\{\s*"timestamp"\s*:\s*"[^"]*"\s*,\s*"type"\s*:\s*"(\w+)"\s*,\s*"payload"\s*:')


class CodexReader:
    """Codex CLI rollout sessions, alone or inside ITBench SRE run directories."""

    name: ClassVar[str] = "codex"
    description: ClassVar[str] = "Codex CLI session JSONL (rollout-*.jsonl) and ITBench SRE run directories"

    def sniff(self, path: Path, head: str) -> float:
        """High when the first complete rows are `{"type": <codex row type>, "payload": {...}}`."""
        rows = _head_rows(head)
        if rows:
            hits = sum(1 for row in rows if _is_codex_row(row))
            if hits == len(rows):
                return 0.95
            if _is_legacy_head(rows):
                return 0.7
            return 0.5 if hits else 0.0
        match = _HEAD_ROW.match(head)  # first row longer than the head: judge by its opening keys
        return 0.8 if match and match.group(1) in ROW_TYPES else 0.0

    def sniff_directory(self, path: Path) -> float:
        """Confidence that `path` is (a level of) an ITBench run output tree."""
        return itbench_layout.sniff_directory(path)

    def read(self, path: Path, errors: list[ReadError]) -> Iterator[Trace]:
        """Yield one trace per Codex session in a rollout file or an ITBench run directory."""
        if path.is_dir():
            yield from _read_runs(path, errors)
            return
        session = parse_session(path, errors)
        trace = session.to_trace(session.default_id())
        yield trace if session.meta.get("id") else name_after_file(trace, path, before="codex/")


def _read_runs(root: Path, errors: list[ReadError]) -> Iterator[Trace]:
    """Every session of every ITBench run under `root`, with the run's side files in `metadata["itbench"]`."""
    for run in itbench_layout.find_runs(root):
        if not run.sessions:
            errors.append(ReadError(run.run_dir, "ITBench run directory without a Codex session file"))
            continue
        for session_path in run.sessions:
            try:
                session = parse_session(session_path, errors)
            except ReadError as exc:
                errors.append(exc)
                continue
            trace = session.to_trace(run.trace_id(session.model, session_path))
            trace.benchmark = "itbench-sre"
            trace.metadata["itbench"] = itbench_layout.run_metadata(run, session_path, errors)
            yield trace


# --- parsing one session file -------------------------------------------------------------------------------


def parse_session(path: Path, errors: list[ReadError]) -> CodexSession:
    """Parse a rollout file; bad rows go to `errors`. ReadError when the file holds no Codex row at all."""
    data = path.read_bytes()
    if not data.strip():
        raise ReadError(path, "empty file")
    session = CodexSession(path)
    for number, raw in _lines(data):
        row = _load_row(path, number, raw, session, errors)
        if row is not None:
            session.add(row, number, errors)
    if session.rows == 0:
        raise ReadError(path, "no Codex rollout rows in this file")
    return session


def _lines(data: bytes) -> Iterator[tuple[int, memoryview]]:
    """`(line number, line)` without copying: splitting a large file into bytes objects costs as much as parsing."""
    view, start, number, size = memoryview(data), 0, 0, len(data)
    while start < size:
        end = data.find(b"\n", start)
        end = size if end < 0 else end
        number += 1
        yield number, view[start:end]
        start = end + 1


def _load_row(path: Path, number: int, raw: memoryview, session: CodexSession, errors: list[ReadError]) -> Any:
    """The parsed row, or None for a blank line or a reported bad row (blank lines are rare: checked on failure)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        line = raw.tobytes()
        if not line.strip():
            return None
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return _load_replaced(path, number, line, session, errors)
        errors.append(ReadError(path, f"invalid JSON (truncated or corrupt row): {exc.msg}", line=number))
        return None


def _load_replaced(path: Path, number: int, raw: bytes, session: CodexSession, errors: list[ReadError]) -> Any:
    """A row with bytes that are not UTF-8: parse it with those bytes replaced, and note the line."""
    try:
        row = orjson.loads(raw.decode("utf-8", errors="replace"))
    except orjson.JSONDecodeError as exc:
        errors.append(ReadError(path, f"invalid JSON (and not UTF-8): {exc.msg}", line=number))
        return None
    session.invalid_utf8_lines.append(number)
    return row


class CodexSession:
    """The steps and facts gathered from one rollout file, row by row."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.steps: list[dict[str, Any]] = []
        self.event_messages: list[int] = []  # positions of event_msg message steps, dropped if items exist
        self.has_item_messages = False
        self.meta: dict[str, Any] = {}
        self.models: list[str] = []
        self.turns = 0
        self.token_usage: dict[str, Any] | None = None
        self.skipped: Counter[str] = Counter()
        self.invalid_utf8_lines: list[int] = []
        self.rows = 0

    @property
    def model(self) -> str | None:
        """The model of the first turn (the one that ran the session)."""
        return self.models[0] if self.models else None

    def add(self, row: Any, number: int, errors: list[ReadError]) -> None:
        """Turn one parsed row into zero or one step (or session facts)."""
        unwrapped = _unwrap(row)
        if unwrapped is None:
            errors.append(ReadError(self.path, "not a Codex rollout row (no 'type' and 'payload')", line=number))
            return
        row_type, payload = unwrapped
        self.rows += 1
        handler = _ROW_HANDLERS.get(row_type)
        if handler is None:
            self.skipped[row_type] += 1
            return
        step = handler(self, payload)
        if step is not None:
            step["timestamp"] = iso_timestamp(row.get("timestamp"))
            self.steps.append(step)

    def default_id(self) -> str:
        """`codex/<session id>`, or `codex/<file stem>` when the session has no id."""
        return f"codex/{self.meta.get('id') or self.path.stem}"

    def to_trace(self, trace_id: str) -> Trace:
        """The finished trace: duplicate message forms dropped, steps numbered and tool calls paired."""
        raw = self.steps
        if self.has_item_messages and self.event_messages:
            dropped = set(self.event_messages)
            raw = [step for position, step in enumerate(raw) if position not in dropped]
        steps = make_steps(raw)
        return Trace(
            id=trace_id, source_format="codex", source_path=str(self.path), model=self.model,
            agent_system="codex-cli", task=self._task(steps), metadata={"codex": self._metadata()}, steps=steps,
        )  # fmt: skip

    def _task(self, steps: list[Any]) -> str | None:
        instructions = self.meta.get("instructions")
        if isinstance(instructions, str) and instructions.strip():
            return instructions
        return next((s.content for s in steps if s.kind == "message" and s.role == "user"), None)

    def _metadata(self) -> dict[str, Any]:
        keys = ("id", "timestamp", "cwd", "originator", "cli_version", "source", "model_provider")
        meta: dict[str, Any] = {key: self.meta[key] for key in keys if key in self.meta}
        meta.update(turns=self.turns, models=self.models, rows=self.rows, skipped=dict(self.skipped))
        if self.token_usage is not None:
            meta["token_usage"] = self.token_usage
        if self.invalid_utf8_lines:
            meta["invalid_utf8_lines"] = self.invalid_utf8_lines
        return meta

    # --- one handler per row type; each returns a raw step or None ---------------------------------------------

    def _session_meta(self, payload: dict[str, Any]) -> None:
        nested = payload.get("meta")  # some CLI versions nest the fields under "meta" beside "git"
        self.meta = nested if isinstance(nested, dict) else payload

    def _turn_context(self, payload: dict[str, Any]) -> None:
        self.turns += 1
        model = payload.get("model")
        if isinstance(model, str) and model not in self.models:
            self.models.append(model)

    def _compacted(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "event", "content": _text(payload.get("message")), "source_type": "compacted"}

    def _response_item(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        item_type = payload.get("type")
        handler = _ITEM_HANDLERS.get(item_type) if isinstance(item_type, str) else None
        if handler is None:
            self.skipped[f"response_item/{item_type}"] += 1
            return None
        step = handler(self, payload)
        if step is None:
            self.skipped[f"response_item/{item_type}"] += 1
        else:
            step["source_type"] = f"response_item/{item_type}"
        return step

    def _message(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.has_item_messages = True
        role = payload.get("role") if isinstance(payload.get("role"), str) else None
        content = _parts_text(payload.get("content"))
        is_context = role in ("system", "developer") or content.lstrip().startswith(_CONTEXT_PREFIXES)
        return {"kind": "system" if is_context else "message", "role": role, "content": content}

    def _reasoning(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        content = _parts_text(payload.get("summary")) or _parts_text(payload.get("content"))
        return {"kind": "message", "role": "assistant", "content": content} if content else None

    def _function_call(self, payload: dict[str, Any]) -> dict[str, Any]:
        arguments = payload.get("arguments", payload.get("input"))
        return {
            "kind": "tool_call", "role": "assistant", "tool_name": _text(payload.get("name")) or None,
            "tool_args": arguments if isinstance(arguments, str) else _json(arguments),
            "call_id": _call_id(payload),
        }  # fmt: skip

    def _local_shell_call(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "kind": "tool_call", "role": "assistant", "tool_name": "local_shell",
            "tool_args": _json(payload.get("action")), "call_id": _call_id(payload),
        }  # fmt: skip

    def _web_search_call(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "tool_call", "role": "assistant", "tool_name": "web_search", "tool_args": _json(payload)}

    def _function_output(self, payload: dict[str, Any]) -> dict[str, Any]:
        content, is_error = _tool_output(payload.get("output"))
        return {
            "kind": "tool_result", "role": "tool", "content": content, "is_error": is_error,
            "call_id": _call_id(payload),
        }  # fmt: skip

    def _event_msg(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        event = payload.get("type")
        if not isinstance(event, str) or event in _MIRROR_EVENTS:
            self.skipped[f"event_msg/{event}"] += 1
            return None
        if event == "token_count":
            return self._token_count(payload)
        if event in _MESSAGE_EVENTS:
            self.event_messages.append(len(self.steps))
            return {
                "kind": "message", "role": _MESSAGE_EVENTS[event], "content": _text(payload.get("message")),
                "source_type": f"event_msg/{event}",
            }  # fmt: skip
        return {
            "kind": "event", "content": _event_text(event, payload), "is_error": event in _ERROR_EVENTS,
            "source_type": f"event_msg/{event}",
        }  # fmt: skip

    def _token_count(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        info = payload.get("info")
        if not isinstance(info, dict):
            self.skipped["event_msg/token_count(null)"] += 1
            return None
        last = _mapping(info.get("last_token_usage"))
        total = info.get("total_token_usage")
        if isinstance(total, dict):
            self.token_usage = total
        return {
            "kind": "event", "content": _usage_text(last, total, info.get("model_context_window")),
            "input_tokens": _int(last.get("input_tokens")), "output_tokens": _int(last.get("output_tokens")),
            "source_type": "event_msg/token_count",
        }  # fmt: skip


_Handler = Callable[[CodexSession, dict[str, Any]], "dict[str, Any] | None"]

_ROW_HANDLERS: dict[str, _Handler] = {
    "session_meta": CodexSession._session_meta,
    "turn_context": CodexSession._turn_context,
    "response_item": CodexSession._response_item,
    "event_msg": CodexSession._event_msg,
    "compacted": CodexSession._compacted,
}
_ITEM_HANDLERS: dict[str, _Handler] = {
    "message": CodexSession._message,
    "reasoning": CodexSession._reasoning,
    "function_call": CodexSession._function_call,
    "custom_tool_call": CodexSession._function_call,
    "local_shell_call": CodexSession._local_shell_call,
    "web_search_call": CodexSession._web_search_call,
    "function_call_output": CodexSession._function_output,
    "custom_tool_call_output": CodexSession._function_output,
}


# --- small helpers ---------------------------------------------------------------------------------------------


def _is_codex_row(row: Any) -> bool:
    return isinstance(row, dict) and row.get("type") in ROW_TYPES and isinstance(row.get("payload"), dict)


def _is_legacy_head(rows: list[Any]) -> bool:
    """Rollouts before the `payload` envelope: a `{id, timestamp, instructions}` line, then bare items."""
    first = rows[0]
    if not (isinstance(first, dict) and "id" in first and "timestamp" in first and "type" not in first):
        return False
    return all(isinstance(r, dict) and (r.get("type") in _LEGACY_ITEM_TYPES or "record_type" in r) for r in rows[1:])


def _unwrap(row: Any) -> tuple[str, dict[str, Any]] | None:
    """`(row type, payload)` for enveloped rows and for the bare rows of legacy rollouts; None if neither."""
    if not isinstance(row, dict):
        return None
    row_type, payload = row.get("type"), row.get("payload")
    if isinstance(row_type, str) and isinstance(payload, dict):
        return row_type, payload
    if row_type in _LEGACY_ITEM_TYPES:
        return "response_item", row
    if "record_type" in row:
        return "legacy_state", row
    if "id" in row and "timestamp" in row and row_type is None:
        return "session_meta", row
    return None


def _head_rows(head: str) -> list[Any]:
    """The first (up to five) rows of the head that parse; a row cut off by the head's end is left out."""
    rows: list[Any] = []
    for line in head.splitlines()[:6]:
        if not line.strip():
            continue
        try:
            rows.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            break
        if len(rows) == 5:
            break
    return rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else _json(value)


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _call_id(payload: dict[str, Any]) -> str | None:
    call_id = payload.get("call_id") or payload.get("id")
    return call_id if isinstance(call_id, str) else None


def _parts_text(parts: Any) -> str:
    """Text of a content list (`input_text`, `output_text`, `summary_text`, `reasoning_text` parts)."""
    if isinstance(parts, str):
        return parts
    if not isinstance(parts, list):
        return ""
    texts = []
    for part in parts:
        if isinstance(part, dict):
            text = part.get("text")
            texts.append(text if isinstance(text, str) else f"[{part.get('type', 'part')}]")
        elif isinstance(part, str):
            texts.append(part)
    return "\n".join(texts)


def _tool_output(output: Any) -> tuple[str, bool]:
    """The readable text of a tool output and whether it reports a failure."""
    if isinstance(output, str):
        stripped = output.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                return _structured_output(orjson.loads(output), output)
            except orjson.JSONDecodeError:
                pass
        return output, bool(_ERROR_OUTPUT.match(output))
    return _structured_output(output, _text(output))


def _structured_output(value: Any, raw: str) -> tuple[str, bool]:
    """Unwrap Codex's `{output, metadata.exit_code}`, `{content, success}` and MCP `[{text}]` output shapes."""
    if isinstance(value, list):
        texts = [part.get("text") for part in value if isinstance(part, dict)]
        return ("\n".join(t for t in texts if isinstance(t, str)), False) if any(texts) else (raw, False)
    if not isinstance(value, dict):
        return raw, False
    exit_code = _mapping(value.get("metadata")).get("exit_code", value.get("exit_code"))
    failed = value.get("success") is False or value.get("isError") is True or value.get("is_error") is True
    failed = failed or (isinstance(exit_code, int) and exit_code != 0)
    for key in ("output", "content"):
        if key in value:
            inner = value[key]
            text = _parts_text(inner) if isinstance(inner, list) else _text(inner)
            return text, failed
    return raw, failed


def _event_text(event: str, payload: dict[str, Any]) -> str:
    detail = next((payload[k] for k in ("message", "reason", "text") if isinstance(payload.get(k), str)), "")
    return f"{event}: {detail}" if detail else event


def _usage_text(last: dict[str, Any], total: Any, window: Any) -> str:
    counts = ", ".join(f"{k.removesuffix('_tokens')} {v}" for k, v in last.items() if isinstance(v, int))
    parts = [f"last call: {counts}"] if counts else []
    if isinstance(total, dict) and isinstance(total.get("total_tokens"), int):
        parts.append(f"session total {total['total_tokens']}")
    if isinstance(window, int):
        parts.append(f"context window {window}")
    return "token usage; " + "; ".join(parts) if parts else "token usage"
