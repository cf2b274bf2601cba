"""The embedded DuckDB store: the only module in agentmortem that writes SQL.

Everything is written in transactions, so a trace (with its steps and outcome) or an annotation (with its
verdicts) is stored whole or not at all. Bulk writes go through Arrow tables, never row-by-row inserts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any, Literal

import duckdb
import orjson
import pyarrow as pa

from agentmortem.model import Annotation, Evidence, ModeVerdict, Outcome, Step, Trace, content_fingerprint
from agentmortem.store.base import (
    MAX_FACT_MODES,
    StoreBase,
    StoreError,
    StoreInUseError,
    Transaction,
    connect,
    default_db_path,
    naive_utc,
    utc_now,
)
from agentmortem.store.calibration import CalibrationQueries
from agentmortem.store.llm_cache import LLMCache
from agentmortem.store.migrations import MIGRATIONS, Progress
from agentmortem.store.parquet import PARQUET_LAYOUT, ParquetExport
from agentmortem.store.signatures import SignatureQueries


@dataclass
class WriteStats:
    """What a batch of trace writes did."""

    added: int = 0
    replaced: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class TraceSummary:
    """One row of `traces list`."""

    id: str
    source_format: str
    model: str | None
    agent_system: str | None
    benchmark: str | None
    n_steps: int
    success: bool | None
    score: float | None
    annotators: tuple[str, ...]


TraceOutcome = Literal["success", "failure", "unknown"]
"""A trace's outcome as `traces list --outcome` selects it (unknown: no success flag recorded)."""


@dataclass(frozen=True)
class AnnotatorSummary:
    """One row of `annotations list`."""

    annotator: str
    kind: str
    traces: int
    failed: int
    present_verdicts: int


_STEP_COLUMNS = [
    ("trace_id", pa.string()),
    ("idx", pa.int32()),
    ("kind", pa.string()),
    ("role", pa.string()),
    ("agent", pa.string()),
    ("content", pa.string()),
    ("tool_name", pa.string()),
    ("tool_args", pa.string()),
    ("call_id", pa.string()),
    ("pair_index", pa.int32()),
    ("is_error", pa.bool_()),
    ("ts", pa.timestamp("us", tz="UTC")),
    ("input_tokens", pa.int64()),
    ("output_tokens", pa.int64()),
    ("source_type", pa.string()),
]
_STEP_SCHEMA = pa.schema(_STEP_COLUMNS)
_HEAD_COLUMNS = (
    "id, fingerprint, schema_version, source_format, source_path, model, agent_system, benchmark, task, metadata"
)
_ID_LOOKUP_CHUNK = 1000  # ids per IN list of parameters: DuckDB answers such a list from the index up to 2048
_STEP_FIELDS = [name for name, _ in _STEP_COLUMNS[2:]]  # Step attribute names after trace_id, idx
_STEP_ROW = attrgetter("index", *(name if name != "ts" else "timestamp" for name in _STEP_FIELDS))
"""A step's stored fields, in `_STEP_COLUMNS` order after `trace_id`."""


