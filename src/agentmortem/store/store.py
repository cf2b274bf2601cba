"""The embedded DuckDB store: the only module in agentmortem that writes SQL.

Everything is written in transactions, so a trace (with its steps and outcome) or an annotation (with its
verdicts) is stored whole or not at all. Bulk writes go through Arrow tables, never row-by-row inserts.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import orjson
import pyarrow as pa

from agentmortem.model import Annotation, Evidence, ModeVerdict, Outcome, Step, Trace
from agentmortem.store.migrations import MIGRATIONS

DEFAULT_DB = "agentmortem.duckdb"
DB_ENV_VAR = "AGENTMORTEM_DB"


def default_db_path() -> str:
    """The store path: $AGENTMORTEM_DB when set, else ./agentmortem.duckdb."""
    return os.environ.get(DB_ENV_VAR) or DEFAULT_DB


class StoreError(Exception):
    """The store cannot be opened or written (one line, naming the database file)."""


class ExportExistsError(StoreError):
    """The folder given to a Parquet export already holds one (and overwriting was not asked for)."""


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


@dataclass(frozen=True)
class AnnotatorSummary:
    """One row of `annotations list`."""

    annotator: str
    kind: str
    traces: int
    failed: int
    present_verdicts: int


GroupColumn = Literal["model", "agent_system", "benchmark", "metadata"]
"""Trace column a report groups by; 'metadata' takes a key (dotted for nested objects)."""


@dataclass(frozen=True)
class CascadeRow:
    """Cascade aggregates of one group (analysis: failure signatures); mode lists follow the given mode order."""

    group: str
    population: str  # 'failed', or 'all' for a group without known outcomes
    located: int  # traces with at least one mode located by an evidence step
    unlocated: int  # traces with modes present but none located
    counts: list[int]  # traces where mode i is located
    positions: list[float | None]  # mean relative position of mode i's first evidence step
    roots: list[int]  # traces where mode i is (one of) the earliest
    precedence: list[list[int]]  # [i][j]: traces where mode i first appears strictly before mode j


@dataclass(frozen=True)
class SignatureTables:
    """The small tables a report is built from (see Store.signature_tables)."""

    masks: list[tuple[str, str, int, int, int]]  # (group, class f/s/u, present mask, known mask, traces)
    cascade: list[CascadeRow]
    drilldown: list[tuple[str, str, str]]  # (trace id, group, class), per group best first, groups interleaved


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
_STEP_FIELDS = [name for name, _ in _STEP_COLUMNS[2:]]  # Step attribute names after trace_id, idx


class Store:
    """A DuckDB file holding traces, steps, outcomes and annotations. Migrations run when it opens."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = str(path) if path is not None else default_db_path()
        try:
            self.con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: cannot open store: {str(exc).splitlines()[0]}") from exc
        if not read_only:
            self._migrate()

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
        done = {row[0] for row in self.con.execute("SELECT name FROM _migrations").fetchall()}
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            with self._transaction():
                self.con.execute(sql)
                self.con.execute("INSERT INTO _migrations VALUES (?, ?)", [name, _now()])

    def applied_migrations(self) -> list[str]:
        """Names of the migrations recorded in this database, in order."""
        return [r[0] for r in self.con.execute("SELECT name FROM _migrations ORDER BY name").fetchall()]

    def _transaction(self) -> _Transaction:
        return _Transaction(self.con)

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
        traces = _last_per_id(traces)
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
        now = _now()
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
        self.con.register("_new_traces", trace_rows)
        self.con.execute("INSERT INTO traces SELECT * FROM _new_traces")
        self.con.unregister("_new_traces")
        self.con.register("_new_steps", _steps_table(traces))
        self.con.execute("INSERT INTO steps SELECT * FROM _new_steps")
        self.con.unregister("_new_steps")

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
            }
        )
        self.con.register("_new_outcomes", table)
        self.con.execute("INSERT INTO outcomes SELECT * FROM _new_outcomes")
        self.con.unregister("_new_outcomes")

    def has_trace(self, trace_id: str) -> bool:
        """True when a trace with this id is stored."""
        return bool(self.con.execute("SELECT count(*) FROM traces WHERE id = ?", [trace_id]).fetchone()[0])  # type: ignore[index]

    def trace_ids(self) -> list[str]:
        """All stored trace ids, sorted."""
        return [r[0] for r in self.con.execute("SELECT id FROM traces ORDER BY id").fetchall()]

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
        rows = self.con.execute(
            """SELECT t.id, t.fingerprint, t.schema_version, t.source_format, t.source_path, t.model,
                      t.agent_system, t.benchmark, t.task, t.metadata, o.success, o.score, o.source, o.metrics
               FROM traces t LEFT JOIN outcomes o ON o.trace_id = t.id
               WHERE t.id IN (SELECT unnest(?::VARCHAR[])) ORDER BY t.id""",
            [ids],
        ).fetchall()
        steps = self._load_steps(ids)
        return [_trace_from_row(row, steps.get(row[0], [])) for row in rows]

    def _load_steps(self, ids: list[str]) -> dict[str, list[Step]]:
        cols = ", ".join(name for name, _ in _STEP_COLUMNS)
        rows = self.con.execute(
            f"SELECT {cols} FROM steps WHERE trace_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY trace_id, idx",
            [ids],
        ).fetchall()
        by_trace: dict[str, list[Step]] = {}
        for trace_id, index, *values in rows:
            fields = dict(zip(_STEP_FIELDS, values, strict=True))
            fields["timestamp"] = fields.pop("ts")
            by_trace.setdefault(trace_id, []).append(Step(index=index, **fields))
        return by_trace

    def list_traces(self, *, limit: int | None = None) -> list[TraceSummary]:
        """Summaries of stored traces, in id order."""
        rows = self.con.execute(
            """SELECT t.id, t.source_format, t.model, t.agent_system, t.benchmark, t.n_steps, o.success, o.score,
                      coalesce((SELECT list(a.annotator ORDER BY a.annotator) FROM annotations a
                                WHERE a.trace_id = t.id), [])
               FROM traces t LEFT JOIN outcomes o ON o.trace_id = t.id ORDER BY t.id LIMIT ?""",
            [limit if limit is not None else 2**62],
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
        now = _now()
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
                "created_at": [_naive_utc(a.created_at) or now for a in annotations],
                "usage": [orjson.dumps(a.usage, default=str).decode() if a.usage else "{}" for a in annotations],
                **_facts_columns(annotations),
            }
        )
        self.con.register("_new_annotations", rows)
        self.con.execute("INSERT INTO annotations BY NAME SELECT * FROM _new_annotations")
        self.con.unregister("_new_annotations")
        self.con.register("_new_verdicts", _verdicts_table(annotations))
        self.con.execute("INSERT INTO verdicts SELECT * FROM _new_verdicts")
        self.con.unregister("_new_verdicts")

    def get_annotations(
        self, *, annotator: str | None = None, trace_ids: Sequence[str] | None = None
    ) -> list[Annotation]:
        """Stored annotations, filtered by annotator and/or trace ids, ordered by trace id then annotator."""
        where, params = _annotation_filter(annotator, trace_ids)
        heads = self.con.execute(
            f"""SELECT trace_id, annotator, annotator_kind, annotator_version, taxonomy, taxonomy_version, status,
                       error, summary, task_completed, created_at, usage
                FROM annotations a {where} ORDER BY trace_id, annotator""",
            params,
        ).fetchall()
        verdict_rows = self.con.execute(
            f"""SELECT trace_id, annotator, mode_id, present, confidence, evidence, explanation, flags
                FROM verdicts a {where} ORDER BY trace_id, annotator, mode_id""",
            params,
        ).fetchall()
        verdicts: dict[tuple[str, str], list[ModeVerdict]] = {}
        for row in verdict_rows:
            verdicts.setdefault((row[0], row[1]), []).append(_verdict_from_row(row))
        return [_annotation_from_row(head, verdicts.get((head[0], head[1]), [])) for head in heads]

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
        rows = self.con.execute(
            """SELECT a.annotator, any_value(a.annotator_kind), count(*), count(*) FILTER (WHERE a.status = 'failed'),
                      coalesce((SELECT count(*) FROM verdicts v WHERE v.annotator = a.annotator AND v.present), 0)
               FROM annotations a GROUP BY a.annotator ORDER BY a.annotator"""
        ).fetchall()
        return [AnnotatorSummary(*row) for row in rows]

    # -- scale-out: Parquet interchange -----------------------------------------------------------------------

    def export_parquet(self, directory: str | Path, *, overwrite: bool = False) -> dict[str, int]:
        """Write the stored tables as hive-partitioned Parquet, one folder per table (see PARQUET_LAYOUT).

        Returns the rows written per table. All tables are copied inside one transaction, so the export is one
        consistent snapshot. Refuses a table folder that already holds files unless `overwrite` is set.
        """
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        self._clear_export(root, overwrite=overwrite)
        counts: dict[str, int] = {}
        with self._transaction():
            for table, (select, partition) in PARQUET_LAYOUT.items():
                counts[table] = self._copy_parquet(root / table, select, partition)
        return counts

    @staticmethod
    def _clear_export(root: Path, *, overwrite: bool) -> None:
        taken = [root / t for t in PARQUET_LAYOUT if (root / t).is_dir() and any((root / t).iterdir())]
        if taken and not overwrite:
            raise ExportExistsError(f"{root}: already holds an export ({taken[0].name}/ has files)")
        for folder in taken:
            shutil.rmtree(folder)  # a table that is empty now must not keep the files of an older export

    def _copy_parquet(self, target: Path, select: str, partition: str) -> int:
        rows = int(self.con.execute(f"SELECT count(*) FROM ({select})").fetchone()[0])  # type: ignore[index]
        if rows:
            path = str(target).replace("'", "''")
            try:
                self.con.execute(f"COPY ({select}) TO '{path}' (FORMAT PARQUET, PARTITION_BY ({partition}))")
            except duckdb.Error as exc:
                raise StoreError(f"{target}: cannot write Parquet: {str(exc).splitlines()[0]}") from exc
        return rows

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

    def _view_over_parquet(self, table: str, files: list[Path], partition: str) -> None:
        # The view keeps the table's own columns and types, so queries cannot tell it from the table; the
        # partition key comes back from the folder names, read as text whatever it looks like ("123" stays text).
        # A column the export predates (added by a later migration) reads as NULL rather than failing the view.
        listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        options = f"hive_partitioning = true, union_by_name = true, hive_types = {{'{partition}': VARCHAR}}"
        source = f"read_parquet([{listing}], {options})"
        present = {row[0] for row in self.con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        columns = self.con.execute(f"DESCRIBE {table}").fetchall()
        select = ", ".join(_view_column(name, type_, present) for name, type_, *_ in columns)
        with self._transaction():
            self.con.execute(f"DROP TABLE {table}")
            self.con.execute(f"CREATE VIEW {table} AS SELECT {select} FROM {source}")

    # -- analysis: failure signatures (report) ---------------------------------------------------------------
    # Every figure of a report comes from these aggregations: the million-row work stays inside DuckDB and only
    # small tables (per group x outcome x mode set; per group x mode pair) come back to Python.

    def signature_accounting(
        self, annotator: str, *, group_column: GroupColumn = "model", group_key: str | None = None
    ) -> list[tuple[str, str | None, str, int, float, int]]:
        """Trace accounting per group for a report.

        Rows: (group, annotation status or None when not annotated, outcome class f/s/u, traces, score sum,
        traces with a score).
        """
        group_sql, params = _group_sql(group_column, group_key)
        rows = self.con.execute(
            f"""SELECT {group_sql} AS grp, a.status,
                       CASE o.success WHEN true THEN 's' WHEN false THEN 'f' ELSE 'u' END AS cls,
                       count(*), coalesce(fsum(o.score), 0), count(o.score)
                FROM traces t LEFT JOIN annotations a ON a.trace_id = t.id AND a.annotator = $annotator
                LEFT JOIN outcomes o ON o.trace_id = t.id
                GROUP BY ALL ORDER BY ALL""",
            {**params, "annotator": annotator},
        ).fetchall()
        return [(r[0], r[1], r[2], int(r[3]), float(r[4]), int(r[5])) for r in rows]

    def signature_tables(
        self,
        annotator: str,
        mode_ids: Sequence[str],
        *,
        group_column: GroupColumn = "model",
        group_key: str | None = None,
        drilldown: int = 200,
    ) -> SignatureTables:
        """The small tables a failure-signature report is computed from, over traces with an 'ok' annotation.

        One pass groups the annotator's verdicts per trace into bit masks (bit i = mode_ids[i]) and first
        evidence steps; the rest aggregates that per-trace table. Cascade rows cover failed traces, or all traces
        of groups where no outcome is known.
        """
        if len(mode_ids) > 62:
            raise StoreError(f"{self.path}: a report handles at most 62 modes, the taxonomy has {len(mode_ids)}")
        self.con.register("_am_modes", pa.table({"mode_id": list(mode_ids), "bit": list(range(len(mode_ids)))}))
        try:
            self._signature_per_trace(annotator, mode_ids, group_column, group_key)
            masks = self.con.execute(
                "SELECT grp, cls, present_mask, known_mask, count(*) FROM _am_per_trace GROUP BY ALL ORDER BY ALL"
            ).fetchall()
            no_outcome = sorted({r[0] for r in masks} - {r[0] for r in masks if r[1] != "u"})
            cascade = self._signature_cascade(len(mode_ids), no_outcome)
            picks = self._signature_drilldown(drilldown)
        finally:
            self.con.execute("DROP TABLE IF EXISTS _am_per_trace; DROP TABLE IF EXISTS _am_loc")
            self.con.unregister("_am_modes")
        return SignatureTables(masks=[tuple(r) for r in masks], cascade=cascade, drilldown=picks)

    def _signature_per_trace(
        self, annotator: str, mode_ids: Sequence[str], column: GroupColumn, key: str | None
    ) -> None:
        # One row per analysed trace: masks in report bits and `located` as (bit << 32) | first evidence step.
        # The facts stored with each annotation (migration 004) give it from one row per trace; annotations
        # without them (an export older than the columns) or naming modes outside the report's are re-derived
        # from the verdict rows, which gives the same table.
        layouts = self._fact_layouts(annotator, mode_ids)
        if layouts is None:
            self._per_trace_from_verdicts(annotator, column, key)
        else:
            self._per_trace_from_facts(annotator, column, key, layouts)

    def _fact_layouts(self, annotator: str, mode_ids: Sequence[str]) -> list[tuple[str, list[int]]] | None:
        """Per `fact_modes` layout of the annotator's analysed annotations, the report bit of each position."""
        rows = self.con.execute(
            "SELECT DISTINCT fact_modes FROM annotations WHERE annotator = ? AND status = 'ok'", [annotator]
        ).fetchall()
        bits = {mode_id: i for i, mode_id in enumerate(mode_ids)}
        layouts = []
        for (layout,) in rows:
            modes = orjson.loads(layout) if layout is not None else None
            if modes is None or any(mode_id not in bits for mode_id in modes):
                return None
            layouts.append((layout, [bits[mode_id] for mode_id in modes]))
        return layouts

    def _per_trace_from_facts(
        self, annotator: str, column: GroupColumn, key: str | None, layouts: list[tuple[str, list[int]]]
    ) -> None:
        group_sql, params = _group_sql(column, key)
        columns, layout_params = _fact_columns_sql(layouts)
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _am_per_trace AS
                SELECT a.trace_id, {group_sql} AS grp,
                       CASE o.success WHEN true THEN 's' WHEN false THEN 'f' ELSE 'u' END AS cls, t.n_steps,
                       {columns}
                FROM annotations a JOIN traces t ON t.id = a.trace_id
                LEFT JOIN outcomes o ON o.trace_id = a.trace_id
                WHERE a.annotator = $annotator AND a.status = 'ok'""",
            {**params, **layout_params, "annotator": annotator},
        )

    def _per_trace_from_verdicts(self, annotator: str, column: GroupColumn, key: str | None) -> None:
        group_sql, params = _group_sql(column, key)
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _am_per_trace AS
                WITH vb AS (
                    SELECT v.trace_id, m.bit, bool_or(v.present) AS present, count(v.present) > 0 AS known,
                           min(v.first_step) FILTER (WHERE v.present) AS step
                    FROM verdicts v JOIN _am_modes m ON m.mode_id = v.mode_id
                    WHERE v.annotator = $annotator GROUP BY v.trace_id, m.bit),
                pv AS (
                    SELECT trace_id, bit_or(CASE WHEN present THEN 1::BIGINT << bit ELSE 0::BIGINT END) AS present_mask,
                           bit_or(CASE WHEN known THEN 1::BIGINT << bit ELSE 0::BIGINT END) AS known_mask,
                           list((bit::BIGINT << 32) | (step & 4294967295)) FILTER (WHERE present AND step IS NOT NULL)
                               AS located
                    FROM vb GROUP BY trace_id)
                SELECT a.trace_id, {group_sql} AS grp,
                       CASE o.success WHEN true THEN 's' WHEN false THEN 'f' ELSE 'u' END AS cls, t.n_steps,
                       coalesce(pv.present_mask, 0) AS present_mask, coalesce(pv.known_mask, 0) AS known_mask,
                       pv.located
                FROM annotations a JOIN traces t ON t.id = a.trace_id
                LEFT JOIN outcomes o ON o.trace_id = a.trace_id
                LEFT JOIN pv ON pv.trace_id = a.trace_id
                WHERE a.annotator = $annotator AND a.status = 'ok'""",
            {**params, "annotator": annotator},
        )

    def _signature_cascade(self, n: int, no_outcome_groups: list[str]) -> list[CascadeRow]:
        population = "(cls = 'f' OR grp IN (SELECT unnest($groups::VARCHAR[])))"
        groups = {"groups": no_outcome_groups}
        self.con.execute(
            # One row per located mode of a trace (`located` holds each mode once), numbered per trace so the
            # precedence self-join runs on a dense integer; the trace's root step rides along, so no window.
            f"""CREATE OR REPLACE TEMP TABLE _am_loc AS
                SELECT r, grp, n_steps, root, l >> 32 AS bit, {_STEP_OF.format("l")} AS step
                FROM (SELECT row_number() OVER () AS r, grp, n_steps, unnest(located) AS l,
                             list_min(list_transform(located, lambda x: {_STEP_OF.format("x")})) AS root
                      FROM _am_per_trace WHERE len(located) > 0 AND {population})""",
            groups,
        )
        counts = self.con.execute(
            f"""SELECT grp, count(*) FILTER (WHERE len(located) > 0),
                       count(*) FILTER (WHERE present_mask <> 0 AND coalesce(len(located), 0) = 0)
                FROM _am_per_trace WHERE {population} GROUP BY grp""",
            groups,
        ).fetchall()
        per_mode = self.con.execute(
            """SELECT grp, bit, count(*), avg(least(1.0, step::DOUBLE / greatest(n_steps - 1, 1))),
                      count(*) FILTER (WHERE step = root)
               FROM _am_loc GROUP BY grp, bit"""
        ).fetchall()
        pairs = self.con.execute(
            """SELECT x.grp, x.bit, y.bit, count(*) FROM _am_loc x
               JOIN _am_loc y ON x.r = y.r AND x.step < y.step GROUP BY ALL"""
        ).fetchall()
        self.con.execute("DROP TABLE IF EXISTS _am_loc")
        return _cascade_rows(n, set(no_outcome_groups), counts, per_mode, pairs)

    def _signature_drilldown(self, limit: int) -> list[tuple[str, str, str]]:
        # Per group, the `limit` most telling traces: failed first, then unknown outcome, most modes first.
        if limit <= 0:
            return []
        rows = self.con.execute(
            """SELECT grp, min_by(trace_id, {'c': CASE cls WHEN 'f' THEN 0 WHEN 'u' THEN 1 ELSE 2 END,
                                             'm': -bit_count(present_mask), 'id': trace_id}, $limit)
               FROM _am_per_trace GROUP BY grp ORDER BY grp""",
            {"limit": limit},
        ).fetchall()
        ids = [trace_id for _, picked in rows for trace_id in picked]
        classes = self.con.execute(
            "SELECT trace_id, grp, cls FROM _am_per_trace WHERE trace_id IN (SELECT unnest($ids::VARCHAR[]))",
            {"ids": ids},
        ).fetchall()
        order = {trace_id: i for i, trace_id in enumerate(ids)}
        return sorted(((r[0], r[1], r[2]) for r in classes), key=lambda r: order[r[0]])

    def signature_baseline_scan(self, annotator: str) -> list[tuple[str, int, int]]:
        """Per mode: (mode_id, verdicts, present) in one aggregate scan; the yardstick of benchmarks/report_scale."""
        rows = self.con.execute(
            """SELECT mode_id, count(present), count(*) FILTER (WHERE present) FROM verdicts
               WHERE annotator = ? GROUP BY mode_id ORDER BY mode_id""",
            [annotator],
        ).fetchall()
        return [(r[0], int(r[1]), int(r[2])) for r in rows]

    # -- LLM judge: request cache and request log -----------------------------------------------------------

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
            [key, model, answer, orjson.dumps(usage).decode(), _now()],
        )

    def log_llm_request(self, record: dict[str, Any]) -> None:
        """Append one LLM request (sent or served from the cache) to the request log; any thread."""
        self._thread_con().execute(
            "INSERT INTO llm_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [_now(), *(record.get(name) for name in _LLM_LOG_FIELDS)],
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


PARQUET_LAYOUT: dict[str, tuple[str, str]] = {
    "traces": ("SELECT * FROM traces", "model"),
    "steps": (
        "SELECT s.*, t.model FROM steps s JOIN traces t ON t.id = s.trace_id ORDER BY s.trace_id, s.idx",
        "model",
    ),
    "outcomes": ("SELECT o.*, t.model FROM outcomes o JOIN traces t ON t.id = o.trace_id", "model"),
    "annotations": ("SELECT * FROM annotations", "annotator"),
    "verdicts": ("SELECT * FROM verdicts", "annotator"),
}
"""Parquet export layout: table folder -> (rows, hive partition key). Steps and outcomes carry their trace's model
as the partition key so one model's folder of every trace-side table is a self-contained slice."""


_LLM_LOG_FIELDS = [
    "key", "trace_id", "annotator", "model", "base_url", "from_cache", "error",
    "prompt_tokens", "cached_tokens", "completion_tokens", "cost_usd",
]  # fmt: skip


class _Transaction:
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


def _view_column(name: str, type_: str, present: set[str]) -> str:
    value = f'"{name}"' if name in present else "NULL"
    return f'CAST({value} AS {type_}) AS "{name}"'


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _last_per_id(traces: Sequence[Trace]) -> list[Trace]:
    return list({t.id: t for t in traces}.values())


def _steps_table(traces: list[Trace]) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [] for name, _ in _STEP_COLUMNS}
    for trace in traces:
        for step in trace.steps:
            columns["trace_id"].append(trace.id)
            columns["idx"].append(step.index)
            for field in _STEP_FIELDS:
                columns[field].append(getattr(step, field if field != "ts" else "timestamp"))
    return pa.table(columns, schema=_STEP_SCHEMA)


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
        }
    )


