"""Across groups: how much more often a mode occurs in one group than another, and whether that is more than noise.

Each mode is compared between every pair of the `max_comparison_groups` largest groups, over all analysed traces
of each group (outcome not needed), with a two-sided Fisher exact test; q-values are Benjamini-Hochberg across
every comparison of the report. In each comparison `group_a` is the group where the mode is more frequent, so
differences read as increases ("+46%").

A comparison obeys the same support rule as a fatality verdict (fatality.support_problem): fewer than
`min_class_traces` traces with a verdict in either group, or fewer than `min_present` occurrences in the two
together, and the pair is not tested ("too few traces"): no p-value, no q-value, never significant, and it does
not count in the correction. One trace of a model against four hundred of another says nothing about either.
"""

from __future__ import annotations

from itertools import combinations

from agentmortem.analysis.fatality import ModeCounts, support_problem
from agentmortem.analysis.stats import benjamini_hochberg, fisher_p, odds_ratio, relative_change, share
from agentmortem.report.report import Comparison, ModeInfo, ReportSettings


def compare_groups(
    counts: dict[str, list[ModeCounts]], sizes: dict[str, int], modes: list[ModeInfo], settings: ReportSettings
) -> list[Comparison]:
    """All pairwise comparisons per mode, significant first, then by q-value and size of the difference."""
    groups = sorted(sizes, key=lambda g: (-sizes[g], g))[: settings.max_comparison_groups]
    drafts = [
        _draft(mode, *_ordered(a, counts[a][i], b, counts[b][i]), settings)
        for a, b in combinations(groups, 2)
        for i, mode in enumerate(modes)
    ]
    q_values = benjamini_hochberg([d.p_value for d in drafts])
    finished = [_finish(d, q, settings) for d, q in zip(drafts, q_values, strict=True)]
    return sorted(finished, key=_order)


def _ordered(a: str, ca: ModeCounts, b: str, cb: ModeCounts) -> tuple[str, ModeCounts, str, ModeCounts]:
    if (share(cb.present, cb.known) or 0) > (share(ca.present, ca.known) or 0):
        return b, cb, a, ca
    return a, ca, b, cb


def _draft(mode: ModeInfo, a: str, ca: ModeCounts, b: str, cb: ModeCounts, settings: ReportSettings) -> Comparison:
    cells = (ca.present, ca.known - ca.present, cb.present, cb.known - cb.present)
    unsupported = support_problem((a, ca.known), (b, cb.known), ca.present + cb.present, settings, per="group")
    prev_a, prev_b = share(ca.present, ca.known), share(cb.present, cb.known)
    relative, kind = relative_change(prev_a, prev_b)
    ratio = odds_ratio(*cells)
    return Comparison(
        mode=mode.id, group_a=a, group_b=b, prevalence_a=prev_a, prevalence_b=prev_b,
        difference_points=None if prev_a is None or prev_b is None else (prev_a - prev_b) * 100,
        relative_difference=relative, relative_difference_kind=kind, odds_ratio=ratio[0] if ratio else None,
        ci95=[ratio[1], ratio[2]] if ratio else None, p_value=None if unsupported else fisher_p(*cells),
        q_value=None, significant=False, statement="", not_tested=unsupported,
    )  # fmt: skip


def _finish(draft: Comparison, q: float | None, settings: ReportSettings) -> Comparison:
    significant = q is not None and q <= settings.q_max
    return draft.model_copy(update={"q_value": q, "significant": significant, "statement": _statement(draft, q)})


def _statement(c: Comparison, q: float | None) -> str:
    if c.prevalence_a is None or c.prevalence_b is None:
        return f"{c.mode}: not comparable between {c.group_a} and {c.group_b} (no verdicts in one group)"
    if c.not_tested:
        return f"{c.mode}: {c.group_a} vs {c.group_b} not tested, {c.not_tested}"
    if c.relative_difference_kind == "finite":
        change = f"{c.relative_difference:+.0%}"
    else:
        change = "only" if c.relative_difference_kind == "infinite" else "no difference,"
    q_text = "untested" if q is None else f"q={q:.2g}"
    return (
        f"{c.mode} {change} in {c.group_a} vs {c.group_b} "
        f"({c.prevalence_a:.0%} vs {c.prevalence_b:.0%}, {c.difference_points:+.0f} pts, {q_text})"
    )


def _order(c: Comparison) -> tuple[bool, float, float, str, str, str]:
    return (not c.significant, c.q_value if c.q_value is not None else 2.0, -abs(c.difference_points or 0),
            c.mode, c.group_a, c.group_b)  # fmt: skip