class Store(ParquetExport, CalibrationQueries, SignatureQueries, LLMCache, StoreBase):
    """A DuckDB file holding traces, steps, outcomes and annotations. Migrations run when it opens."""

    indexed_ids = True  # False over Parquet views (`from_parquet`), which have no primary-key index

    def __init__(
        self, path: str | Path | None = None, *, read_only: bool = False, progress: Progress | None = None
    ) -> None:
        """Open (or, unless `read_only`, create) the store; StoreError naming the path when that fails.

        `read_only` never creates or writes anything (see `store.base.connect`). A store from an older
        agentmortem opened read-only is brought up to date first when it can be written, and refused when not.
        Long migrations report each stage to `progress` (default: the `agentmortem.store` logger, at INFO).
        """
        self.path = str(path) if path is not None else default_db_path()
        self._progress = progress or _log_progress
        self.con = connect(self.path, read_only=read_only)
        if not read_only:
            self._migrate()
            return
        pending = self._pending_migrations()
        if pending:
            self.con.close()
            self._upgrade_then_reopen(pending)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        self.con.close()

    def on_own_cursor(self) -> Store:
        """The same database through a cursor of its own, for use from one other thread.

        A DuckDB connection must not be used by two threads at once; cursors of it may, each from its own thread.
        The twin is closed with this store's connection.
        """
        twin = object.__new__(Store)
        twin.path = self.path
        twin.con = self.con.cursor()
        return twin

    # -- schema ---------------------------------------------------------------------------------------------

    def _migrate(self) -> None:
        self.con.execute("CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
        done = set(self.applied_migrations())
        for name, step in MIGRATIONS:
            if name in done:
                continue
            with self._transaction():
                if isinstance(step, str):
                    self.con.execute(step)
                else:
                    step(self.con, self._progress)
                self.con.execute("INSERT INTO _migrations VALUES (?, ?)", [name, utc_now()])

    def _pending_migrations(self) -> list[str]:
        """Migrations a read-only store lacks; StoreError when the file is no agentmortem store at all."""
        try:
            done = set(self.applied_migrations())
        except duckdb.CatalogException:
            self.con.close()
            raise StoreError(f"{self.path}: not an agentmortem store (a DuckDB file without its tables)") from None
        return [name for name, _ in MIGRATIONS if name not in done]

    def _upgrade_then_reopen(self, pending: list[str]) -> None:
        try:
            Store(self.path, progress=self._progress).close()
        except StoreInUseError:
            raise
        except StoreError as exc:
            reason = str(exc).removeprefix(f"{self.path}: ")
            raise StoreError(
                f"{self.path}: store written by an older agentmortem lacks {', '.join(pending)} and cannot be "
                f"upgraded here ({reason}); copy it somewhere writable and open the copy"
            ) from None
        self.con = connect(self.path, read_only=True)

    def applied_migrations(self) -> list[str]:
        """Names of the migrations recorded in this database, in order."""
        return [r[0] for r in self.con.execute("SELECT name FROM _migrations ORDER BY name").fetchall()]

    def _transaction(self) -> Transaction:
        return Transaction(self.con)

    # -- traces ---------------------------------------------------------------------------------------------

    def add_traces(self, traces: Sequence[Trace], *, annotations: Sequence[Annotation] = ()) -> WriteStats:
        """Store a batch of traces in one transaction; idempotent by trace id and content fingerprint.

        A trace already stored with the same fingerprint is left as is (its outcome is updated when the new
        one is known). A trace whose id is stored with another fingerprint is replaced, and its annotations
        are dropped because their evidence steps may no longer point at the same content. `annotations` of
        these traces (labels a reader found, a judge run inline) are written in the same transaction.
        """
        stats = WriteStats()
        if not traces:
            return stats
        _require_unique_ids(traces)
        for trace in traces:
            if not trace.fingerprint:
                trace.with_fingerprint()
        with self._transaction():
            existing = self._fingerprints([t.id for t in traces])
            fresh = [t for t in traces if existing.get(t.id) != t.fingerprint]
            fresh_ids = {t.id for t in fresh}
            replaced = [t.id for t in fresh if t.id in existing]
            if replaced:
                self._delete_traces(replaced)
            self._insert_traces(fresh)
            self._upsert_outcomes([(t.id, t.outcome) for t in traces if t.id in fresh_ids or t.outcome.known])
            self._replace_annotations(annotations, new_traces=fresh_ids)
        stats.added = len(fresh) - len(replaced)
        stats.replaced = len(replaced)
        stats.unchanged = len(traces) - len(fresh)
        return stats

    def adopt_former_ids(self, traces: Sequence[Trace], former_ids: Sequence[str]) -> list[tuple[str, str]]:
        """Rename stored traces from an id they had before to the id they have now, when their content is the same.

        `former_ids[i]` is the id `traces[i]` was stored under by an earlier agentmortem (see
        `agentmortem.identity`). A stored trace is renamed only when its fingerprint is the one the trace would have
        under the former id, and no trace holds the new id yet; its steps, outcome and annotations follow.
        Returns the `(former, new)` pairs renamed.
        """
        stored = self._fingerprints(list(former_ids))
        if not stored:
            return []
        taken = self._fingerprints([t.id for t in traces])
        renames: dict[str, Trace] = {}  # one stored trace goes to one new id, the first that matches
        for trace, former in zip(traces, former_ids, strict=True):
            if former in stored and former not in renames and trace.id not in taken:
                if stored[former] == content_fingerprint(trace, as_id=former):
                    renames[former] = trace
        if renames:
            self._rename_traces(renames)
        return [(former, trace.id) for former, trace in renames.items()]

    def _rename_traces(self, renames: dict[str, Trace]) -> None:
        mapping = pa.table(
            {
                "old": list(renames),
                "new": [trace.id for trace in renames.values()],
                "fingerprint": [trace.fingerprint or content_fingerprint(trace) for trace in renames.values()],
            }
        )
        self.con.register("_renames", mapping)
        try:
            with self._transaction():
                self.con.execute(
                    "UPDATE traces SET id = r.new, fingerprint = r.fingerprint FROM _renames r WHERE traces.id = r.old"
                )
                for table in ("steps", "outcomes", "annotations", "verdicts"):
                    self.con.execute(
                        f"UPDATE {table} SET trace_id = r.new FROM _renames r WHERE {table}.trace_id = r.old"
                    )
        finally:
            self.con.unregister("_renames")

    def _fingerprints(self, ids: list[str]) -> dict[str, str]:
        rows = self.con.execute(
            "SELECT id, fingerprint FROM traces WHERE id IN (SELECT unnest(?::VARCHAR[]))", [ids]
        ).fetchall()
        return dict(rows)

    def _delete_traces(self, ids: list[str]) -> None:
        for table, column in [
            ("steps", "trace_id"),
            ("outcomes", "trace_id"),
            ("verdicts", "trace_id"),
            ("annotations", "trace_id"),
            ("traces", "id"),
        ]:
            self.con.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT unnest(?::VARCHAR[]))", [ids])

    def _insert_traces(self, traces: list[Trace]) -> None:
        if not traces:
            return
        now = utc_now()
        trace_rows = pa.table(
            {
                "id": [t.id for t in traces],
                "fingerprint": [t.fingerprint for t in traces],
                "schema_version": [t.schema_version for t in traces],
                "source_format": [t.source_format for t in traces],
                "source_path": [t.source_path for t in traces],
                "model": [t.model for t in traces],
                "agent_system": [t.agent_system for t in traces],
                "benchmark": [t.benchmark for t in traces],
                "task": [t.task for t in traces],
                "metadata": [orjson.dumps(t.metadata, default=str).decode() for t in traces],
                "n_steps": pa.array([len(t.steps) for t in traces], pa.int32()),
                "ingested_at": [now] * len(traces),
            }
        )
        # Each new trace draws its integer key from the column's DEFAULT (migration 012); its steps carry it.
        keys = self._bulk_insert("traces", trace_rows, key_from=None, returning="id, trace_key")
        self.con.register("_new_keys", pa.table({"id": [k[0] for k in keys], "trace_key": [k[1] for k in keys]}))
        try:
            self._bulk_insert("steps", _steps_table(traces), key_from="_new_keys")
            self._adopt_orphans()
        finally:
            self.con.unregister("_new_keys")

    def _adopt_orphans(self) -> None:
        """Give annotations stored before their trace (so without a key) the key of the trace now in `_new_keys`."""
        if not self.con.execute("SELECT count(*) FROM annotations WHERE trace_key IS NULL").fetchall()[0][0]:
            return
        for table in ("annotations", "verdicts"):
            self.con.execute(
                f"""UPDATE {table} SET trace_key = k.trace_key FROM _new_keys k
                    WHERE {table}.trace_key IS NULL AND {table}.trace_id = k.id"""
            )

    def _bulk_insert(
        self, table: str, rows: pa.Table, *, key_from: str | None = "traces", returning: str | None = None
    ) -> list[tuple[Any, ...]]:
        """One INSERT of a whole Arrow table, matched by column name: a column `rows` lacks takes its default.

        Rows of a table owned by a trace take its integer key (migration 012) from `key_from` (a relation with
        `id` and `trace_key`; NULL for a trace not stored); None for the traces themselves. `returning` columns
        of the inserted rows come back.
        """
        view = f"_new_{table}"
        self.con.register(view, rows)
        try:
            source = (
                f"SELECT * FROM {view}"
                if key_from is None
                else f"SELECT n.*, k.trace_key FROM {view} n LEFT JOIN {key_from} k ON k.id = n.trace_id"
            )
            result = self.con.execute(
                f"INSERT INTO {table} BY NAME {source}" + (f" RETURNING {returning}" if returning else "")
            )
            return result.fetchall() if returning else []
        finally:
            self.con.unregister(view)

    def set_outcomes(self, outcomes: Iterable[tuple[str, Outcome]]) -> int:
        """Set outcomes of stored traces (unknown ids are ignored); returns how many traces were updated."""
        pairs = list(outcomes)
        with self._transaction():
            known = set(self._fingerprints([trace_id for trace_id, _ in pairs]))
            pairs = [(trace_id, outcome) for trace_id, outcome in pairs if trace_id in known]
            self._upsert_outcomes(pairs)
        return len(pairs)

    def _upsert_outcomes(self, pairs: list[tuple[str, Outcome]]) -> None:
        if not pairs:
            return
        ids = [trace_id for trace_id, _ in pairs]
        self.con.execute("DELETE FROM outcomes WHERE trace_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
        table = pa.table(
            {
                "trace_id": ids,
                "success": pa.array([o.success for _, o in pairs], pa.bool_()),
                "score": pa.array([o.score for _, o in pairs], pa.float64()),
                "source": [o.source for _, o in pairs],
                "metrics": [orjson.dumps(o.metrics, default=str).decode() for _, o in pairs],
                "warnings": [orjson.dumps(o.warnings).decode() if o.warnings else None for _, o in pairs],
            }
        )
        self._bulk_insert("outcomes", table)

    def has_trace(self, trace_id: str) -> bool:
        """True when a trace with this id is stored."""
        return bool(self.con.execute("SELECT count(*) FROM traces WHERE id = ?", [trace_id]).fetchone()[0])  # type: ignore[index]

    def trace_ids(self) -> list[str]:
        """All stored trace ids, sorted."""
        return [r[0] for r in self.con.execute("SELECT id FROM traces ORDER BY id").fetchall()]

    def trace_sources(self) -> dict[str, str | None]:
        """Every stored trace id with the file it was read from."""
        return dict(self.con.execute("SELECT id, source_path FROM traces").fetchall())

    def metadata_values(self, key: str, ids: Sequence[str]) -> dict[str, Any]:
        """`metadata[key]` of the given traces, for those whose metadata has it."""
        rows = self.con.execute(
            """SELECT id, json_extract(metadata, ?) FROM traces
               WHERE id IN (SELECT unnest(?::VARCHAR[])) AND json_extract(metadata, ?) IS NOT NULL""",
            ["$." + key, list(ids), "$." + key],
        ).fetchall()
        return {trace_id: orjson.loads(value) for trace_id, value in rows}

    def outcome_successes(self, ids: Sequence[str]) -> dict[str, bool | None]:
        """Whether each of the given stored traces succeeded (None: unknown); ids not stored are left out."""
        rows = self.con.execute(
            """SELECT t.id, o.success FROM traces t LEFT JOIN outcomes o ON o.trace_id = t.id
               WHERE t.id IN (SELECT unnest(?::VARCHAR[]))""",
            [list(ids)],
        ).fetchall()
        return dict(rows)

    def step_agents(self, ids: Sequence[str]) -> dict[str, list[str | None]]:
        """The agent of every step (in step order) of the given stored traces."""
        rows = self.con.execute(
            """SELECT trace_id, list(agent ORDER BY idx) FROM steps
               WHERE trace_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY trace_id""",
            [list(ids)],
        ).fetchall()
        return dict(rows)

    def count_traces(self) -> int:
        """Number of stored traces."""
        return int(self.con.execute("SELECT count(*) FROM traces").fetchone()[0])  # type: ignore[index]

    def get_trace(self, trace_id: str) -> Trace | None:
        """The stored trace with its steps and outcome, or None."""
        return next(self.iter_traces([trace_id]), None)

    def iter_traces(self, ids: Sequence[str] | None = None, *, batch_size: int = 256) -> Iterator[Trace]:
        """Stored traces with steps and outcomes, in id order, fetched in batches so memory stays bounded."""
        all_ids = list(ids) if ids is not None else self.trace_ids()
        for start in range(0, len(all_ids), batch_size):
            yield from self._load_traces(all_ids[start : start + batch_size])

    def _load_traces(self, ids: list[str]) -> list[Trace]:
        # By id through the primary-key index (an IN list of parameters uses it), then outcomes and steps by the
        # integer key: the steps scan reads one integer column and fetches only the matching rows.
        heads = self._traces_by_id(ids)
        keys = [row[-1] for row in heads]
        outcomes = {
            row[0]: row[1:]
            for row in self.con.execute(
                """SELECT trace_key, success, score, source, metrics, warnings FROM outcomes
                   WHERE trace_key IN (SELECT unnest(?::BIGINT[]))""",
                [keys],
            ).fetchall()
        }
        steps = self._load_steps(keys)
        empty = (None, None, None, None, None)
        return [_trace_from_row(row[:-1] + outcomes.get(row[-1], empty), steps.get(row[-1], [])) for row in heads]

    def _traces_by_id(self, ids: list[str], columns: str = _HEAD_COLUMNS) -> list[tuple[Any, ...]]:
        """`columns` and trace_key (last) of the stored traces among `ids`, in id order.

        A store's table answers an IN list of parameters from its primary-key index; Parquet views have no index,
        and there one semi-join beats a long IN list.
        """
        if self.indexed_ids is False:
            sql = f"SELECT {columns}, trace_key FROM traces WHERE id IN (SELECT unnest(?::VARCHAR[]))"
            return sorted(self.con.execute(sql, [ids]).fetchall(), key=lambda row: row[0])
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(ids), _ID_LOOKUP_CHUNK):
            chunk = ids[start : start + _ID_LOOKUP_CHUNK]
            placeholders = ", ".join("?" * len(chunk))
            rows += self.con.execute(
                f"SELECT {columns}, trace_key FROM traces WHERE id IN ({placeholders})", chunk
            ).fetchall()
        return sorted(rows, key=lambda row: row[0])

    def _load_steps(self, keys: list[int]) -> dict[int, list[Step]]:
        cols = ", ".join(["trace_key", *(name for name, _ in _STEP_COLUMNS[1:])])
        rows = self.con.execute(
            f"SELECT {cols} FROM steps WHERE trace_key IN (SELECT unnest(?::BIGINT[])) ORDER BY trace_key, idx",
            [keys],
        ).fetchall()
        by_trace: dict[int, list[Step]] = {}
        for trace_id, index, *values in rows:
            fields = dict(zip(_STEP_FIELDS, values, strict=True))
            fields["timestamp"] = fields.pop("ts")
            by_trace.setdefault(trace_id, []).append(Step(index=index, **fields))
        return by_trace

    def list_traces(
        self,
        *,
        limit: int | None = None,
        model: str | None = None,
        outcome: TraceOutcome | None = None,
        annotator: str | None = None,
    ) -> list[TraceSummary]:
        """Summaries of stored traces, in id order: of `model`, with that `outcome`, annotated by `annotator`.

        An annotation counts whether it succeeded or failed, as in the summaries' `annotators`.
        """
        where, params = _trace_filters(model=model, outcome=outcome, annotator=annotator)
        rows = self.con.execute(
            f"""SELECT t.id, t.source_format, t.model, t.agent_system, t.benchmark, t.n_steps, o.success, o.score,
                      coalesce((SELECT list(a.annotator ORDER BY a.annotator) FROM annotations a
                                WHERE a.trace_id = t.id), [])
               FROM traces t LEFT JOIN outcomes o ON o.trace_id = t.id WHERE {where} ORDER BY t.id LIMIT ?""",
            [*params, limit if limit is not None else 2**62],
        ).fetchall()
        return [_trace_summary(row) for row in rows]

    # -- annotations ----------------------------------------------------------------------------------------

    def put_annotations(self, annotations: Sequence[Annotation]) -> int:
        """Store annotations (replacing the same trace x annotator) in one transaction; returns how many."""
        if not annotations:
            return 0
        with self._transaction():
            return self._replace_annotations(annotations, new_traces=set())

    def _replace_annotations(self, annotations: Sequence[Annotation], *, new_traces: set[str]) -> int:
        """Write annotations over any of the same trace x annotator; traces in `new_traces` hold none yet."""
        if not annotations:
            return 0
        annotations = list({(a.trace_id, a.annotator): a for a in annotations}.values())
        stale = [a for a in annotations if a.trace_id not in new_traces]
        if stale:  # each DELETE costs a millisecond even when it matches nothing
            keys = pa.table({"trace_id": [a.trace_id for a in stale], "annotator": [a.annotator for a in stale]})
            self.con.register("_keys", keys)
            for table in ("verdicts", "annotations"):
                self.con.execute(
                    f"DELETE FROM {table} x USING _keys k WHERE x.trace_id = k.trace_id AND x.annotator = k.annotator"
                )
            self.con.unregister("_keys")
        self._insert_annotations(annotations)
        return len(annotations)

    def _insert_annotations(self, annotations: list[Annotation]) -> None:
        now = utc_now()
        rows = pa.table(
            {
                "trace_id": [a.trace_id for a in annotations],
                "annotator": [a.annotator for a in annotations],
                "annotator_kind": [a.annotator_kind for a in annotations],
                "annotator_version": [a.annotator_version for a in annotations],
                "taxonomy": [a.taxonomy for a in annotations],
                "taxonomy_version": [a.taxonomy_version for a in annotations],
                "status": [a.status for a in annotations],
                "error": [a.error for a in annotations],
                "summary": [a.summary for a in annotations],
                "task_completed": pa.array([a.task_completed for a in annotations], pa.bool_()),
                "created_at": [naive_utc(a.created_at) or now for a in annotations],
                "usage": [orjson.dumps(a.usage, default=str).decode() if a.usage else "{}" for a in annotations],
                **_facts_columns(annotations),
                "decisive_step": pa.array([a.decisive_step for a in annotations], pa.int32()),
                "decisive_agent": pa.array([a.decisive_agent for a in annotations], pa.string()),
                "decisive_mode": pa.array([a.decisive_mode for a in annotations], pa.string()),
            }
        )
        # The trace's integer key (migration 012) rides along; NULL for a trace not stored (yet, see _adopt_orphans).
        self._bulk_insert("annotations", rows)
        self._bulk_insert("verdicts", _verdicts_table(annotations))

    def get_annotations(
        self, *, annotator: str | None = None, trace_ids: Sequence[str] | None = None, present_only: bool = False
    ) -> list[Annotation]:
        """Stored annotations, filtered by annotator and/or trace ids, ordered by trace id then annotator.

        `present_only` keeps only the verdicts that found their mode (what a drill-down shows).
        """
        where, params = self._annotation_filter(annotator, trace_ids)
        heads = self.con.execute(
            f"""SELECT trace_id, annotator, annotator_kind, annotator_version, taxonomy, taxonomy_version, status,
                       error, summary, task_completed, created_at, usage, decisive_step, decisive_agent, decisive_mode
                FROM annotations a {where} ORDER BY trace_id, annotator""",
            params,
        ).fetchall()
        verdict_rows = self.con.execute(
            f"""SELECT trace_id, annotator, mode_id, present, confidence, evidence, explanation, flags, agent
                FROM verdicts a {where} {"AND present" if present_only else ""}
                ORDER BY trace_id, annotator, mode_id""",
            params,
        ).fetchall()
        verdicts: dict[tuple[str, str], list[ModeVerdict]] = {}
        for row in verdict_rows:
            verdicts.setdefault((row[0], row[1]), []).append(_verdict_from_row(row))
        return [_annotation_from_row(head, verdicts.get((head[0], head[1]), [])) for head in heads]

    def _annotation_filter(self, annotator: str | None, trace_ids: Sequence[str] | None) -> tuple[str, list[Any]]:
        # Trace ids become integer keys (through the traces' index), so the verdicts scan compares integers; ids
        # of no stored trace are matched by text, for annotations stored before (or without) their trace.
        clauses: list[str] = ["TRUE"]
        params: list[Any] = []
        if annotator is not None:
            clauses.append("a.annotator = ?")
            params.append(annotator)
        if trace_ids is not None:
            heads = self._traces_by_id(list(trace_ids), "id")
            stored = {row[0] for row in heads}
            missing = [trace_id for trace_id in trace_ids if trace_id not in stored]
            clauses.append(
                "(a.trace_key IN (SELECT unnest(?::BIGINT[]))"
                + (" OR a.trace_id IN (SELECT unnest(?::VARCHAR[])))" if missing else ")")
            )
            params += [[row[-1] for row in heads], *([missing] if missing else [])]
        return "WHERE " + " AND ".join(clauses), params

    def annotated_trace_ids(self, annotator: str, *, status: str | None = "ok") -> set[str]:
        """Ids of traces holding an annotation by `annotator` (with the given status; None for any)."""
        sql = "SELECT trace_id FROM annotations WHERE annotator = ?"
        params: list[Any] = [annotator]
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        return {r[0] for r in self.con.execute(sql, params).fetchall()}

    def annotators(self) -> list[AnnotatorSummary]:
        """Every annotator in the store with its counts."""
        # Present verdicts are counted from the per-annotation facts (one bit per present mode, migration 004);
        # only annotations without facts (past 62 modes, an old export) are counted from their verdict rows.
        rows = self.con.execute(
            """SELECT a.annotator, any_value(a.annotator_kind), count(*), count(*) FILTER (WHERE a.status = 'failed'),
                      coalesce(sum(bit_count(a.present_bits)), 0), count(*) FILTER (WHERE a.present_bits IS NULL)
               FROM annotations a GROUP BY a.annotator ORDER BY a.annotator"""
        ).fetchall()
        unfacted = [row[0] for row in rows if row[5]]
        counted = dict(
            self.con.execute(
                """SELECT v.annotator, count(*) FROM verdicts v
                   JOIN annotations a ON a.trace_id = v.trace_id AND a.annotator = v.annotator
                   WHERE a.present_bits IS NULL AND v.present AND v.annotator IN (SELECT unnest(?::VARCHAR[]))
                   GROUP BY v.annotator""",
                [unfacted],
            ).fetchall()
            if unfacted
            else []
        )
        return [AnnotatorSummary(r[0], r[1], r[2], r[3], int(r[4]) + counted.get(r[0], 0)) for r in rows]

    @classmethod
    def from_parquet(cls, directory: str | Path) -> Store:
        """A store over a Parquet export, read in place: an in-memory DuckDB whose tables are views on the files.

        Every read query of the Store works unchanged; nothing is copied. Tables without files stay empty.
        """
        root = Path(directory)
        if not any((root / table).is_dir() for table in PARQUET_LAYOUT):
            raise StoreError(f"{root}: not a Parquet export (none of {', '.join(PARQUET_LAYOUT)} is a folder in it)")
        store = cls(":memory:")
        store.path = str(root)
        store.indexed_ids = False
        for table, (_, partition) in PARQUET_LAYOUT.items():
            files = sorted((root / table).rglob("*.parquet")) if (root / table).is_dir() else []
            if files:
                store._view_over_parquet(table, files, partition)
        return store

    def limit_memory(self, limit: str | None) -> None:
        """Cap DuckDB's own memory (block cache, checkpoints) at `limit`, e.g. '512MB'; None restores the default.

        DuckDB's default cap is most of the machine's RAM, and it fills it while ingesting (it caches what it
        writes), so a long ingest's peak memory would grow with its input; under a cap it spills to disk instead.
        """
        if limit is None:
            self.con.execute("RESET memory_limit")
            return
        if not re.fullmatch(r"\d+(\.\d+)? ?[KMGT]i?B", limit):
            raise StoreError(f"{self.path}: invalid memory limit {limit!r} (expected e.g. '512MB' or '1.5 GiB')")
        self.con.execute(f"SET memory_limit = '{limit}'")


