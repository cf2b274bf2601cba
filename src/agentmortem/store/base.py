"""What every part of the store shares: the connection, transactions, errors and the facts encoding."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from agentmortem.defaults import DB_ENV_VAR as DB_ENV_VAR
from agentmortem.defaults import DEFAULT_DB as DEFAULT_DB
from agentmortem.defaults import default_db_path as default_db_path


class StoreError(Exception):
    """The store cannot be opened or written (one line, naming the database file)."""


class ExportExistsError(StoreError):
    """The folder given to a Parquet export already holds one (and overwriting was not asked for)."""


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
