"""Trace export shapes other than OTLP/JSON, decoded into the same `Span` records.

- Jaeger's UI/API JSON (`{"data": [{"traceID", "spans": [...], "processes": {...}}]}`, Jaeger v1 query API
  `model/json`): spans with `references` (CHILD_OF gives the parent), typed `tags`, `logs` (span events, the
  `event` field naming them) and a `processID` naming the process (resource) in `processes`. Times are µs.
- Zipkin v2 JSON (a list of spans, zipkin-api `zipkin2-api.yaml`): `traceId`, `id`, `parentId`, µs `timestamp`
  and `duration`, string `tags`, `annotations` (span events), `localEndpoint.serviceName`.
- OTLP/protobuf (`.pb`): one `TracesData` message, or the collector file exporter's `format: proto` framing (each
  export preceded by its length as a 4-byte big-endian integer). Decoding needs the optional `otlp` extra
  (`opentelemetry-proto`); the message is turned into the protobuf JSON mapping and read as OTLP/JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentmortem.readers.base import ReadError
from agentmortem.readers.genai_messages import parse_json_attr
from agentmortem.readers.otlp import Span, SpanEvent, SpanShapeError, hex_id

PROTOBUF_SUFFIXES = (".pb", ".binpb", ".protobuf")


def is_jaeger(value: Any) -> bool:
    """True for a Jaeger UI/API document: `data` is a list of traces holding `spans`."""
    data = value.get("data") if isinstance(value, dict) else None
    return isinstance(data, list) and any(isinstance(t, dict) and "spans" in t and "traceID" in t for t in data)


def is_zipkin(value: Any) -> bool:
    """True for a Zipkin v2 span list."""
    return isinstance(value, list) and bool(value) and all(_zipkin_span_like(s) for s in value[:5])


def _zipkin_span_like(value: Any) -> bool:
    return isinstance(value, dict) and "traceId" in value and "id" in value and "spanId" not in value


def jaeger_spans(document: dict[str, Any], path: Path, errors: list[ReadError]) -> Iterator[Span]:
    """The spans of a Jaeger document; a malformed span is reported and skipped."""
    for t_index, trace in enumerate(document.get("data") or []):
        if not isinstance(trace, dict):
            errors.append(ReadError(path, f"data[{t_index}] must be an object"))
            continue
        processes = _mapping(trace.get("processes"))
        for s_index, raw in enumerate(trace.get("spans") or []):
            try:
                yield _jaeger_span(raw, processes)
            except (SpanShapeError, ValueError, TypeError, KeyError) as exc:
                errors.append(ReadError(path, f"data[{t_index}].spans[{s_index}]: {exc}"))


def _jaeger_span(raw: Any, processes: dict[str, Any]) -> Span:
    if not isinstance(raw, dict):
        raise SpanShapeError("span must be an object")
    attrs = _jaeger_tags(raw.get("tags"))
    process = processes.get(str(raw.get("processID")), {}) if processes else {}
    resource = _jaeger_tags(process.get("tags")) if isinstance(process, dict) else {}
    if isinstance(process, dict) and process.get("serviceName"):
        resource["service.name"] = process["serviceName"]
    start = _micros(raw, "startTime")
    return Span(
        trace_id=hex_id(_text(raw, "traceID")),
        span_id=hex_id(_text(raw, "spanID")),
        parent_id=_jaeger_parent(raw),
        name=str(raw.get("operationName", "")),
        start_ns=start,
        end_ns=start + _micros(raw, "duration", required=False),
        attrs=attrs,
        resource=resource,
        events=[_jaeger_log(log) for log in raw.get("logs") or [] if isinstance(log, dict)],
        is_error=attrs.get("error") in (True, "true") or attrs.get("otel.status_code") == "ERROR",
        status_message=str(attrs.get("otel.status_description", "")),
    )


def _jaeger_parent(raw: dict[str, Any]) -> str | None:
    for ref in raw.get("references") or []:
        if isinstance(ref, dict) and ref.get("refType", "CHILD_OF") == "CHILD_OF" and ref.get("spanID"):
            return hex_id(str(ref["spanID"]))
    parent = raw.get("parentSpanID")
    return hex_id(parent) if isinstance(parent, str) and parent.strip("0") else None


def _jaeger_tags(tags: Any) -> dict[str, Any]:
    """Jaeger `[{"key", "type", "value"}]` tags; OTel arrays and maps arrive as JSON text and stay so."""
    if not isinstance(tags, list):
        return {}
    return {str(t["key"]): t.get("value") for t in tags if isinstance(t, dict) and "key" in t}


def _jaeger_log(log: dict[str, Any]) -> SpanEvent:
    fields = _jaeger_tags(log.get("fields"))
    name = str(fields.pop("event", fields.pop("message", "")))
    return SpanEvent(name=name, time_ns=_micros(log, "timestamp", required=False), attrs=fields)


def zipkin_spans(spans: list[Any], path: Path, errors: list[ReadError]) -> Iterator[Span]:
    """The spans of a Zipkin v2 list; a malformed span is reported and skipped."""
    for index, raw in enumerate(spans):
        try:
            yield _zipkin_span(raw)
        except (SpanShapeError, ValueError, TypeError) as exc:
            errors.append(ReadError(path, f"[{index}]: {exc}"))


def _zipkin_span(raw: Any) -> Span:
    if not isinstance(raw, dict):
        raise SpanShapeError("span must be an object")
    tags = _mapping(raw.get("tags"))
    endpoint = _mapping(raw.get("localEndpoint"))
    start = _micros(raw, "timestamp")
    parent = raw.get("parentId")
    return Span(
        trace_id=hex_id(_text(raw, "traceId")),
        span_id=hex_id(_text(raw, "id")),
        parent_id=hex_id(parent) if isinstance(parent, str) and parent else None,
        name=str(raw.get("name", "")),
        start_ns=start,
        end_ns=start + _micros(raw, "duration", required=False),
        attrs=dict(tags),
        resource={"service.name": endpoint["serviceName"]} if endpoint.get("serviceName") else {},
        events=[_zipkin_annotation(a) for a in raw.get("annotations") or [] if isinstance(a, dict)],
        is_error="error" in tags or tags.get("otel.status_code") == "ERROR",
        status_message=str(tags.get("error") or tags.get("otel.status_description") or ""),
    )


def _zipkin_annotation(annotation: dict[str, Any]) -> SpanEvent:
    """An annotation as a span event.

    The collector writes an event with attributes as `name|{json attributes}|dropped count` (its
    `SpanEventDataFormat`), the Python SDK's Zipkin exporter as `{"<name>": {attributes}}`.
    """
    raw = str(annotation.get("value", ""))
    time_ns = _micros(annotation, "timestamp", required=False)
    name, _, rest = raw.partition("|")
    if rest:
        attrs = parse_json_attr(rest.rpartition("|")[0] or rest)
        return SpanEvent(name, time_ns, attrs if isinstance(attrs, dict) else {"body": attrs})
    value = parse_json_attr(raw)
    if isinstance(value, dict) and len(value) == 1:
        ((key, attrs),) = value.items()
        return SpanEvent(str(key), time_ns, dict(attrs) if isinstance(attrs, dict) else {"body": attrs})
    return SpanEvent(raw, time_ns, {})


def protobuf_exports(path: Path) -> Iterator[dict[str, Any]]:
    """The OTLP/protobuf exports of a `.pb` file, each as its protobuf JSON mapping (a dict with resourceSpans)."""
    try:
        from google.protobuf.json_format import MessageToDict
        from google.protobuf.message import DecodeError
        from opentelemetry.proto.trace.v1.trace_pb2 import TracesData
    except ImportError:
        raise ReadError(path, "reading OTLP/protobuf needs the 'otlp' extra: pip install 'agentmortem[otlp]'") from None
    data = path.read_bytes()
    for index, chunk in enumerate(_frames(data)):
        message = TracesData()
        try:
            message.ParseFromString(chunk)
        except DecodeError as exc:
            raise ReadError(path, f"export {index}: not an OTLP/protobuf TracesData message ({exc})") from None
        yield MessageToDict(message)


def _frames(data: bytes) -> list[bytes]:
    """The collector's length-prefixed messages when the whole file parses as such a framing, else one message."""
    frames, offset = [], 0
    while offset + 4 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        if size == 0 or offset + 4 + size > len(data):
            return [data]
        frames.append(data[offset + 4 : offset + 4 + size])
        offset += 4 + size
    return frames if frames and offset == len(data) else [data]


def json_head_kind(head: str) -> str | None:
    """Which non-OTLP JSON export a file head shows: 'jaeger', 'zipkin', or None."""
    if '"traceID"' in head and '"spans"' in head and ('"operationName"' in head or '"references"' in head):
        return "jaeger"
    if head.lstrip().startswith("[") and '"traceId"' in head and '"localEndpoint"' in head:
        return "zipkin"
    return None


def _micros(obj: dict[str, Any], key: str, *, required: bool = True) -> int:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise SpanShapeError(f"missing {key}")
        return 0
    try:
        return int(value) * 1000
    except (TypeError, ValueError):
        raise SpanShapeError(f"{key} {value!r} is not an integer of microseconds") from None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise SpanShapeError(f"missing {key}")
    return value
