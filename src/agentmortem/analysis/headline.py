"""A group's profile (isolated / cascading / mixed) and the one plain-language sentence that sums it up.

The profile reads the mean number of distinct modes per failed trace (per trace when no outcome is known):
at most `isolated_max` is isolated, at least `cascading_min` is cascading, in between is mixed; no mode at all is
clean. The dominant mode is the best-ranked fatal mode when there is one, else the most prevalent mode among the
same traces.
"""

from __future__ import annotations

from agentmortem.report.report import Distribution, ModeStat, Profile, ReportSettings


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
    """The mode that characterises the group (rule in the module docstring)."""
    fatal = sorted((s for s in stats if s.verdict == "fatal" and s.rank is not None), key=lambda s: s.rank or 0)
    if fatal:
        return fatal[0]
    present = [s for s in stats if (s.failed_present if use_failed else s.present)]
    if not present:
        return None
    return max(present, key=lambda s: ((s.prevalence_failed if use_failed else s.prevalence) or 0, s.id))


def headline(
    group: str,
    *,
    profile: Profile,
    population: Distribution,
    use_failed: bool,
    success_rate: float | None,
    dominant: ModeStat | None,
) -> str:
    """One sentence, e.g. 'gemini: isolated failures (2.6 modes per failed trace, 75% success), dominated by …'."""
    if profile == "unknown":
        return f"{group}: no failed traces to characterise ({population.traces} analysed)."
    if profile == "clean":
        return f"{group}: no failure mode found in {population.traces} {'failed ' if use_failed else ''}traces."
    per = "per failed trace" if use_failed else "per trace"
    outcome = f"{success_rate:.0%} success" if success_rate is not None else "outcomes unknown"
    kind = {"isolated": "isolated failures", "cascading": "cascading failures", "mixed": "mixed failures"}[profile]
    sentence = f"{group}: {kind} ({population.mean:.1f} modes {per}, {outcome})"
    if dominant is None:
        return sentence + "."
    share = dominant.prevalence_failed if use_failed else dominant.prevalence
    where = "failed traces" if use_failed else "traces"
    tag = ", fatal" if dominant.verdict == "fatal" else ""
    return f"{sentence}, dominated by {dominant.name.lower()} ({dominant.id}, {share or 0:.0%} of {where}{tag})."
