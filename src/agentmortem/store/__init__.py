"""The embedded DuckDB store: the only package that writes SQL.

`store.py` holds the `Store` (traces, steps, outcomes, annotations); its parts live beside it: `parquet.py`
(export), `signatures.py` (report aggregations), `llm_cache.py` (the LLM judge's request cache), `base.py`
(connection, transactions, errors) and `migrations.py` (the schema, in order).
"""

from agentmortem.store.base import DB_ENV_VAR, ExportExistsError, StoreError, StoreInUseError, default_db_path
from agentmortem.store.store import AnnotatorSummary, Store, TraceSummary, WriteStats

__all__ = [
    "DB_ENV_VAR",
    "AnnotatorSummary",
    "ExportExistsError",
    "Store",
    "StoreError",
    "StoreInUseError",
    "TraceSummary",
    "WriteStats",
    "default_db_path",
]
