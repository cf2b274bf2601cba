"""The detectors' thresholds and patterns: one documented model, loadable from a YAML or JSON file.

Every number a detector compares against lives here, so a team can tune the detectors to its agents without
touching code, and the judge's version changes whenever the configuration does (cached annotations made with
other thresholds are never mistaken for current ones).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it: the same documents, ~10x faster (the rules load on every run)."""


def _load_yaml(text: str) -> Any:
    """A built-in YAML file's data (files users give are read with `yaml.safe_load`, whose messages they see)."""
    return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Run this detector at all.")


class RepetitionConfig(_Section):
    """FM-1.3: the same call issued again and again, or an agent repeating its own message."""

    min_repeats: int = Field(default=3, ge=2, description="Calls in a run of look-alike calls before it counts.")
    similarity: float = Field(
        default=0.9, gt=0, le=1, description="Normalised-argument similarity (0..1) at which two calls look alike."
    )
    max_compare_chars: int = Field(default=4000, description="Only this much of each argument text is compared.")
    message_similarity: float = Field(default=0.95, gt=0, le=1, description="Similarity of two repeated messages.")
    message_min_chars: int = Field(default=40, description="Shorter messages ('OK', 'TERMINATE') never count.")
    min_message_repeats: int = Field(default=2, ge=2, description="Near-identical messages in a row that count.")


class TerminationConfig(_Section):
    """FM-1.5: going on after declaring the task done, running into a limit, looping at the end."""

    done_patterns: list[str] = Field(
        default=[r"\bTERMINATE\b", r"(?i)\btask (?:is )?(?:now )?(?:complete|completed|finished|done)\b"],
        description="Regexes of an agent message declaring the task done.",
    )
    min_actions_after_done: int = Field(
        default=2, description="Tool calls by the declaring agent after its declaration that count as going on."
    )
    limit_patterns: list[str] = Field(
        default=[
            r"(?i)\bmax(?:imum)?[ _-]?(?:number of )?(?:turns|steps|rounds|iterations)\b"
            r".{0,40}\b(?:reached|exceeded|hit)",
            r"(?i)\b(?:turn|step|round|iteration|time) limit\b.{0,20}\b(?:reached|exceeded|hit)",
            r"(?i)\b(?:timed out|time limit exceeded)\b",
        ],
        description="Regexes of a harness/system/event step saying a turn, step or time limit ended the run.",
    )
    stop_patterns: list[str] = Field(
        default=[r"(?i)\bplease stop\b", r"(?i)\bstop (?:now|here|working)\b", r"(?i)\bwrap (?:it )?up now\b"],
        description="Regexes of a harness or user message telling the agent to stop.",
    )


class PrematureConfig(_Section):
    """FM-3.1: the run ends, or tries to end, before the required deliverable exists."""

    nudge_patterns: list[str] = Field(
        default=[r"(?i)\bplease (?:resume|continue)\b.{0,60}\b(?:task|investigation|work)\b"],
        description="Regexes of a harness message asking the agent to resume; family rules add their own.",
    )
    abort_source_types: list[str] = Field(
        default=["turn_aborted"], description="Substrings of `Step.source_type` marking an aborted turn."
    )


class ResetConfig(_Section):
    """FM-2.1: the task statement re-issued mid-trace, or the history cleared."""

    similarity: float = Field(default=0.9, gt=0, le=1, description="How close a re-issued task must be.")
    min_task_chars: int = Field(default=40, description="Task statements shorter than this are not compared.")
    reset_patterns: list[str] = Field(
        default=[r"(?i)\b(?:conversation|history|context|session) (?:was |has been )?(?:reset|cleared|wiped)\b"],
        description="Regexes of a system/event step saying the history was cleared.",
    )


class HistoryConfig(_Section):
    """FM-1.4: context compaction or truncation, and re-reading what the trace already holds."""

    compaction_patterns: list[str] = Field(
        default=[
            r"(?i)\bcontext (?:was |has been )?(?:compacted|truncated|summari[sz]ed)\b",
            r"(?i)\bcompact(?:ed|ing)? (?:the )?(?:conversation|context|history)\b",
            r"(?i)\bearlier (?:messages|turns) (?:were |have been )?(?:dropped|removed|truncated)\b",
        ],
        description="Regexes of a system/event step reporting compaction or truncation.",
    )
    compaction_source_types: list[str] = Field(
        default=["compact", "truncat"], description="Substrings of `Step.source_type` marking such an event."
    )
    reread_min_gap: int = Field(
        default=30, description="Steps between an identical call and identical result that count as forgetting."
    )


class VerificationConfig(_Section):
    """FM-3.2: a deliverable written or a change applied, with nothing afterwards that checks it."""

    write_tools: list[str] = Field(
        default=["write_file", "create_file", "edit_file", "str_replace_editor", "write", "edit"],
        description="Tool names that write a file named in their `path`/`file_path` argument.",
    )
    change_patterns: list[str] = Field(
        default=[
            r"\bkubectl\s+(?:apply|patch|delete|scale|rollout\s+restart|set)\b",
            r"\bhelm\s+(?:upgrade|install)\b",
        ],
        description="Regexes of shell commands that change a system (not a file).",
    )
    check_patterns: list[str] = Field(
        default=[
            r"\bkubectl\s+(?:get|describe|rollout\s+status|logs)\b",
            r"\b(?:pytest|jq|json\.tool|jsonschema)\b",
            r"(?i)\b(?:validate|verify|check)\b",
        ],
        description="Regexes of commands that check a change or a deliverable.",
    )


