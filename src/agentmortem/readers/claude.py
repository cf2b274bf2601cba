"""Claude Code session logs and Anthropic Messages conversations.

Claude Code writes one JSON Lines file per session (`~/.claude/projects/<project>/<session>.jsonl`). Rows have a
`type`: `user` and `assistant` rows carry a Messages-API `message` (`role`, `content` string or blocks, `model`,
`usage`, `id`); `system` rows are harness notices (compaction, hooks, API errors); `summary` rows title the session;
bookkeeping rows (`file-history-snapshot`, `queue-operation`, `progress`, …) and row types this reader does not know
are counted in `metadata["claude"]["ignored_rows"]` and skipped, never a reason to drop the file. Every row has a
`uuid` (rows replayed on resume repeat it and are read once), `sessionId`, `timestamp`, and `isSidechain`, true for
the rows of a sub-agent (Task tool), which also carry an `agentId`. Each sub-agent also has a transcript of its own:
`agent-<agentId>.jsonl` beside the session (Claude Code 2.0.x) or `<session>/subagents/agent-<agentId>.jsonl` with
an `agent-<agentId>.meta.json` sidecar (`agentType`, …; 2.1.x), kept in `metadata["claude"]["agent_meta"]`. Claude
Code on the web exports a session as one JSON document `{"loglines": [row, …]}`; its rows are read the same way.

How rows become steps:

- Content blocks follow `anthropic_blocks`: text → message, thinking → message marked `…:thinking`, tool_use →
  tool_call, tool_result → tool_result paired by id. `source_type` is `claude:<row type>` plus the block kind, and
  `claude:user/meta` or `claude:user/compact_summary` for harness-injected user rows.
- `system` rows → `event` steps (`claude:system/<subtype>`), `is_error` when their level is `error`.
- Sub-agent rows keep their agent: `agent-<agentId>`; a sidechain row without an id is `sidechain` inside a session
  file and takes the file's name in a sub-agent's own file. Main-chain rows have none.
- Claude Code splits one API response over several rows that repeat its `usage`; tokens are counted once per
  response id, on its first step. `input_tokens` is the whole prompt: fresh plus cache-creation plus cache-read.
- Trace id is the `sessionId`. A file holding only sub-agent rows is its own trace: `<sessionId>/agent-<agentId>`
  for one agent with an id, else `<sessionId>/<file name>` (the file's path under the ingest root), so the files of
  one project folder never collide on the session id. A file of rows with no message at all (only titles or
  snapshots) is reported, not silently dropped; one of `summary` rows alone is left to `side_files`.

Anthropic Messages: a JSON object with `messages` (and optional `system`, `model`, `id`), a list of messages, or
JSON Lines of such objects (batch rows nesting them under `params` too); trace id from `id` / `custom_id`, else the
file name (with the line number for JSON Lines). A file name in an id is the file's path under the ingest root.
Messages saved from API responses keep what each response says of itself: its `usage` goes on its first step, its
`model` is counted in `metadata["models"]`; the trace's model is the request's, else the most common response's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import orjson

from agentmortem.identity import name_after_file
from agentmortem.model import Trace, make_steps
from agentmortem.readers.anthropic_blocks import RawStep, content_steps, text_of
from agentmortem.readers.base import ReadError, iso_timestamp
from agentmortem.readers.jsonio import load_records

_ID_KEYS = ("sessionId", "uuid", "leafUuid", "parentUuid", "messageId")
_HEAD_ANTHROPIC = ('"tool_use"', '"tool_result"', '"tool_use_id"', '"thinking"', '"stop_reason"', '"anthropic_version"')
_SYNTHETIC_MODEL = "<synthetic>"
_UNNAMED_SIDECHAIN = "sidechain"
_CLAUDE_MODEL = re.compile(r'"model"\s*:\s*"claude')
_SYSTEM_KEY = re.compile(r'"system"\s*:')
_LOGLINES = re.compile(r'\{\s*"loglines"\s*:\s*\[')


class ClaudeReader:
    """Reads Claude Code session JSONL and Anthropic Messages conversations."""

    name: ClassVar[str] = "claude"
    description: ClassVar[str] = "Claude Code session JSONL and Anthropic Messages JSON (content blocks)"

    def sniff(self, path: Path, head: str) -> float:
        """Certain for Claude Code rows; confident for messages that use Anthropic-only blocks or fields."""
        stripped = head.lstrip()
        if not stripped.startswith(("{", "[")):
            return 0.0
        if '"sessionId"' in head and ('"parentUuid"' in head or '"isSidechain"' in head):
            return 0.95
        if stripped.startswith("{") and _LOGLINES.match(stripped):
            return 0.95
        if '"leafUuid"' in head and '"summary"' in head and not _only_summaries(head):
            return 0.9
        if '"messages"' not in head and not (stripped.startswith("[") and '"role"' in head):
            return 0.0
        anthropic = any(marker in head for marker in _HEAD_ANTHROPIC) or _CLAUDE_MODEL.search(head) is not None
        return 0.92 if anthropic or _top_level_system(stripped) else 0.0

    def read(self, path: Path, errors: list[ReadError]) -> Iterator[Trace]:
        """Yield the session (Claude Code) or the conversations (Messages) in `path`."""
        is_lines, records = load_records(path, errors)
        if not is_lines:
            yield from _document_traces(path, next(records)[1], errors)
            return
        session = _Session(path)
        for line, value in records:
            if is_code_row(value) or (session.rows and _is_typed_row(value)):
                session.add_row(value, line, errors)
            elif _request_of(value) is not None:
                try:
                    yield messages_trace(path, value, line=line)
                except ReadError as exc:
                    errors.append(exc)
            else:
                errors.append(ReadError(path, "neither a Claude Code row nor a Messages object", line=line))
        yield from session.finish(errors)


def _only_summaries(head: str) -> bool:
    """A head of nothing but `summary` rows: session titles, no conversation (`side_files` notes such a file)."""
    rows = []
    for line in head.splitlines():
        if not line.strip():
            continue
        try:
            rows.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            break  # a row cut off by the head's end
    return bool(rows) and all(isinstance(row, dict) and row.get("type") == "summary" for row in rows)


def _top_level_system(head: str) -> bool:
    """A `"system":` key in an object holding messages: the Messages API's, not a chat-completions role."""
    return head.startswith("{") and _SYSTEM_KEY.search(head) is not None


