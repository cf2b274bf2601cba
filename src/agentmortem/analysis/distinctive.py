"""The distinctive profile of a group: which modes its failures show more often than the other groups' failures.

A group's fatal modes say what fails it; they do not say what fails it *more than the others*. Three models can
share their worst mode (all of them fail on verification) and still differ in what else goes wrong, and it is
that difference that asks for a different fix. The rule, per group G and mode m:

1. Population: failed traces when any outcome is known in the report (the question is what goes wrong when a run
   fails), else all traces. Traces without a verdict for m are out of m's denominators, as everywhere.
2. Pooled test: G's traces against those of every other group together, a two-sided Fisher exact test; q-values
   are Benjamini-Hochberg across every (group, mode) pooled test of the report. The support rule of the rest of the
   report applies (fatality.support_problem): fewer than `min_class_traces` traces with a verdict on either side,
   or fewer than `min_present` occurrences in all, and the pair is "not tested", never significant.
3. m is *distinctive* for G when the pooled test is significant (q <= `q_max`) and m is more frequent in G; it is
   *less frequent* when significant the other way.
4. Pairwise where it matters: a pooled excess can come from one other group alone being low. With three groups
   or more, each distinctive (G, m) is also tested against every other group on its own (Fisher, support rule,
   BH across that family); `against` names the groups G exceeds with q <= `q_max`. With two groups the pooled
   test is the pairwise one.

Together with the group's fatal modes this is the group's *signature* (`Signature`): what fails it, and what
fails it more than the others. With a single group there is nothing to compare and the distinctive part is empty,
with a note that says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentmortem.analysis.fatality import support_problem
from agentmortem.analysis.stats import benjamini_hochberg, fisher_p, odds_ratio, share
from agentmortem.report.report import CascadePopulation, Distinction, ModeInfo, ReportSettings, Signature


@dataclass(frozen=True)
class Tally:
    """One group's population counts per mode (taxonomy order): traces with a verdict, traces with it present."""

    known: list[int]
    present: list[int]


def distinctions(
    tallies: dict[str, Tally], modes: list[ModeInfo], settings: ReportSettings
) -> dict[str, list[Distinction]]:
    """Per group, one Distinction per mode (taxonomy order), by the rule in the module docstring."""
    groups = list(tallies)
    known = [sum(t.known[i] for t in tallies.values()) for i in range(len(modes))]
    present = [sum(t.present[i] for t in tallies.values()) for i in range(len(modes))]
    drafts = {
        g: [_draft(g, mode.id, tallies[g], known[i], present[i], i, settings) for i, mode in enumerate(modes)]
        for g in groups
    }
    flat = [d for g in groups for d in drafts[g]]
    q_values = benjamini_hochberg([d.p_value for d in flat])
    done = iter(_decided(d, q, settings) for d, q in zip(flat, q_values, strict=True))
    decided = {g: [next(done) for _ in modes] for g in groups}
    if len(groups) > 2:
        _pairwise(decided, tallies, settings)
    elif len(groups) == 2:
        for g, other in (groups, groups[::-1]):
            for d in decided[g]:
                if _exceeds(d):
                    d.against.append(other)
    return decided


def _draft(
    group: str, mode: str, own: Tally, known: int, present: int, i: int, settings: ReportSettings
) -> Distinction:
    k, p = own.known[i], own.present[i]
    ok, op = known - k, present - p
    unsupported = support_problem((group, k), ("in the other groups", ok), p + op, settings, per="group")
    ratio = odds_ratio(p, k - p, op, ok - op)
    prev, prev_others = share(p, k), share(op, ok)
    return Distinction(
        mode=mode, known=k, present=p, others_known=ok, others_present=op, prevalence=prev,
        prevalence_others=prev_others,
        difference_points=None if prev is None or prev_others is None else (prev - prev_others) * 100,
        odds_ratio=ratio[0] if ratio else None, ci95=[ratio[1], ratio[2]] if ratio else None,
        p_value=None if unsupported else fisher_p(p, k - p, op, ok - op), q_value=None, significant=False,
        not_tested=unsupported, against=[],
    )  # fmt: skip


def _decided(draft: Distinction, q: float | None, settings: ReportSettings) -> Distinction:
    return draft.model_copy(update={"q_value": q, "significant": q is not None and q <= settings.q_max})


def _exceeds(d: Distinction) -> bool:
    return d.significant and (d.difference_points or 0) > 0


def _pairwise(decided: dict[str, list[Distinction]], tallies: dict[str, Tally], settings: ReportSettings) -> None:
    """Fill `against` for every pooled excess from pairwise tests, BH across the pairwise family."""
    tests: list[tuple[Distinction, str, float | None]] = []
    for g, row in decided.items():
        for i, d in enumerate(row):
            if not _exceeds(d):
                continue
            for other in tallies:
                if other != g:
                    tests.append((d, other, _pair_p(g, tallies[g], other, tallies[other], i, settings)))
    q_values = benjamini_hochberg([p for _, _, p in tests])
    for (d, other, _), q in zip(tests, q_values, strict=True):
        if q is not None and q <= settings.q_max:
            d.against.append(other)


def _pair_p(g: str, a: Tally, h: str, b: Tally, i: int, settings: ReportSettings) -> float | None:
    ka, pa, kb, pb = a.known[i], a.present[i], b.known[i], b.present[i]
    if support_problem((g, ka), (h, kb), pa + pb, settings, per="group") or pa * kb <= pb * ka:
        return None  # too little to test, or no excess over this group to confirm
    return fisher_p(pa, ka - pa, pb, kb - pb)


def signature(
    group: str,
    rows: list[Distinction],
    fatal: list[str],
    *,
    others: list[str],
    population: CascadePopulation,
    noun: str,
) -> Signature:
    """A group's signature: its fatal modes and its distinctive profile, with a note when the latter is empty."""
    more = sorted((d for d in rows if _exceeds(d)), key=lambda d: (-(d.difference_points or 0), d.mode))
    less = [d.mode for d in rows if d.significant and (d.difference_points or 0) < 0]
    return Signature(
        population=population, compared_with=others, fatal=fatal, distinctive=[d.mode for d in more],
        less_frequent=less, distinctions=rows, note=_note(rows, more, others, noun),
    )  # fmt: skip


def _note(rows: list[Distinction], more: list[Distinction], others: list[str], noun: str) -> str:
    if not others:
        return f"only one {noun} in the report: nothing to set it apart from"
    if more:
        return ""
    if all(d.not_tested for d in rows):
        return f"too few traces to compare with the other {noun}s"
    return f"no mode is significantly more frequent than in the other {noun}s"