def _log_progress(message: str) -> None:
    logging.getLogger("agentmortem.store").info("%s: %s", "migration", message)


def _require_unique_ids(traces: Sequence[Trace]) -> None:
    """A batch holding one id twice would store only one of the two: refuse it (`read_traces` never yields one)."""
    seen: set[str] = set()
    for trace in traces:
        if trace.id in seen:
            raise ValueError(f"trace id {trace.id!r} appears twice in one batch; give each trace its own id")
        seen.add(trace.id)


def _steps_table(traces: list[Trace]) -> pa.Table:
    """The steps of `traces` as one Arrow table: each step's fields read in one C call, then transposed.

    A per-field loop over every step (`getattr` 13 times a step) cost as much as parsing the steps' JSON.
    """
    steps = [step for trace in traces for step in trace.steps]
    owners = [trace.id for trace in traces for _ in trace.steps]
    if not steps:
        return _STEP_SCHEMA.empty_table()
    columns = [owners, *zip(*map(_STEP_ROW, steps), strict=True)]
    return pa.Table.from_arrays(
        [pa.array(column, type) for column, (_, type) in zip(columns, _STEP_COLUMNS, strict=True)], schema=_STEP_SCHEMA
    )


def _verdicts_table(annotations: list[Annotation]) -> pa.Table:
    # Column by column over one flat list of verdicts: comprehensions, not per-row dicts, since a batch of
    # detector annotations holds thousands of verdicts, most of them absent with no evidence and no flags.
    owners = [(a.trace_id, a.annotator) for a in annotations for _ in a.verdicts]
    verdicts = [v for a in annotations for v in a.verdicts]
    firsts = [_first_step(v.evidence) for v in verdicts]
    return pa.table(
        {
            "trace_id": [trace_id for trace_id, _ in owners],
            "annotator": [annotator for _, annotator in owners],
            "mode_id": [v.mode_id for v in verdicts],
            "present": pa.array([v.present for v in verdicts], pa.bool_()),
            "confidence": pa.array([v.confidence for v in verdicts], pa.float64()),
            "first_step": pa.array(firsts, pa.int32()),
            "evidence": [_evidence_json(v.evidence) for v in verdicts],
            "explanation": [v.explanation for v in verdicts],
            "flags": [orjson.dumps(v.flags).decode() if v.flags else "[]" for v in verdicts],
            "agent": pa.array([v.agent for v in verdicts], pa.string()),
        }
    )


