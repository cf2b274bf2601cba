"""OpenTelemetry traces of LLM agents, whichever instrumentation wrote them and whichever way they were exported.

Input: OTLP/JSON (one export document, or JSON Lines of exports as the collector's file exporter writes them,
trace and log exports mixed), Grafana Tempo's JSON (legacy `batches` keys and the current ones), Jaeger's UI/API
JSON, Zipkin v2 JSON, and OTLP/protobuf `.pb` files (with the `otlp` extra). docs/formats.md lists them all.

One `Trace` per OTel trace id; its steps come from the spans in start-time order (a parent before a child that
starts at the same instant). What a span contributes is decided by `otel_conventions` (one entry per
instrumentation: GenAI semantic conventions, OpenLLMetry, OpenInference, Google ADK, pydantic-ai / Logfire):

- A model-call span gives its input messages, then its output messages (`otel_content`); token counts go on its
  first output step. A model call whose span recorded no output content still gives one `event` step that keeps
  the model and the tokens and says the content was not captured (its `source_type` ends in
  `model.CONTENT_NOT_CAPTURED`), so judges see an unknown answer rather than a missing one. When model-call spans
  nest (ADK's `call_llm` around OpenLLMetry's `openai.chat`), one speaks for the call: the innermost that
  captured content, else the outer one if it did, else the innermost.
- A tool span gives a tool_call and a tool_result; span status ERROR (or an MCP result's `isError`) marks the
  result `is_error`. A tool span inside another tool span (an MCP client span under the agent's tool span) adds
  nothing but a result the outer one lacks.
- An agent span gives one `event` step naming the agent; the agent's name is inherited by every step of its
  descendant spans (`Step.agent`), so sub-steps are attributed to the agent that ran them.
- GenAI events emitted as log records are attached to their span by trace and span id; log records whose span is
  not in the file stand for a model call of their own.

History is not repeated: see `otel_steps`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from agentmortem.model import CONTENT_NOT_CAPTURED, Trace, make_steps
from agentmortem.readers.base import ReadError
from agentmortem.readers.genai_messages import RawStep, parse_json_attr
from agentmortem.readers.jsonio import as_text, load_records
from agentmortem.readers.otel_content import event_time, llm_inputs, llm_outputs, tool_io
from agentmortem.readers.otel_conventions import Convention, SpanRole, agent_name, classify, lookup
from agentmortem.readers.otel_exports import (
    PROTOBUF_SUFFIXES,
    is_jaeger,
    is_zipkin,
    jaeger_spans,
    json_head_kind,
    protobuf_exports,
    zipkin_spans,
)
from agentmortem.readers.otel_steps import StepLog
from agentmortem.readers.otlp import LogEvent, Span, export_logs, export_spans, is_export, unwrap

_MARKERS = ("gen_ai.", "openinference.span.kind", '"llm.', "traceloop.", "gcp.vertex.agent", "call_llm")


class OtelReader:
    """Reads OpenTelemetry trace exports of LLM agents (OTLP/JSON, Tempo, Jaeger, Zipkin, OTLP/protobuf)."""

    name: ClassVar[str] = "otel"
    description: ClassVar[str] = (
        "OpenTelemetry traces (OTLP/JSON or .pb, Tempo, Jaeger, Zipkin): GenAI, OpenLLMetry, OpenInference, ADK"
    )

    def sniff(self, path: Path, head: str) -> float:
        """Certain when the head shows a trace export carrying LLM-agent attributes; likely for any trace export."""
        if path.suffix.lower() in PROTOBUF_SUFFIXES:
            return 0.95 if any(m.strip('"') in head for m in _MARKERS) else 0.6
        otlp = any(f'"{key}"' in head for key in ("resourceSpans", "resource_spans", "resourceLogs")) or (
            '"batches"' in head and ('"instrumentationLibrarySpans"' in head or '"scopeSpans"' in head)
        )
        if not otlp and json_head_kind(head) is None:
            return 0.0
        return 0.95 if any(marker in head for marker in _MARKERS) else 0.6

    def read(self, path: Path, errors: list[ReadError]) -> Iterator[Trace]:
        """Yield one trace per OTel trace id found in the file."""
        by_trace: dict[str, list[Span]] = {}
        for span in file_spans(path, errors):
            by_trace.setdefault(span.trace_id, []).append(span)
        found = 0
        for trace_id, spans in by_trace.items():
            trace = build_trace(trace_id, spans, path)
            if trace.steps:
                found += 1
                yield trace
        if by_trace and not found:
            errors.append(ReadError(path, "no GenAI or OpenInference spans (LLM, tool or agent) in this export"))


def file_spans(path: Path, errors: list[ReadError]) -> Iterator[Span]:
    """Every span in the file, whatever its export shape, with the file's log events attached to their spans."""
    spans: list[Span] = []
    logs: list[LogEvent] = []
    for document, line in _documents(path, errors):
        if is_jaeger(document):
            spans.extend(jaeger_spans(document, path, errors))
        elif is_zipkin(document):
            spans.extend(zipkin_spans(document, path, errors))
        elif line is not None and not is_export(document):
            errors.append(ReadError(path, "not an OTLP trace export (no 'resourceSpans')", line=line))
        else:
            spans.extend(_otlp_spans(document, path, errors, line, logs))
    yield from _attach_logs(spans, logs)


