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
  call by `call_id`. Every output form Codex writes is recognised (`OUTPUT_FORMS`; docs/formats.md names the
  source of each): the exec JSON wrapper `{"output", "metadata": {"exit_code"}}` is unwrapped to its text;
  plain-text heads `Exit code: N` (shell_command, freeform tools) and `Process exited with code N`
  (exec_command / write_stdin) are read for their code; Codex's refusals (`apply_patch verification failed: …`,
  `failed to parse function arguments: …`, `err: …` …) are failures; MCP results with `isError: true` and
  `{content, success: false}` are failures; MCP content lists are joined. A non-zero exit code marks the step
  `is_error`, and so does an `exec_command_end` (non-zero `exit_code`), `patch_apply_end` (`success: false`) or
  `mcp_tool_call_end` (`Err`, or `isError`) event for the call, in the CLI versions that persist those events.
  How many outputs of each form were read is kept in `metadata["codex"]["output_forms"]`.
* Each message is written twice by Codex, as a `response_item` message and as an `event_msg` `user_message` /
  `agent_message` (likewise `agent_reasoning` mirrors reasoning, and `exec_command_*`, `mcp_tool_call_*`,
  `patch_apply_*` mirror tool calls). The `response_item` form is the one kept — it is what the model saw, with
  its role. The `event_msg` message forms are used only when a file has no `response_item` message at all.
* Other `event_msg` rows (`turn_aborted`, `error`, `stream_error`, `task_started`, `task_complete`,
  `context_compacted` …) and top-level `compacted` rows become `event` steps with source_type
  `event_msg/<type>`; `turn_aborted`, `error` and `stream_error` are marked `is_error`. These carry meaning and
  stay steps.
* `token_count` events are not steps: each one's `last_token_usage` (input and output tokens) is folded into the
  model step it reports — the last model step (assistant message, reasoning or tool call) before it — so step
  indices address what happened, not bookkeeping (`fold_token_counts` states the rule and its edge cases). A
  count whose `info` is null reports nothing and is dropped; one that repeats the previous total is dropped as
  a repeat; both are counted in `skipped`. What was folded is counted in `metadata["codex"]["token_counts"]`.
