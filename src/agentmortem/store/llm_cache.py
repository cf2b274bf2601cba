"""The LLM judge's request cache and request log."""

from __future__ import annotations

import threading
from typing import Any

import duckdb
import orjson

from agentmortem.store.base import StoreBase, utc_now

_LLM_LOG_FIELDS = [
    "key", "trace_id", "annotator", "model", "base_url", "from_cache", "error",
    "prompt_tokens", "cached_tokens", "completion_tokens", "cost_usd", "reasoning_tokens",
]  # fmt: skip
# Columns named: a column added by a later migration sits at the end of the table, not where the list has it.
_LOG_INSERT = (
    f"INSERT INTO llm_requests (ts, {', '.join(_LLM_LOG_FIELDS)}) "  # noqa: S608 (constant column names)
    f"VALUES ({', '.join('?' * (len(_LLM_LOG_FIELDS) + 1))})"
)


class LLMCache(StoreBase):
    """Answers by request key, and a log of every request; safe to call from worker threads."""

    def _thread_con(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for each worker thread: the LLM judge writes its cache off the event loop."""
        local = self.__dict__.setdefault("_llm_threads", threading.local())
        if not hasattr(local, "con"):
            local.con = self.con.cursor()
        return local.con

    def get_cached_answer(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """The cached raw answer and its usage for a request key, or None; any thread."""
        row = self._thread_con().execute("SELECT answer, usage FROM llm_cache WHERE key = ?", [key]).fetchone()
        return (row[0], orjson.loads(row[1]) if row[1] else {}) if row is not None else None

    def put_cached_answer(self, key: str, answer: str, usage: dict[str, Any], *, model: str) -> None:
        """Keep an answer under its request key (committed at once, so a killed run keeps it); any thread."""
        self._thread_con().execute(
            "INSERT OR REPLACE INTO llm_cache VALUES (?, ?, ?, ?, ?)",
            [key, model, answer, orjson.dumps(usage).decode(), utc_now()],
        )

    def log_llm_request(self, record: dict[str, Any]) -> None:
        """Append one LLM request (sent or served from the cache) to the request log; any thread."""
        self._thread_con().execute(
            _LOG_INSERT,
            [utc_now(), *(record.get(name) for name in _LLM_LOG_FIELDS)],
        )

    def llm_requests(self, *, trace_id: str | None = None) -> list[dict[str, Any]]:
        """Logged LLM requests, oldest first, optionally for one trace."""
        where, params = ("WHERE trace_id = ?", [trace_id]) if trace_id is not None else ("", [])
        cursor = self.con.execute(f"SELECT * FROM llm_requests {where} ORDER BY ts", params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def count_cached_answers(self) -> int:
        """Number of answers in the LLM request cache."""
        return int(self.con.execute("SELECT count(*) FROM llm_cache").fetchone()[0])  # type: ignore[index]
