"""Where each OpenTelemetry instrumentation of LLM agents puts what a reader needs, as data.

One `Convention` per instrumentation says which attributes mark a span as a model call, a tool execution or an
agent step, where its input and output messages are and in what encoding (`Encoding`), and which attributes hold
the model name, token counts, tool name, call id, arguments and result, and the agent's name. The otel reader
classifies a span with the first convention that claims it (table order, most specific first) and reads it at
that convention's places first, then at every other convention's: instrumentations borrow each other's
attributes (OpenLLMetry >= 0.5x writes the GenAI `gen_ai.input.messages`; ADK writes `gen_ai.*` next to its own).

Each entry names the specification or source it was checked against; docs/formats.md repeats the list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

Encoding = Literal[
    "genai_messages",
    "system_instructions",
    "openinference_flat",
    "openllmetry_flat",
    "span_events",
    "events_attribute",
    "log_events",
    "adk_request",
    "adk_response",
    "value",
]
"""How a place holds messages:

- `genai_messages`: GenAI messages `[{"role", "parts": [...]}]`, as JSON text or a structured attribute.
- `system_instructions`: GenAI `gen_ai.system_instructions`, a list of parts (or plain text).
- `openinference_flat`: `<prefix>N.message.role/content/tool_calls.M.tool_call.*` attributes.
- `openllmetry_flat`: `<prefix>N.role/content/tool_call_id/tool_calls.M.id|name|arguments` attributes.
- `span_events`: GenAI message events recorded on the span (`gen_ai.user.message` … `gen_ai.choice`).
- `events_attribute`: the same events as one JSON list attribute (pydantic-ai instrumentation version 1).
- `log_events`: the same events, or `gen_ai.client.inference.operation.details`, as log records of the span.
- `adk_request` / `adk_response`: Google ADK's JSON dump of its `LlmRequest` / `LlmResponse`.
- `value`: OpenInference `input.value` / `output.value` (a request/response JSON or text, per its mime type).
"""

SpanRole = Literal["llm", "tool", "agent", "other"]


@dataclass(frozen=True)
class Place:
    """One place messages can be: an encoding and the attribute (or prefix) it is read from."""

    encoding: Encoding
    key: str = ""


@dataclass(frozen=True)
class Claim:
    """When a convention claims a span for a role.

    Any listed attribute has one of its values (None: any value), or the span's name matches `name`.
    """

    attrs: dict[str, frozenset[str] | None] = field(default_factory=dict)
    name: str | None = None

    def matches(self, name: str, attrs: dict[str, Any]) -> bool:
        """True when the span with this name and these attributes is claimed."""
        for key, values in self.attrs.items():
            if key in attrs and (values is None or str(attrs[key]) in values):
                return True
        return self.name is not None and _pattern(self.name).fullmatch(name) is not None


@lru_cache(maxsize=64)
def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


@dataclass(frozen=True)
class Convention:
    """One instrumentation's span conventions (see the module docstring)."""

    name: str
    checked: str
    """The specification or source (with version or commit) this entry was checked against."""
    llm: Claim = field(default_factory=Claim)
    tool: Claim = field(default_factory=Claim)
    agent: Claim = field(default_factory=Claim)
    inputs: tuple[Place, ...] = ()
    outputs: tuple[Place, ...] = ()
    model: tuple[str, ...] = ()
    input_tokens: tuple[str, ...] = ()
    output_tokens: tuple[str, ...] = ()
    tool_name: tuple[str, ...] = ()
    tool_call_id: tuple[str, ...] = ()
    tool_args: tuple[str, ...] = ()
    tool_result: tuple[str, ...] = ()
    agent_name: tuple[str, ...] = ()
    agent_name_in_span_name: str | None = None
    """A regex whose first group is the agent's name in an agent span's name (ADK's `agent_run [name]`)."""


def _values(*names: str) -> frozenset[str]:
    return frozenset(names)


_GENAI_LLM_OPERATIONS = _values("chat", "text_completion", "generate_content", "completion")

