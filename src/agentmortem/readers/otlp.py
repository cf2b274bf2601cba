"""Decoding OTLP/JSON trace and log exports into plain span and log-event records.

OTLP/JSON (the protobuf JSON mapping of `ExportTraceServiceRequest` / `TracesData`) nests spans as
`resourceSpans[].scopeSpans[].spans[]`, encodes attributes as `[{"key", "value": AnyValue}]`, trace and span ids as
hex strings, and 64-bit integers (times in Unix nanoseconds) as decimal strings. Field names are lowerCamelCase;
the snake_case spelling of the protobuf field names is accepted too, as protobuf JSON parsers do.

Variants accepted because real exporters write them (docs/formats.md lists where each comes from):

- Grafana Tempo's trace-by-id JSON: the legacy `{"batches": [{"instrumentationLibrarySpans": …}]}` keys (OTLP
  before 0.15), and the current `{"trace": {"resourceSpans": …}}` wrapper of its v2 API.
- ids written base64 (the generic protobuf JSON mapping of `bytes`, which Tempo and `MessageToDict` use) instead
  of OTLP/JSON's hex; both become lowercase hex.
- Log exports (`resourceLogs[].scopeLogs[].logRecords[]`): GenAI events emitted as log records, each carrying the
  trace and span id of the span it belongs to.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentmortem.readers.base import ReadError

STATUS_ERROR = 2
"""`Status.code` of a failed span (STATUS_CODE_ERROR)."""


class SpanShapeError(ValueError):
    """A span (or export) whose structure does not follow OTLP/JSON; the message says where and why."""


@dataclass(slots=True)
class SpanEvent:
    """A timed event recorded on a span."""

    name: str
    time_ns: int
    attrs: dict[str, Any]


@dataclass(slots=True)
class LogEvent:
    """A log record tied to a span: how the GenAI conventions emit message events as logs."""

    trace_id: str
    span_id: str
    name: str
    time_ns: int
    attrs: dict[str, Any]
    body: Any


@dataclass(slots=True)
class Span:
    """One decoded span with its resource attributes."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start_ns: int
    end_ns: int
    attrs: dict[str, Any]
    resource: dict[str, Any]
    events: list[SpanEvent] = field(default_factory=list)
    logs: list[LogEvent] = field(default_factory=list)
    """Log records of this span (GenAI events emitted as logs), attached by the reader after decoding."""
    is_error: bool = False
    status_message: str = ""


_SPAN_LISTS = ("resourceSpans", "resource_spans", "batches")
_LOG_LISTS = ("resourceLogs", "resource_logs")


def is_export(value: Any) -> bool:
    """True when `value` looks like an OTLP trace or log export (Tempo's wrappers included)."""
    value = unwrap(value)
    return isinstance(value, dict) and any(key in value for key in (*_SPAN_LISTS, *_LOG_LISTS))


def unwrap(value: Any) -> Any:
    """The export inside Tempo's v2 `{"trace": {...}}` wrapper (anything else unchanged)."""
    if isinstance(value, dict) and isinstance(value.get("trace"), dict) and len(value) <= 2:
        return value["trace"]
    return value


def export_spans(export: Any, path: Path, errors: list[ReadError], *, line: int | None = None) -> Iterator[Span]:
    """Yield the spans of one export; a malformed span becomes a ReadError in `errors` and is skipped.

    Raises ReadError when the export itself is not an OTLP trace export.
    """
    export = unwrap(export)
    if not is_export(export):
        raise ReadError(path, "not an OTLP trace export (expected an object with 'resourceSpans')", line=line)
    try:
        all_resource_spans = _list(export, *_SPAN_LISTS)
    except SpanShapeError as exc:
        raise ReadError(path, str(exc), line=line) from None
    for r_index, resource_spans in enumerate(all_resource_spans):
        where = f"resourceSpans[{r_index}]"
        try:
            resource = attributes(_get(_dict(resource_spans, "entry"), "resource") or {}, where="resource")
            scopes = _scopes(resource_spans)
        except (SpanShapeError, ValueError, TypeError) as exc:
            errors.append(ReadError(path, f"{where}: {exc}", line=line))
            continue
        yield from _scope_spans(scopes, resource, where, path, errors, line)


