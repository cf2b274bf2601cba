"""Label-quality queries: a judge's verdicts beside a reference's, and the frame a labelling sample comes from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from agentmortem.store.signatures import GroupColumn, SignatureQueries, _fact_columns_sql, _group_sql

_CLASS_SQL = "CASE o.success WHEN true THEN 's' WHEN false THEN 'f' ELSE 'u' END"


@dataclass(frozen=True)
class ReferenceTables:
    """Per group and outcome class, the judge's and the reference's mode sets on traces both labelled."""

    rows: list[tuple[str, str, int, int, int, int]]  # (group, class, judge present, ref present, ref known, traces)
    unmatched: int  # traces the reference labelled that the judge has no 'ok' annotation of (left out)


class CalibrationQueries(SignatureQueries):
    """The reference side of a report, and the frame a labelling sample is drawn from."""

    def reference_tables(
        self,
        annotator: str,
        reference: str,
        mode_ids: Sequence[str],
        *,
        group_column: GroupColumn = "model",
        group_key: str | None = None,
    ) -> ReferenceTables:
        """Mode bit masks (bit i = mode_ids[i]) of judge and reference over traces both annotated successfully.

        Read from the per-annotation facts (migration 004): the reference's few hundred rows, and the judge's rows
        of those traces only, so the cost follows the reference's size, not the store's. Annotations without
        facts (an old export) are re-derived from their verdict rows, which gives the same masks.
        """
        group_sql, params = _group_sql(group_column, group_key)
        self._annotator_masks("_am_ref", reference, mode_ids, among=None)
        self._annotator_masks("_am_judge", annotator, mode_ids, among="_am_ref")
        try:
            rows = self.con.execute(
                f"""SELECT {group_sql} AS grp, {_CLASS_SQL} AS cls, j.present_mask, r.present_mask, r.known_mask,
                           count(*)
                    FROM _am_ref r JOIN _am_judge j ON j.trace_key = r.trace_key
                    JOIN traces t ON t.trace_key = r.trace_key LEFT JOIN outcomes o ON o.trace_key = r.trace_key
                    GROUP BY ALL ORDER BY ALL""",
                params,
            ).fetchall()
            unmatched = self.con.execute(
                """SELECT count(*) FROM _am_ref r
                   WHERE r.trace_key IS NULL OR r.trace_key NOT IN (SELECT trace_key FROM _am_judge)"""
            ).fetchall()
        finally:
            self.con.execute("DROP TABLE IF EXISTS _am_ref; DROP TABLE IF EXISTS _am_judge")
        return ReferenceTables(
            rows=[(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows],
            unmatched=int(unmatched[0][0]),
        )

    def _annotator_masks(self, table: str, annotator: str, mode_ids: Sequence[str], *, among: str | None) -> None:
        """Temp `table` (trace_key, present_mask, known_mask) of `annotator`'s ok annotations (of traces in `among`)."""
        within = f"AND a.trace_key IN (SELECT trace_key FROM {among})" if among else ""
        layouts = self._fact_layouts(annotator, mode_ids)
        if layouts is not None:
            columns, params = _fact_columns_sql(layouts)
            self.con.execute(
                f"""CREATE OR REPLACE TEMP TABLE {table} AS
                    SELECT trace_key, present_mask, known_mask FROM (
                        SELECT a.trace_key, {columns} FROM annotations a
                        WHERE a.annotator = $annotator AND a.status = 'ok' {within})""",
                {**params, "annotator": annotator},
            )
            return
        self.con.register("_am_cal_modes", pa.table({"mode_id": list(mode_ids), "bit": list(range(len(mode_ids)))}))
        try:
            self.con.execute(
                f"""CREATE OR REPLACE TEMP TABLE {table} AS
                    SELECT a.trace_key,
                           coalesce(bit_or(CASE WHEN v.present THEN 1::BIGINT << m.bit ELSE 0::BIGINT END), 0)
                               AS present_mask,
                           coalesce(bit_or(CASE WHEN v.present IS NOT NULL THEN 1::BIGINT << m.bit ELSE 0::BIGINT END),
                                    0) AS known_mask
                    FROM annotations a
                    LEFT JOIN verdicts v ON v.trace_key = a.trace_key AND v.annotator = a.annotator
                    LEFT JOIN _am_cal_modes m ON m.mode_id = v.mode_id
                    WHERE a.annotator = $annotator AND a.status = 'ok' {within}
                    GROUP BY a.trace_key""",
                {"annotator": annotator},
            )
        finally:
            self.con.unregister("_am_cal_modes")

    def sampling_frame(self, annotator: str | None = None) -> list[tuple[str, str, str]]:
        """(trace id, outcome class f/s/u, model) of every trace, or of those `annotator` annotated successfully."""
        judged = "JOIN annotations a ON a.trace_id = t.id AND a.annotator = $annotator AND a.status = 'ok'"
        rows = self.con.execute(
            f"""SELECT t.id, {_CLASS_SQL}, coalesce(t.model, '(none)') FROM traces t {judged if annotator else ""}
                LEFT JOIN outcomes o ON o.trace_id = t.id ORDER BY t.id""",
            {"annotator": annotator} if annotator else {},
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]