GENAI = Convention(
    name="OpenTelemetry GenAI semantic conventions",
    checked="open-telemetry/semantic-conventions v1.37-v1.40 (commit 7b0c0fe1e6d7, docs/gen-ai): span attributes "
    "and the gen_ai.client.inference.operation.details event; v1.28-v1.36 per-message events; pre-v1.28 "
    "gen_ai.content.prompt/completion span events",
    llm=Claim({"gen_ai.operation.name": _GENAI_LLM_OPERATIONS}),
    tool=Claim({"gen_ai.operation.name": _values("execute_tool")}),
    agent=Claim({"gen_ai.operation.name": _values("invoke_agent", "create_agent")}),
    inputs=(
        Place("system_instructions", "gen_ai.system_instructions"),
        Place("genai_messages", "gen_ai.input.messages"),
        Place("span_events"),
        Place("log_events"),
    ),
    outputs=(Place("genai_messages", "gen_ai.output.messages"), Place("span_events"), Place("log_events")),
    model=("gen_ai.response.model", "gen_ai.request.model"),
    input_tokens=("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
    output_tokens=("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
    tool_name=("gen_ai.tool.name",),
    tool_call_id=("gen_ai.tool.call.id",),
    tool_args=("gen_ai.tool.call.arguments",),
    tool_result=("gen_ai.tool.call.result",),
    agent_name=("gen_ai.agent.name",),
)

GOOGLE_ADK = Convention(
    name="Google ADK",
    checked="google/adk-python 1.4.2 (commit 7c670f638bc1, src/google/adk/telemetry.py, flows/llm_flows)",
    # Not by `gcp.vertex.agent.llm_request`: ADK writes it, as "{}", on tool spans too.
    llm=Claim(name=r"call_llm"),
    tool=Claim({"gcp.vertex.agent.tool_call_args": None}, name=r"execute_tool .*"),
    agent=Claim(name=r"agent_run \[.*\]|invoke_agent .*"),
    inputs=(Place("adk_request", "gcp.vertex.agent.llm_request"),),
    outputs=(Place("adk_response", "gcp.vertex.agent.llm_response"),),
    model=("gen_ai.response.model", "gen_ai.request.model"),
    input_tokens=("gen_ai.usage.input_tokens",),
    output_tokens=("gen_ai.usage.output_tokens",),
    tool_name=("gen_ai.tool.name",),
    tool_call_id=("gen_ai.tool.call.id",),
    tool_args=("gcp.vertex.agent.tool_call_args",),
    tool_result=("gcp.vertex.agent.tool_response",),
    agent_name=("gen_ai.agent.name",),
    agent_name_in_span_name=r"agent_run \[(.+)\]|invoke_agent (.+)",
)

OPENLLMETRY = Convention(
    name="OpenLLMetry (Traceloop)",
    checked="traceloop/openllmetry opentelemetry-instrumentation-openai 0.54.0 (commit e012bb122f64, flattened "
    "gen_ai.prompt/completion) and 0.62.1 (commit 93429cfb9767, gen_ai.input/output.messages); "
    "opentelemetry-semantic-conventions-ai (traceloop.*, llm.*); opentelemetry-instrumentation-mcp",
    llm=Claim({"llm.request.type": _values("chat", "completion"), "traceloop.span.kind": _values("llm")}),
    tool=Claim({"traceloop.span.kind": _values("tool")}),
    agent=Claim({"traceloop.span.kind": _values("agent")}),
    inputs=(Place("openllmetry_flat", "gen_ai.prompt."), Place("genai_messages", "gen_ai.input.messages")),
    outputs=(Place("openllmetry_flat", "gen_ai.completion."), Place("genai_messages", "gen_ai.output.messages")),
    model=("gen_ai.response.model", "gen_ai.request.model", "llm.response.model", "llm.request.model"),
    input_tokens=("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.usage.prompt_tokens"),
    output_tokens=("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.usage.completion_tokens"),
    tool_name=("traceloop.entity.name",),
    tool_args=("traceloop.entity.input",),
    tool_result=("traceloop.entity.output",),
    agent_name=("traceloop.entity.name",),
)

OPENINFERENCE = Convention(
    name="OpenInference",
    checked="Arize-ai/openinference spec/semantic_conventions.md, openinference-semantic-conventions 0.1.32 "
    "(commit 1fe497f1d9f4)",
    llm=Claim({"openinference.span.kind": _values("LLM", "llm")}),
    tool=Claim({"openinference.span.kind": _values("TOOL", "tool")}),
    agent=Claim({"openinference.span.kind": _values("AGENT", "agent")}),
    inputs=(Place("openinference_flat", "llm.input_messages."), Place("value", "input")),
    outputs=(Place("openinference_flat", "llm.output_messages."), Place("value", "output")),
    model=("llm.model_name",),
    input_tokens=("llm.token_count.prompt",),
    output_tokens=("llm.token_count.completion",),
    tool_name=("tool.name", "tool_call.function.name"),
    tool_call_id=("tool.id", "tool_call.id"),
    tool_args=("input.value", "tool_call.function.arguments", "tool.parameters"),
    tool_result=("output.value",),
    agent_name=("agent.name",),
)

PYDANTIC_AI = Convention(
    name="Pydantic Logfire / pydantic-ai",
    checked="pydantic/pydantic-ai commit 4fda38988f29 (models/instrumented.py, _instrumentation.py: "
    "InstrumentationSettings versions 2-6) and commit e603f683f^ (version 1: `events` attribute, "
    "`all_messages_events`)",
    llm=Claim({"model_request_parameters": None}),
    tool=Claim(name=r"running tool|running output function"),
    agent=Claim({"agent_name": None}, name=r"agent run"),
    inputs=(
        Place("system_instructions", "gen_ai.system_instructions"),
        Place("genai_messages", "gen_ai.input.messages"),
        Place("events_attribute", "events"),
    ),
    outputs=(Place("genai_messages", "gen_ai.output.messages"), Place("events_attribute", "events")),
    model=("gen_ai.response.model", "gen_ai.request.model"),
    input_tokens=("gen_ai.usage.input_tokens",),
    output_tokens=("gen_ai.usage.output_tokens",),
    tool_name=("gen_ai.tool.name",),
    tool_call_id=("gen_ai.tool.call.id",),
    tool_args=("tool_arguments", "gen_ai.tool.call.arguments"),
    tool_result=("tool_response", "gen_ai.tool.call.result"),
    agent_name=("agent_name", "gen_ai.agent.name"),
)

CONVENTIONS: tuple[Convention, ...] = (OPENINFERENCE, OPENLLMETRY, PYDANTIC_AI, GOOGLE_ADK, GENAI)
"""Claiming order: the markers that only one instrumentation writes first, the generic GenAI ones last."""

NOT_CAPTURED = frozenset({"", "{}", "[]", "<not specified>", "N/A", "<not serializable>"})
"""Attribute values that instrumentations write in place of content they did not capture."""


def classify(name: str, attrs: dict[str, Any]) -> tuple[SpanRole, Convention | None]:
    """The role of a span and the convention that claimed it (the first, in `CONVENTIONS` order)."""
    for convention in CONVENTIONS:
        for role in _ROLES:
            claim: Claim = getattr(convention, role)
            if claim.matches(name, attrs):
                return role, convention
    return "other", None


_ROLES: tuple[Literal["llm", "tool", "agent"], ...] = ("llm", "tool", "agent")


def in_order(first: Convention | None) -> tuple[Convention, ...]:
    """Every convention, the claiming one first: the order places are tried in."""
    return CONVENTIONS if first is None else _ORDERS[first.name]


_ORDERS = {c.name: (c, *(other for other in CONVENTIONS if other is not c)) for c in CONVENTIONS}


def first_value(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The first of `keys` whose value is captured (see `NOT_CAPTURED`), or None."""
    for key in keys:
        value = attrs.get(key)
        if value is not None and not (isinstance(value, str) and value.strip() in NOT_CAPTURED):
            return value
    return None


def lookup(attrs: dict[str, Any], first: Convention | None, field_name: str) -> Any:
    """The value of a field (`model`, `input_tokens`, `tool_name`…) by the claiming convention, then the others."""
    for convention in in_order(first):
        value = first_value(attrs, getattr(convention, field_name))
        if value is not None:
            return value
    return None


def agent_name(name: str, attrs: dict[str, Any], convention: Convention | None) -> str | None:
    """The name of the agent an agent span stands for (attribute, else the span name's pattern)."""
    value = lookup(attrs, convention, "agent_name")
    if value is not None:
        return str(value)
    for candidate in in_order(convention):
        if candidate.agent_name_in_span_name and (match := _pattern(candidate.agent_name_in_span_name).fullmatch(name)):
            return next(group for group in match.groups() if group)
    return None
