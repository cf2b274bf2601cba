"""Failure-signature queries for reports: the million-row aggregations stay in DuckDB, small tables come back."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import pyarrow as pa

from agentmortem.store.base import STEP_OF_SQL, StoreBase, StoreError

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


@dataclass(frozen=True)
class DecisiveRow:
    """Decisive-step aggregates of one group's failed traces (analysis/decisive.py); lists follow the mode order."""

    group: str
    located: int  # failed traces where a fatal mode is located by an evidence step
    roots: list[int]  # traces whose earliest located fatal mode is mode i
    median_position: float | None  # median of decisive step / (n_steps - 1)


class SignatureSession:
    """The per-trace table of one report, alive inside `SignatureQueries.signature_session`, and its aggregates."""

    def __init__(self, store: SignatureQueries, n_modes: int) -> None:
        self._store = store
        self._n = n_modes

    def tables(self, *, drilldown: int = 200) -> SignatureTables:
        """The mode-set rows, cascade rows and drill-down picks (see SignatureQueries.signature_tables)."""
        masks = self._store.con.execute(
            "SELECT grp, cls, present_mask, known_mask, count(*) FROM _am_per_trace GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        no_outcome = sorted({r[0] for r in masks} - {r[0] for r in masks if r[1] != "u"})
        cascade = self._store._signature_cascade(self._n, no_outcome)
        picks = self._store._signature_drilldown(drilldown)
        return SignatureTables(masks=[tuple(r) for r in masks], cascade=cascade, drilldown=picks)

    def decisive(self, fatal: dict[str, Sequence[int]]) -> list[DecisiveRow]:
        """Per group with fatal modes (bits, strongest first): where its failed traces' first fatal mode shows.

        Call after `tables`, which locates every failed trace's modes (`_am_loc`); one aggregate over that table.
        """
        groups = [group for group, bits in fatal.items() if bits]
        if not groups:
            return []
        ranked = [(group, bit, rank) for group in groups for rank, bit in enumerate(fatal[group])]
        columns = {"grp": [r[0] for r in ranked], "bit": [r[1] for r in ranked], "rank": [r[2] for r in ranked]}
        self._store.con.register("_am_fatal", pa.table(columns))
        try:
            rows = self._store.con.execute(
                # Per failed trace the earliest located fatal mode, ties to the stronger one: the key packs the step
                # (shifted to be non-negative) above the mode's rank, so one min() picks both. Then per group and
                # root rank the count, and per group (rank NULL) the count and the median position.
                """WITH picked AS (
                       SELECT l.grp, min((l.step + 2147483648) * 64 + f.rank) AS k, any_value(l.n_steps) AS n_steps
                       FROM _am_loc l JOIN _am_fatal f ON f.grp = l.grp AND f.bit = l.bit GROUP BY l.grp, l.r)
                   SELECT grp, k % 64 AS rank, count(*),
                          median(least(1.0, (k // 64 - 2147483648)::DOUBLE / greatest(n_steps - 1, 1)))
                   FROM picked GROUP BY GROUPING SETS ((grp, rank), (grp))"""
            ).fetchall()
        finally:
            self._store.con.unregister("_am_fatal")
        rows = [(g, None if rank is None else fatal[g][rank], n, median) for g, rank, n, median in rows]
        return _decisive_rows(self._n, rows)


class SignatureQueries(StoreBase):
    """The aggregations a failure-signature report is computed from."""

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
        with self.signature_session(annotator, mode_ids, group_column=group_column, group_key=group_key) as session:
            return session.tables(drilldown=drilldown)

    @contextmanager
    def signature_session(
        self,
        annotator: str,
        mode_ids: Sequence[str],
        *,
        group_column: GroupColumn = "model",
        group_key: str | None = None,
    ) -> Iterator[SignatureSession]:
        """The per-trace table of a report, kept while the caller reads its aggregates, then dropped.

        A report asks twice: first for the tables its statistics come from, then, once it knows each group's
        fatal modes, for the decisive steps, which depend on them; both read the one per-trace pass made here.
        """
        if len(mode_ids) > 62:
            raise StoreError(f"{self.path}: a report handles at most 62 modes, the taxonomy has {len(mode_ids)}")
        self.con.register("_am_modes", pa.table({"mode_id": list(mode_ids), "bit": list(range(len(mode_ids)))}))
        try:
            self._signature_per_trace(annotator, mode_ids, group_column, group_key)
            yield SignatureSession(self, len(mode_ids))
        finally:
            self.con.execute("DROP TABLE IF EXISTS _am_per_trace; DROP TABLE IF EXISTS _am_loc")
            self.con.unregister("_am_modes")

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
                SELECT r, grp, n_steps, root, l >> 32 AS bit, {STEP_OF_SQL.format("l")} AS step
                FROM (SELECT row_number() OVER () AS r, grp, n_steps, unnest(located) AS l,
                             list_min(list_transform(located, lambda x: {STEP_OF_SQL.format("x")})) AS root
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


def _decisive_rows(n: int, rows: list[tuple[Any, ...]]) -> list[DecisiveRow]:
    located: dict[str, tuple[int, float | None]] = {}
    roots: dict[str, list[int]] = {}
    for group, bit, traces, median in rows:
        if bit is None:
            located[group] = (int(traces), None if median is None else float(median))
        else:
            roots.setdefault(group, [0] * n)[bit] = int(traces)
    return [
        DecisiveRow(group, located[group][0], roots.get(group, [0] * n), located[group][1]) for group in sorted(located)
    ]
