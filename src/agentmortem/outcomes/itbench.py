r"""ITBench SRE outcomes: a deterministic recall/precision scorer of `agent_output.json`, and judge files.

**Ground truth.** `load_ground_truths` reads a `groundtruth_v1` YAML (flat, or wrapped in
`apiVersion/kind/metadata/spec`), a `_v2` YAML (`spec.entities`, each a root cause), the consolidated
`ground_truths.json` (a list of v1 scenarios with an `id`), or a folder of such files. Each v1 *group* names one
entity class by `namespace`, `kind` and either an exact `name` or `filter` regexes; groups with `root_cause: true`
are what the agent must find. `aliases` are lists of group ids that denote the same fault location seen at different
levels (a service and its pods, say): naming any member counts as naming every member. Aliases chain (an id in two
lists joins them).

**Matching an agent entity** (`namespace/Kind/name` in `agent_output.json`) to a group:
* namespaces must be equal when both are given;
* kinds must be equal (case-insensitive), except that the workload kinds in `WORKLOAD_KINDS` (Service,
  Deployment, Pod, ReplicaSet, StatefulSet, DaemonSet) count as one: agents often name the Deployment where the
  ground truth lists the Service, and both denote the same workload;
* the name must equal the group's `name`, or match one of its `filter` regexes over the whole name
  (`re.fullmatch`, case-insensitive — so `frontend\b` names `frontend` but not `frontend-proxy`). A filter that is
  not a valid regex (the 44-scenario file has `*.*`) is read with every `*` as `.*`.

**Scores.** Only entities with `contributing_factor: true` count. *Recall* = root-cause groups matched (directly
or through an alias) / root-cause groups. *Precision* = contributing entities that match some root-cause group (or
an alias of one) / contributing entities, leaving out entities in `INFRASTRUCTURE_NAMESPACES` that match no group
at all: those are the cluster's and the harness's own machinery (kube-system, the monitoring stack), which the
ground truth never describes, so the scorer cannot say whether blaming them is right. A missing or unreadable
`agent_output.json` scores recall 0 with the problem named. Precision is None when nothing was marked
contributing.

**Judge files.** `judge_outcome` reads an ITBench-Evaluations `judge_output.json`: every numeric score is kept in
`Outcome.metrics` (nested precision/recall/F1 dicts as `<metric>.<key>`), and the outcome score is the first of
`recall`, `root_cause_entity.recall`, `root_cause_entity` normalised to [0, 1] (the six ITBench-Evaluations
metrics are 0–100; any other value above 1 is read as a percentage). A judge file whose `error` is not the
"no agent output" case (a judge that failed) gives no outcome, so the scorer or trace fields decide instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from agentmortem.model import Outcome, Trace
from agentmortem.readers.base import ReadError

WORKLOAD_KINDS = frozenset({"service", "deployment", "pod", "replicaset", "statefulset", "daemonset"})
"""Kinds treated as one when matching: they all name the same running workload."""

INFRASTRUCTURE_NAMESPACES = frozenset(
    {
        "kube-system", "kube-public", "kube-node-lease", "local-path-storage", "monitoring", "prometheus",
        "observability", "opentelemetry-operator-system", "cert-manager", "ingress-nginx",
    }
)  # fmt: skip
"""Namespaces of cluster and observability machinery; unmatched entities there are left out of precision."""

JUDGE_PERCENT_METRICS = frozenset(
    {
        "root_cause_entity", "root_cause_reasoning", "propagation_chain", "root_cause_reasoning_partial",
        "root_cause_proximity_no_fp", "root_cause_proximity_with_fp",
    }
)  # fmt: skip
"""The ITBench-Evaluations judge metrics, each an integer 0–100."""

_SCORE_KEYS = ("recall", "root_cause_entity.recall", "root_cause_entity_recall", "root_cause_entity")
_SCENARIO_IN_NAME = re.compile(r"scenario[-_]?(\d+)", re.IGNORECASE)
_VERSION_IN_NAME = re.compile(r"_v(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Group:
    """One ground-truth entity class."""

    id: str
    kind: str | None
    namespace: str | None
    name: str | None
    filters: tuple[re.Pattern[str], ...]
    root_cause: bool


@dataclass(frozen=True)
class GroundTruth:
    """The ground truth of one scenario: its groups and which group ids are aliases of one another."""

    scenario: str | None
    groups: tuple[Group, ...]
    alias_of: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def root_causes(self) -> list[Group]:
        """The groups the agent must find."""
        return [group for group in self.groups if group.root_cause]

    def equivalents(self, group_id: str) -> frozenset[str]:
        """The group id and every id aliased to it."""
        return self.alias_of.get(group_id, frozenset({group_id}))


@dataclass(frozen=True)
class Entity:
    """An entity named by the agent, split from `namespace/Kind/name`."""

    raw: str
    namespace: str | None
    kind: str | None
    name: str


@dataclass
class ItbenchScore:
    """The scorer's verdict on one `agent_output.json`."""

    recall: float
    precision: float | None
    matched: dict[str, list[str]]
    missed: list[str]
    contributing: list[str]
    correct: list[str]
    ignored: list[str]
    problem: str | None = None

    def metrics(self) -> dict[str, Any]:
        """The figures stored in `Outcome.metrics`."""
        out: dict[str, Any] = {
            "recall": self.recall, "precision": self.precision, "matched_groups": sorted(self.matched),
            "missed_groups": self.missed, "contributing_entities": len(self.contributing),
            "correct_entities": len(self.correct), "ignored_entities": len(self.ignored),
        }  # fmt: skip
        if self.problem:
            out["problem"] = self.problem
        return out


