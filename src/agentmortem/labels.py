r"""Failure labels from outside agentmortem: label files (JSONL) and labels embedded in dataset records (MAD).

Every external label becomes a `ModeVerdict`: 1/true/"yes" -> present, 0/false/"no" -> absent, null -> no verdict
(the mode stays unknown). Label keys are resolved with `Taxonomy.resolve`, so `1.3`, `FM-1.3` and `Step Repetition`
all name FM-1.3; `numbering="legacy"` reads 3.2/3.3 the way the original MAST judge prompt numbered them.

Where embedded labels come from (see `embedded_annotations`):

* ``trace.metadata["mast_annotation"]``: a MAD record's per-mode 0/1 labels. The MAST authors produced these with
  their OpenAI o1 LLM-as-a-judge pipeline, not by hand, so they are stored as annotator ``mad-o1`` (the same name
  the MAD-as-chat `labels.jsonl` uses), kind ``imported``, final-paper numbering.
* ``trace.metadata["human_annotations"]``: the entries of a MAST human-labelled record, ``{"failure mode": "<code>
  <name>\n\n<definition>", "annotator_1": bool, …}``. Each ``annotator_<n>`` becomes annotator ``human-annotator_<n>``
  (kind ``human``). Early annotation rounds used older taxonomy drafts whose codes mean other modes, so these entries
  are matched by *name only* (a code never decides), tolerating small misspellings; entries whose name matches no
  MAST mode are left out and listed under ``trace.metadata["label_warnings"]``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from agentmortem.model import Annotation, AnnotatorKind, ModeVerdict, Trace
from agentmortem.readers.base import ReadError
from agentmortem.readers.openai_chat import occurrence_id
from agentmortem.taxonomy import Taxonomy, mast
from agentmortem.taxonomy.taxonomy import Numbering

if TYPE_CHECKING:  # the MAD reader imports this module; keep DuckDB out of reader imports
    from agentmortem.store import Store

MAD_ANNOTATOR = "mad-o1"
"""Name of the MAD dataset's own labels (the MAST authors' o1 judge)."""

MAST_LABELS_KEY = "mast_annotation"
"""Trace metadata key holding a MAD record's raw per-mode labels."""

HUMAN_LABELS_KEY = "human_annotations"
"""Trace metadata key holding a MAST human-labelled record's raw annotation entries."""

HUMAN_ROUND_KEY = "annotation_round"
"""Trace metadata key holding the annotation round of a human-labelled record (kept as annotator_version)."""

LABEL_WARNINGS_KEY = "label_warnings"
"""Trace metadata key listing label entries that could not be mapped to the taxonomy."""

SPELLING_TOLERANCE = 0.92
"""Minimum similarity (difflib ratio) for a misspelt mode name to count as that mode; high enough that distinct
older-draft names ('lack of result verification' vs 'lack of verification', 0.85) stay apart."""

_TRUE = {"1", "true", "yes", "y", "present"}
_FALSE = {"0", "false", "no", "n", "absent"}
_LEADING_CODE = re.compile(r"^\s*(?:FM)?[\s\-_.]*\d+\.\d+\s*", re.IGNORECASE)


class LabelError(ValueError):
    """A label value that is neither true, false nor null."""


