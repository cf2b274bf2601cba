"""A group's failure signature from its mode-set table: prevalences, modes per trace, categories, co-occurrence.

The store hands back, per group, how many traces share each (outcome class, present-mode set, known-mode set)
combination, with mode sets as bit masks. Everything here is weighted sums over those few rows (numpy), so the
cost does not grow with the number of traces. A mode left unknown by the annotator is out of that mode's
denominators, never counted absent.

Isolated vs cascading (thresholds in `ReportSettings`): a failed trace with 1..isolated_max distinct modes is
isolated, one with cascading_min or more is cascading; failed traces with no mode found are counted apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from agentmortem.analysis.fatality import ModeCounts
from agentmortem.analysis.stats import median_of_histogram, share
from agentmortem.report.report import Bin, CategoryInfo, CategoryStat, Distribution, ModeInfo, ReportSettings

OutcomeClass = Literal["f", "s", "u"]
"""Outcome class code used by the store: failed, succeeded, unknown."""


@dataclass(frozen=True)
class GroupMasks:
    """One group's rows: per row an outcome class, present/known mode bits (rows x modes) and a trace count."""

    classes: npt.NDArray[np.str_]
    present: npt.NDArray[np.bool_]
    known: npt.NDArray[np.bool_]
    weights: npt.NDArray[np.int64]

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[str, int, int, int]], n_modes: int) -> GroupMasks:
        """Build from (class, present mask, known mask, traces) rows; bit i of a mask is mode i."""
        bits = np.int64(1) << np.arange(n_modes, dtype=np.int64)
        present = np.array([r[1] for r in rows], dtype=np.int64).reshape(-1, 1)
        known = np.array([r[2] for r in rows], dtype=np.int64).reshape(-1, 1)
        return cls(
            classes=np.array([r[0] for r in rows], dtype=str),
            present=(present & bits) != 0,
            known=((known | present) & bits) != 0,  # a present mode is known, whatever the store says
            weights=np.array([r[3] for r in rows], dtype=np.int64),
        )

    def only(self, outcome: OutcomeClass) -> GroupMasks:
        """The rows of one outcome class."""
        keep = self.classes == outcome
        return GroupMasks(self.classes[keep], self.present[keep], self.known[keep], self.weights[keep])

    @property
    def traces(self) -> int:
        """Traces in these rows."""
        return int(self.weights.sum())

    def known_counts(self) -> npt.NDArray[np.int64]:
        """Per mode, traces with a verdict."""
        return np.asarray(self.weights @ self.known, dtype=np.int64)

    def present_counts(self) -> npt.NDArray[np.int64]:
        """Per mode, traces where it is present."""
        return np.asarray(self.weights @ self.present, dtype=np.int64)


def mode_counts(masks: GroupMasks) -> list[ModeCounts]:
    """Per mode: known and present counts overall and per outcome class."""
    failed, succeeded = masks.only("f"), masks.only("s")
    columns = zip(
        masks.known_counts(), masks.present_counts(), failed.known_counts(), failed.present_counts(),
        succeeded.known_counts(), succeeded.present_counts(), strict=True,
    )  # fmt: skip
    return [ModeCounts(*(int(x) for x in column)) for column in columns]


def distribution(masks: GroupMasks) -> Distribution:
    """Distinct modes present per trace: mean, median and histogram."""
    per_row = masks.present.sum(axis=1)
    by_count = np.bincount(per_row, weights=masks.weights, minlength=1) if len(per_row) else np.zeros(0)
    histogram = [(v, int(c)) for v, c in enumerate(by_count) if c]
    total = sum(c for _, c in histogram)
    return Distribution(
        traces=total,
        mean=share(sum(v * c for v, c in histogram), total),
        median=median_of_histogram(histogram),
        histogram=[Bin(modes=v, traces=c) for v, c in histogram],
    )


def failure_shape(failed: Distribution, settings: ReportSettings) -> tuple[float | None, float | None, float | None]:
    """(isolated share, cascading share, no-mode share) of the failed traces."""
    count = {b.modes: b.traces for b in failed.histogram}
    isolated = sum(c for m, c in count.items() if 1 <= m <= settings.isolated_max)
    cascading = sum(c for m, c in count.items() if m >= settings.cascading_min)
    return share(isolated, failed.traces), share(cascading, failed.traces), share(count.get(0, 0), failed.traces)


def category_stats(masks: GroupMasks, modes: list[ModeInfo], categories: list[CategoryInfo]) -> list[CategoryStat]:
    """Per category: its share of all present verdicts and the share of traces showing at least one of its modes."""
    total_present = int(masks.present_counts().sum())
    stats = []
    for category in categories:
        columns = [i for i, m in enumerate(modes) if m.category == category.id]
        in_category = int(masks.present_counts()[columns].sum()) if columns else 0
        stats.append(
            CategoryStat(
                id=category.id,
                share_of_occurrences=share(in_category, total_present),
                prevalence=prevalence_of_any(masks, columns),
                prevalence_failed=prevalence_of_any(masks.only("f"), columns),
                prevalence_succeeded=prevalence_of_any(masks.only("s"), columns),
            )
        )
    return stats


def prevalence_of_any(masks: GroupMasks, columns: list[int]) -> float | None:
    """Share of traces showing at least one of the modes in `columns` (a category, a fix's modes).

    Denominator: traces with a verdict for at least one of them; None when there is none (or no column).
    """
    if not columns:
        return None
    any_known = masks.known[:, columns].any(axis=1)
    return share(traces_showing_any(masks, columns), int(masks.weights[any_known].sum()))


def traces_showing_any(masks: GroupMasks, columns: list[int]) -> int:
    """Traces where at least one of the modes in `columns` is present."""
    if not columns:
        return 0
    return int(masks.weights[masks.present[:, columns].any(axis=1)].sum())


def cooccurrence(masks: GroupMasks) -> tuple[list[list[int]], list[list[float | None]]]:
    """(both-present counts, lift) per mode pair; lift = P(i and j) / (P(i) P(j)) over traces knowing both."""
    weighted_present = masks.present.T * masks.weights
    both = weighted_present @ masks.present.astype(np.int64)
    both_known = (masks.known.T * masks.weights) @ masks.known.astype(np.int64)
    present_and_known = weighted_present @ masks.known.astype(np.int64)  # [i][j]: i present, j known
    n = both.shape[0]
    lift = [[_lift(both[i, j], both_known[i, j], present_and_known[i, j], present_and_known[j, i]) for j in range(n)]
            for i in range(n)]  # fmt: skip
    return both.astype(int).tolist(), lift


def _lift(both: int, total: int, first: int, second: int) -> float | None:
    if not total or not first or not second:
        return None
    return float(both) * float(total) / (float(first) * float(second))
