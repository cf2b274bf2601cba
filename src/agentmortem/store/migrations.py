"""Ordered, named schema migrations; each is applied once and recorded in the database.

Append new migrations at the end; never edit or reorder one that has shipped. A migration is SQL, or a function of
the connection and a progress callback when it rewrites large tables and should say how far it got.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import duckdb

Progress = Callable[[str], None]
"""Receives one line per stage of a long migration ('012_trace_keys: steps: 6,000,000 rows keyed in 4.1 s')."""

MIGRATION_MEMORY = "1GB"
"""DuckDB's memory limit while a migration rewrites tables (it spills to disk beyond it)."""

MigrationStep = Callable[[duckdb.DuckDBPyConnection, Progress], None]

KEYED_TABLES = ("steps", "outcomes", "annotations", "verdicts")
"""Tables whose rows belong to one trace and carry its integer `trace_key` (migration 012)."""


def _trace_keys(con: duckdb.DuckDBPyConnection, progress: Progress) -> None:
    """012: an integer surrogate key per trace, carried by every table whose rows belong to a trace.

    Text ids stay the public identity; the key is what the report joins on (an integer join over a million rows
    costs a fraction of a text one). New traces draw their key from the sequence (the column's DEFAULT); the
    other tables get theirs when written (Store). An existing table is rebuilt rather than updated in place:
    DuckDB keeps an in-place UPDATE of every row in memory until the next checkpoint, while INSERT … SELECT
    streams to disk within the memory limit. Steps are rewritten in (trace_key, idx) order, which is the order
    ingest writes them in, so a trace's steps sit together. Runs inside the migration's transaction: a store
    interrupted mid-way keeps its old tables.
    """
    con.execute("CREATE SEQUENCE trace_keys START 1")
    # Bounded memory: the joins and the sort below spill to disk past this limit instead of growing with the store.
    # Migrations run as a store opens, before anyone set a limit of their own, so the default comes back after.
    con.execute(f"SET memory_limit = '{MIGRATION_MEMORY}'")
    try:
        _key_tables(con, progress)
    finally:
        con.execute("RESET memory_limit")


def _key_tables(con: duckdb.DuckDBPyConnection, progress: Progress) -> None:
    start = time.perf_counter()
    # Existing traces get their keys in stored (ingest) order; later ones from the DEFAULT.
    con.execute("ALTER TABLE traces ADD COLUMN trace_key BIGINT DEFAULT nextval('trace_keys')")
    traces = _count(con, "traces")
    progress(f"012_trace_keys: traces: {traces:,} keys assigned in {time.perf_counter() - start:.1f} s")
    for table in KEYED_TABLES:
        start = time.perf_counter()
        order = " ORDER BY t.trace_key, x.idx" if table == "steps" else ""
        ddl = _table_sql(con, table).replace(f"CREATE TABLE {table}(", f"CREATE TABLE _keyed_{table}(", 1)
        con.execute(ddl)
        con.execute(f"ALTER TABLE _keyed_{table} ADD COLUMN trace_key BIGINT")
        # LEFT JOIN: a row whose trace is gone keeps a NULL key rather than being lost.
        con.execute(
            f"""INSERT INTO _keyed_{table} BY NAME
                SELECT x.*, t.trace_key FROM {table} x LEFT JOIN traces t ON t.id = x.trace_id{order}"""
        )
        con.execute(f"DROP TABLE {table}")
        con.execute(f"ALTER TABLE _keyed_{table} RENAME TO {table}")
        rows = _count(con, table)
        progress(f"012_trace_keys: {table}: {rows:,} rows keyed in {time.perf_counter() - start:.1f} s")


def _table_sql(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The table's CREATE statement as DuckDB keeps it (every column and constraint earlier migrations gave it)."""
    row = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [table]).fetchone()
    if row is None:
        raise duckdb.CatalogException(f"table {table} not found")
    return re.sub(rf"^CREATE TABLE (main\.)?{table}\s*\(", f"CREATE TABLE {table}(", row[0], count=1)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]


