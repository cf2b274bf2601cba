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
    """The per-trace table of one report, alive inside `SignatureQueries.signature_session`, and its aggregates.

    The table holds every trace the annotator annotated with its group, outcome class, annotation status, mode
    masks and located first steps, joined once on integer trace keys. Everything else is a pass over it or over
    its cascade shapes: accounting and mode sets share one GROUPING SETS aggregate; the cascade population is
    folded into shapes (same group, step count and located modes, weighted), whose per-mode figures, precedence
    pairs (list functions, no self-join) and decisive steps are each one small aggregate.
    """

    def __init__(self, store: SignatureQueries, n_modes: int, group_sql: str, params: dict[str, Any]) -> None:
        self._store = store
        self._n = n_modes
        self._group = (group_sql, params)
        self._accounting: list[tuple[str, str | None, str | None, int, float, int]] | None = None
        self._no_outcome: list[str] = []

    def accounting(self) -> list[tuple[str, str | None, str | None, int, float, int]]:
        """Trace accounting per group, rows as `SignatureQueries.signature_accounting` returns them.

        Except that traces the annotator has not seen come as one row per group with no outcome class (None).
        """
        if self._accounting is None:
            self._sets()
        assert self._accounting is not None
        return self._accounting

    def _sets(self) -> list[tuple[Any, ...]]:
        # One pass: per (group, status, class) the accounting, per analysed (group, class, mode set) the traces
        # and how many of them have a located mode (the cascade's located / unlocated counts). Traces without
        # the annotator's annotation are every trace of the group less those: one count over `traces`.
        rows = self._store.con.execute(
            """SELECT grp, status, cls, present_mask, known_mask, grouping(present_mask) AS g, count(*),
                      coalesce(fsum(score), 0), count(score), count(*) FILTER (WHERE len(located) > 0)
               FROM _am_per_trace
               GROUP BY GROUPING SETS ((grp, status, cls), (grp, status, cls, present_mask, known_mask))"""
        ).fetchall()
        group_sql, params = self._group
        per_group = self._store.con.execute(f"SELECT {group_sql}, count(*) FROM traces t GROUP BY ALL", params)
        annotated: dict[str, int] = {}
        accounting: list[tuple[str, str | None, str | None, int, float, int]] = []
        for r in rows:
            if r[5]:
                accounting.append((r[0], r[1], r[2], int(r[6]), float(r[7]), int(r[8])))
                annotated[r[0]] = annotated.get(r[0], 0) + int(r[6])
        for group, traces in per_group.fetchall():
            if traces > annotated.get(group, 0):
                accounting.append((group, None, None, int(traces) - annotated.get(group, 0), 0.0, 0))
        self._accounting = sorted(accounting, key=_accounting_order)
        return [r for r in rows if not r[5] and r[1] == "ok"]

    def tables(self, *, drilldown: int = 200) -> SignatureTables:
        """The mode-set rows, cascade rows and drill-down picks (see SignatureQueries.signature_tables)."""
        sets = self._sets()
        masks = sorted((r[0], r[2], int(r[3]), int(r[4]), int(r[6])) for r in sets)
        no_outcome = sorted({r[0] for r in masks} - {r[0] for r in masks if r[1] != "u"})
        self._no_outcome = no_outcome
        cascade = self._store._signature_cascade(self._n, no_outcome, _cascade_counts(sets, set(no_outcome)))
        picks = self._store._signature_drilldown(drilldown, masks)
        return SignatureTables(masks=masks, cascade=cascade, drilldown=picks)

    def decisive(self, fatal: dict[str, Sequence[int]]) -> list[DecisiveRow]:
        """Per group with fatal modes (bits, strongest first): where its failed traces' first fatal mode shows.

        Call after `tables`, which folds the cascade population into shapes (`_am_shapes`); one pass over those.
        """
        groups = [group for group, bits in fatal.items() if bits]
        if not groups:
            return []
        ranks = []
        for group in groups:
            by_bit: list[int | None] = [None] * self._n
            for rank, bit in enumerate(fatal[group]):
                by_bit[bit] = rank
            ranks.append(by_bit)
        self._store.con.register("_am_fatal", pa.table({"grp": groups, "ranks": ranks}))
        step = STEP_OF_SQL.format("l")
        try:
            picked = self._store.con.execute(
                # Per cascade shape (traces with the same located modes) the earliest located fatal mode, ties to
                # the stronger one: the key packs the step (shifted to be non-negative) above the mode's rank, so
                # one min() picks both. Then per group, root rank and relative position the traces.
                f"""WITH picked AS (
                       SELECT s.grp, s.n_steps, s.w, list_min(list_transform(s.located, lambda l:
                                  CASE WHEN f.ranks[(l >> 32) + 1] IS NOT NULL
                                       THEN ({step} + 2147483648) * 64 + f.ranks[(l >> 32) + 1] END)) AS k
                       FROM _am_shapes s JOIN _am_fatal f ON f.grp = s.grp)
                   SELECT grp, k % 64 AS rank,
                          least(1.0, (k // 64 - 2147483648)::DOUBLE / greatest(n_steps - 1, 1)) AS position, sum(w)
                   FROM picked WHERE k IS NOT NULL GROUP BY ALL"""
            ).fetchall()
        finally:
            self._store.con.unregister("_am_fatal")
        rows = _decisive_aggregates(picked)
        rows = [(g, None if rank is None else fatal[g][rank], n, median) for g, rank, n, median in rows]
        return _decisive_rows(self._n, rows)


