"""Loading JSON documents and JSON Lines with one-line, located errors (shared by the JSON-based readers).

A file is tried first as one JSON document; when that fails and the file has more than one non-blank line it is
read as JSON Lines, where a bad line becomes a `ReadError` naming its line number and the other lines still count.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from agentmortem.readers.base import SNIFF_BYTES, ReadError

Record = tuple[int | None, Any]
"""A parsed JSON value and the 1-based line it came from (None for a whole-file document)."""


def read_bytes(path: Path) -> bytes:
    """The file's bytes; ReadError when it is empty or only whitespace."""
    data = path.read_bytes()
    if not data.strip():
        raise ReadError(path, "empty file")
    return data


def load_records(path: Path, errors: list[ReadError]) -> tuple[bool, Iterator[Record]]:
    """Parse `path` as one JSON document or as JSON Lines.

    Returns `(is_lines, records)`. A whole-file document that cannot be parsed and is not JSON Lines raises
    ReadError with the line of the problem; bad JSON Lines rows are appended to `errors` and skipped.
    """
    data = read_bytes(path)
    try:
        return False, iter([(None, orjson.loads(data))])
    except orjson.JSONDecodeError as exc:
        if _count_lines(data) < 2:
            raise ReadError(path, _json_reason(data, exc), line=exc.lineno) from None
    return True, iter_lines(path, data, errors)


def iter_lines(path: Path, data: bytes, errors: list[ReadError]) -> Iterator[Record]:
    """Yield `(line_number, value)` for every non-blank JSON Lines row; bad rows go to `errors`."""
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            yield number, orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            errors.append(ReadError(path, _json_reason(raw, exc), line=number))


def _count_lines(data: bytes) -> int:
    """Number of non-blank lines, stopping at two (all the caller needs to know)."""
    count = 0
    for raw in data.split(b"\n"):
        if raw.strip():
            count += 1
            if count >= 2:
                break
    return count


def _json_reason(raw: bytes, exc: orjson.JSONDecodeError) -> str:
    """A short reason: bad UTF-8 is named as such, otherwise the parser's message (truncated JSON, stray text)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"not valid UTF-8 (byte 0x{raw[bad.start]:02x} at offset {bad.start})"
    return f"invalid JSON: {exc.msg} (column {exc.colno})"


def as_text(value: Any) -> str:
    """Text for any JSON value: strings as they are, None as empty, everything else as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def first_json_value(path: Path, head: str) -> Any:
    """The first JSON value a sniffed head holds whole, or None when it is cut.

    That is the whole document when the file fits in the head, else the head's first line (a JSONL record).
    """
    candidates = [head] if _fits_in_head(path) else []
    candidates.append(head.split("\n", 1)[0])
    for text in candidates:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
    return None


def _fits_in_head(path: Path) -> bool:
    try:
        return path.stat().st_size <= SNIFF_BYTES
    except OSError:
        return False
