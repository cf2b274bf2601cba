"""The canonical, versioned data model every component of agentmortem speaks.

Readers produce `Trace`s made of ordered `Step`s; judges produce `Annotation`s made of `ModeVerdict`s whose
`Evidence` points back at steps by their index. The step index is the one address of a place in a trace: from the
reader that assigns it, through the judge that cites it, to the HTML report that highlights it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from operator import attrgetter
from typing import Any, Literal, TypeVar, get_args

import orjson
from pydantic import BaseModel, ConfigDict, Field

# Every model defers building its validator to first use (`defer_build`): built at import, they cost ~0.1 s of
# CPU on every start, also for commands that never make a Trace (`agentmortem formats`, `--help`).

SCHEMA_VERSION = "1"
"""Version of this data model; bumped on any change a stored or exported record would notice."""

StepKind = Literal["message", "tool_call", "tool_result", "system", "event"]
"""What a step is: a message between participants, a tool invocation, a tool's answer, a system/harness
instruction, or a bookkeeping event (token counts, aborted turns, context compaction…)."""

CONTENT_NOT_CAPTURED = "content-not-captured"
"""Last segment of the `source_type` of a step that stands for a model call whose telemetry recorded no content
(e.g. an OTel span with message capture off): the step keeps the call's tokens, and judges must read the call's
answer as unknown — neither given nor missing."""

AnnotatorKind = Literal["llm", "detectors", "human", "imported", "mock"]
AnnotationStatus = Literal["ok", "failed"]


class Step(BaseModel):
    """One ordered element of a trace."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    index: int = Field(description="0-based position in the trace; the single address of this step everywhere.")
    kind: StepKind = Field(description="message | tool_call | tool_result | system | event.")
    role: str | None = Field(
        default=None, description="Speaker role as the source names it: user, assistant, tool, system, developer."
    )
    agent: str | None = Field(default=None, description="Name of the agent that produced the step (multi-agent).")
    content: str = Field(default="", description="Text content: message text, tool output, or event description.")
    tool_name: str | None = Field(default=None, description="Tool called (tool_call) or answering (tool_result).")
    tool_args: str | None = Field(default=None, description="Tool arguments exactly as issued, usually JSON text.")
    call_id: str | None = Field(default=None, description="Identifier pairing a tool_call with its tool_result.")
    pair_index: int | None = Field(
        default=None, description="Index of the paired step (call -> result, result -> call), set by pair_tool_calls."
    )
    is_error: bool = Field(
        default=False, description="True when the step reports a failure (tool error, non-zero exit)."
    )
    timestamp: datetime | None = Field(default=None, description="When the step happened, if the source says.")
    input_tokens: int | None = Field(default=None, description="Prompt tokens reported for this step, if known.")
    output_tokens: int | None = Field(default=None, description="Completion tokens reported for this step, if known.")
    source_type: str | None = Field(
        default=None,
        description="The source record type this step came from, e.g. 'event_msg/turn_aborted' or 'span:chat'; "
        "lets detectors see harness events without knowing the file format.",
    )


def content_not_captured(step: Step) -> bool:
    """True when `step` stands for a model call whose content the source did not record."""
    return step.source_type is not None and step.source_type.endswith(":" + CONTENT_NOT_CAPTURED)


class Outcome(BaseModel):
    """Whether the run achieved its task, and where that knowledge came from."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    success: bool | None = Field(default=None, description="True/False, or None when unknown.")
    score: float | None = Field(default=None, description="A numeric score (e.g. recall in [0, 1]) or None.")
    source: str | None = Field(
        default=None, description="Where it came from: 'trace', 'file:<path>', 'itbench-judge', 'itbench-scorer'."
    )
    metrics: dict[str, Any] = Field(default_factory=dict, description="Every metric the source reported, kept as is.")
    warnings: list[str] = Field(
        default_factory=list,
        description="Reasons to doubt this outcome, one sentence each (e.g. an ITBench agent_output.json that is "
        "not what the session wrote); empty when there are none.",
    )

    @property
    def known(self) -> bool:
        """True when success is known."""
        return self.success is not None


class Trace(BaseModel):
    """One agent run: ordered steps plus what is known about who ran it, on what, and how it ended."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    schema_version: str = Field(default=SCHEMA_VERSION, description="Version of this data model.")
    id: str = Field(description="Stable identifier, unique in a store (e.g. 'gpt-oss-120b/scenario-2/run-1').")
    source_format: str = Field(description="Reader that produced it: codex, openai, mad, otel, claude, text.")
    source_path: str | None = Field(default=None, description="File (or directory) it was read from.")
    model: str | None = Field(default=None, description="LLM that drove the agent, as the source names it.")
    agent_system: str | None = Field(default=None, description="Agent framework or system (codex-cli, AG2, ChatDev…).")
    benchmark: str | None = Field(default=None, description="Benchmark or task family (itbench-sre, GSM-Plus…).")
    task: str | None = Field(default=None, description="The task statement or its identifier.")
    outcome: Outcome = Field(default_factory=Outcome, description="How the run ended, if known.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Everything else the source carried.")
    steps: list[Step] = Field(default_factory=list, description="Ordered steps; steps[i].index == i.")
    fingerprint: str = Field(default="", description="sha256 of the trace's content; identical content, one trace.")

    def with_fingerprint(self) -> Trace:
        """Return this trace with `fingerprint` computed from its id and steps."""
        self.fingerprint = content_fingerprint(self)
        return self

    def step(self, index: int) -> Step:
        """The step at `index` (raises IndexError for an index the trace does not have)."""
        if not 0 <= index < len(self.steps):
            raise IndexError(f"trace {self.id!r} has no step {index}")
        return self.steps[index]


