"""OpenTelemetry traces of LLM agents, written with the GenAI semantic conventions or OpenInference.

Input is OTLP/JSON: one export document, or JSON Lines of exports as the collector's file exporter writes them.

One `Trace` per OTel trace id; its steps come from the spans in start-time order (a parent before a child that
starts at the same instant):

- LLM spans (`gen_ai.operation.name` chat / text_completion / generate_content, or OpenInference kind LLM) give
  their input messages, then their output messages. Inputs come from `gen_ai.system_instructions` and
  `gen_ai.input.messages`, else OpenInference `llm.input_messages.*`, else the older span events
  (`gen_ai.system.message`, `gen_ai.user.message`, `gen_ai.assistant.message`, `gen_ai.tool.message`,
  `gen_ai.content.prompt`), else OpenInference `input.value`. Outputs likewise from `gen_ai.output.messages`,
  `llm.output_messages.*`, `gen_ai.choice` / `gen_ai.content.completion` events, or `output.value`. Token counts
  go on the span's first output step.
- Tool spans (`execute_tool`, OpenInference TOOL) give a tool_call and a tool_result; span status ERROR marks the
  result `is_error`.
- Agent spans (`invoke_agent`, `create_agent`, OpenInference AGENT) give one `event` step naming the agent; the
  agent name (`gen_ai.agent.name`, OpenInference `agent.name`) is inherited by every step of descendant spans.

History is not duplicated. A chat span's input repeats the conversation so far, so every step has a key — its
kind, role and text, or for tool calls and results their call id — and the trace counts how often each key has
been emitted. An input step is emitted only when this span's input holds more copies of its key than the trace
has emitted so far: a message already seen is skipped, while a genuinely repeated one ("continue" said twice) is
still emitted the second time. Outputs are always emitted. A tool span's call is skipped when the model's output
already carried that call id; a tool span without a call id adopts the id of the latest unanswered call of the
same tool.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

from agentmortem.model import Trace, make_steps
from agentmortem.readers.base import ReadError
from agentmortem.readers.genai_messages import RawStep, message_steps, parse_json_attr, unflatten_messages
from agentmortem.readers.jsonio import as_text, load_records
from agentmortem.readers.otlp import Span, SpanEvent, export_spans, is_export

SpanRole = Literal["llm", "tool", "agent", "other"]

_LLM_OPERATIONS = {"chat", "text_completion", "generate_content", "completion"}
_AGENT_OPERATIONS = {"invoke_agent", "create_agent"}
_INPUT_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
_OUTPUT_EVENTS = {"gen_ai.choice"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class OtelReader:
    """Reads OTLP/JSON trace exports written with GenAI or OpenInference attributes."""

    name: ClassVar[str] = "otel"
    description: ClassVar[str] = "OpenTelemetry OTLP/JSON exports (GenAI semantic conventions, OpenInference)"

    def sniff(self, path: Path, head: str) -> float:
        """Certain when the head shows an OTLP export carrying GenAI or OpenInference attributes."""
        if '"resourceSpans"' not in head and '"resource_spans"' not in head:
            return 0.0
        if "gen_ai." in head or "openinference.span.kind" in head or '"llm.' in head:
            return 0.95
        return 0.6

    def read(self, path: Path, errors: list[ReadError]) -> Iterator[Trace]:
        """Yield one trace per OTel trace id found in the file."""
        by_trace: dict[str, list[Span]] = {}
        for span in _file_spans(path, errors):
            by_trace.setdefault(span.trace_id, []).append(span)
        found = 0
        for trace_id, spans in by_trace.items():
            trace = build_trace(trace_id, spans, path)
            if trace.steps:
                found += 1
                yield trace
        if by_trace and not found:
            errors.append(ReadError(path, "no GenAI or OpenInference spans (LLM, tool or agent) in this export"))


def _file_spans(path: Path, errors: list[ReadError]) -> Iterator[Span]:
    """Every span of every export in the file; a bad JSON Lines row is reported and the rest still read."""
    is_lines, records = load_records(path, errors)
    for line, value in records:
        exports = value if isinstance(value, list) and not is_lines else [value]
        for export in exports:
            if is_lines and not is_export(export):
                errors.append(ReadError(path, "not an OTLP trace export (no 'resourceSpans')", line=line))
                continue
            yield from export_spans(export, path, errors, line=line)


def build_trace(trace_id: str, spans: list[Span], path: Path) -> Trace:
    """The trace made of one OTel trace's spans."""
    by_id = {span.span_id: span for span in spans}
    ordered = sorted(enumerate(spans), key=lambda pair: (pair[1].start_ns, _depth(pair[1], by_id), pair[0]))
    log = _StepLog()
    models: Counter[str] = Counter()
    for _, span in ordered:
        role = span_role(span)
        agent = _agent_name(span, by_id)
        if role == "llm":
            _llm_span(span, agent, log)
            if model := _model(span):
                models[model] += 1
        elif role == "tool":
            _tool_span(span, agent, log)
        elif role == "agent":
            log.add(_agent_event(span, agent))
    return _trace(trace_id, spans, path, log, models)


