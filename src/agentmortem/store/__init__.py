"""The embedded DuckDB store (all SQL lives in store.py)."""

from agentmortem.store.store import (
    DB_ENV_VAR,
    AnnotatorSummary,
    Store,
    StoreError,
    TraceSummary,
    WriteStats,
    default_db_path,
)

__all__ = ["DB_ENV_VAR", "AnnotatorSummary", "Store", "StoreError", "TraceSummary", "WriteStats", "default_db_path"]
