from __future__ import annotations

from pathlib import Path

import pytest

from agentmortem.model import Trace
from agentmortem.readers import ReadError, read_head
from agentmortem.readers.claude import ClaudeReader
from conftest import FIXTURES
from reader_goldens import check_golden

HERE = FIXTURES / "claude"
SESSION = "6f1c2e8a-3b7d-4e91-a0c5-9d2f4b8e7a13.jsonl"
CASES = [SESSION, "agent-b3d2f10.jsonl", "messages_request.json", "messages_batch.jsonl"]


def read(path: Path) -> tuple[list[Trace], list[ReadError]]:
    errors: list[ReadError] = []
    return list(ClaudeReader().read(path, errors)), errors


def session() -> Trace:
    (trace,) = read(HERE / SESSION)[0]
    return trace


@pytest.mark.parametrize("name", CASES)
def test_fixture_matches_golden(name: str) -> None:
    traces, errors = read(HERE / name)
    assert errors == []
    check_golden(HERE / name, traces)


def test_session_id_model_and_metadata() -> None:
    trace = session()
    assert trace.id == "6f1c2e8a-3b7d-4e91-a0c5-9d2f4b8e7a13"
    assert trace.model == "claude-sonnet-4-5-20250929" and trace.agent_system == "claude-code"
    meta = trace.metadata["claude"]
    assert meta["summaries"] == ["Fix failing checkout tests"]
    assert meta["ignored_rows"] == {"file-history-snapshot": 1}
    assert trace.task == "The checkout tests fail on main. Find out why and fix it."


def test_every_tool_call_is_paired_with_its_result() -> None:
    trace = session()
    calls = [s for s in trace.steps if s.kind == "tool_call"]
    assert [c.tool_name for c in calls] == ["Bash", "Task", "Grep", "Edit"]
    for call in calls:
        result = trace.steps[call.pair_index]  # type: ignore[index]
        assert result.kind == "tool_result" and result.call_id == call.call_id and result.tool_name == call.tool_name
    assert calls[0].tool_args == '{"command":"pytest tests/test_checkout.py -q","description":"Run checkout tests"}'
    edit_result = trace.steps[calls[3].pair_index]  # type: ignore[index]
    assert edit_result.is_error and edit_result.content.startswith("<tool_use_error>")


def test_thinking_is_a_marked_message_step() -> None:
    thinking = [s for s in session().steps if s.source_type and s.source_type.endswith(":thinking")]
    assert len(thinking) == 1
    assert thinking[0].kind == "message" and thinking[0].role == "assistant"
    assert thinking[0].content == "Start by running the test suite to see the failure."


def test_usage_is_counted_once_per_api_response() -> None:
    trace = session()
    tokens = [(s.input_tokens, s.output_tokens) for s in trace.steps if s.output_tokens is not None]
    # msg_01A spans three rows that repeat its usage; it counts once (4 + 2210 + 11840 prompt tokens).
    assert tokens[0] == (14054, 188)
    assert len(tokens) == 6  # msg_01A, msg_02B, two sub-agent responses, msg_03C, msg_04D


def test_sidechain_rows_keep_their_agent_and_replayed_rows_are_read_once() -> None:
    trace = session()
    agents = [s.agent for s in trace.steps]
    assert agents.count("agent-a7c91e2") == 4 and set(agents) == {None, "agent-a7c91e2"}
    events = [s for s in trace.steps if s.kind == "event"]
    assert [e.source_type for e in events] == ["claude:system/api_error", "claude:system/compact_boundary"]
    assert events[0].is_error and not events[1].is_error


def test_subagent_file_gets_its_own_trace_id() -> None:
    (trace,) = read(HERE / "agent-b3d2f10.jsonl")[0]
    assert trace.id == "6f1c2e8a-3b7d-4e91-a0c5-9d2f4b8e7a13/agent-b3d2f10"
    assert {s.agent for s in trace.steps} == {"agent-b3d2f10"}


def test_messages_request_parallel_calls_pair_by_id() -> None:
    (trace,) = read(HERE / "messages_request.json")[0]
    assert trace.id == "messages_request" and trace.model == "claude-opus-4-1-20250805"
    assert trace.steps[0].kind == "system"
    pairs = [(s.index, s.pair_index) for s in trace.steps if s.kind == "tool_call"]
    assert pairs == [(4, 6), (5, 7)]
    assert trace.steps[7].is_error and not trace.steps[6].is_error
    assert trace.steps[6].content == "Back-off restarting failed container (x14)"


def test_batch_rows_become_one_trace_each() -> None:
    traces, _ = read(HERE / "messages_batch.jsonl")
    assert [t.id for t in traces] == ["req-001", "req-002"]
    assert traces[1].steps[0].content == "Answer tersely."


def test_sniff() -> None:
    reader = ClaudeReader()
    for name in CASES:
        assert reader.sniff(HERE / name, read_head(HERE / name)) >= 0.9, name
    chat = '{"id": "t1", "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "y"}]}'
    assert reader.sniff(Path("chat.jsonl"), chat) == 0.0  # plain chat-completions is the openai reader's
    assert reader.sniff(Path("notes.txt"), "User: hi\nAgent: hello\n") == 0.0


def test_empty_file() -> None:
    with pytest.raises(ReadError, match="empty file"):
        read(HERE / "bad" / "empty.jsonl")


def test_truncated_last_line_is_reported_and_the_rest_read() -> None:
    traces, errors = read(HERE / "bad" / "truncated.jsonl")
    assert [(e.line, e.reason) for e in errors] == [(6, "invalid JSON: unexpected end of data (column 121)")]
    assert len(traces) == 1 and len(traces[0].steps) == 3  # user, thinking, text: rows 3-5


def test_non_utf8_row_is_reported() -> None:
    traces, errors = read(HERE / "bad" / "non_utf8.jsonl")
    assert len(errors) == 1 and errors[0].line == 4 and "not valid UTF-8" in errors[0].reason
    assert "thinking" not in {s.source_type for s in traces[0].steps}


def test_structurally_wrong_rows() -> None:
    traces, errors = read(HERE / "bad" / "wrong_structure.jsonl")
    assert [str(e) for e in errors] == [
        f"{HERE / 'bad' / 'wrong_structure.jsonl'}:2: assistant row has no 'message' object",
        f"{HERE / 'bad' / 'wrong_structure.jsonl'}:4: neither a Claude Code row nor a Messages object",
    ]
    assert len(traces) == 1


def test_messages_with_a_non_object_entry_raise() -> None:
    with pytest.raises(ReadError, match=r"messages\[1\] is not an object with a 'role'"):
        read(HERE / "bad" / "wrong_messages.json")
