"""What every part of the store shares: the connection, transactions, errors and the facts encoding."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from agentmortem.defaults import DB_ENV_VAR as DB_ENV_VAR
from agentmortem.defaults import DEFAULT_DB as DEFAULT_DB
from agentmortem.defaults import default_db_path as default_db_path


class StoreError(Exception):
    """The store cannot be opened or written (one line, naming the database file)."""


class StoreInUseError(StoreError):
    """Another process holds the store open for writing (DuckDB allows one writer, or readers only)."""


class ExportExistsError(StoreError):
    """The folder given to a Parquet export already holds one (and overwriting was not asked for)."""


IN_MEMORY = ":memory:"
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def connect(path: str, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to the store at `path`; StoreError with a one-line reason when it cannot be had.

    Read-only opening never creates a file: a missing store is an error naming the path. DuckDB's own read-only
    mode is used, so a store on a read-only file system or without write permission reads fine, and nothing is
    written even for a user (root) whom permissions would not stop.
    """
    if read_only and path != IN_MEMORY and not Path(path).is_file():
        what = "is not a file" if Path(path).exists() else "does not exist"
        raise StoreError(f"{path}: no store: the path {what} (give --db the store you ingested into)")
    try:
        return duckdb.connect(path, read_only=read_only)
    except duckdb.Error as exc:
        raise _open_error(path, exc, read_only=read_only) from exc


def _open_error(path: str, exc: duckdb.Error, *, read_only: bool) -> StoreError:
    message = str(exc).splitlines()[0]
    holder = _LOCK_HOLDER.search(message)
    if holder is not None:
        program, pid = Path(holder.group(1)).name, holder.group(2)
        who = "another agentmortem process" if program.startswith("python") or program == "agentmortem" else program
        return StoreInUseError(
            f"{path}: store is in use by {who} (pid {pid}); wait for it to finish or give another --db"
        )
    if not read_only and ("Permission denied" in message or "Read-only file system" in message):
        reason = "read-only file system" if "Read-only" in message else "permission denied"
        return StoreError(f"{path}: cannot open the store for writing: {reason}")
    return StoreError(f"{path}: cannot open store: {message}")


MAX_FACT_MODES = 62  # the masks are signed 64-bit integers

STEP_OF_SQL = "(xor({0} & 4294967295, 2147483648) - 2147483648)::INTEGER"
"""SQL for the step packed in the low 32 bits of a `located` entry (sign-extended: a step may be negative)."""


class Transaction:
    """BEGIN … COMMIT, or ROLLBACK on any exception, so nothing half-written stays."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def __enter__(self) -> None:
        self.con.begin()

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.con.commit()
        else:
            self.con.rollback()


def utc_now() -> datetime:
    """Now, as naive UTC (how the store keeps timestamps)."""
    return datetime.now(UTC).replace(tzinfo=None)


def naive_utc(value: datetime | None) -> datetime | None:
    """`value` as naive UTC; None stays None."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


class StoreBase:
    """The connection and transactions the store's parts (traces, Parquet, signatures, LLM cache) build on."""

    con: duckdb.DuckDBPyConnection
    path: str

    def _transaction(self) -> Transaction:
        return Transaction(self.con)