def _first_step(evidence: list[Evidence]) -> int | None:
    """`ModeVerdict.first_step`, without the generator it costs per verdict (most have no evidence)."""
    if not evidence:
        return None
    return evidence[0].step if len(evidence) == 1 else min(e.step for e in evidence)


def _evidence_json(evidence: list[Evidence]) -> str:
    return orjson.dumps([e.model_dump() for e in evidence]).decode() if evidence else "[]"


def _facts(annotation: Annotation) -> tuple[str, int, int, list[int]] | None:
    """Per-trace facts of an annotation as migration 004 defines them; None past MAX_FACT_MODES modes."""
    modes = sorted({v.mode_id for v in annotation.verdicts})
    if len(modes) > MAX_FACT_MODES:
        return None
    position = {mode_id: i for i, mode_id in enumerate(modes)}
    present = known = 0
    first: dict[int, int] = {}
    for verdict in annotation.verdicts:
        if verdict.present is None:
            continue  # unknown: neither bit is set
        i = position[verdict.mode_id]
        known |= 1 << i
        if not verdict.present:
            continue
        present |= 1 << i
        step = _first_step(verdict.evidence)
        if step is not None:
            first[i] = min(step, first.get(i, step))
    located = [(i << 32) | (first[i] & 0xFFFFFFFF) for i in sorted(first)]
    return orjson.dumps(modes).decode(), present, known, located


