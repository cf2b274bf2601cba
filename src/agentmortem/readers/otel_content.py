"""The content of one model or tool span, read at the places its convention names (`otel_conventions`).

`llm_inputs` and `llm_outputs` give a model span's input and output messages as raw steps; `tool_io` gives a tool
span's arguments and result. Both try the claiming convention's places first, then every other convention's.
An empty list means the span recorded no content there — the reader then says so rather than inventing any.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agentmortem.readers.genai_messages import (
    RawStep,
    genai_content_steps,
    genai_system_instruction,
    message_steps,
    parse_json_attr,
    unflatten_messages,
    unflatten_openllmetry,
)
from agentmortem.readers.jsonio import as_text
from agentmortem.readers.otel_conventions import NOT_CAPTURED, Convention, Place, first_value, in_order
from agentmortem.readers.otlp import Span, SpanEvent

_INPUT_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
_OUTPUT_EVENTS = {"gen_ai.choice"}
_DETAILS_EVENT = "gen_ai.client.inference.operation.details"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def llm_inputs(span: Span, convention: Convention | None, source: str) -> list[RawStep]:
    """The system instructions, then the first non-empty input messages found at any convention's places."""
    system: list[RawStep] = []
    for place in _places(convention, output=False):
        if place.encoding == "system_instructions":
            system = system or _system_instructions(span.attrs.get(place.key), source)
        elif steps := _read(span, place, source, output=False):
            return system + steps
    return system


def llm_outputs(span: Span, convention: Convention | None, source: str) -> list[RawStep]:
    """The first non-empty output messages found at any convention's places."""
    for place in _places(convention, output=True):
        if steps := _read(span, place, source, output=True):
            return steps
    return []


def _places(convention: Convention | None, *, output: bool) -> tuple[Place, ...]:
    """Every convention's places, the claiming convention's first, without repeats (worked out once per pair)."""
    key = (convention.name if convention else None, output)
    if key not in _PLACES:
        seen: list[Place] = []
        for candidate in in_order(convention):
            seen.extend(p for p in (candidate.outputs if output else candidate.inputs) if p not in seen)
        _PLACES[key] = tuple(seen)
    return _PLACES[key]


_PLACES: dict[tuple[str | None, bool], tuple[Place, ...]] = {}


def _read(span: Span, place: Place, source: str, *, output: bool) -> list[RawStep]:
    attrs = span.attrs
    encoding = place.encoding
    if encoding == "genai_messages":
        return _messages(first_value(attrs, (place.key,)), source)
    if encoding == "openinference_flat":
        return _messages(unflatten_messages(attrs, place.key), source)
    if encoding == "openllmetry_flat":
        return _messages(unflatten_openllmetry(attrs, place.key), source)
    if encoding == "span_events":
        return _event_messages(span.events, output=output, source=source)
    if encoding == "events_attribute":
        return _event_messages(_attribute_events(attrs.get(place.key)), output=output, source=source)
    if encoding == "log_events":
        return _log_messages(span, output=output, source=source)
    if encoding == "adk_request":
        return _adk_request(parse_json_attr(first_value(attrs, (place.key,))), source)
    if encoding == "adk_response":
        response = parse_json_attr(first_value(attrs, (place.key,)))
        return genai_content_steps(response.get("content"), source=source) if isinstance(response, dict) else []
    if encoding == "value":
        return _value_steps(attrs, place.key, source, role="assistant" if output else "user")
    return []


def _messages(value: Any, source: str) -> list[RawStep]:
    messages = parse_json_attr(value)
    if messages is None or messages == "":
        return []
    if not isinstance(messages, list):
        messages = [messages]
    return [step for message in messages for step in message_steps(message, source=source)]


def _system_instructions(value: Any, source: str) -> list[RawStep]:
    """`gen_ai.system_instructions`: a list of parts (JSON text or structured), or plain text."""
    if value is None or (isinstance(value, str) and value.strip() in NOT_CAPTURED):
        return []
    parts = parse_json_attr(value)
    if isinstance(parts, list):
        return message_steps({"role": "system", "parts": parts}, source=source)
    return message_steps({"role": "system", "content": as_text(parts)}, source=source)


def _adk_request(request: Any, source: str) -> list[RawStep]:
    """ADK's `LlmRequest` dump: `config.system_instruction`, then each of `contents`."""
    if not isinstance(request, dict):
        return []
    config: dict[str, Any] = request["config"] if isinstance(request.get("config"), dict) else {}
    system = genai_system_instruction(config.get("system_instruction") or config.get("systemInstruction"))
    steps = message_steps({"role": "system", "content": system}, source=source) if system else []
    for content in request.get("contents") or []:
        steps.extend(genai_content_steps(content, source=source))
    return steps