@dataclass
class ImportReport:
    """What an import of labels did."""

    rows: int = 0
    imported: int = 0
    missing: int = 0
    missing_ids: list[str] = field(default_factory=list)
    errors: list[ReadError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row was read and its trace was in the store."""
        return not self.errors and not self.missing


# -- single labels ------------------------------------------------------------------------------------------


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

    Null values leave their mode out. When two keys name the same mode, present wins over absent.
    """
    taxonomy = taxonomy or mast()
    present: dict[str, bool] = {}
    unmapped: list[str] = []
    for key, raw in labels.items():
        mode_id = taxonomy.resolve(str(key), numbering=numbering)
        if mode_id is None:
            unmapped.append(str(key))
            continue
        value = label_value(raw)
        if value is not None:
            present[mode_id] = present.get(mode_id, False) or value
    verdicts = [ModeVerdict(mode_id=m, present=present[m]) for m in taxonomy.ids if m in present]
    return verdicts, unmapped


def annotation_from_labels(
    trace_id: str,
    labels: Mapping[str, Any],
    *,
    annotator: str,
    kind: AnnotatorKind = "imported",
    numbering: Numbering = "paper",
    version: str | None = None,
) -> tuple[Annotation, list[str]]:
    """One annotation from a `{mode label: value}` mapping, with the label keys that map to no mode."""
    taxonomy = mast()
    verdicts, unmapped = verdicts_from_labels(labels, numbering=numbering, taxonomy=taxonomy)
    annotation = Annotation(
        trace_id=trace_id, annotator=annotator, annotator_kind=kind, annotator_version=version,
        taxonomy=taxonomy.name, taxonomy_version=taxonomy.version, verdicts=verdicts,
    )  # fmt: skip
    return annotation, unmapped


# -- MAST human-labelled records ----------------------------------------------------------------------------


def resolve_mode_name(text: str, *, taxonomy: Taxonomy | None = None) -> str | None:
    """Mode id for a '<code> <name>' heading (definition lines may follow), by its name alone.

    Codes are ignored because they meant other modes in earlier drafts of the taxonomy.
    """
    taxonomy = taxonomy or mast()
    name = _LEADING_CODE.sub("", text, count=1).strip().splitlines()
    if not name:
        return None
    exact = taxonomy.resolve(name[0])
    return exact if exact is not None else _closest_mode(name[0], taxonomy)


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
    for mode in taxonomy.modes:
        for candidate in (mode.name, *mode.aliases):
            matcher.set_seq1(_normalise(candidate))
            # quick_ratio is an upper bound of ratio: skip the exact computation when it cannot win
            if matcher.quick_ratio() >= max(best_ratio, SPELLING_TOLERANCE) and matcher.ratio() > best_ratio:
                best_ratio, best_id = matcher.ratio(), mode.id
    return best_id if best_ratio >= SPELLING_TOLERANCE else None


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def unmapped_human_modes(entries: list[Any]) -> list[str]:
    """Headings ('<code> <name>') of human-annotation entries whose name matches no MAST mode."""
    taxonomy = mast()
    headings = [_heading(e) for e in entries if isinstance(e, dict)]
    return [h for h in headings if h and resolve_mode_name(h, taxonomy=taxonomy) is None]


def _heading(entry: dict[str, Any]) -> str:
    text = entry.get("failure mode")
    return text.strip().splitlines()[0].strip() if isinstance(text, str) and text.strip() else ""


def human_annotations(trace_id: str, entries: list[Any], *, version: str | None = None) -> list[Annotation]:
    """One `human` annotation per `annotator_<n>` column of a MAST human-labelled record's entries."""
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
    return [
        annotation_from_labels(trace_id, labels, annotator=f"human-{column}", kind="human", version=version)[0]
        for column, labels in sorted(columns.items())
    ]


# -- labels embedded in traces ------------------------------------------------------------------------------


def embedded_annotations(
    trace: Trace, *, numbering: Numbering = "paper", annotator: str | None = None
) -> list[Annotation]:
    """Annotations carried inside a trace's source record: MAD's `mast_annotation` and MAST human labels.

    Unreadable label values are skipped here (ingest must not fail on labels); `import-labels` reports them.
    """
    annotations: list[Annotation] = []
    raw = trace.metadata.get(MAST_LABELS_KEY)
    if isinstance(raw, dict):
        try:
            annotation, _ = annotation_from_labels(
                trace.id, raw, annotator=annotator or MAD_ANNOTATOR, numbering=numbering
            )
            annotations.append(annotation)
        except LabelError:
            pass
    entries = trace.metadata.get(HUMAN_LABELS_KEY)
    if isinstance(entries, list):
        version = trace.metadata.get(HUMAN_ROUND_KEY)
        try:
            annotations.extend(human_annotations(trace.id, entries, version=str(version) if version else None))
        except LabelError:
            pass
    return annotations


# -- label files --------------------------------------------------------------------------------------------


def import_labels(
    path: str | Path,
    store: Store,
    *,
    annotator: str | None = None,
    numbering: Numbering = "paper",
    kind: AnnotatorKind = "imported",
) -> ImportReport:
    """Import a label file into `store`: JSONL rows `{trace_id, labels, annotator?}` or MAD record files.

    A trace id repeated in a label file names the next trace of that id: its n-th row goes to `<id>~<n>`, the id
    the openai reader gives the n-th trace of a file that repeats ids (rows must be in the traces' order).

    Rows whose trace is not in the store are counted (`missing`), bad rows are reported with their line number,
    and everything else is written through `Store.put_annotations`.
    """
    path = Path(path)
    report = ImportReport()
    try:
        annotations = list(_read_labels(path, report, annotator=annotator, numbering=numbering, kind=kind))
    except OSError as exc:
        report.errors.append(ReadError(path, f"cannot read: {exc.strerror or exc}"))
        return report
    known = set(store.trace_ids())
    found = [a for a in annotations if a.trace_id in known]
    missing = sorted({a.trace_id for a in annotations if a.trace_id not in known})
    report.missing, report.missing_ids = len(missing), missing
    report.imported = store.put_annotations(found)
    return report


def _read_labels(
    path: Path, report: ImportReport, *, annotator: str | None, numbering: Numbering, kind: AnnotatorKind
) -> Iterator[Annotation]:
    data = path.read_bytes()
    if not data.strip():
        report.errors.append(ReadError(path, "empty file"))
        return
    if _looks_like_mad(data):
        yield from _mad_file_labels(path, report, annotator=annotator, numbering=numbering)
        return
    seen: dict[str, int] = {}
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            report.rows += 1
            annotation = _row_annotation(path, number, line, report, annotator=annotator, numbering=numbering)
            if annotation is not None:
                # A repeated trace id means the next trace of that id, as the openai reader numbers them.
                annotation.trace_id = occurrence_id(annotation.trace_id, seen)
                annotation.annotator_kind = kind
                yield annotation


def _looks_like_mad(data: bytes) -> bool:
    head = data[:4096].lstrip()
    return head.startswith((b"{", b"[")) and b'"mas_name"' in data[:65536] and b'"labels"' not in head[:200]


def _row_annotation(
    path: Path, number: int, line: bytes, report: ImportReport, *, annotator: str | None, numbering: Numbering
) -> Annotation | None:
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError:
        report.errors.append(ReadError(path, "invalid JSON (truncated or malformed line)", line=number))
        return None
    problem = _row_problem(row, annotator)
    if problem is not None:
        report.errors.append(ReadError(path, problem, line=number))
        return None
    try:
        annotation, unmapped = annotation_from_labels(
            str(row["trace_id"]), row["labels"], annotator=annotator or row["annotator"], numbering=numbering
        )
    except LabelError as exc:
        report.errors.append(ReadError(path, str(exc), line=number))
        return None
    report.warnings.extend(f"{path}:{number}: label {key!r} names no MAST mode; ignored" for key in unmapped)
    return annotation


def _row_problem(row: Any, annotator: str | None) -> str | None:
    if not isinstance(row, dict):
        return f"expected a JSON object, got {type(row).__name__}"
    if row.get("trace_id") in (None, ""):
        return "no 'trace_id'"
    if not isinstance(row.get("labels"), dict):
        return "'labels' is missing or not an object"
    if annotator is None and not (isinstance(row.get("annotator"), str) and row["annotator"]):
        return "no 'annotator' in the row and none given (--annotator)"
    return None


def _mad_file_labels(
    path: Path, report: ImportReport, *, annotator: str | None, numbering: Numbering
) -> Iterator[Annotation]:
    from agentmortem.readers import get_reader  # the readers package is only needed for MAD files

    for trace in get_reader("mad").read(path, report.errors):
        report.rows += 1
        report.warnings.extend(f"{path}: {trace.id}: {w}" for w in trace.metadata.get(LABEL_WARNINGS_KEY, []))
        yield from embedded_annotations(trace, numbering=numbering, annotator=annotator)
