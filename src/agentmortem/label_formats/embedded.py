r"""Labels that travel inside a trace's source record, kept raw in `Trace.metadata` by the reader.

Readers only copy what the record says under the keys below; `embedded_annotations` turns it into annotations at
ingest, with the trace's id as the reader gave it (ingest renames both together when ids collide).

* ``MAST_LABELS_KEY``: a MAD record's per-mode 0/1 labels. The MAST authors produced these with their OpenAI o1
  LLM-as-a-judge pipeline, not by hand, so they are stored as annotator ``mad-o1`` (the same name the MAD-as-chat
  `labels.jsonl` uses), kind ``imported``, final-paper numbering.
* ``HUMAN_LABELS_KEY``: the entries of a MAST human-labelled record, ``{"failure mode": "<code> <name>\n\n
  <definition>", "annotator_1": bool, …}``. Each ``annotator_<n>`` becomes annotator ``human-annotator_<n>`` (kind
  ``human``), and their majority annotator ``human-majority`` (a mode is present when more than half of the
  annotators who answered say so, absent when fewer than half do, unknown on a tie). Annotation rounds used drafts of
  the taxonomy whose codes mean other modes, so entries are matched by *name only* (a code never decides), through
  the taxonomy's current and former names, tolerating small misspellings. Entries whose name matches no mode, or a
  draft mode the final taxonomy dropped, are left out and described under ``LABEL_WARNINGS_KEY``.
* ``LABEL_ROWS_KEY``: label rows in the `rows` format (without ``trace_id``) a reader derived from its record, e.g.
  the Who&When reference ``{"annotator": "who-and-when", "decisive_step": …}`` the openai reader writes.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Any

from agentmortem.label_formats.rows import LabelError, annotation_from_row, label_value
from agentmortem.model import Annotation, Trace
from agentmortem.taxonomy import Taxonomy, mast
from agentmortem.taxonomy.taxonomy import Numbering

MAD_ANNOTATOR = "mad-o1"
"""Name of the MAD dataset's own labels (the MAST authors' o1 judge)."""

HUMAN_MAJORITY = "human-majority"
"""Name of the majority of a MAST human-labelled record's annotators."""

MAST_LABELS_KEY = "mast_annotation"
"""Trace metadata key holding a MAD record's raw per-mode labels."""

HUMAN_LABELS_KEY = "human_annotations"
"""Trace metadata key holding a MAST human-labelled record's raw annotation entries."""

HUMAN_ROUND_KEY = "annotation_round"
"""Trace metadata key holding the annotation round of a human-labelled record (kept as annotator_version)."""

LABEL_ROWS_KEY = "label_rows"
"""Trace metadata key holding label rows (the `rows` format, without trace_id) a reader derived from its record."""

LABEL_WARNINGS_KEY = "label_warnings"
"""Trace metadata key listing labels of the record that could not be mapped to the taxonomy, one sentence each."""

SPELLING_TOLERANCE = 0.92
"""Minimum similarity (difflib ratio) for a misspelt mode name to count as that mode; high enough that distinct
draft names ('lack of result verification' vs 'lack of verification', 0.85) stay apart."""

_LEADING_CODE = re.compile(r"^\s*(?:FM)?[\s\-_.]*\d+\.\d+\s*", re.IGNORECASE)


def embedded_annotations(
    trace: Trace, *, numbering: Numbering = "paper", annotator: str | None = None
) -> list[Annotation]:
    """Annotations carried inside a trace's source record (see the module docstring).

    Unreadable label values are skipped here (ingest must not fail on labels); `import-labels` reports them.
    """
    annotations: list[Annotation] = []
    raw = trace.metadata.get(MAST_LABELS_KEY)
    if isinstance(raw, dict):
        try:
            name = annotator or MAD_ANNOTATOR
            annotations.append(annotation_from_row(trace.id, {"labels": raw}, annotator=name, numbering=numbering)[0])
        except LabelError:
            pass
    entries = trace.metadata.get(HUMAN_LABELS_KEY)
    if isinstance(entries, list):
        version = trace.metadata.get(HUMAN_ROUND_KEY)
        try:
            annotations.extend(human_annotations(trace.id, entries, version=str(version) if version else None))
        except LabelError:
            pass
    for row in trace.metadata.get(LABEL_ROWS_KEY) or []:
        try:
            annotations.append(annotation_from_row(trace.id, row, annotator=annotator or row["annotator"])[0])
        except (LabelError, KeyError, TypeError):
            pass
    return annotations