def _value_steps(attrs: dict[str, Any], key: str, source: str, *, role: str) -> list[RawStep]:
    """OpenInference `<key>.value`: parsed as JSON when its mime type says so (or is absent), else text."""
    value = first_value(attrs, (f"{key}.value",))
    if value is None:
        return []
    decoded = value if attrs.get(f"{key}.mime_type") == "text/plain" else parse_json_attr(value)
    if isinstance(decoded, dict) and isinstance(decoded.get("messages"), list):
        return _messages(decoded["messages"], source)
    if isinstance(decoded, dict) and isinstance(decoded.get("choices"), list) and decoded["choices"]:
        choice = decoded["choices"][0]
        return _messages([choice.get("message", {})], source) if isinstance(choice, dict) else []
    return message_steps({"role": role, "content": as_text(value)}, source=source)


def _attribute_events(value: Any) -> list[SpanEvent]:
    """pydantic-ai's version-1 `events` attribute: a JSON list of event bodies, each naming its `event.name`."""
    events = parse_json_attr(value)
    if not isinstance(events, list):
        return []
    return [SpanEvent(str(e.get("event.name", "")), 0, {"body": e}) for e in events if isinstance(e, dict)]


def _log_messages(span: Span, *, output: bool, source: str) -> list[RawStep]:
    """GenAI events emitted as log records of this span: per-message events, or the operation-details event."""
    for log in span.logs:
        if log.name == _DETAILS_EVENT:
            where = f"{source}/log:{log.name}"
            if output:
                return _messages(first_value(log.attrs, ("gen_ai.output.messages",)), where)
            system = [] if "gen_ai.system_instructions" in span.attrs else _details_system(log.attrs, where)
            return system + _messages(first_value(log.attrs, ("gen_ai.input.messages",)), where)
    events = [SpanEvent(log.name, log.time_ns, {**log.attrs, "body": log.body}) for log in span.logs]
    return _event_messages(events, output=output, source=source, via="log")


def _details_system(attrs: dict[str, Any], source: str) -> list[RawStep]:
    return _system_instructions(attrs.get("gen_ai.system_instructions"), source)


def _event_messages(events: list[SpanEvent], *, output: bool, source: str, via: str = "event") -> list[RawStep]:
    """Messages from GenAI message events; event times, when present, become the step times."""
    steps: list[RawStep] = []
    for event in events:
        for message in _event_body_messages(event, output=output):
            for step in message_steps(message, source=f"{source}/{via}:{event.name}"):
                step["timestamp"] = event_time(event.time_ns)
                steps.append(step)
    return steps


def _event_body_messages(event: SpanEvent, *, output: bool) -> list[Any]:
    """The messages one event carries (none when the event is not of the wanted direction)."""
    if output and event.name in _OUTPUT_EVENTS:
        body = _event_body(event)
        message = parse_json_attr(body.get("message")) if "message" in body else body
        return [message if isinstance(message, dict) else {"role": "assistant", "content": message}]
    if output and event.name == "gen_ai.content.completion":
        return _as_messages(event.attrs.get("gen_ai.completion"), "assistant")
    if not output and event.name in _INPUT_EVENTS:
        body = _event_body(event)
        role = _INPUT_EVENTS[event.name]
        if role == "tool" and "id" in body:
            body.setdefault("tool_call_id", body["id"])
        return [{**body, "role": body.get("role") or role}]
    if not output and event.name == "gen_ai.content.prompt":
        return _as_messages(event.attrs.get("gen_ai.prompt"), "user")
    return []


def _event_body(event: SpanEvent) -> dict[str, Any]:
    """An event's body: a JSON body attribute if the exporter wrote one, else its non-`gen_ai.*` attributes."""
    for key in ("gen_ai.event.content", "event.body", "body"):
        body = parse_json_attr(event.attrs.get(key))
        if isinstance(body, dict):
            return dict(body)
        if isinstance(body, str) and body:
            return {"content": body}
    return {k: parse_json_attr(v) for k, v in event.attrs.items() if not k.startswith("gen_ai.")}


def _as_messages(value: Any, role: str) -> list[Any]:
    value = parse_json_attr(value)
    if isinstance(value, list):
        return value
    return [] if value in (None, "") else [{"role": role, "content": as_text(value)}]


def tool_io(value: Any) -> tuple[str | None, bool]:
    """A tool span's argument or result attribute as text, and whether it reports an error.

    Unwraps the shapes instrumentations record: an MCP `CallToolResult` (`content` text parts, `isError`), an
    MCP `tools/call` request (`params.arguments`), and ADK's `{"result": …}` wrapper of non-dict results.
    """
    if value is None or (isinstance(value, str) and value.strip() in NOT_CAPTURED):
        return None, False
    decoded = parse_json_attr(value)
    if isinstance(decoded, dict):
        if isinstance(decoded.get("content"), list):
            texts = [p.get("text", "") for p in decoded["content"] if isinstance(p, dict)]
            return "\n".join(t for t in texts if t), bool(decoded.get("isError") or decoded.get("is_error"))
        params = decoded.get("params")
        if isinstance(params, dict) and "arguments" in params:
            return as_text(params["arguments"]), False
        if set(decoded) == {"result"}:
            return as_text(decoded["result"]), False
    return (value if isinstance(value, str) else as_text(value)), False


def event_time(ns: int) -> datetime | None:
    """A Unix-nanosecond time as a UTC datetime (None for 0, an unset time)."""
    return _EPOCH + timedelta(microseconds=ns // 1000) if ns else None
