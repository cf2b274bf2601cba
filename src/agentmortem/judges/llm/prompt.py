"""The judge prompt: a versioned template in the project's own words, trace-independent text first, the trace last.

The system message depends only on the prompt version and the taxonomy, so it is byte-identical for every request of
a run and providers can reuse its cached prefix; the trace and everything derived from it go in the user message.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from string import Template
from typing import Any

import orjson

from agentmortem.judges.llm.chunk import Chunk
from agentmortem.judges.llm.render import wrap_block
from agentmortem.model import Trace
from agentmortem.taxonomy import Taxonomy

PROMPT_VERSION = "mast-judge-v1"
_TEMPLATE_FILE = "prompt_v1.txt"


@lru_cache(maxsize=1)
def _template() -> Template:
    return Template(resources.files("agentmortem.judges.llm").joinpath(_TEMPLATE_FILE).read_text(encoding="utf-8"))


def render_taxonomy(taxonomy: Taxonomy) -> str:
    """Every category and mode with its definition and signs, as read from the Taxonomy object."""
    lines: list[str] = []
    for category in taxonomy.categories:
        lines.append(f"\n{category.id} {category.name}: {category.description}".rstrip())
        for mode in (m for m in taxonomy.modes if m.category == category.id):
            lines.append(f"- {mode.id} {mode.name}: {mode.definition}")
            if mode.single_agent:
                lines.append(f"  In a single agent with tools: {mode.single_agent}")
            if mode.multi_agent:
                lines.append(f"  Between several agents: {mode.multi_agent}")
    return "\n".join(lines).strip()


def verdict_schema(taxonomy: Taxonomy) -> dict[str, Any]:
    """JSON schema of the answer; the reason comes before the decision in each item."""
    evidence = {
        "type": "object",
        "properties": {"step": {"type": "integer"}, "quote": {"type": "string"}},
        "required": ["step", "quote"],
        "additionalProperties": False,
    }
    item = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "enum": taxonomy.ids},
            "explanation": {"type": "string"},
            "evidence": {"type": "array", "items": evidence},
            "present": {"type": "boolean"},
            "confidence": {"type": "number"},
        },
        "required": ["id", "explanation", "evidence", "present", "confidence"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "summary": {"type": "string"},
            "task_completed": {"type": ["boolean", "null"]},
            "failure_modes": {"type": "array", "items": item},
        },
        "required": ["summary", "task_completed", "failure_modes"],
        "additionalProperties": False,
    }


def _schema_example(taxonomy: Taxonomy) -> str:
    first = taxonomy.ids[0] if taxonomy.ids else "FM-1.1"
    example = {
        "summary": "two or three sentences on what the run did and how it ended",
        "task_completed": False,
        "failure_modes": [
            {
                "id": first, "explanation": "why, citing steps", "evidence": [{"step": 12, "quote": "verbatim text"}],
                "present": True, "confidence": 0.8,
            }
        ],
    }  # fmt: skip
    return orjson.dumps(example, option=orjson.OPT_INDENT_2).decode()


def system_prompt(taxonomy: Taxonomy) -> str:
    """The trace-independent part of every request: instructions, taxonomy, answer schema."""
    return _template().substitute(
        taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version, taxonomy=render_taxonomy(taxonomy),
        schema=_schema_example(taxonomy), mode_ids=", ".join(taxonomy.ids),
    )  # fmt: skip


def user_prompt(trace: Trace, chunk: Chunk, n_chunks: int, delimiter: str, *, earlier: str = "") -> str:
    """The trace-dependent part: what the run is, which steps this part covers, earlier parts' summary, the steps."""
    lines = [f"Trace {trace.id!r}: {len(trace.steps)} steps."]
    about = [f"{label}: {value}" for label, value in _about(trace) if value]
    if about:
        lines.append("; ".join(about) + ".")
    if n_chunks > 1:
        lines.append(f"This is part {chunk.number + 1} of {n_chunks}; it covers steps {chunk.first} to {chunk.last}.")
    if earlier:
        lines.append(f"Summary of the earlier parts:\n{earlier}")
    lines.append("Judge the following trace data against every failure mode.")
    lines.append(wrap_block(chunk.steps, delimiter))
    return "\n".join(lines)


def _about(trace: Trace) -> list[tuple[str, str | None]]:
    return [("agent system", trace.agent_system), ("model", trace.model), ("benchmark", trace.benchmark)]


def reask_prompt(error: str) -> str:
    """The follow-up that asks once more after an unusable answer."""
    return (
        f"Your answer could not be used: {error}. Reply again with only the JSON object described in the "
        "instructions, answering every failure mode, citing existing step numbers."
    )
