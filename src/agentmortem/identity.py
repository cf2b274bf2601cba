"""Trace identity: where an id comes from, and how one ingest keeps every id unique without losing a trace.

**Where an id comes from.** A reader uses the source's own id when it has one (a Codex session id, a record's
``id``, an OTel trace id). When the source has none, the reader names the trace after its file with
`name_after_file`, and `readers.read_traces` replaces the file's name by the file's path relative to the folder
the ingest was given, without the suffix: ``Hand-Crafted/1`` for ``Who&When/Hand-Crafted/1.json`` when
``Who&When/`` was given (a file given by itself is named by its stem). Two folders holding equal file names
therefore never share an id, and the same input always gives the same ids.

**When two traces claim one id in one ingest** (`TraceIds`), the content decides:

* same id, same content (the same file given twice, a run folder given beside the folder holding it): a
  *duplicate*, stored once and counted;
* same id, different content (two Codex sessions with one session id, a JSONL file repeating ids): a *collision*.
  Both traces are kept: the n-th claimant of an id becomes ``<id>~<n>`` (n = 2, 3, …, skipping ids already
  taken). The rule depends on reading order only (paths in the order given, folders in name order), so
  re-ingesting the same input gives the same ids; each collision is recorded with both sources.

Across ingests the store decides: an id stored earlier with other content is *replaced* (the file changed).

**Ids of earlier versions.** Up to agentmortem 0.1 a trace named after its file took the file's stem alone
(``1-0`` for both ``Algorithm-Generated/1.json`` and ``Hand-Crafted/1.json``). Such a trace keeps its old id as
its *former id*; when the store holds the former id with the very same content, ingest renames it to the new id,
annotations included (see `Store.adopt_former_ids`). A trace stored under an old id and never re-ingested keeps
that id and stays readable by it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from agentmortem.model import Trace, fingerprint_of, step_rows

REPEAT_MARK = "~"
"""Separates an id from its occurrence number: ``<id>~2`` is the second trace that claimed ``<id>``."""


def occurrence_id(base: str, seen: dict[str, int]) -> str:
    """`base` the first time it is met in `seen`, then `base~2`, `base~3`… (counts are kept in `seen`).

    Label files use this to follow the ids an ingest gives a file that repeats ids (see `TraceIds`).
    """
    count = seen.get(base, 0) + 1
    seen[base] = count
    return base if count == 1 else f"{base}{REPEAT_MARK}{count}"


# --- ids named after files ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileName:
    """How a trace named after its file has its id made: `before` + the file's name + `after`."""

    before: str
    after: str
    former: str
    """The id agentmortem 0.1 gave the trace, for renaming stores that hold it."""


_FILE_NAME = "_agentmortem_file_name"
"""Where a trace carries its `FileName` while it is read: an attribute outside the model's fields, so it is never
validated, dumped, compared or stored, and costs nothing for traces that have an id of their own."""


def name_after_file(trace: Trace, path: Path, *, before: str = "", after: str = "", former: str | None = None) -> Trace:
    """Mark `trace` as having no id of its own: its id is `before` + the file's name + `after`.

    The id is set with the file's stem; `read_traces` puts the path under the ingest root in its place. `former`
    is the id agentmortem 0.1 gave such a trace when it differs from the stem form (so stores holding it can be
    renamed); by default the stem form is the former id.
    """
    trace.id = f"{before}{path.stem}{after}"
    object.__setattr__(trace, _FILE_NAME, FileName(before, after, former if former is not None else trace.id))
    return trace


def file_name(trace: Trace) -> FileName | None:
    """How `trace` was named after its file, or None when its id is the source's own."""
    named: FileName | None = trace.__dict__.get(_FILE_NAME)
    return named


def relative_name(path: Path, folder: Path) -> str:
    """`path` relative to `folder`, without its suffix, with `/` separators (its stem when it is not under it)."""
    for inner, outer in ((path, folder), (path.resolve(), folder.resolve())):
        try:
            return inner.relative_to(outer).with_suffix("").as_posix()
        except ValueError:
            continue
    return path.stem


def former_id(trace: Trace) -> str | None:
    """The id agentmortem 0.1 gave this trace, when it differs from its id now; else None."""
    named = file_name(trace)
    return named.former if named is not None and named.former != trace.id else None


# --- one ingest's ids -----------------------------------------------------------------------------------------


def trace_source(trace: Trace) -> str:
    """Where a trace was read: its file, with the line for a trace read from one line of a JSONL file."""
    return _describe(_where(trace))


Where = tuple[str, int | None]
"""A source file and, for a trace read from one line of it, the line number."""