MIGRATIONS: list[tuple[str, str | MigrationStep]] = [
    (
        "001_traces",
        """
        CREATE TABLE traces (
            id VARCHAR PRIMARY KEY,
            fingerprint VARCHAR NOT NULL,
            schema_version VARCHAR NOT NULL,
            source_format VARCHAR NOT NULL,
            source_path VARCHAR,
            model VARCHAR,
            agent_system VARCHAR,
            benchmark VARCHAR,
            task VARCHAR,
            metadata JSON,
            n_steps INTEGER NOT NULL,
            ingested_at TIMESTAMP NOT NULL
        );
        -- No index on steps: bulk inserts stay fast, and every read selects one trace's rows or scans all.
        CREATE TABLE steps (
            trace_id VARCHAR NOT NULL,
            idx INTEGER NOT NULL,
            kind VARCHAR NOT NULL,
            role VARCHAR,
            agent VARCHAR,
            content VARCHAR,
            tool_name VARCHAR,
            tool_args VARCHAR,
            call_id VARCHAR,
            pair_index INTEGER,
            is_error BOOLEAN NOT NULL,
            ts TIMESTAMPTZ,
            input_tokens BIGINT,
            output_tokens BIGINT,
            source_type VARCHAR
        );
        CREATE TABLE outcomes (
            trace_id VARCHAR PRIMARY KEY,
            success BOOLEAN,
            score DOUBLE,
            source VARCHAR,
            metrics JSON
        );
        """,
    ),
    (
        "002_annotations",
        """
        CREATE TABLE annotations (
            trace_id VARCHAR NOT NULL,
            annotator VARCHAR NOT NULL,
            annotator_kind VARCHAR NOT NULL,
            annotator_version VARCHAR,
            taxonomy VARCHAR NOT NULL,
            taxonomy_version VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            error VARCHAR,
            summary VARCHAR,
            task_completed BOOLEAN,
            created_at TIMESTAMP,
            usage JSON,
            PRIMARY KEY (trace_id, annotator)
        );
        CREATE TABLE verdicts (
            trace_id VARCHAR NOT NULL,
            annotator VARCHAR NOT NULL,
            mode_id VARCHAR NOT NULL,
            present BOOLEAN,
            confidence DOUBLE,
            first_step INTEGER,
            evidence JSON,
            explanation VARCHAR,
            flags JSON
        );
        """,
    ),
    (
        "003_llm_request_cache",
        """
        -- The LLM judge's answers by cache key (a hash of everything that can change the answer), kept the
        -- moment each proves usable, and a log of every request sent or served from the cache.
        CREATE TABLE llm_cache (
            key VARCHAR PRIMARY KEY,
            model VARCHAR,
            answer VARCHAR NOT NULL,
            usage JSON,
            created_at TIMESTAMP NOT NULL
        );
        CREATE TABLE llm_requests (
            ts TIMESTAMP NOT NULL,
            key VARCHAR NOT NULL,
            trace_id VARCHAR,
            annotator VARCHAR,
            model VARCHAR,
            base_url VARCHAR,
            from_cache BOOLEAN NOT NULL,
            error VARCHAR,
            prompt_tokens BIGINT,
            cached_tokens BIGINT,
            completion_tokens BIGINT,
            cost_usd DOUBLE
        );
        """,
    ),
    (
        "004_annotation_facts",
        """
        -- Per-trace facts of an annotation, kept with it so a report reads one row per trace instead of grouping
        -- every verdict row again. Bit i of the masks and position i of `located` is the i-th mode id of
        -- `fact_modes` (a JSON array of the annotation's verdict modes, sorted); `located` holds
        -- (i << 32) | (first evidence step & 0xFFFFFFFF) for each present mode with one. All NULL when an
        -- annotation has more than 62 verdict modes (the report then reads the verdicts).
        ALTER TABLE annotations ADD COLUMN fact_modes VARCHAR;
        ALTER TABLE annotations ADD COLUMN present_bits BIGINT;
        ALTER TABLE annotations ADD COLUMN known_bits BIGINT;
        ALTER TABLE annotations ADD COLUMN located BIGINT[];
        UPDATE annotations a
        SET fact_modes = f.fact_modes, present_bits = f.present_bits, known_bits = f.known_bits, located = f.located
        FROM (
            SELECT trace_id, annotator, to_json(list(mode_id ORDER BY pos))::VARCHAR AS fact_modes,
                   bit_or(CASE WHEN present THEN 1::BIGINT << pos ELSE 0::BIGINT END) AS present_bits,
                   bit_or(CASE WHEN known THEN 1::BIGINT << pos ELSE 0::BIGINT END) AS known_bits,
                   coalesce(list((pos << 32) | (step & 4294967295) ORDER BY pos)
                                FILTER (WHERE present AND step IS NOT NULL), []) AS located
            FROM (
                SELECT *, row_number() OVER (PARTITION BY trace_id, annotator ORDER BY mode_id)::BIGINT - 1 AS pos
                FROM (SELECT trace_id, annotator, mode_id, bool_or(present) AS present,
                             count(present) > 0 AS known, min(first_step) FILTER (WHERE present) AS step
                      FROM verdicts GROUP BY trace_id, annotator, mode_id)
            )
            GROUP BY trace_id, annotator HAVING count(*) <= 62
        ) f
        WHERE a.trace_id = f.trace_id AND a.annotator = f.annotator;
        UPDATE annotations a SET fact_modes = '[]', present_bits = 0, known_bits = 0, located = []
        WHERE NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.trace_id = a.trace_id AND v.annotator = a.annotator);
        """,
    ),
    (
        "005_step_references",
        """
        -- Step-level reference labels: where a run became unrecoverable (Who&When's decisive step), who did it, and
        -- which agent each verdict blames.
        ALTER TABLE annotations ADD COLUMN decisive_step INTEGER;
        ALTER TABLE annotations ADD COLUMN decisive_agent VARCHAR;
        ALTER TABLE annotations ADD COLUMN decisive_mode VARCHAR;
        ALTER TABLE verdicts ADD COLUMN agent VARCHAR;
        """,
    ),
    (
        "006_outcome_warnings",
        """
        -- Reasons to doubt an outcome (an ITBench deliverable the session did not write, say), kept with it.
        ALTER TABLE outcomes ADD COLUMN warnings JSON;
        """,
    ),
    (
        "007_llm_reasoning_tokens",
        """
        -- Tokens a reasoning model spent thinking (part of completion_tokens, priced as each provider prices them),
        -- logged per request so a run's cost can be split into input, cached input, output and reasoning.
        ALTER TABLE llm_requests ADD COLUMN reasoning_tokens BIGINT DEFAULT 0;
        """,
    ),
    ("012_trace_keys", _trace_keys),
]
