"""AgentRx ground truth: per trajectory, the failures annotators found, the step of each and its root cause.

Published shape (github.com/microsoft/AgentRx, data/ground_truth/*.json): a JSON list of
``{"trajectory_id", "failures": [{"failure_id", "step_number", "failure_category", "failed_agent", "step_reason",
…}], "root_cause": {"failure_id", "reason_for_root_cause"}, "failure_summary"}``.

Mapping, decided from that repository: categories are AgentRx's own (the built-in ``AgentRx`` taxonomy, whose
aliases cover the spellings its files use); a category with a listed failure is present, with one evidence step per
failure and the first failure's agent, and every other category is absent (the annotators listed every failure they
found in the trajectory). ``step_number`` counts the trajectory's messages from 1 (AgentRx's trajectory IR numbers
steps ``i + 1``; on the Magentic-One set, 265 of the 295 failed agents are the author of message ``step_number``
counted from 1, 59 counted from 0), so it becomes the 0-based *message* index ``step_number - 1``; the importer then
turns message indices into step indices with the trace's own map, since a reader may split one message into several
steps. The root cause gives ``decisive_step``, ``decisive_agent`` and ``decisive_mode``; one whose ``failure_id``
matches no listed failure (one such record is published) leaves them unknown and is reported.
"""

from __future__ import annotations

from typing import Any

from agentmortem.label_formats.rows import LabelError, step_index
from agentmortem.taxonomy import built_in

ANNOTATOR = "agentrx"
"""Default annotator name of AgentRx ground truths."""


def is_agentrx_document(document: Any) -> bool:
    """True for a JSON list whose first item has AgentRx's `trajectory_id` and `failures`."""
    first = document[0] if isinstance(document, list) and document else None
    return isinstance(first, dict) and "trajectory_id" in first and isinstance(first.get("failures"), list)


def agentrx_row(record: Any) -> tuple[dict[str, Any], list[str]]:
    """A label row (steps as 0-based message indices) for one AgentRx record, and warnings about it."""
    if not isinstance(record, dict) or record.get("trajectory_id") in (None, ""):
        raise LabelError("not an AgentRx record (no 'trajectory_id')")
    failures = record.get("failures")
    if not isinstance(failures, list) or not all(isinstance(f, dict) for f in failures):
        raise LabelError("'failures' is missing or not a list of objects")
    taxonomy = built_in("AgentRx")
    labels: dict[str, dict[str, Any]] = {mode_id: {"present": False} for mode_id in taxonomy.ids}
    warnings: list[str] = []
    for failure in failures:
        category = str(failure.get("failure_category", ""))
        mode_id = taxonomy.resolve(category)
        if mode_id is None:
            warnings.append(f"failure category {category!r} names no AgentRx category; ignored")
            continue
        label = labels[mode_id]
        label["present"] = True
        label.setdefault("evidence", []).append({"step": _message_index(failure), "quote": _reason(failure)})
        label.setdefault("agent", failure.get("failed_agent") or None)
    row: dict[str, Any] = {"trace_id": str(record["trajectory_id"]), "taxonomy": taxonomy.name, "labels": labels}
    row.update(_root_cause(record, failures, warnings))
    return row, warnings


def _message_index(failure: dict[str, Any]) -> int:
    number = step_index(failure.get("step_number"), f"failure {failure.get('failure_id')!r} step_number")
    if number < 1:
        raise LabelError(f"failure {failure.get('failure_id')!r}: step_number {number} (AgentRx counts from 1)")
    return number - 1


def _reason(failure: dict[str, Any]) -> str:
    reason = failure.get("step_reason")
    return reason.strip() if isinstance(reason, str) else ""


def _root_cause(record: dict[str, Any], failures: list[dict[str, Any]], warnings: list[str]) -> dict[str, Any]:
    root = record.get("root_cause")
    root_id = root.get("failure_id") if isinstance(root, dict) else None
    if root_id is None:
        return {}
    cause = next((f for f in failures if str(f.get("failure_id")) == str(root_id)), None)
    if cause is None:
        warnings.append(f"root cause failure_id {root_id!r} matches no listed failure; decisive step left unknown")
        return {}
    return {
        "decisive_step": _message_index(cause),
        "decisive_agent": cause.get("failed_agent") or None,
        "decisive_mode": str(cause.get("failure_category", "")) or None,
        "summary": record.get("failure_summary") if isinstance(record.get("failure_summary"), str) else None,
    }