def _trace(trace_id: str, spans: list[Span], path: Path, log: _StepLog, models: Counter[str]) -> Trace:
    resource = spans[0].resource
    agents = sorted({s["agent"] for s in log.steps if s.get("agent")})
    metadata: dict[str, Any] = {"otel_trace_id": trace_id, "spans": len(spans), "agents": agents}
    if len(models) > 1:
        metadata["models"] = sorted(models)
    for span in spans:
        conversation = span.attrs.get("gen_ai.conversation.id") or span.attrs.get("session.id")
        if conversation:
            metadata["conversation_id"] = str(conversation)
            break
    task = next((s["content"] for s in log.steps if s["kind"] == "message" and s.get("role") == "user"), None)
    return Trace(
        id=trace_id,
        source_format="otel",
        source_path=str(path),
        model=models.most_common(1)[0][0] if models else None,
        agent_system=resource.get("service.name"),
        task=task,
        metadata=metadata,
        steps=make_steps(log.steps),
    ).with_fingerprint()


def span_role(span: Span) -> SpanRole:
    """What a span contributes: an LLM call, a tool execution, an agent invocation, or nothing."""
    operation = span.attrs.get("gen_ai.operation.name")
    kind = str(span.attrs.get("openinference.span.kind", "")).upper()
    if operation in _LLM_OPERATIONS or kind == "LLM":
        return "llm"
    if operation == "execute_tool" or kind == "TOOL":
        return "tool"
    if operation in _AGENT_OPERATIONS or kind == "AGENT":
        return "agent"
    return "other"


class _StepLog:
    """The raw steps of one trace and how often each step key has been emitted (the history de-duplication)."""

    def __init__(self) -> None:
        self.steps: list[RawStep] = []
        self.emitted: Counter[tuple[Any, ...]] = Counter()
        self.open_calls: dict[str | None, list[str]] = {}

    def add(self, step: RawStep) -> None:
        """Emit a step unconditionally."""
        self.steps.append(step)
        self.emitted[step_key(step)] += 1
        call_id = step.get("call_id")
        if call_id and step["kind"] == "tool_call":
            self.open_calls.setdefault(step.get("tool_name"), []).append(call_id)
        elif call_id and step["kind"] == "tool_result":
            for waiting in self.open_calls.values():
                if call_id in waiting:
                    waiting.remove(call_id)

    def add_once(self, step: RawStep) -> None:
        """Emit a step unless one with its key was already emitted."""
        if not self.emitted[step_key(step)]:
            self.add(step)

    def add_history(self, steps: list[RawStep]) -> None:
        """Emit the input steps the trace has not emitted yet, counting repeats (see the module docstring)."""
        local: Counter[tuple[Any, ...]] = Counter()
        for step in steps:
            key = step_key(step)
            local[key] += 1
            if local[key] > self.emitted[key]:
                self.add(step)

    def unanswered_call_id(self, tool_name: str | None) -> str | None:
        """Call id of the latest emitted call of `tool_name` that has no result yet."""
        waiting = self.open_calls.get(tool_name)
        return waiting[-1] if waiting else None


def step_key(step: RawStep) -> tuple[Any, ...]:
    """What makes two steps the same for de-duplication: call id for tool steps, else kind, role and text."""
    kind = step["kind"]
    if kind in ("tool_call", "tool_result") and step.get("call_id"):
        return (kind, step["call_id"])
    if kind == "tool_call":
        return (kind, step.get("tool_name"), step.get("tool_args"))
    return (kind, step.get("role"), step.get("content", ""))