def _scopes(resource_spans: dict[str, Any]) -> list[Any]:
    """ScopeSpans of a ResourceSpans (the pre-1.0 name `instrumentationLibrarySpans` too)."""
    if "instrumentationLibrarySpans" in resource_spans:
        return _list(resource_spans, "instrumentationLibrarySpans")
    return _list(resource_spans, "scopeSpans", "scope_spans")


def _scope_spans(
    scopes: list[Any], resource: dict[str, Any], where: str, path: Path, errors: list[ReadError], line: int | None
) -> Iterator[Span]:
    for s_index, scope in enumerate(scopes):
        scope_where = f"{where}.scopeSpans[{s_index}]"
        try:
            spans = _list(_dict(scope, "entry"), "spans")
        except SpanShapeError as exc:
            errors.append(ReadError(path, f"{scope_where}: {exc}", line=line))
            continue
        for index, raw in enumerate(spans):
            span_where = f"{scope_where}.spans[{index}]"
            try:
                yield decode_span(raw, resource)
            except (SpanShapeError, ValueError, TypeError) as exc:
                errors.append(ReadError(path, f"{span_where}: {exc}", line=line))


def decode_span(raw: Any, resource: dict[str, Any]) -> Span:
    """One OTLP/JSON span as a `Span` (SpanShapeError naming the field when a required one is missing or bad)."""
    span = _dict(raw, "span")
    trace_id = hex_id(_required_str(span, "traceId", "trace_id"))
    status = _get(span, "status") or {}
    parent = _get(span, "parentSpanId", "parent_span_id")
    return Span(
        trace_id=trace_id,
        span_id=hex_id(_required_str(span, "spanId", "span_id")),
        parent_id=hex_id(parent) if isinstance(parent, str) and parent else None,
        name=str(span.get("name", "")),
        start_ns=_nanos(span, "startTimeUnixNano", "start_time_unix_nano", required=True),
        end_ns=_nanos(span, "endTimeUnixNano", "end_time_unix_nano", required=False),
        attrs=attributes(_get(span, "attributes") or [], where="attributes"),
        resource=resource,
        events=[_event(e, i) for i, e in enumerate(_get(span, "events") or [])],
        is_error=_status_is_error(status),
        status_message=str(status.get("message", "")) if isinstance(status, dict) else "",
    )