def _documents(path: Path, errors: list[ReadError]) -> Iterator[tuple[Any, int | None]]:
    """Each export document with its line (None for a whole-file JSON document or a protobuf message)."""
    if path.suffix.lower() in PROTOBUF_SUFFIXES:
        for export in protobuf_exports(path):
            yield export, None
        return
    is_lines, records = load_records(path, errors)
    for line, value in records:
        if isinstance(value, list) and not is_lines and not is_zipkin(value):
            for export in value:
                yield export, None
        else:
            yield value, line if is_lines else None


def _otlp_spans(
    document: Any, path: Path, errors: list[ReadError], line: int | None, logs: list[LogEvent]
) -> list[Span]:
    document = unwrap(document)
    if isinstance(document, dict) and any(k in document for k in ("resourceLogs", "resource_logs")):
        logs.extend(export_logs(document, path, errors, line=line))
        if not any(k in document for k in ("resourceSpans", "resource_spans", "batches")):
            return []
    return list(export_spans(document, path, errors, line=line))


def _attach_logs(spans: list[Span], logs: list[LogEvent]) -> list[Span]:
    """Give each span its log records; records of a span not in the file become a model-call span of their own."""
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    orphans: dict[tuple[str, str], Span] = {}
    for log in sorted(logs, key=lambda event: event.time_ns):
        key = (log.trace_id, log.span_id)
        span = by_id.get(key) or orphans.get(key)
        if span is None:
            span = orphans[key] = _log_span(log)
        span.logs.append(log)
        for name in ("gen_ai.request.model", "gen_ai.response.model", "gen_ai.system"):
            if name in log.attrs:
                span.attrs.setdefault(name, log.attrs[name])
    return [*spans, *orphans.values()]


def _log_span(log: LogEvent) -> Span:
    return Span(
        trace_id=log.trace_id,
        span_id=log.span_id,
        parent_id=None,
        name="gen_ai log events",
        start_ns=log.time_ns,
        end_ns=log.time_ns,
        attrs={"gen_ai.operation.name": str(log.attrs.get("gen_ai.operation.name", "chat"))},
        resource={},
    )