# -- MAST human-labelled records ----------------------------------------------------------------------------


def resolve_mode_name(text: str, *, taxonomy: Taxonomy | None = None) -> str | None:
    """Mode id for a '<code> <name>' heading (definition lines may follow), by its name alone.

    Codes are ignored because they meant other modes in earlier drafts of the taxonomy.
    """
    taxonomy = taxonomy or mast()
    name = _heading_name(text)
    if not name:
        return None
    exact = taxonomy.resolve(name)
    return exact if exact is not None else _closest_mode(name, taxonomy)


def _heading_name(text: str) -> str:
    lines = _LEADING_CODE.sub("", text, count=1).strip().splitlines()
    return lines[0].strip() if lines else ""


def _closest_mode(name: str, taxonomy: Taxonomy) -> str | None:
    if taxonomy is mast():
        return _closest_mast_mode(name)  # the same few headings recur in every record: remember them
    return _closest_in(name, taxonomy)


@lru_cache(maxsize=1024)
def _closest_mast_mode(name: str) -> str | None:
    return _closest_in(name, mast())


def _closest_in(name: str, taxonomy: Taxonomy) -> str | None:
    matcher = difflib.SequenceMatcher(None, b=_normalise(name))
    best_ratio, best_id = 0.0, None
    candidates = [(n, m.id) for m in taxonomy.modes for n in (m.name, *m.aliases)]
    candidates += [(f.name, f.mode) for f in taxonomy.former_names if f.mode is not None]
    for candidate, mode_id in candidates:
        matcher.set_seq1(_normalise(candidate))
        # quick_ratio is an upper bound of ratio: skip the exact computation when it cannot win
        if matcher.quick_ratio() >= max(best_ratio, SPELLING_TOLERANCE) and matcher.ratio() > best_ratio:
            best_ratio, best_id = matcher.ratio(), mode_id
    return best_id if best_ratio >= SPELLING_TOLERANCE else None


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def human_label_warnings(entries: list[Any]) -> list[str]:
    """One sentence per human-annotation entry whose mode name cannot be mapped to a MAST mode, saying why."""
    taxonomy = mast()
    warnings = []
    for entry in entries:
        heading = _heading(entry) if isinstance(entry, dict) else ""
        if not heading or resolve_mode_name(heading, taxonomy=taxonomy) is not None:
            continue
        dropped = taxonomy.dropped(_heading_name(heading))
        reason = (
            "is a mode of an earlier MAST draft that the final taxonomy dropped"
            if dropped is not None
            else "matches no MAST mode"
        )
        warnings.append(f"failure mode {heading!r} {reason}; its labels are left out")
    return warnings


def _heading(entry: dict[str, Any]) -> str:
    text = entry.get("failure mode")
    return text.strip().splitlines()[0].strip() if isinstance(text, str) and text.strip() else ""


def human_annotations(trace_id: str, entries: list[Any], *, version: str | None = None) -> list[Annotation]:
    """One `human` annotation per `annotator_<n>` column of a MAST human-labelled record, then their majority."""
    taxonomy = mast()
    columns: dict[str, dict[str, bool]] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        mode_id = resolve_mode_name(str(entry.get("failure mode", "")), taxonomy=taxonomy)
        if mode_id is None:
            continue
        for column, raw in entry.items():
            value = label_value(raw) if column.startswith("annotator") else None
            if value is not None:
                labels = columns.setdefault(column, {})
                labels[mode_id] = labels.get(mode_id, False) or value
    named: list[tuple[str, dict[str, Any]]] = [(f"human-{c}", labels) for c, labels in sorted(columns.items())]
    if len(named) > 1:
        named.append((HUMAN_MAJORITY, _majority([labels for _, labels in named])))
    return [
        annotation_from_row(trace_id, {"labels": labels}, annotator=name, kind="human", version=version)[0]
        for name, labels in named
    ]


def _majority(columns: list[dict[str, Any]]) -> dict[str, bool | None]:
    """Per mode: present when more than half of the annotators answering say so, absent when fewer, None on a tie."""
    votes: dict[str, list[bool]] = {}
    for labels in columns:
        for mode_id, value in labels.items():
            votes.setdefault(mode_id, []).append(value)
    return {m: None if 2 * sum(v) == len(v) else 2 * sum(v) > len(v) for m, v in votes.items()}