def hex_id(value: str) -> str:
    """A trace or span id as lowercase hex, whether written hex (OTLP/JSON) or base64 (protobuf JSON, Tempo)."""
    if len(value) in (16, 32) and _is_hex(value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value
    return raw.hex() if len(raw) in (8, 16) else value


def _is_hex(value: str) -> bool:
    return _HEX.fullmatch(value) is not None


_HEX = re.compile(r"[0-9a-fA-F]+")


def export_logs(export: Any, path: Path, errors: list[ReadError], *, line: int | None = None) -> Iterator[LogEvent]:
    """Yield the log records of one log export that belong to a span (others carry no conversation to place)."""
    export = unwrap(export)
    try:
        all_resource_logs = _list(export, *_LOG_LISTS)
    except SpanShapeError as exc:
        raise ReadError(path, str(exc), line=line) from None
    for r_index, resource_logs in enumerate(all_resource_logs):
        try:
            scopes = _list(_dict(resource_logs, "entry"), "scopeLogs", "scope_logs", "instrumentationLibraryLogs")
            records = [(s, r) for s, scope in enumerate(scopes) for r in _list(_dict(scope, "entry"), "logRecords")]
        except SpanShapeError as exc:
            errors.append(ReadError(path, f"resourceLogs[{r_index}]: {exc}", line=line))
            continue
        for s_index, raw in records:
            try:
                event = decode_log(raw)
            except (SpanShapeError, ValueError, TypeError) as exc:
                errors.append(ReadError(path, f"resourceLogs[{r_index}].scopeLogs[{s_index}]: {exc}", line=line))
                continue
            if event is not None:
                yield event


def decode_log(raw: Any) -> LogEvent | None:
    """One OTLP/JSON log record as a `LogEvent`; None when it names no span."""
    record = _dict(raw, "logRecord")
    trace_id, span_id = _get(record, "traceId", "trace_id"), _get(record, "spanId", "span_id")
    if not isinstance(trace_id, str) or not trace_id or not isinstance(span_id, str) or not span_id:
        return None
    attrs = attributes(_get(record, "attributes") or [], where="logRecord.attributes")
    name = _get(record, "eventName", "event_name") or attrs.pop("event.name", "")
    time_ns = _nanos(record, "timeUnixNano", "time_unix_nano", required=False)
    return LogEvent(
        trace_id=hex_id(trace_id),
        span_id=hex_id(span_id),
        name=str(name),
        time_ns=time_ns or _nanos(record, "observedTimeUnixNano", "observed_time_unix_nano", required=False),
        attrs=attrs,
        body=any_value(_get(record, "body")),
    )


def _event(raw: Any, index: int) -> SpanEvent:
    event = _dict(raw, f"events[{index}]")
    return SpanEvent(
        name=str(event.get("name", "")),
        time_ns=_nanos(event, "timeUnixNano", "time_unix_nano", required=False),
        attrs=attributes(_get(event, "attributes") or [], where=f"events[{index}].attributes"),
    )


def attributes(raw: Any, *, where: str) -> dict[str, Any]:
    """Decode a `[{"key", "value"}]` attribute list (or a Resource holding one) into a plain dict."""
    if isinstance(raw, dict):
        raw = raw.get("attributes", [])
    if not isinstance(raw, list):
        raise SpanShapeError(f"{where} must be a list of key/value objects, not {type(raw).__name__}")
    decoded: dict[str, Any] = {}
    for item in raw:
        if not isinstance(item, dict) or "key" not in item:
            raise SpanShapeError(f"{where} holds an entry without a 'key': {str(item)[:60]!r}")
        decoded[str(item["key"])] = any_value(item.get("value"))
    return decoded


def any_value(value: Any) -> Any:
    """Decode an OTLP AnyValue (`{"stringValue": …}` etc.) into the Python value it holds."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [any_value(v) for v in (value["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in value:
        return attributes((value["kvlistValue"] or {}).get("values", []), where="kvlistValue")
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def _status_is_error(status: Any) -> bool:
    """OTLP/JSON enums are integers, but some exporters write the enum name; accept both."""
    if not isinstance(status, dict):
        return False
    code = status.get("code")
    return code == STATUS_ERROR or code in ("STATUS_CODE_ERROR", "ERROR")


def _nanos(obj: dict[str, Any], *keys: str, required: bool) -> int:
    value = _get(obj, *keys)
    if value is None or value == "":
        if required:
            raise SpanShapeError(f"missing {keys[0]}")
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SpanShapeError(f"{keys[0]} {value!r} is not an integer of nanoseconds") from None


def _required_str(obj: dict[str, Any], *keys: str) -> str:
    value = _get(obj, *keys)
    if not isinstance(value, str) or not value:
        raise SpanShapeError(f"missing {keys[0]}")
    return value


def _get(obj: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in obj:
            return obj[key]
    return None


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SpanShapeError(f"{what} must be an object, not {type(value).__name__}")
    return value


def _list(obj: dict[str, Any], *keys: str) -> list[Any]:
    value = _get(obj, *keys)
    if value is None:
        return []
    if not isinstance(value, list):
        raise SpanShapeError(f"{keys[0]} must be a list, not {type(value).__name__}")
    return value
