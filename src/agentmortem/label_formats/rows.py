r"""The label row: one annotator's labels on one trace, saying whether each mode is present and where.

A row (one JSONL line for `import-labels`; the format is documented in docs/json.md) is
``{"trace_id", "annotator", "labels": {mode: value}}`` plus, optionally, ``decisive_step``, ``decisive_agent``,
``decisive_mode``, ``taxonomy``, ``annotator_kind`` and ``summary``. A label value is 1/true/"yes" (present),
0/false/"no" (absent) or null (unknown: the mode is left out), or an object
``{"present": ..., "evidence": [{"step": N, "quote": "..."}], "agent": "..."}`` saying where the mode shows and which
agent is to blame. Mode keys are resolved with `Taxonomy.resolve`, so ``1.3``, ``FM-1.3``, ``Step Repetition`` and
the names earlier MAST versions used all name FM-1.3; ``numbering="legacy"`` reads 3.2/3.3 the way the original MAST
judge prompt numbered them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from agentmortem.model import Annotation, AnnotatorKind, Evidence, ModeVerdict
from agentmortem.taxonomy import Taxonomy, TaxonomyError, built_in, mast
from agentmortem.taxonomy.taxonomy import Numbering

_TRUE = {"1", "true", "yes", "y", "present"}
_FALSE = {"0", "false", "no", "n", "absent"}
_KINDS = set(get_args(AnnotatorKind))


class LabelError(ValueError):
    """A label row or value that cannot be read; the message says which field and why."""


def label_value(value: Any) -> bool | None:
    """Present (True), absent (False) or unknown (None) for one raw label value; LabelError when unreadable."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        if text in {"", "null", "none"}:
            return None
    raise LabelError(f"label value {value!r} is not 0/1, true/false or null")


def verdicts_from_labels(
    labels: Mapping[str, Any], *, numbering: Numbering = "paper", taxonomy: Taxonomy | None = None
) -> tuple[list[ModeVerdict], list[str]]:
    """Verdicts (in taxonomy order) for a `{mode label: value}` mapping, and the label keys that map to no mode.

    Unknown values leave their mode out. When two keys name the same mode, present wins over absent and their
    evidence is pooled.
    """
    taxonomy = taxonomy or mast()
    verdicts: dict[str, ModeVerdict] = {}
    unmapped: list[str] = []
    for key, raw in labels.items():
        mode_id = taxonomy.resolve(str(key), numbering=numbering)
        if mode_id is None:
            unmapped.append(str(key))
            continue
        verdict = _verdict(mode_id, raw, key=str(key))
        if verdict is not None:
            verdicts[mode_id] = _merged(verdicts[mode_id], verdict) if mode_id in verdicts else verdict
    return [verdicts[m] for m in taxonomy.ids if m in verdicts], unmapped


def _verdict(mode_id: str, raw: Any, *, key: str) -> ModeVerdict | None:
    if not isinstance(raw, dict):
        present = label_value(raw)
        return None if present is None else ModeVerdict(mode_id=mode_id, present=present)
    present = label_value(raw.get("present"))
    if present is None:
        return None
    agent = raw.get("agent")
    if agent is not None and not isinstance(agent, str):
        raise LabelError(f"label {key!r}: 'agent' must be a string, got {agent!r}")
    return ModeVerdict(mode_id=mode_id, present=present, evidence=_evidence(raw.get("evidence"), key), agent=agent)


def _evidence(raw: Any, key: str) -> list[Evidence]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise LabelError(f"label {key!r}: 'evidence' must be a list of {{\"step\": N}}, got {raw!r}")
    evidence = []
    for item in raw:
        place = item if isinstance(item, dict) else {"step": item}
        quote = place.get("quote") or ""
        evidence.append(Evidence(step=step_index(place.get("step"), f"label {key!r} evidence"), quote=str(quote)))
    return evidence


def step_index(value: Any, what: str) -> int:
    """`value` as a step index (an integer >= 0, or a string of digits); LabelError naming `what` otherwise."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LabelError(f"{what}: step {value!r} is not a step index (an integer >= 0)")
    return value


def _merged(first: ModeVerdict, second: ModeVerdict) -> ModeVerdict:
    steps = {e.step for e in first.evidence}
    return first.model_copy(
        update={
            "present": bool(first.present or second.present),
            "evidence": first.evidence + [e for e in second.evidence if e.step not in steps],
            "agent": first.agent or second.agent,
        }
    )


def annotation_from_row(
    trace_id: str,
    row: Mapping[str, Any],
    *,
    annotator: str,
    kind: AnnotatorKind | None = None,
    numbering: Numbering = "paper",
    taxonomy: Taxonomy | None = None,
    version: str | None = None,
) -> tuple[Annotation, list[str]]:
    """One annotation from a label row (`labels` plus the optional fields above), with the keys naming no mode.

    `kind` overrides the row's `annotator_kind` (default "imported"); the row's `taxonomy` names a built-in
    taxonomy unless it is `taxonomy`'s own name. LabelError for any field that cannot be read.
    """
    taxonomy = _row_taxonomy(row.get("taxonomy"), taxonomy)
    verdicts, unmapped = verdicts_from_labels(row.get("labels") or {}, numbering=numbering, taxonomy=taxonomy)
    decisive_mode = row.get("decisive_mode")
    mode_id = taxonomy.resolve(str(decisive_mode), numbering=numbering) if decisive_mode is not None else None
    if decisive_mode is not None and mode_id is None:
        unmapped.append(str(decisive_mode))
    step = row.get("decisive_step")
    annotation = Annotation(
        trace_id=trace_id, annotator=annotator, annotator_kind=kind or _kind(row.get("annotator_kind")),
        annotator_version=version, taxonomy=taxonomy.name, taxonomy_version=taxonomy.version, verdicts=verdicts,
        decisive_step=None if step is None else step_index(step, "decisive_step"),
        decisive_agent=_text(row.get("decisive_agent"), "decisive_agent"), decisive_mode=mode_id,
        summary=_text(row.get("summary"), "summary") or "",
    )  # fmt: skip
    return annotation, unmapped


def _row_taxonomy(name: Any, given: Taxonomy | None) -> Taxonomy:
    if name is None:
        return given or mast()
    if given is not None and str(name).lower() == given.name.lower():
        return given
    try:
        return built_in(str(name))
    except TaxonomyError as exc:
        raise LabelError(str(exc)) from exc


def _kind(value: Any) -> AnnotatorKind:
    if value is None:
        return "imported"
    if value not in _KINDS:
        raise LabelError(f"annotator_kind {value!r} is not one of {', '.join(sorted(_KINDS))}")
    return value


def _text(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise LabelError(f"{what} must be a string, got {value!r}")
    return value
