"""Import failure labels from outside agentmortem into the store: label rows (JSONL), MAD record files, AgentRx.

What each form says and how it becomes an `Annotation` lives in `agentmortem.label_formats`; this module reads the
files, finds each label's trace in the store and writes the annotations.

Finding the trace: a label names it by its stored id. A trace id repeated in a label file names the next trace of
that id: its n-th row goes to ``<id>~<n>``, the id the openai reader gives the n-th trace of a file that repeats ids
(rows must be in the traces' order). An id no stored trace has, but that is the name (without extension) of the one
file a single stored trace was read from, names that trace: AgentRx names trajectories by their file name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from agentmortem.identity import occurrence_id
from agentmortem.label_formats.agentrx import ANNOTATOR as AGENTRX_ANNOTATOR
from agentmortem.label_formats.agentrx import agentrx_row, is_agentrx_document
from agentmortem.label_formats.embedded import LABEL_WARNINGS_KEY, embedded_annotations
from agentmortem.label_formats.rows import LabelError, annotation_from_row
from agentmortem.model import Annotation, AnnotatorKind, Evidence
from agentmortem.readers.base import ReadError
from agentmortem.readers.openai_chat import MESSAGE_STEPS_KEY
from agentmortem.taxonomy import Taxonomy
from agentmortem.taxonomy.taxonomy import Numbering

if TYPE_CHECKING:  # keep DuckDB out of this module's imports
    from agentmortem.store import Store

__all__ = ["ImportReport", "LabelError", "embedded_annotations", "import_labels"]


@dataclass
class ImportReport:
    """What an import of labels did."""

    rows: int = 0
    imported: int = 0
    missing: int = 0
    missing_ids: list[str] = field(default_factory=list)
    by_file_name: int = 0
    """Labels whose trace was found by the name of the file it was read from (see the module docstring)."""
    errors: list[ReadError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row was read and its trace was in the store."""
        return not self.errors and not self.missing


@dataclass
class _Label:
    """An annotation read from a file, before its trace is found; `by_message` when its steps count messages."""

    annotation: Annotation
    by_message: bool = False


@dataclass(frozen=True)
class _Options:
    annotator: str | None
    kind: AnnotatorKind | None
    numbering: Numbering
    taxonomy: Taxonomy | None


def import_labels(
    path: str | Path,
    store: Store,
    *,
    annotator: str | None = None,
    numbering: Numbering = "paper",
    kind: AnnotatorKind | None = None,
    taxonomy: Taxonomy | None = None,
) -> ImportReport:
    """Import a label file into `store`: JSONL label rows, MAD record files, or an AgentRx ground-truth file.

    `annotator` and `kind` override what the rows say; `taxonomy` is the one mode keys refer to unless a row names
    another. Rows whose trace is not in the store are counted (`missing`), bad rows are reported with their line
    number, and everything else is written through `Store.put_annotations`.
    """
    path = Path(path)
    report = ImportReport()
    options = _Options(annotator, kind, numbering, taxonomy)
    try:
        labels = list(_read_labels(path, report, options))
    except OSError as exc:
        report.errors.append(ReadError(path, f"cannot read: {exc.strerror or exc}"))
        return report
    found = _place(labels, store, report)
    report.imported = store.put_annotations(found)
    return report


def _read_labels(path: Path, report: ImportReport, options: _Options) -> Iterator[_Label]:
    data = path.read_bytes()
    if not data.strip():
        report.errors.append(ReadError(path, "empty file"))
        return
    if _looks_like_mad(data):
        yield from _mad_file_labels(path, report, options)
        return
    document = _whole_document(data)
    if is_agentrx_document(document):
        yield from _agentrx_labels(path, document, report, options)
        return
    seen: dict[str, int] = {}
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            report.rows += 1
            annotation = _row_annotation(path, number, line, report, options)
            if annotation is not None:
                # A repeated trace id means the next trace of that id, as the openai reader numbers them.
                annotation.trace_id = occurrence_id(annotation.trace_id, seen)
                yield _Label(annotation)


def _looks_like_mad(data: bytes) -> bool:
    head = data[:4096].lstrip()
    return head.startswith((b"{", b"[")) and b'"mas_name"' in data[:65536] and b'"labels"' not in head[:200]


def _whole_document(data: bytes) -> Any:
    if not data.lstrip().startswith(b"["):
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def _row_annotation(path: Path, number: int, line: bytes, report: ImportReport, options: _Options) -> Annotation | None:
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError:
        report.errors.append(ReadError(path, "invalid JSON (truncated or malformed line)", line=number))
        return None
    problem = _row_problem(row, options.annotator)
    if problem is not None:
        report.errors.append(ReadError(path, problem, line=number))
        return None
    return _annotation(path, number, row, report, options, default_annotator=None)