_POPULATION = "(p.cls = 'f' OR p.grp IN (SELECT unnest($groups::VARCHAR[])))"
"""The cascade's population: failed traces, or every trace of a group where no outcome is known."""

_CLASS_RANK = {"f": 0, "u": 1, "s": 2}


def _accounting_order(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return (row[0], row[1] is None, row[1] or "", row[2] or "")


def _cascade_counts(sets: list[tuple[Any, ...]], no_outcome: set[str]) -> dict[str, tuple[int, int]]:
    """Per group, the cascade population's traces with a located mode and those with modes but none located."""
    counts: dict[str, list[int]] = {}
    for grp, _status, cls, present, _known, _g, traces, _sum, _scored, located in sets:
        if cls != "f" and grp not in no_outcome:
            continue
        acc = counts.setdefault(grp, [0, 0])
        acc[0] += int(located)
        if present:
            acc[1] += int(traces) - int(located)
    return {grp: (located, unlocated) for grp, (located, unlocated) in counts.items()}


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
                FROM traces t LEFT JOIN annotations a ON a.trace_key = t.trace_key AND a.annotator = $annotator
                LEFT JOIN outcomes o ON o.trace_key = t.trace_key
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

        One pass joins every trace with its annotation's mode masks (bit i = mode_ids[i]) and first evidence
        steps; the rest aggregates that per-trace table. Cascade rows cover failed traces, or all traces of groups
        where no outcome is known.
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
            yield SignatureSession(self, len(mode_ids), *_group_sql(group_column, group_key))
        finally:
            self.con.execute("DROP TABLE IF EXISTS _am_per_trace; DROP TABLE IF EXISTS _am_shapes")
            self.con.unregister("_am_modes")

    def _signature_per_trace(
        self, annotator: str, mode_ids: Sequence[str], column: GroupColumn, key: str | None
    ) -> None:
        # One row per trace the annotator annotated: its group, class, status and score; masks in report bits and
        # `located` as (bit << 32) | first evidence step. Inner joins on integer keys (a LEFT JOIN costs DuckDB
        # twice as much); outcomes are joined LEFT only when some trace has no outcome row.
        # The facts stored with each annotation (migration 004)
        # give them from one row per trace; annotations without them (an export older than the columns) or naming
        # modes outside the report's are re-derived from the verdict rows, which gives the same table.
        layouts = self._fact_layouts(annotator, mode_ids)
        group_sql, params = _group_sql(column, key)
        layout_params: dict[str, Any] = {}
        if layouts is None:
            facts, source = _VERDICT_FACTS, _verdict_facts_sql()
        else:
            facts, layout_params = _fact_columns_sql(layouts, "f")
            source = "annotations"
        outcomes = "JOIN" if self._every_trace_has_an_outcome() else "LEFT JOIN"
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _am_per_trace AS
                SELECT t.trace_key, {group_sql} AS grp,
                       CASE o.success WHEN true THEN 's' WHEN false THEN 'f' ELSE 'u' END AS cls, t.n_steps,
                       f.status, o.score, {facts}
                FROM {source} f JOIN traces t ON t.trace_key = f.trace_key
                {outcomes} outcomes o ON o.trace_key = f.trace_key
                WHERE f.annotator = $annotator""",
            {**params, **layout_params, "annotator": annotator},
        )

    def _every_trace_has_an_outcome(self) -> bool:
        # An outcome row's key is always a stored trace's (written with it, deleted with it) and unique (one row per
        # trace id), so equal counts mean every trace has one.
        row = self.con.execute("SELECT (SELECT count(*) FROM traces) = (SELECT count(trace_key) FROM outcomes)")
        return bool(row.fetchall()[0][0])

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

    def _signature_cascade(
        self, n: int, no_outcome_groups: list[str], counts: dict[str, tuple[int, int]]
    ) -> list[CascadeRow]:
        step = STEP_OF_SQL.format
        self.con.execute(
            # The cascade population's traces with a located mode, folded into shapes: traces of one group with the
            # same step count and the same located modes and steps weigh as one row (a few per cent of the traces).
            f"""CREATE OR REPLACE TEMP TABLE _am_shapes AS
                SELECT p.grp, p.n_steps, p.located, count(*) AS w FROM _am_per_trace p
                WHERE p.status = 'ok' AND len(p.located) > 0 AND {_POPULATION} GROUP BY ALL""",
            {"groups": no_outcome_groups},
        )
        per_mode = self.con.execute(
            # Per located mode of a trace (`located` holds each mode once): count, mean relative position, and
            # whether it is at the trace's earliest located step (a root).
            f"""SELECT grp, l >> 32 AS bit, sum(w),
                       sum(w * least(1.0, {step("l")}::DOUBLE / greatest(n_steps - 1, 1))) / sum(w),
                       coalesce(sum(w) FILTER (WHERE {step("l")} = root), 0)
                FROM (SELECT grp, n_steps, w, unnest(located) AS l,
                             list_min(list_transform(located, lambda x: {step("x")})) AS root
                      FROM _am_shapes)
                GROUP BY grp, bit"""
        ).fetchall()
        pairs = self.con.execute(
            # Precedence without a self-join: per shape, the pairs (i, j) of its located modes with i's step before
            # j's, packed as i * 64 + j, weighed by the shape's traces.
            f"""SELECT grp, pair // 64, pair % 64, sum(w)
                FROM (SELECT grp, w, unnest(list_filter(flatten(list_transform(located, lambda x:
                             list_transform(located, lambda y: CASE WHEN {step("x")} < {step("y")}
                                                                THEN (x >> 32) * 64 + (y >> 32) END))),
                             lambda q: q IS NOT NULL)) AS pair
                      FROM _am_shapes WHERE len(located) > 1)
                GROUP BY ALL"""
        ).fetchall()
        count_rows = [(group, *counts.get(group, (0, 0))) for group in sorted(counts)]
        return _cascade_rows(n, set(no_outcome_groups), count_rows, per_mode, pairs)

    def _signature_drilldown(
        self, limit: int, masks: list[tuple[str, str, int, int, int]]
    ) -> list[tuple[str, str, str]]:
        # Per group, the `limit` most telling traces: failed first, then unknown outcome, most modes first, then by
        # id. The mode-set rows say how many traces each (class, mode count) tier holds, so only the tiers that can
        # place are read back with their ids.
        if limit <= 0 or not masks:
            return []
        cutoffs = _drilldown_cutoffs(masks, limit)
        fewest = min(-m for _, m in cutoffs.values())
        candidates = self.con.execute(
            """SELECT trace_key, grp, cls, bit_count(present_mask) FROM _am_per_trace
               WHERE status = 'ok' AND bit_count(present_mask) >= $fewest""",
            {"fewest": fewest},
        ).fetchall()
        placed = [
            (_CLASS_RANK.get(cls, 1), -modes, key, grp, cls)
            for key, grp, cls, modes in candidates
            if grp in cutoffs and (_CLASS_RANK.get(cls, 1), -modes) <= cutoffs[grp]
        ]
        ids = dict(
            self.con.execute(
                "SELECT trace_key, id FROM traces WHERE trace_key IN (SELECT unnest(?::BIGINT[]))",
                [[p[2] for p in placed]],
            ).fetchall()
        )
        # Python orders text as DuckDB does (by code point), so ties go to the same ids as an ORDER BY would give.
        ranked = sorted((grp, c, m, ids[key], cls) for c, m, key, grp, cls in placed)
        picks: list[tuple[str, str, str]] = []
        taken: dict[str, int] = {}
        for grp, _c, _m, trace_id, cls in ranked:
            if taken.get(grp, 0) < limit:
                taken[grp] = taken.get(grp, 0) + 1
                picks.append((trace_id, grp, cls))
        return picks

    def signature_baseline_scan(self, annotator: str) -> list[tuple[str, int, int]]:
        """Per mode: (mode_id, verdicts, present) in one aggregate scan; the yardstick of benchmarks/report_scale."""
        rows = self.con.execute(
            """SELECT mode_id, count(present), count(*) FILTER (WHERE present) FROM verdicts
               WHERE annotator = ? GROUP BY mode_id ORDER BY mode_id""",
            [annotator],
        ).fetchall()
        return [(r[0], int(r[1]), int(r[2])) for r in rows]


def _decisive_aggregates(picked: list[tuple[Any, ...]]) -> list[tuple[str, int | None, int, float | None]]:
    """Per (group, root rank) the traces, and per group (rank None) the traces and the median relative position.

    From (group, rank, position, traces) rows; the median is DuckDB's (the middle value, or the mean of the two
    middle ones).
    """
    per_rank: dict[tuple[str, int], int] = {}
    positions: dict[str, list[tuple[float, int]]] = {}
    for grp, rank, position, traces in picked:
        per_rank[(grp, int(rank))] = per_rank.get((grp, int(rank)), 0) + int(traces)
        positions.setdefault(grp, []).append((float(position), int(traces)))
    rows: list[tuple[str, int | None, int, float | None]] = [(g, r, n, None) for (g, r), n in per_rank.items()]
    for grp, weighted in positions.items():
        total = sum(w for _, w in weighted)
        rows.append((grp, None, total, _weighted_median(weighted, total)))
    return rows


def _weighted_median(weighted: list[tuple[float, int]], total: int) -> float:
    ordered = sorted(weighted)
    lower, upper = (total - 1) // 2, total // 2
    values: dict[int, float] = {}
    seen = 0
    for value, weight in ordered:
        for index in (lower, upper):
            if seen <= index < seen + weight:
                values[index] = value
        seen += weight
    low, high = values[lower], values[upper]
    return low + (high - low) * 0.5


_VERDICT_FACTS = (
    "coalesce(f.present_mask, 0) AS present_mask, coalesce(f.known_mask, 0) AS known_mask, f.located AS located"
)


def _verdict_facts_sql() -> str:
    """Per analysed annotation of $annotator, its masks and `located` re-derived from the verdict rows."""
    return """(
        WITH vb AS (
            SELECT v.trace_key, m.bit, bool_or(v.present) AS present, count(v.present) > 0 AS known,
                   min(v.first_step) FILTER (WHERE v.present) AS step
            FROM verdicts v JOIN _am_modes m ON m.mode_id = v.mode_id
            WHERE v.annotator = $annotator GROUP BY v.trace_key, m.bit),
        pv AS (
            SELECT trace_key, bit_or(CASE WHEN present THEN 1::BIGINT << bit ELSE 0::BIGINT END) AS present_mask,
                   bit_or(CASE WHEN known THEN 1::BIGINT << bit ELSE 0::BIGINT END) AS known_mask,
                   list((bit::BIGINT << 32) | (step & 4294967295)) FILTER (WHERE present AND step IS NOT NULL)
                       AS located
            FROM vb GROUP BY trace_key)
        SELECT a.trace_key, a.annotator, a.status, pv.present_mask, pv.known_mask, pv.located
        FROM annotations a LEFT JOIN pv ON pv.trace_key = a.trace_key
    )"""


def _drilldown_cutoffs(masks: list[tuple[str, str, int, int, int]], limit: int) -> dict[str, tuple[int, int]]:
    """Per group the worst (class rank, -mode count) tier that still places a trace among its `limit` best."""
    tiers: dict[str, dict[tuple[int, int], int]] = {}
    for grp, cls, present, _known, traces in masks:
        tier = (_CLASS_RANK.get(cls, 1), -int(present).bit_count())
        group = tiers.setdefault(grp, {})
        group[tier] = group.get(tier, 0) + traces
    cutoffs = {}
    for grp, counts in tiers.items():
        taken = 0
        for tier in sorted(counts):
            taken += counts[tier]
            cutoffs[grp] = tier
            if taken >= limit:
                break
    return cutoffs


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


def _fact_columns_sql(layouts: list[tuple[str, list[int]]], a: str = "a") -> tuple[str, dict[str, Any]]:
    """SQL for present_mask, known_mask and located from the stored facts of annotation `a`, and its parameters."""
    if all(bits == list(range(len(bits))) for _, bits in layouts):
        return f"{a}.present_bits AS present_mask, {a}.known_bits AS known_mask, {a}.located", {}
    # A layout whose positions are not the report's bits (a partial or reordered mode set) moves each position
    # to its bit through the layout's bit list.
    bitmap = f"$bitmaps[list_position($layouts, {a}.fact_modes)]"
    located = f"list_transform({a}.located, lambda l: ({bitmap}[(l >> 32) + 1]::BIGINT << 32) | (l & 4294967295))"
    sql = (
        f"{_moved_mask(f'{a}.present_bits', bitmap)} AS present_mask, {_moved_mask(f'{a}.known_bits', bitmap)} AS"
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