class _Roles:
    """Each span's role and claiming convention, its agent, and which nested model and tool spans stay silent."""

    def __init__(self, spans: list[Span]) -> None:
        self.by_id = {span.span_id: span for span in spans}
        self.claims = {span.span_id: classify(span.name, span.attrs) for span in spans}
        self.content: dict[str, tuple[list[RawStep], list[RawStep]]] = {}
        for span in spans:
            role, convention = self.claims[span.span_id]
            if role == "llm":
                source = _source(span, role)
                self.content[span.span_id] = (
                    llm_inputs(span, convention, source),
                    llm_outputs(span, convention, source),
                )
        self.silent = self._silent_model_calls() | self._nested_tools()

    def role(self, span: Span) -> tuple[SpanRole, Convention | None]:
        """The span's role and the convention that claimed it."""
        return self.claims[span.span_id]

    def ancestors(self, span: Span) -> Iterator[Span]:
        """The span's ancestors in this trace, nearest first (a guard stops on cyclic parent links)."""
        seen, current = {span.span_id}, span
        while current.parent_id and (parent := self.by_id.get(current.parent_id)) and parent.span_id not in seen:
            seen.add(parent.span_id)
            current = parent
            yield parent

    def agent(self, span: Span) -> str | None:
        """The nearest agent name on the span or its ancestors (agents own the model and tool spans below them)."""
        for current in (span, *self.ancestors(span)):
            role, convention = self.claims[current.span_id]
            name = current.attrs.get("gen_ai.agent.name") or current.attrs.get("agent.name")
            if role == "agent":
                name = agent_name(current.name, current.attrs, convention) or name
            if name:
                return str(name)
        return None

    def _silent_model_calls(self) -> set[str]:
        inner: dict[str, list[str]] = {}
        for span_id in self.content:
            for outer in self.ancestors(self.by_id[span_id]):
                if outer.span_id in self.content:
                    inner.setdefault(outer.span_id, []).append(span_id)
        silent: set[str] = set()
        for outer_id, nested in inner.items():
            if any(self._captured(s) for s in nested) or not self._captured(outer_id):
                silent.add(outer_id)
            else:
                silent.update(nested)
        return silent

    def _captured(self, span_id: str) -> bool:
        inputs, outputs = self.content[span_id]
        return bool(inputs or outputs)

    def _nested_tools(self) -> set[str]:
        return {
            span_id
            for span_id, (role, _) in self.claims.items()
            if role == "tool" and any(self.claims[a.span_id][0] == "tool" for a in self.ancestors(self.by_id[span_id]))
        }

    def nested_tool_result(self, span: Span) -> tuple[str | None, bool]:
        """The result a silent tool span below `span` recorded (an MCP client span under the agent's tool span)."""
        for span_id in self.silent:
            nested = self.by_id[span_id]
            if self.claims[span_id][0] == "tool" and span in self.ancestors(nested):
                result, failed = tool_io(lookup(nested.attrs, self.claims[span_id][1], "tool_result"))
                if result is not None:
                    return result, failed or nested.is_error
        return None, False


def build_trace(trace_id: str, spans: list[Span], path: Path) -> Trace:
    """The trace made of one OTel trace's spans."""
    roles = _Roles(spans)
    depth = {span.span_id: sum(1 for _ in roles.ancestors(span)) for span in spans}
    ordered = sorted(enumerate(spans), key=lambda pair: (pair[1].start_ns, depth[pair[1].span_id], pair[0]))
    log = StepLog()
    models: Counter[str] = Counter()
    for _, span in ordered:
        if span.span_id in roles.silent:
            continue
        role, convention = roles.role(span)
        agent = roles.agent(span)
        if role == "llm":
            _llm_span(span, convention, agent, roles.content[span.span_id], log)
            if model := _model(span, convention):
                models[model] += 1
        elif role == "tool":
            _tool_span(span, convention, agent, roles, log)
        elif role == "agent":
            log.add(_agent_event(span, agent))
    return _trace(trace_id, spans, path, log, models)


def _trace(trace_id: str, spans: list[Span], path: Path, log: StepLog, models: Counter[str]) -> Trace:
    resource = next((s.resource for s in spans if s.resource), {})
    agents = sorted({s["agent"] for s in log.steps if s.get("agent")})
    metadata: dict[str, Any] = {"otel_trace_id": trace_id, "spans": len(spans), "agents": agents}
    if len(models) > 1:
        metadata["models"] = sorted(models)
    for span in spans:
        conversation = (
            span.attrs.get("gen_ai.conversation.id")
            or span.attrs.get("session.id")
            or span.attrs.get("gcp.vertex.agent.session_id")
        )
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