_FINGERPRINT_FIELDS = [name for name in Step.model_fields if name != "pair_index"]  # pairing is derived
_FINGERPRINT_ROW = attrgetter(*_FINGERPRINT_FIELDS)
"""One step's fingerprinted fields as a tuple, in one C call (orjson writes a tuple as the same JSON array)."""


def content_fingerprint(trace: Trace, *, as_id: str | None = None) -> str:
    """sha256 of everything that makes a trace's content: its id (or `as_id`) and every step's fields."""
    return fingerprint_of(trace.id if as_id is None else as_id, step_rows(trace))


def step_rows(trace: Trace) -> bytes:
    """The steps' fingerprinted fields as JSON: the costly half of a fingerprint, kept to fingerprint other ids.

    Fields are read with one `attrgetter` per step (no model_dump) because this runs for every step of every
    ingested trace; the bytes are those of a list of lists, as stored fingerprints were computed.
    """
    return orjson.dumps([_FINGERPRINT_ROW(step) for step in trace.steps])


def fingerprint_of(trace_id: str, rows: bytes) -> str:
    """The fingerprint of a trace with this id and these `step_rows`."""
    digest = hashlib.sha256(trace_id.encode())
    digest.update(rows)
    return "sha256:" + digest.hexdigest()


def pair_tool_calls(steps: list[Step]) -> None:
    """Link every tool_call to its tool_result by call id, in place (sets `pair_index` on both)."""
    open_calls: dict[str, int] = {}
    for step in steps:
        if step.call_id is None:
            continue
        if step.kind == "tool_call":
            open_calls[step.call_id] = step.index
        elif step.kind == "tool_result" and step.call_id in open_calls:
            call = steps[open_calls.pop(step.call_id)]
            _set_field(call, "pair_index", step.index)
            _set_field(step, "pair_index", call.index)
            if step.tool_name is None:
                _set_field(step, "tool_name", call.tool_name)


def _set_field(step: Step, name: str, value: Any) -> None:
    """`step.<name> = value` as pydantic does it for a model without assignment validation, minus its dispatch."""
    step.__dict__[name] = value
    step.__pydantic_fields_set__.add(name)


def make_steps(raw_steps: list[dict[str, Any]]) -> list[Step]:
    """Build steps from dicts, numbering them 0..n-1 and pairing tool calls with results.

    The steps of a trace are checked as one batch (`_plain_steps`): when every field of every step already has
    the type the model wants, the steps are built without a validator call each; otherwise (a value pydantic
    would coerce or refuse) every step goes through `Step(...)`, so the result, and any error, is exactly the
    validated one.
    """
    steps = _unvalidated_steps(raw_steps) if _plain_steps(raw_steps) else None
    if steps is None:
        steps = [Step(index=i, **raw) for i, raw in enumerate(raw_steps)]
    pair_tool_calls(steps)
    return steps


_STEP_KINDS = frozenset(get_args(StepKind))
_PLAIN_TYPES: dict[str, frozenset[type]] = {
    "kind": frozenset({str}),
    "role": frozenset({str, type(None)}),
    "agent": frozenset({str, type(None)}),
    "content": frozenset({str}),
    "tool_name": frozenset({str, type(None)}),
    "tool_args": frozenset({str, type(None)}),
    "call_id": frozenset({str, type(None)}),
    "pair_index": frozenset({int, type(None)}),
    "is_error": frozenset({bool}),
    "timestamp": frozenset({datetime, type(None)}),
    "input_tokens": frozenset({int, type(None)}),
    "output_tokens": frozenset({int, type(None)}),
    "source_type": frozenset({str, type(None)}),
}
"""Exact types a raw step field may hold to be taken as is: what validation would return unchanged."""


def _plain_steps(raw_steps: list[dict[str, Any]]) -> bool:
    """Whether validating these raw steps would change nothing: known fields only, each of its exact type.

    One pass over all the fields of the trace's steps, then one over their kinds; any surprise (an unknown
    field, a value pydantic would coerce or refuse, a missing kind) answers False.
    """
    try:
        return all(type(value) in _PLAIN_TYPES[name] for raw in raw_steps for name, value in raw.items()) and all(
            raw["kind"] in _STEP_KINDS for raw in raw_steps
        )
    except (KeyError, TypeError, AttributeError):  # unknown field, unhashable kind, a step that is no dict
        return False