def _first_step(evidence: list[Evidence]) -> int | None:
    """`ModeVerdict.first_step`, without the generator it costs per verdict (most have no evidence)."""
    if not evidence:
        return None
    return evidence[0].step if len(evidence) == 1 else min(e.step for e in evidence)


def _evidence_json(evidence: list[Evidence]) -> str:
    return orjson.dumps([e.model_dump() for e in evidence]).decode() if evidence else "[]"


_MAX_FACT_MODES = 62  # the masks are signed 64-bit integers

_STEP_OF = "(xor({0} & 4294967295, 2147483648) - 2147483648)::INTEGER"
"""SQL for the step packed in the low 32 bits of a `located` entry (sign-extended: a step may be negative)."""


def _facts(annotation: Annotation) -> tuple[str, int, int, list[int]] | None:
    """Per-trace facts of an annotation as migration 004 defines them; None past _MAX_FACT_MODES modes."""
    modes = sorted({v.mode_id for v in annotation.verdicts})
    if len(modes) > _MAX_FACT_MODES:
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


def _annotation_filter(annotator: str | None, trace_ids: Sequence[str] | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if annotator is not None:
        clauses.append("a.annotator = ?")
        params.append(annotator)
    if trace_ids is not None:
        clauses.append("a.trace_id IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(trace_ids))
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def _trace_from_row(row: tuple[Any, ...], steps: list[Step]) -> Trace:
    outcome = Outcome(success=row[10], score=row[11], source=row[12], metrics=orjson.loads(row[13]) if row[13] else {})
    return Trace(
        id=row[0], fingerprint=row[1], schema_version=row[2], source_format=row[3], source_path=row[4],
        model=row[5], agent_system=row[6], benchmark=row[7], task=row[8],
        metadata=orjson.loads(row[9]) if row[9] else {}, outcome=outcome, steps=steps,
    )  # fmt: skip


def _trace_summary(row: tuple[Any, ...]) -> TraceSummary:
    trace_id, fmt, model, system, benchmark, n_steps, success, score, annotators = row
    return TraceSummary(trace_id, fmt, model, system, benchmark, n_steps, success, score, tuple(annotators))


def _verdict_from_row(row: tuple[Any, ...]) -> ModeVerdict:
    return ModeVerdict(
        mode_id=row[2], present=row[3], confidence=row[4],
        evidence=[Evidence(**e) for e in orjson.loads(row[5] or "[]")],
        explanation=row[6] or "", flags=orjson.loads(row[7] or "[]"),
    )  # fmt: skip


def _annotation_from_row(row: tuple[Any, ...], verdicts: list[ModeVerdict]) -> Annotation:
    return Annotation(
        trace_id=row[0], annotator=row[1], annotator_kind=row[2], annotator_version=row[3], taxonomy=row[4],
        taxonomy_version=row[5], status=row[6], error=row[7], summary=row[8] or "", task_completed=row[9],
        created_at=row[10], usage=orjson.loads(row[11]) if row[11] else {}, verdicts=verdicts,
    )  # fmt: skip


def _group_sql(column: GroupColumn, key: str | None) -> tuple[str, dict[str, Any]]:
    """SQL for a trace's group value (never NULL) and its parameters; only known column names are spliced in."""
    if column == "metadata":
        if not key or '"' in key:
            raise StoreError(f"invalid metadata key {key!r} to group by")
        # KEY is looked up in the trace's metadata, then in a `metadata` object nested in it: readers that keep a
        # source record's top-level fields (OpenAI-chat JSONL) leave the record's own metadata one level down.
        path = "$." + ".".join(f'"{part}"' for part in key.split("."))
        sql = (
            "coalesce(json_extract_string(t.metadata, $group_path), json_extract_string(t.metadata, $nested_path),"
            " '(none)')"
        )
        return sql, {"group_path": path, "nested_path": '$."metadata".' + path[2:]}
    if column not in ("model", "agent_system", "benchmark"):
        raise StoreError(f"cannot group by {column!r}")
    return f"coalesce(t.{column}, '(none)')", {}


def _fact_columns_sql(layouts: list[tuple[str, list[int]]]) -> tuple[str, dict[str, Any]]:
    """SQL for present_mask, known_mask and located from an annotation's stored facts, and its parameters."""
    if all(bits == list(range(len(bits))) for _, bits in layouts):
        return "a.present_bits AS present_mask, a.known_bits AS known_mask, a.located", {}
    # A layout whose positions are not the report's bits (a partial or reordered mode set) moves each position
    # to its bit through the layout's bit list.
    bitmap = "$bitmaps[list_position($layouts, a.fact_modes)]"
    located = f"list_transform(a.located, lambda l: ({bitmap}[(l >> 32) + 1]::BIGINT << 32) | (l & 4294967295))"
    sql = (
        f"{_moved_mask('a.present_bits', bitmap)} AS present_mask, {_moved_mask('a.known_bits', bitmap)} AS"
        f" known_mask, {located} AS located"
    )
    return sql, {"layouts": [name for name, _ in layouts], "bitmaps": [bits for _, bits in layouts]}


def _moved_mask(mask: str, bitmap: str) -> str:
    """SQL moving bit p of `mask` to bit `bitmap`[p] (a per-row list of report bits)."""
    moved = f"list_transform(range(len({bitmap})), lambda p: (({mask} >> p) & 1) << {bitmap}[p + 1])"
    return f"coalesce(list_sum({moved}), 0)"


def _empty_cascade_row(group: str, population: str, located: int, unlocated: int, n: int) -> CascadeRow:
    zeros = [[0] * n for _ in range(n)]
    return CascadeRow(group, population, int(located), int(unlocated), [0] * n, [None] * n, [0] * n, zeros)


def _cascade_rows(
    n: int,
    no_outcome_groups: set[str],
    counts: list[tuple[Any, ...]],
    per_mode: list[tuple[Any, ...]],
    pairs: list[tuple[Any, ...]],
) -> list[CascadeRow]:
    rows = {
        group: _empty_cascade_row(group, "all" if group in no_outcome_groups else "failed", located, unlocated, n)
        for group, located, unlocated in counts
    }
    for group, bit, traces, position, roots in per_mode:
        rows[group].counts[bit], rows[group].positions[bit], rows[group].roots[bit] = traces, position, roots
    for group, first, then, traces in pairs:
        rows[group].precedence[first][then] = int(traces)
    return [rows[group] for group in sorted(rows)]