def _facts_columns(annotations: list[Annotation]) -> dict[str, pa.Array]:
    facts = [_facts(a) for a in annotations]
    return {
        "fact_modes": pa.array([f and f[0] for f in facts], pa.string()),
        "present_bits": pa.array([f and f[1] for f in facts], pa.int64()),
        "known_bits": pa.array([f and f[2] for f in facts], pa.int64()),
        "located": pa.array([f and f[3] for f in facts], pa.list_(pa.int64())),
    }


def _trace_from_row(row: tuple[Any, ...], steps: list[Step]) -> Trace:
    outcome = Outcome(
        success=row[10], score=row[11], source=row[12], metrics=orjson.loads(row[13]) if row[13] else {},
        warnings=orjson.loads(row[14]) if row[14] else [],
    )  # fmt: skip
    return Trace(
        id=row[0], fingerprint=row[1], schema_version=row[2], source_format=row[3], source_path=row[4],
        model=row[5], agent_system=row[6], benchmark=row[7], task=row[8],
        metadata=orjson.loads(row[9]) if row[9] else {}, outcome=outcome, steps=steps,
    )  # fmt: skip


_OUTCOME_SQL: dict[str, str] = {
    "success": "o.success IS TRUE",
    "failure": "o.success IS FALSE",
    "unknown": "o.success IS NULL",
}