* `session_meta` and `turn_context` are not steps: they give the session id, CLI version, task (the
  `instructions`, else the first real user message) and model (`turn_context.model`), kept in
  `metadata["codex"]` along with the number of model turns, the last cumulative token usage, the model's
  context window and the counts of rows skipped by type.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

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
    r"\s*(apply_patch verification failed|apply_patch handler received|failed to parse|unsupported call|"
    r"unsupported unified exec function|exec_command failed|write_stdin failed|exec command rejected|"
    r"patch rejected|approval policy is|command timed out|tool call error|execution error|error\b|err:)",
    re.IGNORECASE,
)
"""Plain-text outputs that are Codex's own refusal of a call (`FunctionCallError::RespondToModel` messages)."""
_EXIT_HEAD = re.compile(r"\s*Exit code: (-?\d+)\n")
_UNIFIED_HEAD = re.compile(r"(?:Chunk ID: [^\n]*\n)?Wall time: [^\n]*\n")
_UNIFIED_EXIT = re.compile(r"^Process exited with code (-?\d+)$", re.MULTILINE)
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
        self.context_window: int | None = None
        self.output_forms: Counter[str] = Counter()
        self.failed_by_event: set[str] = set()  # call ids whose `*_end` event reports a failure
        self.folded = TokenFolding()
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
        for step in raw:
            if step["kind"] == "tool_result" and step.get("call_id") in self.failed_by_event:
                step["is_error"] = True
        raw, self.folded = fold_token_counts(raw)
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
        if self.context_window is not None:
            meta["context_window"] = self.context_window
        meta["token_counts"] = self.folded.summary()
        meta["output_forms"] = dict(sorted(self.output_forms.items()))
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
        reading = read_tool_output(payload.get("output"))
        self.output_forms[reading.form] += 1
        return {
            "kind": "tool_result", "role": "tool", "content": reading.text, "is_error": reading.failed,
            "call_id": _call_id(payload),
        }  # fmt: skip

    def _event_msg(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        event = payload.get("type")
        if not isinstance(event, str) or event in _MIRROR_EVENTS:
            self.skipped[f"event_msg/{event}"] += 1
            if isinstance(event, str) and _end_event_failed(event, payload) and _call_id(payload):
                self.failed_by_event.add(str(_call_id(payload)))
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
        """A placeholder step carrying the last call's usage; `fold_token_counts` moves it onto a model step."""
        info = payload.get("info")
        if not isinstance(info, dict):
            self.skipped["event_msg/token_count(null)"] += 1
            return None
        total = info.get("total_token_usage")
        if isinstance(total, dict):
            if total == self.token_usage:  # the same usage reported again (turn end, rate-limit update)
                self.skipped["event_msg/token_count(repeat)"] += 1
                return None
            self.token_usage = total
        if isinstance(info.get("model_context_window"), int):
            self.context_window = info["model_context_window"]
        last = _mapping(info.get("last_token_usage"))
        return {
            "kind": TOKEN_COUNT, "content": _usage_text(last, total, info.get("model_context_window")),
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


# --- token counts ------------------------------------------------------------------------------------------

TOKEN_COUNT = "token_count"
"""The kind of a placeholder raw step holding one `token_count` event's usage until it is folded (never a Step)."""


@dataclass
class TokenFolding:
    """What became of a session's token-count events (kept in `metadata["codex"]["token_counts"]`)."""

    folded: int = 0
    """Put on the model step they report (the last model step before them)."""
    merged: int = 0
    """Of those, added to a model step that already held a count: the call they report wrote no step."""
    kept: int = 0
    """Kept as `event` steps: no model step comes before them."""

    def summary(self) -> dict[str, int]:
        """The counts as metadata keeps them."""
        return {"folded": self.folded, "merged": self.merged, "kept_as_steps": self.kept}


def fold_token_counts(raw: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], TokenFolding]:
    """Move each token-count placeholder's usage onto the last model step before it; drop the placeholder.

    Codex writes `token_count` after the model call it reports has written its items (reasoning, message, tool
    call), so the last model step before it is that call's last output. When the call wrote no step (encrypted
    reasoning only), its usage is added to the model step before, so the session's totals still add up. A count
    with no model step before it stays an `event` step: there is nothing to fold it into, and it is not dropped.
    """
    folding = TokenFolding()
    steps: list[dict[str, Any]] = []
    target: dict[str, Any] | None = None
    for step in raw:
        if step["kind"] != TOKEN_COUNT:
            steps.append(step)
            if step.get("role") == "assistant" and step["kind"] in ("message", "tool_call"):
                target = step
            continue
        if target is None:
            steps.append({**step, "kind": "event"})
            folding.kept += 1
            continue
        if "input_tokens" in target or "output_tokens" in target:
            folding.merged += 1
        for key in ("input_tokens", "output_tokens"):
            target[key] = _sum(target.get(key), step.get(key))
        folding.folded += 1
    return steps, folding


def _sum(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else a + b


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


class OutputReading(NamedTuple):
    """What a tool output says: its readable text, whether it reports a failure, and which form it has."""

    text: str
    failed: bool
    form: str


OUTPUT_FORMS: dict[str, str] = {
    "exec-json": '`{"output", "metadata": {"exit_code", "duration_seconds"}}`: failed when exit_code != 0',
    "exec-text": "`Exit code: N` / `Wall time:` / `Output:` head (shell_command, freeform tools): failed when N != 0",
    "unified-exec": "`Chunk ID:` / `Wall time:` / `Process exited with code N` / `Output:` head (exec_command, "
    "write_stdin): failed when N != 0",
    "refusal": "plain text Codex writes when it refuses a call (`apply_patch verification failed: …`, "
    "`failed to parse function arguments: …`, `exec_command failed: …`, `err: …`): always failed",
    "mcp-result": '`{"content": [...], "isError"}` (an MCP CallToolResult): failed when isError is true',
    "success-flag": '`{"content", "success": false}`: failed when success is false',
    "content-list": '`[{"type": "text", "text"}]` (MCP content items): failed only when an end event says so',
    "text": "any other text: not a failure by itself",
}
"""The forms a Codex tool output takes (see docs/formats.md for where each comes from); `read_tool_output` names one."""


def read_tool_output(output: Any) -> OutputReading:
    """The readable text of a tool output, whether it reports a failure, and its form (a key of OUTPUT_FORMS)."""
    if not isinstance(output, str):
        return _structured_output(output, _text(output))
    if output.lstrip()[:1] in ("{", "["):
        try:
            return _structured_output(orjson.loads(output), output)
        except orjson.JSONDecodeError:
            pass
    return _text_output(output)


def _text_output(output: str) -> OutputReading:
    """A plain-text output: an exec head with its exit code, one of Codex's refusals, or plain text."""
    head = _EXIT_HEAD.match(output)
    if head:
        return OutputReading(output, int(head.group(1)) != 0, "exec-text")
    if _UNIFIED_HEAD.match(output):
        preamble = output.split("\nOutput:\n", 1)[0]
        code = _UNIFIED_EXIT.search(preamble)
        return OutputReading(output, code is not None and int(code.group(1)) != 0, "unified-exec")
    if _ERROR_OUTPUT.match(output):
        return OutputReading(output, True, "refusal")
    return OutputReading(output, False, "text")


def _structured_output(value: Any, raw: str) -> OutputReading:
    """Unwrap Codex's `{output, metadata.exit_code}`, `{content, success}`, MCP results and content lists."""
    if isinstance(value, list):
        texts = [part.get("text") for part in value if isinstance(part, dict)]
        if any(isinstance(t, str) for t in texts):
            return OutputReading("\n".join(t for t in texts if isinstance(t, str)), False, "content-list")
        return OutputReading(raw, False, "text")
    if not isinstance(value, dict):
        return OutputReading(raw, False, "text")
    text = next((_inner_text(value[key]) for key in ("output", "content") if key in value), raw)
    exit_code = _mapping(value.get("metadata")).get("exit_code", value.get("exit_code"))
    if isinstance(exit_code, int):
        return OutputReading(text, exit_code != 0, "exec-json")
    if "isError" in value or "is_error" in value:
        return OutputReading(text, value.get("isError") is True or value.get("is_error") is True, "mcp-result")
    if "success" in value:
        return OutputReading(text, value["success"] is False, "success-flag")
    return OutputReading(text, False, "text")


def _inner_text(inner: Any) -> str:
    return _parts_text(inner) if isinstance(inner, list) else _text(inner)


def _end_event_failed(event: str, payload: dict[str, Any]) -> bool | None:
    """Whether an `*_end` event reports its call failed; None when it does not say."""
    if event == "exec_command_end":
        code = payload.get("exit_code")
        return code != 0 if isinstance(code, int) else None
    if event == "patch_apply_end":
        success = payload.get("success")
        return success is False if isinstance(success, bool) else None
    if event == "mcp_tool_call_end":
        result = _mapping(payload.get("result"))
        if "Err" in result:
            return True
        ok = _mapping(result.get("Ok"))
        return ok.get("isError") is True or ok.get("is_error") is True if ok else None
    return None


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
