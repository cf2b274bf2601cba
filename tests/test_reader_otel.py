from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentmortem.model import Trace
from agentmortem.readers import ReadError, read_head
from agentmortem.readers.otel import OtelReader
from conftest import FIXTURES
from reader_goldens import check_golden

HERE = FIXTURES / "otel"
CASES = ["genai_attributes.json", "genai_events.jsonl", "openinference.json"]


def read(path: Path) -> tuple[list[Trace], list[ReadError]]:
    errors: list[ReadError] = []
    return list(OtelReader().read(path, errors)), errors


def by_id(traces: list[Trace]) -> dict[str, Trace]:
    return {t.id: t for t in traces}


@pytest.mark.parametrize("name", CASES)
def test_fixture_matches_golden(name: str) -> None:
    traces, errors = read(HERE / name)
    assert errors == []
    check_golden(HERE / name, traces)


@pytest.mark.parametrize("name", CASES)
def test_steps_are_in_time_order_and_numbered(name: str) -> None:
    for trace in read(HERE / name)[0]:
        times = [s.timestamp for s in trace.steps]
        assert all(t is not None for t in times)
        assert times == sorted(times)  # type: ignore[type-var]
        assert [s.index for s in trace.steps] == list(range(len(trace.steps)))


def test_one_trace_per_trace_id_and_non_genai_spans_ignored() -> None:
    traces = by_id(read(HERE / "genai_attributes.json")[0])
    assert set(traces) == {"4bf92f3577b34da6a3ce929d0e0e4736", "0af7651916cd43dd8448eb211c80319c"}
    probe = traces["0af7651916cd43dd8448eb211c80319c"]
    assert [s.content for s in probe.steps] == ["ping", "pong"]  # the HTTP child span adds nothing
    assert probe.agent_system == "health-probe"


def test_repeated_history_is_emitted_once_but_real_repeats_are_kept() -> None:
    trace = by_id(read(HERE / "genai_attributes.json")[0])["4bf92f3577b34da6a3ce929d0e0e4736"]
    contents = [s.content for s in trace.steps if s.kind == "message"]
    # Four chat spans each resend the task; it must appear once. The harness said "continue" twice: both stay.
    assert contents.count("Checkout returns HTTP 500 since 17:02. Find the root cause.") == 1
    assert contents.count("continue") == 2
    assert sum(s.kind == "system" for s in trace.steps) == 1
    calls = [s for s in trace.steps if s.kind == "tool_call"]
    assert [c.call_id for c in calls] == ["call_1", "call_2"]  # the execute_tool spans add no second call


def test_tool_spans_pair_with_calls_and_carry_errors() -> None:
    trace = by_id(read(HERE / "genai_attributes.json")[0])["4bf92f3577b34da6a3ce929d0e0e4736"]
    results = [s for s in trace.steps if s.kind == "tool_result"]
    assert [r.call_id for r in results] == ["call_1", "call_2"]
    for result in results:
        assert result.pair_index is not None
        call = trace.steps[result.pair_index]
        assert call.kind == "tool_call" and call.call_id == result.call_id and call.index < result.index
    assert [r.is_error for r in results] == [False, True]
    assert results[1].content == "Error from server: container not found"


def test_model_agent_and_tokens_come_from_the_spans() -> None:
    trace = by_id(read(HERE / "genai_attributes.json")[0])["4bf92f3577b34da6a3ce929d0e0e4736"]
    assert trace.model == "gpt-oss-120b-custom"  # response model preferred over request model
    assert trace.metadata["agents"] == ["sre-diagnoser"]
    assert trace.steps[0].kind == "event" and trace.steps[0].source_type == "span:invoke_agent"
    tokens = [(s.input_tokens, s.output_tokens) for s in trace.steps if s.input_tokens is not None]
    assert tokens == [(812, 41), (901, 22), (990, 64), (1063, 9)]  # once per chat span, on its first output


def test_old_span_events_give_the_same_conversation() -> None:
    (trace,) = read(HERE / "genai_events.jsonl")[0]
    kinds = [(s.kind, s.role) for s in trace.steps]
    assert kinds[:5] == [
        ("system", "system"),
        ("message", "user"),
        ("tool_call", "assistant"),
        ("tool_result", "tool"),
        ("message", "assistant"),
    ]
    # The tool span recorded no result; the result comes from the next chat span's gen_ai.tool.message event.
    assert trace.steps[3].content == "18C, light rain" and trace.steps[3].pair_index == 2
    assert trace.steps[-1].is_error and "429" in trace.steps[-1].content


def test_openinference_tool_span_without_call_id_adopts_the_open_call() -> None:
    trace = by_id(read(HERE / "openinference.json")[0])["7d3c1a9e5f2b4c6d8e0f1a2b3c4d5e6f"]
    result = next(s for s in trace.steps if s.kind == "tool_result")
    assert result.call_id == "toolu_01" and result.pair_index is not None
    # The second LLM span's input repeats the tool message; it is not emitted again.
    assert sum(s.kind == "tool_result" for s in trace.steps) == 1
    assert trace.model == "claude-sonnet-4-5" and trace.metadata["agents"] == ["coder"]
    assert trace.steps[-1].content == "All tests pass now." and trace.steps[-1].output_tokens == 7


def test_sniff_claims_otlp_with_genai_attributes_only() -> None:
    reader = OtelReader()
    for name in CASES:
        assert reader.sniff(HERE / name, read_head(HERE / name)) >= 0.9
    assert reader.sniff(Path("x.json"), '{"resourceSpans": [{"scopeSpans": []}]}') == 0.6
    assert reader.sniff(Path("x.jsonl"), '{"type": "session_meta", "payload": {}}') == 0.0


def test_empty_file_is_one_error() -> None:
    with pytest.raises(ReadError, match=r"empty\.json: empty file"):
        read(HERE / "bad" / "empty.json")


def test_truncated_line_is_reported_and_other_lines_read() -> None:
    traces, errors = read(HERE / "bad" / "truncated.jsonl")
    assert [str(e) for e in errors] == [
        f"{HERE / 'bad' / 'truncated.jsonl'}:2: invalid JSON: unexpected end of data (column 201)"
    ]
    assert len(traces) == 1 and len(traces[0].steps) == 3


def test_non_utf8_line_is_reported_with_its_line() -> None:
    traces, errors = read(HERE / "bad" / "non_utf8.jsonl")
    assert len(errors) == 1 and errors[0].line == 2 and "not valid UTF-8" in errors[0].reason
    assert len(traces) == 1


def test_structurally_wrong_spans_are_reported_one_line_each() -> None:
    traces, errors = read(HERE / "bad" / "wrong_structure.json")
    reasons = [e.reason for e in errors]
    assert reasons == [
        "resourceSpans[0].scopeSpans[0].spans[1]: missing traceId",
        "resourceSpans[0].scopeSpans[0].spans[2]: startTimeUnixNano 'yesterday' is not an integer of nanoseconds",
    ]
    assert all("\n" not in str(e) for e in errors)
    assert len(traces) == 1  # the good span still makes its trace


def test_export_of_the_wrong_shape_raises() -> None:
    with pytest.raises(ReadError, match="resourceSpans must be a list"):
        read(HERE / "bad" / "not_an_export.json")


def test_export_without_genai_spans_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "http.json"
    span = {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "GET /", "startTimeUnixNano": "1"}
    path.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}))
    traces, errors = read(path)
    assert traces == [] and len(errors) == 1 and "no GenAI or OpenInference spans" in errors[0].reason