def _is_typed_row(value: Any) -> bool:
    """A row with a string `type` and no message list: read as a (possibly unknown) Claude Code row."""
    return isinstance(value, dict) and isinstance(value.get("type"), str) and "messages" not in value


def is_code_row(value: Any) -> bool:
    """True for a Claude Code session row (a typed row with session bookkeeping ids)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("type"), str)
        and "messages" not in value
        and any(key in value for key in _ID_KEYS)
    )


def _document_traces(path: Path, document: Any, errors: list[ReadError]) -> Iterator[Trace]:
    """Traces of a whole-file JSON document: one Messages object, a message list, or Claude Code rows."""
    rows = _session_rows(document)
    if rows is not None:
        session = _Session(path)
        for row in rows:
            if _is_typed_row(row):
                session.add_row(row, None, errors)
            else:
                errors.append(ReadError(path, f"row {session.rows + 1} is not a Claude Code row (no 'type')"))
        yield from session.finish(errors)
        return
    if isinstance(document, list):
        document = {"messages": document}
    if _request_of(document) is None:
        raise ReadError(path, "not a Claude Code session or an Anthropic Messages object (no 'messages' list)")
    yield messages_trace(path, document, line=None)


def _session_rows(document: Any) -> list[Any] | None:
    """The Claude Code rows of a whole-file document: one row, a list of rows, or a web export's `loglines`."""
    if isinstance(document, dict) and isinstance(document.get("loglines"), list):
        return list(document["loglines"])  # Claude Code on the web: {"loglines": [row, ...]}
    if is_code_row(document):
        return [document]
    if isinstance(document, list) and document and all(map(is_code_row, document)):
        return document
    return None


def _request_of(value: Any) -> dict[str, Any] | None:
    """The Messages request in `value` (itself, or a batch row's `params`), or None."""
    if not isinstance(value, dict):
        return None
    params = value.get("params")
    request: dict[str, Any] = params if isinstance(params, dict) else value
    return request if isinstance(request.get("messages"), list) else None