def _llm_span(span: Span, agent: str | None, log: _StepLog) -> None:
    source = _source(span)
    inputs = _stamp(_llm_inputs(span, source), span.start_ns, agent, assistant_only=True)
    outputs = _stamp(_llm_outputs(span, source), span.end_ns or span.start_ns, agent, assistant_only=False)
    log.add_history(inputs)
    if outputs:
        outputs[0]["input_tokens"], outputs[0]["output_tokens"] = _tokens(span)
    elif span.is_error:
        outputs = [_error_event(span, agent, source)]
    for step in outputs:
        log.add(step)


def _llm_inputs(span: Span, source: str) -> list[RawStep]:
    attrs = span.attrs
    steps = _system_instructions(attrs.get("gen_ai.system_instructions"), source)
    if "gen_ai.input.messages" in attrs:
        return steps + _messages(attrs["gen_ai.input.messages"], source)
    if flat := unflatten_messages(attrs, "llm.input_messages."):
        return steps + _messages(flat, source)
    if from_events := _event_messages(span.events, output=False, source=source):
        return steps + from_events
    return steps + _openinference_value(attrs.get("input.value"), "user", source)


def _llm_outputs(span: Span, source: str) -> list[RawStep]:
    attrs = span.attrs
    if "gen_ai.output.messages" in attrs:
        return _messages(attrs["gen_ai.output.messages"], source)
    if flat := unflatten_messages(attrs, "llm.output_messages."):
        return _messages(flat, source)
    if from_events := _event_messages(span.events, output=True, source=source):
        return from_events
    return _openinference_value(attrs.get("output.value"), "assistant", source)


def _messages(value: Any, source: str) -> list[RawStep]:
    messages = parse_json_attr(value)
    if not isinstance(messages, list):
        messages = [messages]
    return [step for message in messages for step in message_steps(message, source=source)]


def _system_instructions(value: Any, source: str) -> list[RawStep]:
    """`gen_ai.system_instructions`: a JSON list of parts (or plain text) sent apart from the chat history."""
    if value in (None, ""):
        return []
    parts = parse_json_attr(value)
    if isinstance(parts, list):
        return message_steps({"role": "system", "parts": parts}, source=source)
    return message_steps({"role": "system", "content": as_text(parts)}, source=source)


def _event_messages(events: list[SpanEvent], *, output: bool, source: str) -> list[RawStep]:
    """Messages from the older GenAI span events; event times, when present, become the step times."""
    steps: list[RawStep] = []
    for event in events:
        for message in _event_body_messages(event, output=output):
            for step in message_steps(message, source=f"{source}/event:{event.name}"):
                step["timestamp"] = _time(event.time_ns)
                steps.append(step)
    return steps


def _event_body_messages(event: SpanEvent, *, output: bool) -> list[Any]:
    """The messages one span event carries (none when the event is not of the wanted direction)."""
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
    return {k: parse_json_attr(v) for k, v in event.attrs.items() if not k.startswith("gen_ai.")}


def _as_messages(value: Any, role: str) -> list[Any]:
    value = parse_json_attr(value)
    if isinstance(value, list):
        return value
    return [] if value in (None, "") else [{"role": role, "content": as_text(value)}]


def _openinference_value(value: Any, role: str, source: str) -> list[RawStep]:
    """OpenInference `input.value` / `output.value` of an LLM span: a request/response JSON or plain text."""
    decoded = parse_json_attr(value)
    if isinstance(decoded, dict) and isinstance(decoded.get("messages"), list):
        return _messages(decoded["messages"], source)
    if isinstance(decoded, dict) and isinstance(decoded.get("choices"), list) and decoded["choices"]:
        choice = decoded["choices"][0]
        return _messages([choice.get("message", {})], source) if isinstance(choice, dict) else []
    return _as_steps(value, role, source)


def _as_steps(value: Any, role: str, source: str) -> list[RawStep]:
    return [] if value in (None, "") else message_steps({"role": role, "content": as_text(value)}, source=source)