# --- loading ground truths ------------------------------------------------------------------------------------


def load_ground_truths(
    path: Path, *, scenario: str | None = None, errors: list[ReadError] | None = None
) -> dict[str, GroundTruth]:
    """Ground truths keyed by scenario id from a v1/v2 YAML, `ground_truths.json`, or a folder of them.

    A single-scenario file takes its id from `metadata.name` or the file name (`scenario_2_…`); `scenario`
    supplies it when neither says, and overrides both. A file that cannot be used raises ReadError; in a folder
    (see `_load_folder`) such a file goes to `errors` when given, and the other files still count.
    """
    if path.is_dir():
        return _load_folder(path, errors)
    try:
        text = path.read_text(encoding="utf-8")
        document = orjson.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, orjson.JSONDecodeError, yaml.YAMLError) as exc:
        raise ReadError(path, f"cannot read ground truth: {str(exc).splitlines()[0]}") from None
    documents = document if isinstance(document, list) else [document]
    truths: dict[str, GroundTruth] = {}
    for position, item in enumerate(documents):
        if not isinstance(item, dict):
            raise ReadError(path, f"ground truth entry {position} is not a mapping")
        gid = scenario if scenario is not None and len(documents) == 1 else _scenario_of(item, path)
        truth = parse_ground_truth(item, scenario=gid)
        if not truth.groups:
            raise ReadError(path, f"ground truth for scenario {gid!r} has no groups or entities")
        truths[gid or "*"] = truth
    return truths


def _load_folder(folder: Path, errors: list[ReadError] | None) -> dict[str, GroundTruth]:
    """Every ground truth in `folder` (its `.yaml`, `.yml` and `.json` files, not its subfolders).

    ITBench keeps one file per scenario and version (`scenario_2_groundtruth_v1.yaml`, `…_v2.yaml`) beside the
    consolidated `ground_truths.json`. When several give one scenario, a one-scenario file wins over a list, then
    the higher version (`_v<N>` in the file name), then the later file name: the newest, most specific one.
    """
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".yaml", ".yml", ".json"))
    ranked: dict[str, tuple[tuple[int, int, str], GroundTruth]] = {}
    for path in files:
        try:
            truths = load_ground_truths(path)
        except ReadError as exc:
            if errors is None:
                raise
            errors.append(exc)
            continue
        version = _VERSION_IN_NAME.search(path.stem)
        rank = (int(len(truths) == 1), int(version.group(1)) if version else 0, path.name)
        for scenario, truth in truths.items():
            if scenario not in ranked or rank > ranked[scenario][0]:
                ranked[scenario] = (rank, truth)
    if not ranked:
        raise ReadError(folder, "no ground truth in this folder (expected ITBench YAML or ground_truths.json files)")
    return {scenario: truth for scenario, (_, truth) in sorted(ranked.items())}