class DerailmentConfig(_Section):
    """FM-2.3: after a tool error, a long run of steps spent on the agent's own scripts or environment."""

    min_run: int = Field(default=5, description="Consecutive meta calls after an error before it counts.")
    meta_patterns: list[str] = Field(
        default=[
            r"\bpip3?\s+install\b",
            r"\b(?:apt|apt-get|brew|conda|uv)\s+(?:install|add)\b",
            r"\b(?:which|type|whereis)\s+\w",
            r"\s--version\b",
            r"\bchmod\b",
            r"\bpython3?\s+-c\s+['\"]import\s+\w+['\"]",
            r"\b(?:ModuleNotFoundError|command not found|No module named)\b",
        ],
        description="Regexes of calls about the environment rather than the task.",
    )


class MismatchConfig(_Section):
    """FM-2.6: the agent announces one action and its next call does another (off by default; see docs)."""

    enabled: bool = Field(default=False, description="Off by default: precision not yet shown on labelled data.")
    announce_pattern: str = Field(
        default=r"(?i)\b(?:I(?:'ll| will)|let me|let's|next,? I(?:'ll| will))\s+"
        r"(?:run|execute|use|call|try)\s+`([^`\n]{2,120})`",
        description="Regex of an announced action; group 1 is the command or tool named.",
    )


class ForbiddenPattern(BaseModel):
    """Something a task family forbids the agent to touch, matched against its tool calls' arguments."""

    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(description="Regex searched in each tool call's arguments.")
    reason: str = Field(description="Why it is forbidden, in the words of the report.")


class FamilyRules(BaseModel):
    """What a task family (benchmark) prescribes and forbids; a trace belongs to the first family it matches."""

    model_config = ConfigDict(extra="forbid")

    match_benchmark: str | None = Field(default=None, description="Regex searched in the trace's benchmark name.")
    metadata_key: str | None = Field(default=None, description="A trace carrying this metadata key belongs here.")
    deliverable_file: str | None = Field(default=None, description="File name of the required deliverable.")
    schema_: Literal["itbench-sre"] | None = Field(
        default=None, alias="schema", description="Built-in schema the deliverable must follow."
    )
    forbidden: list[ForbiddenPattern] = Field(default_factory=list, description="What the agent must not touch.")
    nudge_patterns: list[str] = Field(default_factory=list, description="Regexes of this harness's resume nudges.")


def _builtin_families() -> dict[str, FamilyRules]:
    return {"itbench-sre": itbench_preset()}


class DetectorConfig(BaseModel):
    """All detector settings. Unknown keys are errors, so a typo in a thresholds file never passes silently."""

    model_config = ConfigDict(extra="forbid")

    repetition: RepetitionConfig = Field(default_factory=RepetitionConfig)
    termination: TerminationConfig = Field(default_factory=TerminationConfig)
    premature: PrematureConfig = Field(default_factory=PrematureConfig)
    reset: ResetConfig = Field(default_factory=ResetConfig)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    verification: VerificationConfig = Field(default_factory=VerificationConfig)
    derailment: DerailmentConfig = Field(default_factory=DerailmentConfig)
    mismatch: MismatchConfig = Field(default_factory=MismatchConfig)
    families: dict[str, FamilyRules] = Field(
        default_factory=_builtin_families, description="Task families; the built-in one is 'itbench-sre'."
    )
    error_markers: list[str] = Field(
        default=[
            r"^failed to parse function arguments",
            r"Traceback \(most recent call last\)",
            r"\"exit_code\"\s*:\s*[1-9]",
            r"(?i)^error:",
        ],
        description="Regexes of a tool result that reports a failure, beyond `Step.is_error`.",
    )
    max_evidence: int = Field(default=6, description="Evidence steps kept per finding.")
    quote_chars: int = Field(default=160, description="Length of each evidence quote.")

    def fingerprint(self) -> str:
        """Short hash of every setting; part of the judge version."""
        data = orjson.dumps(self.model_dump(mode="json", by_alias=True), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(data).hexdigest()[:8]


class DetectorConfigError(ValueError):
    """A thresholds file that cannot be loaded (one line naming the file and the reason)."""


@lru_cache(maxsize=1)
def itbench_preset() -> FamilyRules:
    """The built-in ITBench SRE family rules (deliverable, schema, forbidden ground truth, resume nudges)."""
    text = resources.files("agentmortem.judges.detectors").joinpath("itbench.yaml").read_text(encoding="utf-8")
    return FamilyRules.model_validate(_load_yaml(text))


def load_config(path: str | Path) -> DetectorConfig:
    """Load detector settings from a YAML or JSON file; missing keys keep their defaults."""
    try:
        data: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))  # YAML reads JSON too
    except (OSError, yaml.YAMLError) as exc:
        raise DetectorConfigError(f"{path}: cannot read detector settings: {_first_line(exc)}") from exc
    if data is None:
        return DetectorConfig()
    if not isinstance(data, dict):
        raise DetectorConfigError(f"{path}: detector settings must be a mapping, not {type(data).__name__}")
    try:
        return DetectorConfig.model_validate(_with_builtin_families(data))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise DetectorConfigError(f"{path}: invalid detector setting {where!r}: {error['msg']}") from exc


def _with_builtin_families(data: dict[str, Any]) -> dict[str, Any]:
    """Families named in a file are merged over the built-in ones, so overriding one key keeps the rest."""
    if "families" not in data:
        return data
    merged: dict[str, Any] = {name: rules.model_dump(by_alias=True) for name, rules in _builtin_families().items()}
    for name, rules in (data["families"] or {}).items():
        merged[name] = {**merged.get(name, {}), **(rules or {})}
    return {**data, "families": merged}


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