def messages_trace(path: Path, value: dict[str, Any], *, line: int | None) -> Trace:
    """The trace of one Anthropic Messages conversation (named after its file, and line, when it has no id)."""
    request = _request_of(value)
    if request is None:
        raise ReadError(path, "no 'messages' list", line=line)
    raw: list[RawStep] = []
    if request.get("system"):
        raw.append(
            {
                "kind": "system",
                "role": "system",
                "content": text_of(request["system"]),
                "source_type": "anthropic:system",
            }
        )
    models: Counter[str] = Counter()
    for index, message in enumerate(request["messages"]):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ReadError(path, f"messages[{index}] is not an object with a 'role'", line=line)
        role = message["role"]
        steps = content_steps(role, message.get("content"), source=f"anthropic:{role}")
        _keep_response_facts(message, steps, models)
        raw.extend(steps)
    trace_id = value.get("id") or value.get("custom_id")
    metadata = {k: v for k, v in request.items() if k in ("max_tokens", "temperature", "metadata")}
    if models:
        metadata["models"] = dict(sorted(models.items()))  # messages saved from responses name their model
    request_model = request.get("model") if isinstance(request.get("model"), str) else None
    trace = Trace(
        id=str(trace_id or ""),
        source_format="claude",
        source_path=str(path),
        model=request_model or (models.most_common(1)[0][0] if models else None),
        agent_system=None,
        task=_first_user_text(raw),
        metadata=metadata,
        steps=make_steps(raw),
    )
    if not trace_id:
        name_after_file(trace, path, after=f":{line}" if line is not None else "")
    return trace.with_fingerprint()


def _keep_response_facts(message: dict[str, Any], steps: list[RawStep], models: Counter[str]) -> None:
    """A message saved from a Messages API response keeps its `model` (counted) and `usage` (on its first step)."""
    model = message.get("model")
    if isinstance(model, str) and model != _SYNTHETIC_MODEL:
        models[model] += 1
    usage = message.get("usage")
    if steps and isinstance(usage, dict):
        steps[0]["input_tokens"], steps[0]["output_tokens"] = _usage_tokens(usage)


def _first_user_text(raw: list[RawStep]) -> str | None:
    return next((s["content"] for s in raw if s["kind"] == "message" and s["role"] == "user" and s["content"]), None)


class _Session:
    """Accumulates the rows of one Claude Code session file into steps and metadata."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.steps: list[RawStep] = []
        self.seen_rows: set[str] = set()
        self.counted_responses: set[str] = set()
        self.models: Counter[str] = Counter()
        self.ignored: Counter[str] = Counter()
        self.info: dict[str, Any] = {}
        self.summaries: list[str] = []
        self.agent_ids: set[str] = set()
        self.main_rows = 0
        self.rows = 0

    def add_row(self, row: dict[str, Any], line: int | None, errors: list[ReadError]) -> None:
        """Read one row; a malformed row is reported in `errors` and skipped."""
        self.rows += 1
        uuid = row.get("uuid")
        if isinstance(uuid, str):
            if uuid in self.seen_rows:
                return  # replayed when a session is resumed
            self.seen_rows.add(uuid)
        kind = row["type"]
        if kind in ("user", "assistant"):
            self._message_row(row, line, errors)
        elif kind == "system":
            self._remember(row)
            self.steps.append(_system_event(row))
        elif kind == "summary":
            self.summaries.append(str(row.get("summary", "")))
        else:
            self.ignored[kind] += 1

    def _message_row(self, row: dict[str, Any], line: int | None, errors: list[ReadError]) -> None:
        message = row.get("message")
        if not isinstance(message, dict):
            errors.append(ReadError(self.path, f"{row['type']} row has no 'message' object", line=line))
            return
        self._remember(row)
        role = str(message.get("role") or row["type"])
        steps = content_steps(role, message.get("content"), source=_row_source(row))
        stamp = {"timestamp": iso_timestamp(row.get("timestamp")), "agent": _agent(row)}
        for step in steps:
            step.update(stamp)
            if row.get("isApiErrorMessage"):
                step["is_error"] = True
        if row["type"] == "assistant":
            self._count_model_and_usage(message, steps)
        self.steps.extend(steps)

    def _count_model_and_usage(self, message: dict[str, Any], steps: list[RawStep]) -> None:
        model = message.get("model")
        if isinstance(model, str) and model != _SYNTHETIC_MODEL:
            self.models[model] += 1
        response_id = str(message.get("id") or id(message))
        usage = message.get("usage")
        if steps and isinstance(usage, dict) and response_id not in self.counted_responses:
            self.counted_responses.add(response_id)
            steps[0]["input_tokens"], steps[0]["output_tokens"] = _usage_tokens(usage)

    def _remember(self, row: dict[str, Any]) -> None:
        for key in ("sessionId", "cwd", "version", "gitBranch", "slug"):
            if key in row and key not in self.info:
                self.info[key] = row[key]
        if row.get("isSidechain"):
            self.agent_ids.add(str(row.get("agentId") or ""))
        else:
            self.main_rows += 1

    def finish(self, errors: list[ReadError]) -> Iterator[Trace]:
        """The session's trace; a file of rows without one message (titles, snapshots only) is reported."""
        if self.steps:
            yield self.to_trace()
        elif self.rows:
            counts = Counter({"summary": len(self.summaries)}) + self.ignored
            kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
            errors.append(ReadError(self.path, f"Claude Code rows but no conversation to read ({kinds} rows)"))

    def to_trace(self) -> Trace:
        """The session as one trace."""
        if self.main_rows == 0:  # a sub-agent's own file: rows without an agentId are that file's agent
            for step in self.steps:
                if step.get("agent") == _UNNAMED_SIDECHAIN:
                    step["agent"] = self.path.stem
        models = self.models.most_common(1)
        trace = Trace(
            id=self._trace_id(),
            source_format="claude",
            source_path=str(self.path),
            model=models[0][0] if models else None,
            agent_system="claude-code",
            task=_first_user_text([s for s in self.steps if s.get("source_type") == "claude:user"]),
            metadata={"claude": self._metadata()},
            steps=make_steps(self.steps),
        )
        session = self.info.get("sessionId")
        if not session:
            name_after_file(trace, self.path, after=trace.id.removeprefix(self.path.stem))
        elif self.main_rows == 0 and trace.id == session:
            name_after_file(trace, self.path, before=f"{session}/")  # a sub-agent file without one agentId
        return trace.with_fingerprint()

    def _trace_id(self) -> str:
        """`<sessionId>`, or `<sessionId>/agent-<agentId>` for a file holding one sub-agent's rows only."""
        session = str(self.info.get("sessionId") or self.path.stem)
        if self.main_rows == 0 and len(self.agent_ids) == 1 and "" not in self.agent_ids:
            return f"{session}/agent-{next(iter(self.agent_ids))}"
        return session

    def _metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {_snake(k): v for k, v in self.info.items()}
        if self.summaries:
            meta["summaries"] = self.summaries
        if self.ignored:
            meta["ignored_rows"] = dict(sorted(self.ignored.items()))
        if len(self.models) > 1:
            meta["models"] = sorted(self.models)
        agents = sorted({s["agent"] for s in self.steps if s.get("agent")})
        if agents:
            meta["agents"] = agents
        sidecar = _agent_sidecar(self.path) if self.main_rows == 0 else None
        if sidecar is not None:
            meta["agent_meta"] = sidecar
        return meta


