"""The openai reader: fixture goldens for every accepted shape, sniffing, bad input, and the real MAD-as-chat files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from agentmortem.ingest import ingest
from agentmortem.model import Trace
from agentmortem.readers import MIN_CONFIDENCE, ReadError, detect_format, read_head, read_traces
from agentmortem.readers.mad import MadReader
from agentmortem.readers.openai_chat import OpenAIChatReader
from agentmortem.store import Store
from conftest import FIXTURES, shared_data
from reader_goldens import check_golden

OPENAI = FIXTURES / "openai"
FIXTURE_FILES = ["messages_list.json", "tau_results.json", "who_when.json", "conversation.jsonl"]


def read(path: Path) -> tuple[list[Trace], list[ReadError]]:
    errors: list[ReadError] = []
    return list(OpenAIChatReader().read(path, errors)), errors


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_fixture_matches_golden(name: str) -> None:
    traces, errors = read(OPENAI / name)
    assert errors == []
    check_golden(OPENAI / name, traces)


def test_tool_calls_follow_their_message_and_pair_with_results() -> None:
    (trace,), _ = read(OPENAI / "messages_list.json")
    kinds = [s.kind for s in trace.steps]
    # The assistant turn with no text and two tool calls is just those two calls.
    assert kinds == ["system", "message", "tool_call", "tool_call", "tool_result", "tool_result", "message"]
    call_a, call_b, result_b, result_a = trace.steps[2:6]
    assert (call_a.call_id, call_a.tool_name, call_a.tool_args) == ("call_a", "list_dir", '{"path": "/var/log/app"}')
    assert (call_a.pair_index, result_a.pair_index) == (5, 2)
    assert (call_b.pair_index, result_b.pair_index, result_b.tool_name) == (4, 3, "stat_newest")


def test_content_parts_are_joined_and_non_text_parts_named() -> None:
    (trace,), _ = read(OPENAI / "messages_list.json")
    assert trace.steps[1].content == ("How many log files are in /var/log/app?\n[image_url]\nAlso show the newest one.")
    assert trace.steps[-1].agent == "fs_helper"
    assert trace.steps[-1].content.startswith("There are 2 log files")


def test_tau_bench_entries_give_ids_outcomes_and_dict_arguments() -> None:
    traces, _ = read(OPENAI / "tau_results.json")
    assert [t.id for t in traces] == ["7/trial-0", "7/trial-1"]
    assert [(t.outcome.success, t.outcome.score, t.outcome.source) for t in traces] == [
        (True, 1.0, "trace"),
        (False, 0.0, "trace"),
    ]
    assert traces[0].metadata["info"] == {"user_cost": 0.01}
    assert traces[1].steps[2].tool_args == '{"id":"R7","date":"Fri"}'


def test_history_key_and_is_correct() -> None:
    (trace,), _ = read(OPENAI / "who_when.json")
    assert trace.id == "who_when"
    assert trace.outcome.success is False
    assert trace.task == "What year did the bridge in the photo open?"
    assert [s.agent for s in trace.steps] == ["human", "Orchestrator", "WebSurfer", "Orchestrator"]


def test_jsonl_legacy_function_call_metadata_and_repeated_ids() -> None:
    traces, _ = read(OPENAI / "conversation.jsonl")
    # The reader keeps the file's ids; read_traces keeps both claimants of the repeated one (agentmortem.identity).
    assert [t.id for t in traces] == ["conv-1", "conversation-1", "conv-1"]
    assert [t.id for t in read_traces([OPENAI / "conversation.jsonl"], [])] == ["conv-1", "conversation-1", "conv-1~2"]
    first = traces[0]
    assert (first.model, first.agent_system, first.benchmark, first.task) == (
        "gpt-4o-mini", "ToyCrew", "ToyBench", "add two numbers",
    )  # fmt: skip
    call, result = first.steps[2], first.steps[3]
    assert (call.kind, call.tool_name, result.kind, result.tool_name) == (
        "tool_call",
        "calculator",
        "tool_result",
        "calculator",
    )
    assert (call.pair_index, result.pair_index) == (3, 2)
    assert first.steps[0].kind == "system"
    assert traces[2].outcome.score == 0.7 and traces[2].outcome.success is None


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_sniff_claims_every_chat_shape(name: str) -> None:
    path = OPENAI / name
    assert OpenAIChatReader().sniff(path, read_head(path)) >= 0.5
    assert MadReader().sniff(path, read_head(path)) < MIN_CONFIDENCE
    assert detect_format(path, [MadReader(), OpenAIChatReader()]).name == "openai"


FOREIGN_HEADS = {
    "codex.jsonl": '{"timestamp":"2025-01-01T00:00:00Z","type":"session_meta","payload":{"id":"x","cwd":"/w"}}\n'
    '{"timestamp":"2025-01-01T00:00:01Z","type":"response_item","payload":{"type":"message","role":"user",'
    '"content":[{"type":"input_text","text":"hi"}]}}\n',
    "claude.jsonl": '{"type":"user","sessionId":"s","uuid":"u1","message":{"role":"user","content":"hi"}}\n'
    '{"type":"assistant","sessionId":"s","uuid":"u2","message":{"role":"assistant","content":'
    '[{"type":"tool_use","id":"t","name":"Bash","input":{}}]}}\n',
    "anthropic.json": '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":'
    '[{"type":"tool_use","id":"t","name":"Bash","input":{}}]},{"role":"user","content":'
    '[{"type":"tool_result","tool_use_id":"t","content":"ok"}]}]}',
    "otlp.json": '{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[]}]}',
    "mad.json": '{"mas_name":"ChatDev","llm_name":"GPT-4o","benchmark_name":"ProgramDev","trace_id":1,'
    '"trace":{"key":"k","index":1,"trajectory":"[2025-01-01 00:00:00 INFO] hi"},"mast_annotation":{"1.1":0}}',
    "notes.txt": "just some text, not JSON at all",
}


@pytest.mark.parametrize("name", sorted(FOREIGN_HEADS))
def test_sniff_leaves_other_formats_alone(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(FOREIGN_HEADS[name])
    assert OpenAIChatReader().sniff(path, FOREIGN_HEADS[name]) < MIN_CONFIDENCE


def test_sniff_on_a_head_cut_mid_record(tmp_path: Path) -> None:
    record = {"id": "big", "messages": [{"role": "user", "content": "x" * 100_000}]}
    path = tmp_path / "big.json"
    path.write_bytes(orjson.dumps(record))
    head = read_head(path)
    assert OpenAIChatReader().sniff(path, head) >= 0.5
    assert MadReader().sniff(path, head) < MIN_CONFIDENCE


# -- bad input ----------------------------------------------------------------------------------------------


def test_empty_file_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    errors: list[ReadError] = []
    assert list(read_traces([path], errors, format="openai")) == []
    assert [str(e) for e in errors] == [f"{path}: empty file"]


def test_truncated_last_line_keeps_the_rest(tmp_path: Path) -> None:
    good = b'{"id": "a", "messages": [{"role": "user", "content": "hi"}]}\n'
    path = tmp_path / "cut.jsonl"
    path.write_bytes(good + good.replace(b'"a"', b'"b"') + b'{"id": "c", "messages": [{"role": "us')
    traces, errors = read(path)
    assert [t.id for t in traces] == ["a", "b"]
    assert [(e.line, e.reason) for e in errors] == [(3, "invalid JSON (truncated or malformed line)")]


def test_non_utf8_bytes_are_replaced_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"id": "x", "messages": [{"role": "user", "content": "caf\xe9 au lait"}]}\n')
    (trace,), errors = read(path)
    assert errors == []
    assert trace.steps[0].content == "caf\ufffd au lait"
    assert trace.metadata["read_warnings"] == ["line 1: invalid UTF-8 bytes replaced with U+FFFD"]


def test_json_line_that_is_not_a_trace(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"id": "a", "messages": [{"role": "user", "content": "hi"}]}\n{"hello": "world"}\n42\n')
    traces, errors = read(path)
    assert [t.id for t in traces] == ["a"]
    assert [(e.line, e.reason) for e in errors] == [(2, "not a chat trace"), (3, "not a chat trace")]
    assert str(errors[0]) == f"{path}:2: not a chat trace"


def test_json_document_without_messages_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "object.json"
    path.write_bytes(b'{"hello": "world"}')
    errors: list[ReadError] = []
    assert list(read_traces([path], errors, format="openai")) == []
    assert len(errors) == 1 and "no message list" in errors[0].reason


# -- the real MAD-as-chat files -----------------------------------------------------------------------------


def expected_rows(path: Path) -> list[tuple[str, int, set[str], str]]:
    """(id, messages + tool calls, agent names, model) per line, computed from the raw JSON with the ~n rule."""
    seen: Counter[str] = Counter()
    rows = []
    for line in path.read_bytes().splitlines():
        record = orjson.loads(line)
        seen[record["id"]] += 1
        trace_id = record["id"] if seen[record["id"]] == 1 else f"{record['id']}~{seen[record['id']]}"
        calls = sum(len(m.get("tool_calls") or []) + bool(m.get("function_call")) for m in record["messages"])
        names = {m["name"] for m in record["messages"] if m.get("name")}
        rows.append((trace_id, len(record["messages"]) + calls, names, record["model"]))
    return rows


@pytest.mark.parametrize(
    ("name", "count", "system"), [("ag2_gpt4o.jsonl", 404, "AG2"), ("metagpt_gpt4o.jsonl", 130, "MetaGPT")]
)
def test_real_mad_openai_ingest(store: Store, name: str, count: int, system: str) -> None:
    path = shared_data("mad-openai", name)
    assert detect_format(path, [MadReader(), OpenAIChatReader()]).name == "openai"
    report = ingest([path], store, format="openai")
    assert (report.read, report.added, report.errors) == (count, count, [])
    expected = expected_rows(path)
    assert len(expected) == count
    stored = {s.id: s for s in store.list_traces()}
    assert {trace_id: stored[trace_id].n_steps for trace_id, *_ in expected} == {r[0]: r[1] for r in expected}
    assert {s.model for s in stored.values()} == {r[3] for r in expected}
    assert {s.agent_system for s in stored.values()} == {system}
    agents = {step.agent for trace in store.iter_traces() for step in trace.steps}
    assert agents == set().union(*(r[2] for r in expected))
