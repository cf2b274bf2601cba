"""The one interface every trace reader implements, and the errors readers raise."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:  # the model (pydantic) is not needed to name formats; `agentmortem formats` stays light
    from agentmortem.model import Trace

SNIFF_BYTES = 64 * 1024
"""How much of a file's head `sniff` receives: enough to see the first records of any supported format."""


class ReadError(Exception):
    """A file (or one record of it) that cannot be read; the message is one line naming file, place and reason."""

    def __init__(self, path: str | Path, reason: str, *, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


@runtime_checkable
class Reader(Protocol):
    """Reads one trace format.

    `sniff` looks at the head of a file (decoded text, possibly cut mid-line) and says how confident it is that
    the file is in this format: 0 means no, 1 means certain. `read` yields whole traces. A reader that meets a
    bad record raises `ReadError` for a whole-file problem, or yields the traces it can and reports the bad
    records through the `errors` list it is given, so one bad line never loses the rest of the file.

    Ids: a trace takes the id its source gives it, repeats included; a trace whose source has none is named after
    its file with `agentmortem.identity.name_after_file`. `read_traces` then names such traces by their path under
    the ingest root and makes every id unique (`agentmortem.identity`), so readers need not.
    """

    name: ClassVar[str]
    description: ClassVar[str]

    def sniff(self, path: Path, head: str) -> float:
        """Confidence in [0, 1] that `path` (whose first bytes decode to `head`) is in this format."""
        ...

    def read(self, path: Path, errors: list[ReadError]) -> Iterator[Trace]:
        """Yield the traces in `path`; append recoverable per-record problems to `errors`."""
        ...


def iso_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as agents write them ('2026-01-15T17:15:06.120Z'); None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