def _scenario_of(document: dict[str, Any], path: Path) -> str | None:
    if document.get("id") is not None:
        return str(document["id"])
    metadata = document.get("metadata")
    name = metadata.get("name", "") if isinstance(metadata, dict) else ""
    for text in (str(name), path.name):
        match = _SCENARIO_IN_NAME.search(text)
        if match:
            return match.group(1)
    return None


def parse_ground_truth(document: dict[str, Any], *, scenario: str | None = None) -> GroundTruth:
    """A `GroundTruth` from one v1 (flat or `spec`-wrapped) or v2 scenario document."""
    body = document["spec"] if isinstance(document.get("spec"), dict) else document
    if "groups" not in body and isinstance(body.get("entities"), list):
        return GroundTruth(scenario, tuple(_v2_group(i, e) for i, e in enumerate(body["entities"])))
    groups = tuple(_group(raw) for raw in body.get("groups") or [] if isinstance(raw, dict))
    return GroundTruth(scenario, groups, _alias_closure(body.get("aliases") or []))


def _group(raw: dict[str, Any]) -> Group:
    filters = raw.get("filter") or []
    return Group(
        id=str(raw.get("id", "")), kind=_str_or_none(raw.get("kind")), namespace=_str_or_none(raw.get("namespace")),
        name=_str_or_none(raw.get("name")), filters=tuple(_compile(str(f)) for f in filters),
        root_cause=raw.get("root_cause") is True,
    )  # fmt: skip


def _v2_group(position: int, raw: Any) -> Group:
    """v2 lists only the root-cause entities, as Kubernetes object references."""
    raw = raw if isinstance(raw, dict) else {}
    meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    kind, name = _str_or_none(raw.get("kind")), _str_or_none(meta.get("name"))
    return Group(
        id=f"{kind}/{name}" if kind and name else f"entity-{position}", kind=kind,
        namespace=_str_or_none(meta.get("namespace")), name=name, filters=(), root_cause=True,
    )  # fmt: skip


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return re.compile(pattern.replace("*", ".*"), re.IGNORECASE)


def _alias_closure(aliases: Iterable[Any]) -> dict[str, frozenset[str]]:
    """Group id -> every id it is aliased to, chaining lists that share an id (union of overlapping sets)."""
    sets: list[set[str]] = []
    for alias in aliases:
        if not isinstance(alias, list):
            continue
        merged = {str(a) for a in alias}
        for existing in [s for s in sets if s & merged]:
            merged |= existing
            sets.remove(existing)
        sets.append(merged)
    return {member: frozenset(group) for group in sets for member in group}


def _str_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


# --- scoring --------------------------------------------------------------------------------------------------


def parse_entity(raw: str) -> Entity:
    """`namespace/Kind/name` (or `Kind/name`, or a bare name) split into its parts."""
    parts = raw.strip().split("/")
    if len(parts) >= 3:
        return Entity(raw, parts[0] or None, parts[1] or None, "/".join(parts[2:]))
    if len(parts) == 2:
        return Entity(raw, None, parts[0] or None, parts[1])
    return Entity(raw, None, None, parts[0])


def entity_matches(entity: Entity, group: Group) -> bool:
    """Whether the agent's entity denotes the ground-truth group (rules in the module docstring)."""
    if entity.namespace and group.namespace and entity.namespace.lower() != group.namespace.lower():
        return False
    if entity.kind and group.kind and not _same_kind(entity.kind, group.kind):
        return False
    if group.name is not None and entity.name.lower() == group.name.lower():
        return True
    return any(pattern.fullmatch(entity.name) for pattern in group.filters)


