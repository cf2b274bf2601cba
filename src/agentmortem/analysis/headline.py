"""A group's profile (isolated / cascading / mixed) and the one plain-language sentence that sums up its signature.

The profile reads the mean number of distinct modes per failed trace (per trace when no outcome is known):
at most `isolated_max` is isolated, at least `cascading_min` is cascading, in between is mixed; no mode at all is
clean.

The headline is built from the signature (analysis/distinctive.py): the shape and modes per failed trace, then the
group's strongest fatal mode (the best-ranked one; when none is fatal, the most prevalent mode, said as such),
then what sets it apart: its distinctive modes with their prevalence against the other groups'. With one group,
or when nothing is distinctive, the headline says why instead.
"""

from __future__ import annotations

from agentmortem.report.report import Distribution, ModeStat, Profile, ReportSettings, Signature


def profile_of(population: Distribution, settings: ReportSettings) -> Profile:
    """Profile from the modes-per-trace distribution of the failed traces (or all, without outcomes)."""
    if population.traces == 0 or population.mean is None:
        return "unknown"
    if population.mean == 0:
        return "clean"
    if population.mean <= settings.isolated_max:
        return "isolated"
    if population.mean >= settings.cascading_min:
        return "cascading"
    return "mixed"


def dominant_mode(stats: list[ModeStat], *, use_failed: bool) -> ModeStat | None:
    """The strongest fatal mode when there is one, else the most prevalent mode among the same traces."""
    fatal = sorted((s for s in stats if s.verdict == "fatal" and s.rank is not None), key=lambda s: s.rank or 0)
    if fatal:
        return fatal[0]
    present = [s for s in stats if (s.failed_present if use_failed else s.present)]
    if not present:
        return None
    return max(present, key=lambda s: ((s.prevalence_failed if use_failed else s.prevalence) or 0, s.id))


MAX_DISTINCTIVE_NAMED = 3
"""Distinctive modes named in a headline at most (the signature lists them all)."""


def headline(
    group: str,
    *,
    profile: Profile,
    population: Distribution,
    use_failed: bool,
    success_rate: float | None,
    dominant: ModeStat | None,
    signature: Signature | None = None,
    stats: list[ModeStat] | None = None,
    noun: str = "group",
) -> str:
    """One sentence, e.g. 'kimi: isolated failures (2.1 modes per failed trace, 50% success); strongest fatal …'."""
    if profile == "unknown":
        return f"{group}: no failed traces to characterise ({population.traces} analysed)."
    if profile == "clean":
        return f"{group}: no failure mode found in {population.traces} {'failed ' if use_failed else ''}traces."
    per = "per failed trace" if use_failed else "per trace"
    outcome = f"{success_rate:.0%} success" if success_rate is not None else "outcomes unknown"
    kind = {"isolated": "isolated failures", "cascading": "cascading failures", "mixed": "mixed failures"}[profile]
    sentence = f"{group}: {kind} ({population.mean:.1f} modes {per}, {outcome})"
    if dominant is not None:
        sentence += "; " + _strongest(dominant, use_failed=use_failed)
    if signature is not None:
        sentence += "; " + _apart(signature, {s.id: s.name for s in stats or []}, use_failed=use_failed, noun=noun)
    return sentence + "."


def _strongest(mode: ModeStat, *, use_failed: bool) -> str:
    label = f"{mode.name.lower()} ({mode.id}"
    if mode.verdict == "fatal":
        return (
            f"strongest fatal mode: {label}, {mode.prevalence_failed or 0:.0%} of failed vs "
            f"{mode.prevalence_succeeded or 0:.0%} of successful traces)"
        )
    share = mode.prevalence_failed if use_failed else mode.prevalence
    return (
        f"no mode is called fatal, most frequent: {label}, {share or 0:.0%} of {'failed ' if use_failed else ''}traces)"
    )


def _apart(signature: Signature, names: dict[str, str], *, use_failed: bool, noun: str) -> str:
    if not signature.distinctive:
        return signature.note
    rows = {d.mode: d for d in signature.distinctions}
    where = "failed traces" if use_failed else "traces"
    named = []
    for i, mode_id in enumerate(signature.distinctive[:MAX_DISTINCTIVE_NAMED]):
        d = rows[mode_id]
        numbers = f"{d.prevalence or 0:.0%} vs {d.prevalence_others or 0:.0%}"
        if i == 0:
            numbers += f" of the other {noun}s' {where}"
        named.append(f"{names.get(mode_id, mode_id).lower()} ({mode_id}, {numbers})")
    more = len(signature.distinctive) - MAX_DISTINCTIVE_NAMED
    return "what sets it apart: " + ", ".join(named) + (f" and {more} more" if more > 0 else "")