_SET_DICT = BaseModel.__dict__["__dict__"].__set__
_SET_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_SET_EXTRA = BaseModel.__dict__["__pydantic_extra__"].__set__
_SET_PRIVATE = BaseModel.__dict__["__pydantic_private__"].__set__
"""The slots every pydantic model instance fills, set through their descriptors (cheaper than setattr by name)."""


_Model = TypeVar("_Model", bound=BaseModel)
_LAYOUTS: dict[type[BaseModel], tuple[dict[str, Any], list[tuple[str, Any]]]] = {}
"""Per model class, for `trusted`: every field in declaration order with its default, and the fields whose default
comes from a factory."""


def _layout(cls: type[BaseModel]) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    layout = _LAYOUTS.get(cls)
    if layout is None:
        fields = cls.model_fields
        template = {name: info.default for name, info in fields.items()}
        factories = [(name, info.default_factory) for name, info in fields.items() if info.default_factory is not None]
        layout = _LAYOUTS[cls] = (template, factories)
    return layout


def trusted(cls: type[_Model], fields: dict[str, Any]) -> _Model:
    """A `cls` instance holding `fields` (defaults for the rest), built without validation.

    For code that makes models from values of exactly the declared types, in bulk (the detectors' verdicts, steps
    `_plain_steps` accepted): the instance is the one `cls(**fields)` returns for such values, laid out as
    validation lays it out, at a fraction of the cost. Never for input read from outside.
    """
    template, factories = _layout(cls)
    values = template.copy()
    values.update(fields)
    for name, factory in factories:
        if name not in fields:
            values[name] = factory()
    model = cls.__new__(cls)
    _SET_DICT(model, values)
    _SET_FIELDS_SET(model, set(fields))
    _SET_EXTRA(model, None)
    _SET_PRIVATE(model, None)
    return model


def _unvalidated_steps(raw_steps: list[dict[str, Any]]) -> list[Step]:
    """Steps from raw dicts `_plain_steps` accepted, without a validator call each."""
    return [trusted(Step, {**raw, "index": index}) for index, raw in enumerate(raw_steps)]


class Evidence(BaseModel):
    """A place in a trace that shows a failure: a step index and a short quote from that step."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    step: int = Field(description="Canonical step index.")
    quote: str = Field(default="", description="Short excerpt of that step's content.")


class ModeVerdict(BaseModel):
    """One annotator's answer for one failure mode on one trace."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    mode_id: str = Field(description="Canonical mode id, e.g. 'FM-1.3'.")
    present: bool | None = Field(description="True present, False absent, None unknown (the annotator cannot tell).")
    confidence: float | None = Field(default=None, description="In [0, 1], if the annotator gives one.")
    evidence: list[Evidence] = Field(default_factory=list, description="Steps that show it; empty when absent.")
    explanation: str = Field(default="", description="Why, in the annotator's words.")
    flags: list[str] = Field(default_factory=list, description="Quality flags, e.g. 'no-evidence'.")
    agent: str | None = Field(
        default=None, description="The agent the annotator holds responsible for this mode, where agents are named."
    )

    @property
    def first_step(self) -> int | None:
        """Earliest evidence step, or None."""
        return min((e.step for e in self.evidence), default=None)


class Annotation(BaseModel):
    """All of one annotator's verdicts on one trace. Modes without a verdict are unknown."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    schema_version: str = Field(default=SCHEMA_VERSION, description="Version of this data model.")
    trace_id: str = Field(description="The annotated trace.")
    annotator: str = Field(description="Annotator name, unique per source of labels (e.g. 'detectors', 'gpt-4o').")
    annotator_kind: AnnotatorKind = Field(description="llm | detectors | human | imported | mock.")
    annotator_version: str | None = Field(default=None, description="Prompt/detector version, if any.")
    taxonomy: str = Field(default="MAST", description="Taxonomy name.")
    taxonomy_version: str = Field(description="Taxonomy version the verdicts refer to.")
    status: AnnotationStatus = Field(default="ok", description="'failed' when no usable verdict could be had.")
    error: str | None = Field(default=None, description="Why it failed, when status is 'failed'.")
    summary: str = Field(default="", description="The annotator's overall summary of the run.")
    task_completed: bool | None = Field(default=None, description="Annotator's view on task completion, if given.")
    verdicts: list[ModeVerdict] = Field(default_factory=list, description="One per mode the annotator answered.")
    created_at: datetime | None = Field(default=None, description="When the annotation was made.")
    usage: dict[str, Any] = Field(default_factory=dict, description="Tokens, cost, requests, cache hits.")
    decisive_step: int | None = Field(
        default=None, description="The step after which the run could no longer succeed, if the annotator says."
    )
    decisive_agent: str | None = Field(default=None, description="The agent that made the decisive mistake, if named.")
    decisive_mode: str | None = Field(default=None, description="Canonical id of the decisive mistake's mode, if any.")

    def verdict(self, mode_id: str) -> ModeVerdict | None:
        """The verdict for `mode_id`, or None when the annotator left it unknown."""
        return next((v for v in self.verdicts if v.mode_id == mode_id), None)

    def present_modes(self) -> list[str]:
        """Ids of the modes judged present."""
        return [v.mode_id for v in self.verdicts if v.present]
