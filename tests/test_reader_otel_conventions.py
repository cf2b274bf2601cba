"""One agent run — system prompt, request, two Helm tool calls, final answer — as every instrumentation and export
shape the otel reader knows writes it (tests/fixtures/otel/README.md names each shape's source). Whatever the
shape, the same conversation, model and token counts must come out, in order."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest

from agentmortem.judges.detectors import DetectorsJudge
from agentmortem.model import Trace, content_not_captured
from agentmortem.readers import ReadError, detect_format, read_head
from agentmortem.readers.otel import OtelReader
from agentmortem.taxonomy import load_taxonomy
from conftest import FIXTURES
from reader_goldens import check_golden

HERE = FIXTURES / "otel"
SYSTEM = "You are a Kubernetes assistant. Use the Helm tools to answer."
USER = "Which Helm releases are failing in namespace shop?"
CALLS = [
    ("helm_list_releases", {"namespace": "shop"}, "NAME      STATUS\ncart      deployed\npayments  failed"),
    (
        "helm_get_release_status",
        {"name": "payments", "namespace": "shop"},
        "payments: failed (pre-upgrade hook job timed out)",
    ),
]
FINAL = "One release is failing in shop: payments, whose pre-upgrade hook job timed out."
TOKENS = [(512, 18), (640, 21), (702, 30)]
SHAPES = {
    "genai_log_events.jsonl": "GenAI v1.28-v1.36 message events as OTLP log records (collector file exporter)",
    "genai_details_logs.jsonl": "GenAI v1.37+ operation-details log event, OTLP/JSON lines",
    "jaeger_genai.json": "GenAI current span attributes, Jaeger UI/API JSON",
    "zipkin_genai_events.json": "GenAI pre-v1.28 gen_ai.content.* span events, Zipkin v2 JSON",
    "tempo_openinference.json": "OpenInference input/output values, Tempo v2 JSON (base64 ids)",
    "adk.json": "Google ADK call_llm / execute_tool spans, OTLP/JSON",
    "pydantic_ai.json": "pydantic-ai version-1 events attribute and running-tool spans, OTLP/JSON",
}


def read(path: Path) -> list[Trace]:
    errors: list[ReadError] = []
    traces = list(OtelReader().read(path, errors))
    assert errors == []
    return traces


def check_scenario(trace: Trace, *, model: str = "gpt-4.1-mini") -> None:
    """The run's system prompt, request, paired tool calls, final answer, model and tokens, in order."""
    steps = trace.steps
    system = next(s for s in steps if s.kind == "system")
    user = next(s for s in steps if s.kind == "message" and s.role == "user")
    assert (system.content, user.content) == (SYSTEM, USER)
    calls = [s for s in steps if s.kind == "tool_call"]
    assert [(c.tool_name, json.loads(c.tool_args or "null")) for c in calls] == [(n, a) for n, a, _ in CALLS]
    results = []
    for call, (_, _, expected) in zip(calls, CALLS, strict=True):
        assert call.pair_index is not None, f"{call.tool_name} has no result"
        result = steps[call.pair_index]
        assert (result.kind, result.content, result.is_error) == ("tool_result", expected, False)
        results.append(result)
    answers = [s for s in steps if s.kind == "message" and s.role == "assistant"]
    assert [a.content for a in answers] == [FINAL]
    assert steps[-1] is answers[0]  # the run ends on the assistant's answer
    order = [system, user, calls[0], results[0], calls[1], results[1], answers[0]]
    assert [s.index for s in order] == sorted(s.index for s in order)
    assert trace.model == model
    assert [(s.input_tokens, s.output_tokens) for s in steps if s.input_tokens is not None] == TOKENS


def premature_verdict(trace: Trace) -> bool | None:
    """FM-3.1's verdict by the detectors (None: unknown, the detector left it out)."""
    annotation = DetectorsJudge().annotate(trace, load_taxonomy())
    verdict = annotation.verdict("FM-3.1")
    return None if verdict is None else verdict.present


@pytest.mark.parametrize("name", list(SHAPES))
def test_each_shape_gives_the_whole_run(name: str) -> None:
    traces = read(HERE / name)
    check_scenario(traces[0])
    assert premature_verdict(traces[0]) is False


@pytest.mark.parametrize("name", list(SHAPES))
def test_each_shape_is_recognised_by_sniffing(name: str) -> None:
    path = HERE / name
    assert OtelReader().sniff(path, read_head(path)) >= 0.9
    assert detect_format(path).name == "otel"


@pytest.mark.parametrize("name", list(SHAPES))
def test_fixture_matches_golden(name: str) -> None:
    check_golden(HERE / name, read(HERE / name))


def test_agents_own_the_steps_of_their_child_spans() -> None:
    for name in ("jaeger_genai.json", "tempo_openinference.json", "adk.json", "pydantic_ai.json"):
        trace = read(HERE / name)[0]
        agent = trace.steps[0].agent
        assert trace.steps[0].kind == "event" and agent is not None, name
        assert all(s.agent == agent for s in trace.steps if s.role in ("assistant", "tool")), name