def _same_kind(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    return a == b or (a in WORKLOAD_KINDS and b in WORKLOAD_KINDS)


def score_agent_output(agent_output: Any, truth: GroundTruth, *, problem: str | None = None) -> ItbenchScore:
    """Recall and precision of one `agent_output.json` document against one scenario's ground truth."""
    entities, problem = _contributing(agent_output, problem)
    by_id = {group.id: group for group in truth.groups}
    root_ids = [group.id for group in truth.root_causes]
    matched: dict[str, list[str]] = {}
    for root in root_ids:
        accepted = [by_id[i] for i in truth.equivalents(root) if i in by_id]
        hits = [e.raw for e in entities if any(entity_matches(e, g) for g in accepted)]
        if hits:
            matched[root] = hits
    counted, ignored = _counted_entities(entities, truth)
    correct_groups = [by_id[i] for root in root_ids for i in truth.equivalents(root) if i in by_id]
    correct = [e.raw for e in counted if any(entity_matches(e, g) for g in correct_groups)]
    return ItbenchScore(
        recall=len(matched) / len(root_ids) if root_ids else 0.0,
        precision=len(correct) / len(counted) if counted else None,
        matched=matched, missed=[r for r in root_ids if r not in matched],
        contributing=[e.raw for e in counted], correct=correct, ignored=[e.raw for e in ignored], problem=problem,
    )  # fmt: skip


def _contributing(agent_output: Any, problem: str | None) -> tuple[list[Entity], str | None]:
    """The entities marked `contributing_factor: true`, and what was wrong with the document, if anything."""
    if not isinstance(agent_output, dict):
        return [], problem or "no agent_output.json"
    raw_entities = agent_output.get("entities")
    if not isinstance(raw_entities, list):
        return [], problem or "agent_output.json has no 'entities' list"
    entities = [
        parse_entity(item["name"])
        for item in raw_entities
        if isinstance(item, dict) and isinstance(item.get("name"), str) and _truthy(item.get("contributing_factor"))
    ]
    return entities, problem


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes", "1"))


def _counted_entities(entities: list[Entity], truth: GroundTruth) -> tuple[list[Entity], list[Entity]]:
    """Split off unmatched entities in infrastructure namespaces (see INFRASTRUCTURE_NAMESPACES)."""
    counted, ignored = [], []
    for entity in entities:
        infra = (entity.namespace or "").lower() in INFRASTRUCTURE_NAMESPACES
        if infra and not any(entity_matches(entity, group) for group in truth.groups):
            ignored.append(entity)
        else:
            counted.append(entity)
    return counted, ignored


# --- outcomes -------------------------------------------------------------------------------------------------


def ground_truth_for(scenario: Any, truths: dict[str, GroundTruth]) -> GroundTruth | None:
    """The ground truth for a scenario id, or the id-less one ("*") when that is all there is."""
    return truths.get(str(scenario)) or truths.get("*")


def scorer_outcome(trace: Trace, truths: dict[str, GroundTruth]) -> Outcome | None:
    """The scorer's outcome for a trace read from an ITBench run, or None when it has no ground truth."""
    itbench = trace.metadata.get("itbench")
    if not isinstance(itbench, dict) or not itbench.get("primary", True):
        return None
    truth = ground_truth_for(itbench.get("scenario"), truths)
    if truth is None:
        return None
    problem = itbench.get("agent_output_error")
    result = score_agent_output(itbench.get("agent_output"), truth, problem=problem)
    return Outcome(score=result.recall, source="itbench-scorer", metrics=result.metrics())


def judge_outcome(judge: Any) -> Outcome | None:
    """The outcome an ITBench `judge_output.json` gives, or None when it gives none (see module docstring)."""
    if not isinstance(judge, dict) or not isinstance(judge.get("scores"), dict):
        return None
    error = judge.get("error")
    if error and "agent output" not in str(error).lower():
        return None
    metrics = _judge_metrics(judge["scores"])
    key = next((k for k in _SCORE_KEYS if k in metrics), None)
    if key is None:
        return None
    if isinstance(judge.get("judge_model"), str):
        metrics["judge_model"] = judge["judge_model"]
    return Outcome(score=_unit(key, metrics[key]), source="itbench-judge", metrics=metrics)


def _judge_metrics(scores: dict[str, Any]) -> dict[str, Any]:
    """Every numeric score; nested dicts flattened as `<metric>.<key>` (a nested `score` is the metric itself)."""
    metrics: dict[str, Any] = {}
    for name, value in scores.items():
        if _is_number(value):
            metrics[name] = value
        elif isinstance(value, dict):
            for key, inner in value.items():
                if _is_number(inner):
                    metrics[name if key == "score" else f"{name}.{key}"] = inner
    return metrics


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _unit(key: str, value: float) -> float:
    """A score in [0, 1]: the ITBench 0–100 metrics divided by 100, other values above 1 read as percentages."""
    scaled = value / 100 if key in JUDGE_PERCENT_METRICS or value > 1 else value
    return min(1.0, max(0.0, float(scaled)))
