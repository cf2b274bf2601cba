"""Claude Code project folders with sub-agent transcripts, rows the reader does not know, the web export, and
Messages lists saved from API responses.

Shapes: Claude Code writes `~/.claude/projects/<project>/<sessionId>.jsonl` and each sub-agent (Task tool) to a file
of its own, `agent-<agentId>.jsonl` beside the session (2.0.x) or `<sessionId>/subagents/agent-<agentId>.jsonl` with
an `agent-<agentId>.meta.json` sidecar (`{"agentType", …}`, 2.1.x); sub-agent rows carry `isSidechain: true`, the
parent's `sessionId` and `agentId`. Claude Code on the web exports a session as `{"loglines": [row, …]}` (read by
github.com/simonw/claude-code-transcripts). The folders below are built here from this repository's own fixtures.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from agentmortem.ingest import ingest
from agentmortem.model import Trace
from agentmortem.readers import ReadError, read_traces
from agentmortem.store import Store
from conftest import FIXTURES

HERE = FIXTURES / "claude"
SESSION_ID = "6f1c2e8a-3b7d-4e91-a0c5-9d2f4b8e7a13"
SESSION = HERE / f"{SESSION_ID}.jsonl"
SUBAGENT = HERE / "agent-b3d2f10.jsonl"


def rows_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def sub_agent_rows(agent_id: str | None) -> list[dict[str, Any]]:
    """The fixture sub-agent's rows as another agent's (fresh uuids), or without an agentId (older files)."""
    rows = []
    for n, row in enumerate(rows_of(SUBAGENT)):
        row = dict(
            row, uuid=f"{agent_id or 'noid'}-{n}", parentUuid=None if n == 0 else f"{agent_id or 'noid'}-{n - 1}"
        )
        row.pop("agentId")
        if agent_id is not None:
            row["agentId"] = agent_id
        rows.append(row)
    return rows


def project_folder(root: Path) -> Path:
    """A project folder: the main session, one sub-agent file per layout, one without agentId, titles only."""
    project = root / "-home-dev-shop"
    project.mkdir(parents=True)
    shutil.copy(SESSION, project / SESSION.name)
    shutil.copy(SUBAGENT, project / SUBAGENT.name)  # 2.0.x layout, agentId b3d2f10
    nested = project / SESSION_ID / "subagents"
    write_rows(nested / "agent-c4e5f60.jsonl", sub_agent_rows("c4e5f60"))  # 2.1.x layout with its sidecar
    (nested / "agent-c4e5f60.meta.json").write_text('{"agentType":"Explore","spawnDepth":1}')
    write_rows(project / "agent-d00d.jsonl", sub_agent_rows(None))
    write_rows(project / "1b2c-titles.jsonl", [{"type": "summary", "summary": "Old title", "leafUuid": "u-9"}])
    return project


def test_every_transcript_of_a_project_folder_gets_its_own_trace(tmp_path: Path) -> None:
    project = project_folder(tmp_path)
    with Store(tmp_path / "t.duckdb") as store:
        report = ingest([project], store)
        ids = sorted(t.id for t in store.iter_traces())
    assert report.errors == [] and report.collisions == [] and report.duplicates == []
    assert (report.read, report.added) == (4, 4) and report.accounted
    assert ids == sorted([
        SESSION_ID, f"{SESSION_ID}/agent-b3d2f10", f"{SESSION_ID}/agent-c4e5f60", f"{SESSION_ID}/agent-d00d",
    ])  # fmt: skip
    assert sorted(Path(s.path).name for s in report.skipped) == ["1b2c-titles.jsonl", "agent-c4e5f60.meta.json"]


def test_each_sub_agent_is_its_own_agent(tmp_path: Path) -> None:
    errors: list[ReadError] = []
    traces = {t.id: t for t in read_traces([project_folder(tmp_path)], errors)}
    assert errors == []
    agents = {tid: {s.agent for s in t.steps} for tid, t in traces.items()}
    assert agents[SESSION_ID] == {None, "agent-a7c91e2"}  # its inline sub-agent rows keep their agentId
    assert agents[f"{SESSION_ID}/agent-b3d2f10"] == {"agent-b3d2f10"}
    assert agents[f"{SESSION_ID}/agent-c4e5f60"] == {"agent-c4e5f60"}
    assert agents[f"{SESSION_ID}/agent-d00d"] == {"agent-d00d"}  # no agentId: the file names the agent
    nested = traces[f"{SESSION_ID}/agent-c4e5f60"].metadata["claude"]
    assert nested["agent_meta"] == {"agentType": "Explore", "spawnDepth": 1}


def test_summary_and_unknown_rows_are_counted_not_fatal(tmp_path: Path) -> None:
    rows = rows_of(SESSION)
    rows.insert(3, {"type": "summary", "summary": "A title without leafUuid"})
    rows.insert(5, {"type": "agent-name", "name": "checkout-fixer"})  # a row type this reader does not know
    rows.insert(7, {"type": "progress", "uuid": "p-1", "sessionId": SESSION_ID, "data": {"type": "hook_progress"}})
    traces, errors = read(write_rows(tmp_path / "s.jsonl", rows))
    assert errors == []
    (trace,) = traces
    meta = trace.metadata["claude"]
    assert meta["ignored_rows"] == {"agent-name": 1, "file-history-snapshot": 1, "progress": 1}
    assert meta["summaries"] == ["Fix failing checkout tests", "A title without leafUuid"]
    assert len(trace.steps) == len(read(SESSION)[0][0].steps)


def test_a_file_of_rows_without_a_conversation_is_reported(tmp_path: Path) -> None:
    rows = [{"type": "summary", "summary": "t", "leafUuid": "u"}, {"type": "file-history-snapshot", "messageId": "m"}]
    path = write_rows(tmp_path / "x.jsonl", rows)
    traces, errors = read(path, format="claude")
    assert traces == []
    assert [e.reason for e in errors] == [
        "Claude Code rows but no conversation to read (1 file-history-snapshot, 1 summary rows)"
    ]


def test_web_export_loglines_reads_like_the_session(tmp_path: Path) -> None:
    path = tmp_path / "web-session.json"
    path.write_text(json.dumps({"loglines": rows_of(SESSION)}))
    traces, errors = read(path)
    assert errors == []
    (web,) = traces
    (local,) = read(SESSION)[0]
    assert web.id == SESSION_ID and web.source_format == "claude"
    assert [s.model_dump() for s in web.steps] == [s.model_dump() for s in local.steps]


def test_web_export_without_session_ids_is_named_after_its_file(tmp_path: Path) -> None:
    rows = [
        {"type": "user", "message": {"role": "user", "content": "hi"}, "timestamp": "2026-01-01T00:00:00Z"},
        {"type": "assistant", "message": {"role": "assistant", "model": "claude-sonnet-4-5", "content": [
            {"type": "text", "text": "hello"}], "usage": {"input_tokens": 5, "output_tokens": 2}}},
    ]  # fmt: skip
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"loglines": rows}))
    (trace,), errors = read(path)
    assert errors == [] and trace.id == "export" and trace.model == "claude-sonnet-4-5"
    assert [(s.role, s.content, s.output_tokens) for s in trace.steps] == [
        ("user", "hi", None),
        ("assistant", "hello", 2),
    ]


def test_messages_list_keeps_each_responses_model_and_usage(tmp_path: Path) -> None:
    messages = [
        {"role": "user", "content": "Is the payments pod healthy?"},
        {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5", "stop_reason": "tool_use",
         "content": [{"type": "text", "text": "Checking."},
                     {"type": "tool_use", "id": "tu_1", "name": "get_pod", "input": {"name": "payments"}}],
         "usage": {"input_tokens": 100, "cache_read_input_tokens": 900, "output_tokens": 30}},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "CrashLoopBackOff"}]},
        {"id": "msg_2", "type": "message", "role": "assistant", "model": "claude-opus-4-1", "stop_reason": "end_turn",
         "content": [{"type": "text", "text": "It is crash-looping."}],
         "usage": {"input_tokens": 1200, "output_tokens": 12}},
    ]  # fmt: skip
    path = tmp_path / "conversation.json"
    path.write_text(json.dumps(messages))
    (trace,), errors = read(path, format="claude")
    assert errors == []
    tokens = [(s.kind, s.input_tokens, s.output_tokens) for s in trace.steps]
    assert tokens == [
        ("message", None, None), ("message", 1000, 30), ("tool_call", None, None), ("tool_result", None, None),
        ("message", 1200, 12),
    ]  # fmt: skip
    assert trace.metadata["models"] == {"claude-haiku-4-5": 1, "claude-opus-4-1": 1}
    assert trace.model == "claude-haiku-4-5"  # the most common response model, the first one on a tie


def read(path: Path, format: str | None = None) -> tuple[list[Trace], list[ReadError]]:
    errors: list[ReadError] = []
    return list(read_traces([path], errors, format=format)), errors
