"""Fatal, benign or inconclusive: how each mode relates to failure in one group, and the ranking it implies.

The verdict rule, applied per mode and group (thresholds in `ReportSettings`):
1. Support first. Without at least `min_class_traces` traces with a verdict for the mode in EACH outcome class,
   and the mode present in at least `min_present` of them, the verdict is inconclusive: too little to say.
2. fatal: the mode is more frequent in failed traces (odds ratio > 1) and the Fisher test survives
   Benjamini-Hochberg across the group's modes (q <= `q_max`).
3. benign: the mode is common in successful traces (prevalence >= `benign_min_prevalence`) and the data rule out
   a strong link with failure: either it is significantly LESS frequent in failures (OR < 1, q <= q_max) or the
   upper bound of the odds ratio's 95% interval is below `benign_max_or`.
4. Anything else is inconclusive.
A mode present in none (or all) of the traces with a known outcome is no test: it keeps its p-value (1) but gets
no q-value, does not count in the correction, and gets the verdict inconclusive and no rank.
The ranking orders tested modes by the lower bound of the odds ratio's interval (how strongly, at the least, the
mode predicts failure), then by p-value.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentmortem.analysis.stats import benjamini_hochberg, fisher_p, odds_ratio, relative_change, share
from agentmortem.report.report import ModeInfo, ModeStat, ReportSettings, Verdict


@dataclass(frozen=True)
class ModeCounts:
    """Counts of one mode in one group: with a verdict (known) and present, overall and per outcome class."""

    known: int
    present: int
    failed_known: int
    failed_present: int
    succeeded_known: int
    succeeded_present: int

    def cells(self) -> tuple[int, int, int, int]:
        """The 2x2 table: (failed present, failed absent, succeeded present, succeeded absent)."""
        return (
            self.failed_present, self.failed_known - self.failed_present,
            self.succeeded_present, self.succeeded_known - self.succeeded_present,
        )  # fmt: skip


def mode_stats(modes: list[ModeInfo], counts: list[ModeCounts], settings: ReportSettings) -> list[ModeStat]:
    """Per-mode statistics of one group, with BH q-values across its modes, verdicts and ranks."""
    p_values = [fisher_p(*c.cells()) for c in counts]
    q_values = benjamini_hochberg([p if _informative(c) else None for p, c in zip(p_values, counts, strict=True)])
    stats = [_mode_stat(m, c, p, q, settings) for m, c, p, q in zip(modes, counts, p_values, q_values, strict=True)]
    return _ranked(stats)


def _informative(c: ModeCounts) -> bool:
    # A mode present in no tested trace, or in all of them, gives p = 1 whatever happens: it is not a test, and
    # counting it in Benjamini-Hochberg would only dilute the modes that are.
    present = c.failed_present + c.succeeded_present
    return 0 < present < c.failed_known + c.succeeded_known


def _mode_stat(mode: ModeInfo, c: ModeCounts, p: float | None, q: float | None, settings: ReportSettings) -> ModeStat:
    prev_f, prev_s = share(c.failed_present, c.failed_known), share(c.succeeded_present, c.succeeded_known)
    relative, kind = relative_change(prev_f, prev_s)
    ratio = odds_ratio(*c.cells())
    verdict, reason = decide(c, ratio, q, prev_s, settings)
    return ModeStat(
        id=mode.id, name=mode.name, category=mode.category, known=c.known, present=c.present,
        prevalence=share(c.present, c.known), failed_known=c.failed_known, failed_present=c.failed_present,
        succeeded_known=c.succeeded_known, succeeded_present=c.succeeded_present, prevalence_failed=prev_f,
        prevalence_succeeded=prev_s,
        difference_points=None if prev_f is None or prev_s is None else (prev_f - prev_s) * 100,
        relative_increase=relative, relative_increase_kind=kind, odds_ratio=ratio[0] if ratio else None,
        ci95=[ratio[1], ratio[2]] if ratio else None, p_value=p, q_value=q, verdict=verdict, verdict_reason=reason,
        rank=None,
    )  # fmt: skip


def decide(
    c: ModeCounts,
    ratio: tuple[float, float, float] | None,
    q: float | None,
    prevalence_succeeded: float | None,
    settings: ReportSettings,
) -> tuple[Verdict, str]:
    """The verdict and its one-line reason, by the rule in the module docstring."""
    low_support = _support_problem(c, settings)
    if low_support is not None:
        return "inconclusive", low_support
    if ratio is None or q is None:
        return "inconclusive", "no test possible (present in none or all of the traces)"
    odds, _, high = ratio
    if odds > 1 and q <= settings.q_max:
        return "fatal", f"more frequent in failures (OR {odds:.2f}, q={q:.3g} <= {settings.q_max})"
    common = prevalence_succeeded is not None and prevalence_succeeded >= settings.benign_min_prevalence
    if common and odds < 1 and q <= settings.q_max:
        return "benign", f"common in successes and less frequent in failures (OR {odds:.2f}, q={q:.3g})"
    if common and high < settings.benign_max_or:
        return "benign", f"common in successes; OR upper bound {high:.2f} < {settings.benign_max_or}"
    return "inconclusive", f"no decisive link (OR {odds:.2f}, q={q:.3g})"


def _support_problem(c: ModeCounts, settings: ReportSettings) -> str | None:
    if c.failed_known + c.succeeded_known == 0:
        return "no outcomes known"
    return support_problem(
        ("failed", c.failed_known), ("succeeded", c.succeeded_known), c.failed_present + c.succeeded_present,
        settings, per="outcome",
    )  # fmt: skip


def support_problem(
    a: tuple[str, int], b: tuple[str, int], present: int, settings: ReportSettings, *, per: str
) -> str | None:
    """The support rule every test of the report obeys, or None when it is met.

    `a` and `b` are the two sides' names and their traces with a verdict (outcome classes for a fatality verdict,
    groups for a comparison); `present` is the traces showing the mode on both sides together. Too few traces on
    either side, or too few occurrences, and the test is not made: "too few traces", never significant.
    """
    (name_a, known_a), (name_b, known_b) = a, b
    if min(known_a, known_b) < settings.min_class_traces:
        return (
            f"too few traces per {per} ({known_a} {name_a}, {known_b} {name_b}; need {settings.min_class_traces} each)"
        )
    if present < settings.min_present:
        return f"present in only {present} traces (need {settings.min_present})"
    return None


def _ranked(stats: list[ModeStat]) -> list[ModeStat]:
    tested = [s for s in stats if s.ci95 is not None and s.q_value is not None]
    tested.sort(key=lambda s: (-s.ci95[0], s.p_value, s.id))  # type: ignore[index]
    ranks = {s.id: i for i, s in enumerate(tested, start=1)}
    return [s.model_copy(update={"rank": ranks.get(s.id)}) for s in stats]


def ranking(stats: list[ModeStat]) -> list[str]:
    """Mode ids of tested modes, strongest predictor of failure first."""
    return [s.id for s in sorted((s for s in stats if s.rank is not None), key=lambda s: s.rank or 0)]
