"""A kagent-style run as Grafana Tempo exports it: the shape of issue 14's real trace, built here.

kagent runs Google ADK agents; its model calls are ADK `call_llm` spans wrapping OpenLLMetry `openai.chat` spans
(flattened `gen_ai.prompt.N.*` / `gen_ai.completion.N.*`, `llm.request.type=chat`, no `gen_ai.operation.name`),
its tools ADK `execute_tool` spans over an MCP client span (OpenLLMetry's MCP instrumentation). Tempo's
trace-by-id JSON writes the legacy `batches` / `instrumentationLibrarySpans` keys and base64 ids.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from agentmortem.readers import ReadError, detect_format
from agentmortem.readers.otel import OtelReader
from test_reader_otel_conventions import CALLS, FINAL, SYSTEM, TOKENS, USER, check_scenario, premature_verdict

TRACE = "0af7651916cd43dd8448eb211c80319c"
T0 = 1764590400_000000000
MODEL = "gpt-4.1-mini"
RESPONSE_MODEL = "gpt-4.1-mini-2025-04-14"
CALL_IDS = ["call_Qm3x", "call_Vb7k"]


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def _value(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    return {"stringValue": str(v)}


def _span(
    span_id: str, parent: str | None, name: str, start: float, end: float, attrs: dict[str, Any]
) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": _b64(TRACE),
        "spanId": _b64(span_id),
        "name": name,
        "kind": "SPAN_KIND_INTERNAL",
        "startTimeUnixNano": str(T0 + int(start * 1e9)),
        "endTimeUnixNano": str(T0 + int(end * 1e9)),
        "attributes": [{"key": k, "value": _value(v)} for k, v in attrs.items()],
        "status": {},
    }
    if parent:
        span["parentSpanId"] = _b64(parent)
    return span


def _prompt_attrs(turn: int) -> dict[str, Any]:
    """OpenLLMetry's flattened prompt: system, user, then each earlier call and its tool message."""
    attrs: dict[str, Any] = {
        "gen_ai.prompt.0.role": "system",
        "gen_ai.prompt.0.content": SYSTEM,
        "gen_ai.prompt.1.role": "user",
        "gen_ai.prompt.1.content": USER,
    }
    index = 2
    for (name, args, result), call_id in list(zip(CALLS, CALL_IDS, strict=True))[:turn]:
        attrs |= {
            f"gen_ai.prompt.{index}.role": "assistant",
            f"gen_ai.prompt.{index}.tool_calls.0.id": call_id,
            f"gen_ai.prompt.{index}.tool_calls.0.name": name,
            f"gen_ai.prompt.{index}.tool_calls.0.arguments": json.dumps(args),
            f"gen_ai.prompt.{index + 1}.role": "tool",
            f"gen_ai.prompt.{index + 1}.content": result,
            f"gen_ai.prompt.{index + 1}.tool_call_id": call_id,
        }
        index += 2
    return attrs


def _completion_attrs(turn: int) -> dict[str, Any]:
    if turn == len(CALLS):
        return {"gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": FINAL,
                "gen_ai.completion.0.finish_reason": "stop"}  # fmt: skip
    name, args, _ = CALLS[turn]
    return {
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.finish_reason": "tool_calls",
        "gen_ai.completion.0.tool_calls.0.id": CALL_IDS[turn],
        "gen_ai.completion.0.tool_calls.0.name": name,
        "gen_ai.completion.0.tool_calls.0.arguments": json.dumps(args),
    }


def kagent_tempo_export() -> dict[str, Any]:
    """The whole run: invoke_agent > (call_llm > openai.chat, execute_tool > MCP span) x2, call_llm > openai.chat."""
    agent = "a000000000000001"
    spans = [_span(agent, None, "invoke_agent helm-agent", 0.0, 5.0,
                   {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "helm-agent",
                    "gen_ai.system": "gcp.vertex.agent"})]  # fmt: skip
    for turn in range(3):
        llm, chat, start = f"b00000000000000{turn}", f"c00000000000000{turn}", 0.1 + 1.5 * turn
        prompt_tokens, completion_tokens = TOKENS[turn]
        spans.append(_span(llm, agent, "call_llm", start, start + 1.0,
                           {"gen_ai.system": "gcp.vertex.agent", "gen_ai.request.model": MODEL,
                            "gcp.vertex.agent.llm_request": "{}", "gcp.vertex.agent.llm_response": "{}"}))  # fmt: skip
        spans.append(_span(chat, llm, "openai.chat", start + 0.05, start + 0.95, {
            "llm.request.type": "chat", "gen_ai.system": "openai", "gen_ai.request.model": MODEL,
            "gen_ai.response.model": RESPONSE_MODEL, "llm.is_streaming": False, "llm.headers": "None",
            "gen_ai.usage.prompt_tokens": prompt_tokens, "gen_ai.usage.completion_tokens": completion_tokens,
            "llm.usage.total_tokens": prompt_tokens + completion_tokens,
            "llm.request.functions.0.name": CALLS[0][0], "llm.request.functions.1.name": CALLS[1][0],
            **_prompt_attrs(turn), **_completion_attrs(turn)}))  # fmt: skip
    for index, ((name, args, result), call_id) in enumerate(zip(CALLS, CALL_IDS, strict=True)):
        tool, start = f"d00000000000000{index}", 1.15 + 1.5 * index
        mcp_result = json.dumps({"content": [{"type": "text", "text": result}], "isError": False})
        spans.append(_span(tool, agent, f"execute_tool {name}", start, start + 0.4, {
            "gen_ai.system": "gcp.vertex.agent", "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name,
            "gen_ai.tool.call.id": call_id, "gcp.vertex.agent.tool_call_args": json.dumps(args),
            "gcp.vertex.agent.tool_response": mcp_result,
            "gcp.vertex.agent.llm_request": "{}", "gcp.vertex.agent.llm_response": "{}"}))  # fmt: skip
        spans.append(_span(f"e00000000000000{index}", tool, f"{name}.tool", start + 0.05, start + 0.35, {
            "traceloop.span.kind": "tool", "traceloop.entity.name": name,
            "traceloop.entity.input": json.dumps({"method": "tools/call", "params": {"name": name, "arguments": args}}),
            "traceloop.entity.output": mcp_result}))  # fmt: skip
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "helm-agent"}}]}
    library = {"instrumentationLibrary": {"name": "gcp.vertex.agent"}, "spans": spans}
    return {"batches": [{"resource": resource, "instrumentationLibrarySpans": [library]}]}