def _trace_filters(*, model: str | None, outcome: TraceOutcome | None, annotator: str | None) -> tuple[str, list[Any]]:
    """The WHERE clause (over `traces t`, `outcomes o`) and its parameters for `list_traces`."""
    clauses, params = ["TRUE"], list[Any]()
    if model is not None:
        clauses.append("t.model = ?")
        params.append(model)
    if outcome is not None:
        clauses.append(_OUTCOME_SQL[outcome])
    if annotator is not None:
        clauses.append("EXISTS (SELECT 1 FROM annotations a WHERE a.trace_id = t.id AND a.annotator = ?)")
        params.append(annotator)
    return " AND ".join(clauses), params


def _trace_summary(row: tuple[Any, ...]) -> TraceSummary:
    trace_id, fmt, model, system, benchmark, n_steps, success, score, annotators = row
    return TraceSummary(trace_id, fmt, model, system, benchmark, n_steps, success, score, tuple(annotators))


def _verdict_from_row(row: tuple[Any, ...]) -> ModeVerdict:
    return ModeVerdict(
        mode_id=row[2], present=row[3], confidence=row[4],
        evidence=[Evidence(**e) for e in orjson.loads(row[5] or "[]")],
        explanation=row[6] or "", flags=orjson.loads(row[7] or "[]"), agent=row[8],
    )  # fmt: skip


def _annotation_from_row(row: tuple[Any, ...], verdicts: list[ModeVerdict]) -> Annotation:
    return Annotation(
        trace_id=row[0], annotator=row[1], annotator_kind=row[2], annotator_version=row[3], taxonomy=row[4],
        taxonomy_version=row[5], status=row[6], error=row[7], summary=row[8] or "", task_completed=row[9],
        created_at=row[10], usage=orjson.loads(row[11]) if row[11] else {}, verdicts=verdicts,
        decisive_step=row[12], decisive_agent=row[13], decisive_mode=row[14],
    )  # fmt: skip