def _where(trace: Trace) -> Where:
    line = trace.metadata.get("source_line")
    # Interned: the ledger of a file of many traces then keeps one copy of its path, however many traces it holds.
    return sys.intern(trace.source_path or "<unknown source>"), line if isinstance(line, int) else None


def _describe(where: Where) -> str:
    path, line = where
    return f"{path}:{line}" if line is not None else path


@dataclass(frozen=True)
class Collision:
    """Two different traces that claimed one id; the later one is stored under `stored_as`."""

    id: str
    stored_as: str
    first: str
    second: str

    def __str__(self) -> str:
        return (
            f"trace id {self.id!r} is claimed by two different traces, {self.first} and {self.second}; "
            f"both are kept, the second as {self.stored_as!r}"
        )


@dataclass(frozen=True)
class Duplicate:
    """The same trace (same id, same content) read a second time; it is stored once."""

    id: str
    first: str
    second: str

    def __str__(self) -> str:
        if self.first == self.second:
            return f"{self.second}: read twice (trace {self.id!r}); stored once"
        return f"{self.second}: the same trace as {self.first} (id {self.id!r}, same steps); stored once"


@dataclass
class TraceIds:
    """The ids given out in one ingest: settles each trace's final id and records duplicates and collisions."""

    collisions: list[Collision] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    _owners: dict[str, tuple[str, Where]] = field(default_factory=dict, repr=False)
    """final id -> (fingerprint, source) of the trace holding it."""
    _variants: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    """claimed id -> {fingerprint under the claimed id: final id} for the later claimants of that id."""
    _next: dict[str, int] = field(default_factory=dict, repr=False)
    _names: dict[str, str] = field(default_factory=dict, repr=False)
    """source path as given -> the name its file's id-less traces take (one entry per file, not per trace)."""
    _names_by_file: dict[str, str] = field(default_factory=dict, repr=False)
    """resolved file -> that name, so a file read again through another path is named as the first time."""

    def place(self, trace: Trace, folder: Path | None) -> None:
        """Name a trace named after its file by the file's path under `folder`, the folder the ingest was given.

        `folder` is None for a file given by itself: its stem names it. A file read a second time (given beside
        its folder) keeps the name it had the first time, so its traces are found to be duplicates. Traces with an
        id of their own are left alone.
        """
        named = file_name(trace)
        if named is None or trace.source_path is None:
            return
        name = self._names.get(trace.source_path)
        if name is None:
            name = self._names[trace.source_path] = self._file_name(Path(trace.source_path), folder)
        placed = f"{named.before}{name}{named.after}"
        if placed != trace.id:
            trace.id, trace.fingerprint = placed, ""  # the fingerprint covers the id

    def _file_name(self, path: Path, folder: Path | None) -> str:
        resolved = str(path.resolve())
        if resolved not in self._names_by_file:
            self._names_by_file[resolved] = relative_name(path, folder) if folder is not None else path.stem
        return self._names_by_file[resolved]

    def settle(self, trace: Trace) -> bool:
        """Give `trace` its final id (suffixed on a collision); False when it duplicates a trace already settled."""
        rows = None  # kept to fingerprint the trace under a suffixed id without reading its steps again
        if not trace.fingerprint:
            rows = step_rows(trace)
            trace.fingerprint = fingerprint_of(trace.id, rows)
        claimed, fingerprint = trace.id, trace.fingerprint
        owner = self._owners.get(claimed)
        if owner is None:
            self._owners[claimed] = (fingerprint, _where(trace))
            return True
        if owner[0] == fingerprint:
            self.duplicates.append(Duplicate(claimed, _describe(owner[1]), trace_source(trace)))
            return False
        variants = self._variants.setdefault(claimed, {})
        if fingerprint in variants:
            final = variants[fingerprint]
            self.duplicates.append(Duplicate(final, _describe(self._owners[final][1]), trace_source(trace)))
            return False
        final = self._free_id(claimed)
        variants[fingerprint] = final
        trace.id = final
        trace.fingerprint = fingerprint_of(final, rows if rows is not None else step_rows(trace))
        self._owners[final] = (trace.fingerprint, _where(trace))
        self.collisions.append(Collision(claimed, final, _describe(owner[1]), trace_source(trace)))
        return True

    def _free_id(self, claimed: str) -> str:
        number = self._next.get(claimed, 2)
        while f"{claimed}{REPEAT_MARK}{number}" in self._owners:
            number += 1
        self._next[claimed] = number + 1
        return f"{claimed}{REPEAT_MARK}{number}"