def test_tempo_legacy_export_of_a_two_tool_kagent_run_reads_whole(tmp_path: Path) -> None:
    path = tmp_path / "tempo-trace.json"
    path.write_text(json.dumps(kagent_tempo_export()))
    assert detect_format(path).name == "otel"
    errors: list[ReadError] = []
    traces = list(OtelReader().read(path, errors))
    assert errors == [] and len(traces) == 1
    (trace,) = traces
    assert trace.id == TRACE  # base64 ids become hex
    check_scenario(trace, model=RESPONSE_MODEL)
    assert trace.steps[-1].kind == "message" and trace.steps[-1].role == "assistant"
    assert trace.steps[-1].content == FINAL and trace.steps[-1].agent == "helm-agent"
    # One speaker per model call (the openai.chat span, not the empty call_llm around it), one call per tool.
    assert sum(s.kind == "tool_call" for s in trace.steps) == 2
    assert [s.source_type for s in trace.steps if s.input_tokens is not None] == ["span:chat"] * 3
    assert premature_verdict(trace) is False


def _with_keys(export: dict[str, Any], list_key: str, scope_key: str, *, wrapped: bool) -> dict[str, Any]:
    batch = dict(export["batches"][0])
    batch[scope_key] = batch.pop("instrumentationLibrarySpans")
    document = {list_key: [batch]}
    return {"trace": document} if wrapped else document


@pytest.mark.parametrize(
    ("list_key", "scope_key", "wrapped"),
    [("batches", "scopeSpans", False), ("resourceSpans", "scopeSpans", False), ("resourceSpans", "scopeSpans", True)],
    ids=["tempo-2-batches", "otlp-keys", "tempo-v2-api"],
)
def test_tempo_current_keys_read_the_same(tmp_path: Path, list_key: str, scope_key: str, wrapped: bool) -> None:
    legacy, current = tmp_path / "legacy.json", tmp_path / "current.json"
    legacy.write_text(json.dumps(kagent_tempo_export()))
    current.write_text(json.dumps(_with_keys(kagent_tempo_export(), list_key, scope_key, wrapped=wrapped)))
    reader = OtelReader()
    (old,) = reader.read(legacy, [])
    (new,) = reader.read(current, [])
    assert new.model_dump(exclude={"source_path", "fingerprint"}) == old.model_dump(
        exclude={"source_path", "fingerprint"}
    )


def test_kagent_run_without_captured_content_keeps_tokens_and_is_not_premature(tmp_path: Path) -> None:
    """OpenLLMetry with content tracing off: the openai.chat spans keep model and usage, nothing else."""
    export = kagent_tempo_export()
    for span in export["batches"][0]["instrumentationLibrarySpans"][0]["spans"]:
        span["attributes"] = [
            a for a in span["attributes"] if not a["key"].startswith(("gen_ai.prompt", "gen_ai.completion"))
        ]
    path = tmp_path / "tempo-no-content.json"
    path.write_text(json.dumps(export))
    (trace,) = OtelReader().read(path, [])
    uncaptured = [s for s in trace.steps if s.source_type == "span:chat:content-not-captured"]
    assert [(s.input_tokens, s.output_tokens) for s in uncaptured] == TOKENS
    assert all(RESPONSE_MODEL in s.content for s in uncaptured) and trace.model == RESPONSE_MODEL
    assert [s.kind for s in trace.steps if s.kind in ("tool_call", "tool_result")] == ["tool_call", "tool_result"] * 2
    assert trace.steps[-1] is uncaptured[-1]
    assert premature_verdict(trace) is None
