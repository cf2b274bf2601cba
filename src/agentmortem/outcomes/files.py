"""Generic outcome files: CSV or JSON Lines rows of `trace_id, success, score`.

* CSV needs a header row naming `trace_id` and at least one of `success` / `score` (case-insensitive); JSON Lines
  rows are objects with those keys. The format follows the suffix (`.csv`, `.tsv`, `.jsonl`, `.ndjson`, `.json`),
  else the first character (`{` means JSON Lines).
* `success` is true/false, 1/0, yes/no (any case) or empty/null for unknown; `score` is a number or empty/null.
  A row must say at least one of them. Any other numeric column is kept in `Outcome.metrics`.
* A bad row (unknown trace id, unreadable success or score, a repeated trace id) is reported as a `ReadError`
  with its line number in the `errors` list the caller passes, and every good row is still returned; the first
  occurrence of a repeated trace id wins. Without an `errors` list, the first bad row raises instead.
* Each outcome's `source` is `file:<path>`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from agentmortem.model import Outcome
from agentmortem.readers.base import ReadError

_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})
_KNOWN = frozenset({"trace_id", "success", "score"})

Row = tuple[int, dict[str, Any]]


def load_outcomes_file(path: Path, *, errors: list[ReadError] | None = None) -> dict[str, Outcome]:
    """Outcomes keyed by trace id from a CSV or JSONL file with trace_id, success, score.

    Whole-file problems (missing file, no usable header) raise ReadError; bad rows go to `errors` when given.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ReadError(path, f"cannot read outcomes file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ReadError(path, f"outcomes file is not UTF-8 (byte offset {exc.start})") from None
    rows = _jsonl_rows(path, text) if _is_jsonl(path, text) else _csv_rows(path, text)
    outcomes: dict[str, Outcome] = {}
    first_line: dict[str, int] = {}
    for line, row in rows:
        try:
            trace_id, outcome = _outcome(row, source=f"file:{path}")
            if trace_id in outcomes:
                raise ValueError(f"trace_id {trace_id!r} repeated (first on line {first_line[trace_id]})")
        except ValueError as exc:
            _report(ReadError(path, str(exc), line=line), errors)
            continue
        outcomes[trace_id], first_line[trace_id] = outcome, line
    return outcomes


def _report(error: ReadError, errors: list[ReadError] | None) -> None:
    if errors is None:
        raise error
    errors.append(error)


def _is_jsonl(path: Path, text: str) -> bool:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return True
    if suffix in (".csv", ".tsv"):
        return False
    return text.lstrip().startswith("{")


def _jsonl_rows(path: Path, text: str) -> Iterator[Row]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield number, {"__error__": f"invalid JSON: {exc.msg}"}
            continue
        yield number, value if isinstance(value, dict) else {"__error__": "row is not a JSON object"}


def _csv_rows(path: Path, text: str) -> Iterator[Row]:
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    fields = {name.strip().lower() for name in reader.fieldnames or []}
    if "trace_id" not in fields or not fields & {"success", "score"}:
        raise ReadError(path, "outcomes CSV needs a header with trace_id and success and/or score", line=1)
    for row in reader:
        yield reader.line_num, {(k or "").strip().lower(): v for k, v in row.items()}


def _outcome(row: dict[str, Any], *, source: str) -> tuple[str, Outcome]:
    """One row as `(trace_id, Outcome)`; ValueError naming the problem for a bad row."""
    if "__error__" in row:
        raise ValueError(row["__error__"])
    trace_id = row.get("trace_id")
    if not isinstance(trace_id, str | int) or not str(trace_id).strip():
        raise ValueError("missing trace_id")
    success, score = parse_success(row.get("success")), parse_score(row.get("score"))
    if success is None and score is None:
        raise ValueError(f"trace {str(trace_id)!r} has neither success nor score")
    metrics = {k: v for k, v in row.items() if k not in _KNOWN and _as_number(v) is not None}
    metrics = {k: _as_number(v) for k, v in metrics.items()}
    return str(trace_id).strip(), Outcome(success=success, score=score, source=source, metrics=metrics)


def parse_success(value: Any) -> bool | None:
    """true/false, 1/0, yes/no (any case), or None for empty/null; ValueError for anything else."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text == "":
        return None
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"success {value!r} is not true/false/1/0/yes/no")


def parse_score(value: Any) -> float | None:
    """A finite number, or None for empty/null; ValueError for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _as_number(value)
    if number is None:
        raise ValueError(f"score {value!r} is not a finite number")
    return number


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