def _annotation(
    path: Path, number: int | None, row: dict[str, Any], report: ImportReport, options: _Options, *,
    default_annotator: str | None,
) -> Annotation | None:  # fmt: skip
    where = f"{path}:{number}" if number is not None else str(path)
    name = options.annotator or row.get("annotator") or default_annotator
    try:
        annotation, unmapped = annotation_from_row(
            str(row["trace_id"]), row, annotator=str(name), kind=options.kind, numbering=options.numbering,
            taxonomy=options.taxonomy,
        )  # fmt: skip
    except LabelError as exc:
        report.errors.append(ReadError(path, str(exc), line=number))
        return None
    report.warnings.extend(
        f"{where}: label {key!r} names no {annotation.taxonomy} mode; ignored" for key in unmapped
    )  # fmt: skip
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


def _mad_file_labels(path: Path, report: ImportReport, options: _Options) -> Iterator[_Label]:
    from agentmortem.readers import get_reader  # the readers package is only needed for MAD files

    for trace in get_reader("mad").read(path, report.errors):
        report.rows += 1
        report.warnings.extend(f"{path}: {trace.id}: {w}" for w in trace.metadata.get(LABEL_WARNINGS_KEY, []))
        for annotation in embedded_annotations(trace, numbering=options.numbering, annotator=options.annotator):
            yield _Label(annotation)


def _agentrx_labels(path: Path, document: list[Any], report: ImportReport, options: _Options) -> Iterator[_Label]:
    for ordinal, record in enumerate(document):
        report.rows += 1
        try:
            row, warnings = agentrx_row(record)
        except LabelError as exc:
            report.errors.append(ReadError(path, f"item {ordinal}: {exc}"))
            continue
        report.warnings.extend(f"{path}: item {ordinal} ({row['trace_id']}): {w}" for w in warnings)
        annotation = _annotation(path, None, row, report, options, default_annotator=AGENTRX_ANNOTATOR)
        if annotation is not None:
            yield _Label(annotation, by_message=True)


# -- finding each label's trace -----------------------------------------------------------------------------


def _place(labels: list[_Label], store: Store, report: ImportReport) -> list[Annotation]:
    """The annotations whose trace is in the store, with trace ids and (for message-counted labels) steps settled."""
    known = set(store.trace_ids())
    by_file = _ids_by_file_name(store) if any(lb.annotation.trace_id not in known for lb in labels) else {}
    placed: list[_Label] = []
    missing: set[str] = set()
    for label in labels:
        trace_id = label.annotation.trace_id
        if trace_id not in known and trace_id in by_file:
            label.annotation.trace_id = by_file[trace_id]
            report.by_file_name += 1
        if label.annotation.trace_id in known:
            placed.append(label)
        else:
            missing.add(trace_id)
    report.missing, report.missing_ids = len(missing), sorted(missing)
    _steps_from_messages([lb.annotation for lb in placed if lb.by_message], store, report)
    return [lb.annotation for lb in placed]


def _ids_by_file_name(store: Store) -> dict[str, str]:
    """File name (without extension) -> trace id, for the files exactly one stored trace was read from."""
    ids: dict[str, list[str]] = {}
    for trace_id, source in store.trace_sources().items():
        if source:
            ids.setdefault(Path(source).stem, []).append(trace_id)
    return {stem: found[0] for stem, found in ids.items() if len(found) == 1}


def _steps_from_messages(annotations: list[Annotation], store: Store, report: ImportReport) -> None:
    """Turn 0-based message indices into step indices with each trace's map (identity where it has none)."""
    if not annotations:
        return
    maps = store.metadata_values(MESSAGE_STEPS_KEY, [a.trace_id for a in annotations])
    for annotation in annotations:
        firsts = maps.get(annotation.trace_id)
        if not isinstance(firsts, list):
            continue
        for verdict in annotation.verdicts:
            verdict.evidence = [_on_step(e, firsts, annotation, report) for e in verdict.evidence]
        if annotation.decisive_step is not None:
            decisive = Evidence(step=annotation.decisive_step)
            annotation.decisive_step = _on_step(decisive, firsts, annotation, report).step


def _on_step(evidence: Evidence, firsts: list[Any], annotation: Annotation, report: ImportReport) -> Evidence:
    if evidence.step < len(firsts):
        return evidence.model_copy(update={"step": int(firsts[evidence.step])})
    report.warnings.append(f"{annotation.trace_id}: message {evidence.step + 1} is past the trace's last message")
    return evidence