def test_spans_are_ordered_by_start_time_whatever_their_order_in_the_file(tmp_path: Path) -> None:
    document = json.loads((HERE / "jaeger_genai.json").read_text())
    random.Random(7).shuffle(document["data"][0]["spans"])
    shuffled = tmp_path / "shuffled.json"
    shuffled.write_text(json.dumps(document))
    assert snapshot(read(shuffled)) == snapshot(read(HERE / "jaeger_genai.json"))


def snapshot(traces: list[Trace]) -> list[dict[str, Any]]:
    return [t.model_dump(mode="json", exclude={"source_path", "fingerprint"}) for t in traces]


# --- A model span that captured no content -----------------------------------------------------------------


def test_a_content_less_model_span_keeps_model_and_tokens() -> None:
    trace = read(HERE / "adk.json")[1]
    uncaptured = [s for s in trace.steps if content_not_captured(s)]
    assert [(s.input_tokens, s.output_tokens) for s in uncaptured] == TOKENS
    assert all("gpt-4.1-mini" in s.content and "not captured" in s.content for s in uncaptured)
    assert all(s.kind == "event" and s.agent == "helm_agent" for s in uncaptured)
    assert trace.model == "gpt-4.1-mini"
    assert trace.steps[-1] is uncaptured[-1]


def test_no_premature_termination_when_the_last_answer_was_not_captured() -> None:
    trace = read(HERE / "adk.json")[1]  # every call's content missing: the tool calls have no results either
    assert premature_verdict(trace) is None  # unknown, not present


def test_a_call_left_unanswered_at_the_real_end_still_counts(tmp_path: Path) -> None:
    """The guard is only for uncaptured content: a run cut after a tool call is still premature."""
    document = json.loads((HERE / "jaeger_genai.json").read_text())
    spans = document["data"][0]["spans"]
    document["data"][0]["spans"] = [s for s in spans if s["spanID"] not in ("0b0b0b0b0b0b0b02", "0c0c0c0c0c0c0c01")]
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(document))
    (trace,) = read(cut)
    assert trace.steps[-1].kind == "tool_call"
    assert premature_verdict(trace) is True


def test_log_records_without_their_spans_still_give_the_conversation(tmp_path: Path) -> None:
    """A log-only export (the trace pipeline went elsewhere): each span id's records stand for one model call."""
    logs_only = tmp_path / "logs.jsonl"
    logs_only.write_text((HERE / "genai_log_events.jsonl").read_text().splitlines()[1] + "\n")
    (trace,) = read(logs_only)
    kinds = [(s.kind, s.role) for s in trace.steps]
    assert kinds[:2] == [("system", "system"), ("message", "user")]
    assert trace.steps[-1].content == FINAL
    assert [s.tool_name for s in trace.steps if s.kind == "tool_call"] == [n for n, _, _ in CALLS]


# --- OTLP/protobuf ---------------------------------------------------------------------------------------------


def _protobuf_file(tmp_path: Path, *, framed: bool) -> Path:
    json_format = pytest.importorskip("google.protobuf.json_format", reason="the [otlp] extra is not installed")
    trace_pb2 = pytest.importorskip(
        "opentelemetry.proto.trace.v1.trace_pb2", reason="the [otlp] extra is not installed"
    )
    message = json_format.ParseDict(
        _hex_ids_as_bytes(json.loads((HERE / "pydantic_ai.json").read_text())), trace_pb2.TracesData()
    )
    data = message.SerializeToString()
    path = tmp_path / "traces.pb"
    path.write_bytes(len(data).to_bytes(4, "big") + data if framed else data)
    return path


def _hex_ids_as_bytes(value: Any) -> Any:
    """ParseDict reads `bytes` fields as base64; OTLP/JSON writes ids as hex."""
    if isinstance(value, dict):
        return {
            k: base64.b64encode(bytes.fromhex(v)).decode()
            if k in ("traceId", "spanId", "parentSpanId")
            else _hex_ids_as_bytes(v)
            for k, v in value.items()
        }
    return [_hex_ids_as_bytes(v) for v in value] if isinstance(value, list) else value


@pytest.mark.parametrize("framed", [False, True], ids=["one-message", "collector-length-prefixed"])
def test_otlp_protobuf_gives_the_same_run(tmp_path: Path, framed: bool) -> None:
    path = _protobuf_file(tmp_path, framed=framed)
    assert detect_format(path).name == "otel"
    (trace,) = read(path)
    check_scenario(trace)
    assert snapshot([trace])[0]["steps"] == snapshot(read(HERE / "pydantic_ai.json"))[0]["steps"]


def test_otlp_protobuf_without_the_extra_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_proto(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("opentelemetry.proto"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    path = tmp_path / "traces.pb"
    path.write_bytes(b"\x0a\x00")
    monkeypatch.setattr(builtins, "__import__", no_proto)
    errors: list[ReadError] = []
    with pytest.raises(ReadError, match=r"traces\.pb: reading OTLP/protobuf needs the 'otlp' extra"):
        list(OtelReader().read(path, errors))
