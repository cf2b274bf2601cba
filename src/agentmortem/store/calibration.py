"""Label-quality queries: a judge's verdicts beside a reference's, and the frame a labelling sample comes from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from agentmortem.store.base import StoreBase
from agentmortem.store.signatures import GroupColumn, _group_sql

_CLASS_SQL = "CASE o.success WHEN true THEN 's' WHEN false THEN 'f' ELSE 'u' END"


@dataclass(frozen=True)
class ReferenceTables:
    """Per group and outcome class, the judge's and the reference's mode sets on traces both labelled."""

    rows: list[tuple[str, str, int, int, int, int]]  # (group, class, judge present, ref present, ref known, traces)
    unmatched: int  # traces the reference labelled that the judge has no 'ok' annotation of (left out)


class CalibrationQueries(StoreBase):
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

        Read from the verdict rows of the reference (a few hundred traces) and of the judge on those traces only,
        so the cost follows the reference's size, not the store's.
        """
        group_sql, params = _group_sql(group_column, group_key)
        self.con.register("_am_cal_modes", pa.table({"mode_id": list(mode_ids), "bit": list(range(len(mode_ids)))}))
        try:
            rows = self.con.execute(
                f"""WITH refs AS (
                        SELECT trace_id FROM annotations WHERE annotator = $reference AND status = 'ok'),
                    masks AS (
                        SELECT v.trace_id,
                               bit_or(CASE WHEN v.annotator = $annotator AND v.present THEN 1::BIGINT << m.bit
                                      ELSE 0::BIGINT END) AS judged,
                               bit_or(CASE WHEN v.annotator = $reference AND v.present THEN 1::BIGINT << m.bit
                                      ELSE 0::BIGINT END) AS present,
                               bit_or(CASE WHEN v.annotator = $reference AND v.present IS NOT NULL
                                      THEN 1::BIGINT << m.bit ELSE 0::BIGINT END) AS known
                        FROM verdicts v JOIN _am_cal_modes m ON m.mode_id = v.mode_id
                        WHERE v.annotator IN ($annotator, $reference)
                          AND v.trace_id IN (SELECT trace_id FROM refs)
                        GROUP BY v.trace_id)
                    SELECT {group_sql} AS grp, {_CLASS_SQL} AS cls, coalesce(masks.judged, 0),
                           coalesce(masks.present, 0), coalesce(masks.known, 0), count(*)
                    FROM refs JOIN annotations a ON a.trace_id = refs.trace_id AND a.annotator = $annotator
                                                 AND a.status = 'ok'
                    JOIN traces t ON t.id = refs.trace_id
                    LEFT JOIN outcomes o ON o.trace_id = refs.trace_id
                    LEFT JOIN masks ON masks.trace_id = refs.trace_id
                    GROUP BY ALL ORDER BY ALL""",
                {**params, "annotator": annotator, "reference": reference},
            ).fetchall()
            unmatched = self.con.execute(
                """SELECT count(*) FROM annotations r WHERE r.annotator = $reference AND r.status = 'ok'
                   AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.trace_id = r.trace_id
                                   AND a.annotator = $annotator AND a.status = 'ok')""",
                {"annotator": annotator, "reference": reference},
            ).fetchall()
        finally:
            self.con.unregister("_am_cal_modes")
        return ReferenceTables(
            rows=[(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows],
            unmatched=int(unmatched[0][0]),
        )

    def sampling_frame(self, annotator: str | None = None) -> list[tuple[str, str, str]]:
        """(trace id, outcome class f/s/u, model) of every trace, or of those `annotator` annotated successfully."""
        judged = "JOIN annotations a ON a.trace_id = t.id AND a.annotator = $annotator AND a.status = 'ok'"
        rows = self.con.execute(
            f"""SELECT t.id, {_CLASS_SQL}, coalesce(t.model, '(none)') FROM traces t {judged if annotator else ""}
                LEFT JOIN outcomes o ON o.trace_id = t.id ORDER BY t.id""",
            {"annotator": annotator} if annotator else {},
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]