def _tool_span(span: Span, agent: str | None, log: _StepLog) -> None:
    attrs = span.attrs
    name = attrs.get("gen_ai.tool.name") or attrs.get("tool.name") or span.name
    call_id = attrs.get("gen_ai.tool.call.id") or attrs.get("tool_call.id") or log.unanswered_call_id(name)
    source = _source(span)
    args = attrs.get("gen_ai.tool.call.arguments", attrs.get("input.value"))
    result = attrs.get("gen_ai.tool.call.result", attrs.get("output.value"))
    if result is None and span.is_error:
        result = span.status_message or "tool failed"
    # Older instrumentations record no result on the tool span; the next chat span's tool message then carries it.
    base = {"agent": agent, "tool_name": str(name), "call_id": str(call_id) if call_id else None, "source_type": source}
    call_args = None if args is None else as_text(args)
    log.add_once(
        {**base, "kind": "tool_call", "role": "assistant", "tool_args": call_args, "timestamp": _time(span.start_ns)}
    )
    if result is not None:
        result_step = {**base, "kind": "tool_result", "role": "tool", "content": as_text(result)}
        log.add_once({**result_step, "is_error": span.is_error, "timestamp": _time(span.end_ns or span.start_ns)})


def _agent_event(span: Span, agent: str | None) -> RawStep:
    operation = span.attrs.get("gen_ai.operation.name") or "invoke_agent"
    description = span.attrs.get("gen_ai.agent.description")
    content = f"{operation} {agent or span.name}" + (f": {description}" if description else "")
    return {
        "kind": "event",
        "agent": agent,
        "content": content,
        "is_error": span.is_error,
        "timestamp": _time(span.start_ns),
        "source_type": _source(span),
    }


def _error_event(span: Span, agent: str | None, source: str) -> RawStep:
    return {
        "kind": "event",
        "agent": agent,
        "content": f"{span.name} failed: {span.status_message or 'error status'}",
        "is_error": True,
        "timestamp": _time(span.end_ns or span.start_ns),
        "source_type": source,
    }


def _stamp(steps: list[RawStep], time_ns: int, agent: str | None, *, assistant_only: bool) -> list[RawStep]:
    """Give steps the span's time (unless an event time is set) and agent (inputs: only assistant turns)."""
    when = _time(time_ns)
    for step in steps:
        if step.get("timestamp") is None:
            step["timestamp"] = when
        if not step.get("agent") and (not assistant_only or step.get("role") == "assistant"):
            step["agent"] = agent
    return steps


def _tokens(span: Span) -> tuple[int | None, int | None]:
    attrs = span.attrs
    prompt = attrs.get("gen_ai.usage.input_tokens", attrs.get("llm.token_count.prompt"))
    completion = attrs.get("gen_ai.usage.output_tokens", attrs.get("llm.token_count.completion"))
    return _int_or_none(prompt), _int_or_none(completion)


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _model(span: Span) -> str | None:
    attrs = span.attrs
    model = attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model") or attrs.get("llm.model_name")
    return str(model) if model else None


def _source(span: Span) -> str:
    operation = span.attrs.get("gen_ai.operation.name") or span.attrs.get("openinference.span.kind") or "span"
    return f"span:{operation}"


def _agent_name(span: Span, by_id: dict[str, Span]) -> str | None:
    """The nearest agent name on the span or its ancestors (agents own the LLM and tool spans below them)."""
    seen: set[str] = set()
    current: Span | None = span
    while current is not None and current.span_id not in seen:
        name = current.attrs.get("gen_ai.agent.name") or current.attrs.get("agent.name")
        if name:
            return str(name)
        seen.add(current.span_id)
        current = by_id.get(current.parent_id) if current.parent_id else None
    return None


def _depth(span: Span, by_id: dict[str, Span]) -> int:
    """How many ancestors a span has in this trace (a guard stops on cyclic parent links)."""
    depth, seen, current = 0, {span.span_id}, span
    while current.parent_id and (parent := by_id.get(current.parent_id)) and parent.span_id not in seen:
        depth, current = depth + 1, parent
        seen.add(parent.span_id)
    return depth


def _time(ns: int) -> datetime | None:
    return _EPOCH + timedelta(microseconds=ns // 1000) if ns else None