def _llm_span(
    span: Span,
    convention: Convention | None,
    agent: str | None,
    content: tuple[list[RawStep], list[RawStep]],
    log: StepLog,
) -> None:
    source = _source(span, "llm")
    inputs = _stamp([dict(s) for s in content[0]], span.start_ns, agent, assistant_only=True)
    outputs = _stamp([dict(s) for s in content[1]], span.end_ns or span.start_ns, agent, assistant_only=False)
    log.add_history(inputs)
    tokens = _tokens(span, convention)
    if outputs:
        outputs[0]["input_tokens"], outputs[0]["output_tokens"] = tokens
    elif span.is_error:
        outputs = [_error_event(span, agent, source)]
        outputs[0]["input_tokens"], outputs[0]["output_tokens"] = tokens
    else:
        outputs = [_not_captured(span, convention, agent, source, tokens, had_inputs=bool(inputs))]
    for step in outputs:
        log.add(step)


def _not_captured(
    span: Span,
    convention: Convention | None,
    agent: str | None,
    source: str,
    tokens: tuple[int | None, int | None],
    *,
    had_inputs: bool,
) -> RawStep:
    what = "answer" if had_inputs else "content"
    model = _model(span, convention) or "unknown model"
    return {
        "kind": "event",
        "role": "assistant",
        "agent": agent,
        "content": f"model call to {model} ({span.name}): {what} not captured by the telemetry",
        "input_tokens": tokens[0],
        "output_tokens": tokens[1],
        "timestamp": event_time(span.end_ns or span.start_ns),
        "source_type": f"{source}:{CONTENT_NOT_CAPTURED}",
    }


def _tool_span(span: Span, convention: Convention | None, agent: str | None, roles: _Roles, log: StepLog) -> None:
    attrs = span.attrs
    name = lookup(attrs, convention, "tool_name") or span.name.removeprefix("execute_tool ")
    call_id = lookup(attrs, convention, "tool_call_id") or log.unanswered_call_id(str(name))
    source = _source(span, "tool")
    args, _ = tool_io(lookup(attrs, convention, "tool_args"))
    result, failed = tool_io(lookup(attrs, convention, "tool_result"))
    if result is None:
        result, failed = roles.nested_tool_result(span)
    if result is None and span.is_error:
        result = span.status_message or "tool failed"
    # Older instrumentations record no result on the tool span; the next chat span's tool message then carries it.
    base = {"agent": agent, "tool_name": str(name), "call_id": str(call_id) if call_id else None, "source_type": source}
    log.add_once(
        {**base, "kind": "tool_call", "role": "assistant", "tool_args": args, "timestamp": _time(span.start_ns)}
    )
    if result is not None:
        result_step = {**base, "kind": "tool_result", "role": "tool", "content": result}
        error = span.is_error or failed
        log.add_once({**result_step, "is_error": error, "timestamp": _time(span.end_ns or span.start_ns)})


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
        "source_type": _source(span, "agent"),
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


def _tokens(span: Span, convention: Convention | None) -> tuple[int | None, int | None]:
    prompt = lookup(span.attrs, convention, "input_tokens")
    completion = lookup(span.attrs, convention, "output_tokens")
    if prompt is None and completion is None:
        # ADK before it wrote gen_ai.usage.*: the counts sit in the dumped response's usage_metadata.
        response = parse_json_attr(span.attrs.get("gcp.vertex.agent.llm_response"))
        usage = response.get("usage_metadata") if isinstance(response, dict) else None
        if isinstance(usage, dict):
            prompt, completion = usage.get("prompt_token_count"), usage.get("candidates_token_count")
    return _int_or_none(prompt), _int_or_none(completion)


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _model(span: Span, convention: Convention | None) -> str | None:
    model = lookup(span.attrs, convention, "model")
    if model is None:
        request = parse_json_attr(span.attrs.get("gcp.vertex.agent.llm_request"))
        model = request.get("model") if isinstance(request, dict) else None
    return as_text(model) if model else None


def _source(span: Span, role: SpanRole) -> str:
    operation = span.attrs.get("gen_ai.operation.name") or span.attrs.get("openinference.span.kind")
    if not operation:
        operation = span.attrs.get("llm.request.type") or span.attrs.get("traceloop.span.kind") or role
    return f"span:{operation}"


def _time(ns: int) -> datetime | None:
    return event_time(ns)