def _row_source(row: dict[str, Any]) -> str:
    if row.get("isCompactSummary"):
        return "claude:user/compact_summary"
    if row.get("isMeta"):
        return f"claude:{row['type']}/meta"
    return f"claude:{row['type']}"


def _system_event(row: dict[str, Any]) -> RawStep:
    subtype = row.get("subtype") or row.get("level") or "notice"
    return {
        "kind": "event",
        "role": "system",
        "content": text_of(row.get("content")),
        "is_error": row.get("level") == "error",
        "timestamp": iso_timestamp(row.get("timestamp")),
        "agent": _agent(row),
        "source_type": f"claude:system/{subtype}",
    }


def _agent(row: dict[str, Any]) -> str | None:
    """`agent-<agentId>` for a sub-agent's row; without an id, `sidechain` (the file's name in its own file)."""
    if not row.get("isSidechain"):
        return None
    return f"agent-{row['agentId']}" if row.get("agentId") else _UNNAMED_SIDECHAIN


def _agent_sidecar(path: Path) -> dict[str, Any] | None:
    """The `agent-<id>.meta.json` Claude Code writes beside a sub-agent's transcript (agentType, model…), if any."""
    sidecar = path.with_name(f"{path.stem}.meta.json")
    try:
        value = orjson.loads(sidecar.read_bytes()) if sidecar.is_file() else None
    except (OSError, orjson.JSONDecodeError):
        return None  # a broken sidecar costs the agent's type, never its transcript
    return value if isinstance(value, dict) else None


def _usage_tokens(usage: dict[str, Any]) -> tuple[int | None, int | None]:
    prompt_keys = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    prompt = [usage[k] for k in prompt_keys if isinstance(usage.get(k), int)]
    output = usage.get("output_tokens")
    return (sum(prompt) if prompt else None), (output if isinstance(output, int) else None)


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)
