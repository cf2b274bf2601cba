"""Interventions: the playbook of fixes per mode (playbook.yaml), their ranking per group, and the shared ones.

Ranking rule. A fix is worth building for a group in proportion to the failures it can remove, and more so when
those failures are what set the group apart. Its score in a group is

    score = coverage x (1 + distinctiveness)

* coverage: the share of the group's failed traces in which at least one of the fix's modes is present, minus
  the same share among its successful traces (floored at 0). Counting traces, not summing modes, means a fix is
  not paid twice for two of its modes in the same run; subtracting successes discounts modes a model shows
  whether or not it succeeds. Modes judged benign in the group do not count. Without both outcome classes (no
  outcomes, or every run failed) there is no contrast: coverage is the share among failed traces (all traces
  when none is known to have failed).
* distinctiveness: the largest excess, as a share, of one of its modes in the group's failed traces over the
  other groups' failed traces (analysis/distinctive.py), among its modes that are distinctive for the group (a
  significant pooled test), not benign and, with outcomes, more frequent in the group's failures than in its
  successes. 0 when none is, and always 0 with a single group.

The product keeps coverage in charge, so a fix that removes no failure never ranks whatever its modes' rarity
elsewhere, and lets distinctiveness raise a fix by up to the excess it targets: of two fixes that each touch half
of a model's failures, the one aimed at what this model does far more than the others comes first, because the
common one is better shared. Each fix cites both terms in `why`.

Shared fixes. With two groups or more, a fix one of whose modes is fatal in every group answers a failure all of
them have: it is listed once, as shared (`Report.shared_interventions`), and left out of the per-group lists,
which then hold each group's best `TOP_INTERVENTIONS` other fixes with a positive score.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from agentmortem.analysis.signatures import GroupMasks, prevalence_of_any
from agentmortem.report.report import (
    Citation,
    Distinction,
    Intervention,
    ModeStat,
    SharedGroup,
    SharedIntervention,
)

TOP_INTERVENTIONS = 3


class PlaybookError(ValueError):
    """A playbook file that cannot be loaded."""


class PlaybookEntry(BaseModel):
    """One fix and the modes it addresses."""

    id: str
    title: str
    fix: str
    modes: list[str] = Field(min_length=1)


class Playbook(BaseModel):
    """A named, versioned list of fixes."""

    name: str
    version: str
    interventions: list[PlaybookEntry]

    def covered_modes(self) -> set[str]:
        """Every mode some intervention addresses."""
        return {m for entry in self.interventions for m in entry.modes}


@lru_cache(maxsize=1)
def default_playbook() -> Playbook:
    """The built-in playbook."""
    text = resources.files("agentmortem.analysis").joinpath("playbook.yaml").read_text(encoding="utf-8")
    return Playbook.model_validate(yaml.safe_load(text))


def load_playbook(path: str | Path | None = None) -> Playbook:
    """Load a playbook from YAML; None gives the built-in one."""
    if path is None:
        return default_playbook()
    try:
        return Playbook.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PlaybookError(f"{path}: cannot load playbook: {first}") from exc


def basis_of(failed: int, succeeded: int) -> Literal["outcomes", "prevalence"]:
    """'outcomes' when the group has both failed and successful traces, else 'prevalence'."""
    return "outcomes" if failed and succeeded else "prevalence"


def mode_score(stat: ModeStat, basis: Literal["outcomes", "prevalence"]) -> float:
    """One mode's own coverage term: its prevalence among failures minus among successes (0 when benign)."""
    if basis == "outcomes":
        if stat.verdict == "benign" or stat.prevalence_failed is None or stat.prevalence_succeeded is None:
            return 0.0
        return max(0.0, stat.prevalence_failed - stat.prevalence_succeeded)
    base = stat.prevalence_failed if stat.failed_known else stat.prevalence
    return base or 0.0


@dataclass(frozen=True)
class GroupEvidence:
    """What the ranking reads about one group: its mode-set rows, per-mode statistics and distinctive profile."""

    masks: GroupMasks
    stats: list[ModeStat]
    distinctions: list[Distinction]
    noun: str = "group"

    @property
    def basis(self) -> Literal["outcomes", "prevalence"]:
        """'outcomes' with both outcome classes, else 'prevalence'."""
        return basis_of(self.masks.only("f").traces, self.masks.only("s").traces)


def rank_interventions(
    evidence: GroupEvidence, *, playbook: Playbook | None = None, limit: int | None = TOP_INTERVENTIONS
) -> list[Intervention]:
    """The group's fixes with a positive score, strongest first (all of them when `limit` is None)."""
    playbook = playbook or default_playbook()
    ranked = [_intervention(entry, evidence) for entry in playbook.interventions]
    ranked = sorted((i for i in ranked if i.score > 0), key=lambda i: (-i.score, i.id))
    return ranked if limit is None else ranked[:limit]


def _intervention(entry: PlaybookEntry, ev: GroupEvidence) -> Intervention:
    basis = ev.basis
    index = {s.id: i for i, s in enumerate(ev.stats)}
    counted = [index[m] for m in entry.modes if m in index and ev.stats[index[m]].verdict != "benign"]
    failed, succeeded = _coverage(ev.masks, counted, basis)
    coverage = max(0.0, (failed or 0.0) - (succeeded or 0.0)) if basis == "outcomes" else failed or 0.0
    excess, excess_mode = _distinctiveness(ev, counted, basis)
    cited = [_citation(ev.stats[i], basis) for i in counted if ev.stats[i].present]
    cited.sort(key=lambda c: (-c.score, c.mode))
    fix = Intervention(
        id=entry.id, title=entry.title, fix=entry.fix, modes=entry.modes, score=round(coverage * (1 + excess), 6),
        basis=basis, why="", cited=cited, coverage_failed=failed, coverage_succeeded=succeeded,
        coverage=round(coverage, 6), distinctiveness=round(excess, 6), distinctive_mode=excess_mode,
    )  # fmt: skip
    return fix.model_copy(update={"why": _why(ev, fix)}) if cited else fix


def _coverage(
    masks: GroupMasks, columns: list[int], basis: Literal["outcomes", "prevalence"]
) -> tuple[float | None, float | None]:
    failed = masks.only("f")
    if basis == "outcomes":
        return prevalence_of_any(failed, columns), prevalence_of_any(masks.only("s"), columns)
    return prevalence_of_any(failed if failed.traces else masks, columns), None


def _distinctiveness(
    ev: GroupEvidence, columns: list[int], basis: Literal["outcomes", "prevalence"]
) -> tuple[float, str | None]:
    best: tuple[float, str | None] = (0.0, None)
    for i in columns:
        d, stat = ev.distinctions[i], ev.stats[i]
        linked = basis == "prevalence" or (stat.difference_points or 0) > 0
        excess = (d.difference_points or 0) / 100
        if d.significant and excess > best[0] and linked:
            best = (excess, d.mode)
    return best


def _citation(stat: ModeStat, basis: Literal["outcomes", "prevalence"]) -> Citation:
    return Citation(
        mode=stat.id, prevalence=stat.prevalence, prevalence_failed=stat.prevalence_failed,
        prevalence_succeeded=stat.prevalence_succeeded, odds_ratio=stat.odds_ratio, q_value=stat.q_value,
        verdict=stat.verdict, score=round(mode_score(stat, basis), 6),
    )  # fmt: skip


def _why(ev: GroupEvidence, fix: Intervention) -> str:
    """Both terms of the fix's score, with the numbers behind each."""
    names = {s.id: s.name for s in ev.stats}
    top, failed, succeeded = fix.cited[0], fix.coverage_failed or 0, fix.coverage_succeeded or 0
    if fix.basis == "outcomes":
        odds = "" if top.odds_ratio is None else f", OR {top.odds_ratio:.2f}"
        q = "" if top.q_value is None else f", q={top.q_value:.2g}"
        touch = (
            f"touches {failed:.0%} of failed vs {succeeded:.0%} of successful traces (coverage {fix.coverage:.2f}; "
            f"strongest: {top.mode} {names[top.mode]}, {top.prevalence_failed or 0:.0%} of failed vs "
            f"{top.prevalence_succeeded or 0:.0%} of successful{odds}{q}, {top.verdict})"
        )
    else:
        touch = (
            f"touches {failed:.0%} of {_population(ev)} (coverage {fix.coverage:.2f}, no outcome contrast "
            f"available; strongest: {top.mode} {names[top.mode]})"
        )
    if fix.distinctive_mode is None:
        return f"{touch}; none of its modes sets this {ev.noun} apart: score {fix.score:.2f}."
    d = next(d for d in ev.distinctions if d.mode == fix.distinctive_mode)
    return (
        f"{touch}; {d.mode} {names[d.mode]} is in {d.prevalence or 0:.0%} of its {_population(ev)} vs "
        f"{d.prevalence_others or 0:.0%} of the other {ev.noun}s' ({d.difference_points or 0:+.0f} pts, "
        f"q={d.q_value or 0:.2g}; distinctiveness {fix.distinctiveness:.2f}): score {fix.coverage:.2f} x "
        f"{1 + fix.distinctiveness:.2f} = {fix.score:.2f}."
    )


def _population(ev: GroupEvidence) -> str:
    return "failed traces" if ev.masks.only("f").traces else "traces"


def shared_interventions(
    rankings: dict[str, list[Intervention]],
    fatal: dict[str, list[str]],
    *,
    noun: str = "group",
    playbook: Playbook | None = None,
) -> list[SharedIntervention]:
    """Fixes one of whose modes is fatal in every group (two groups or more), in playbook order."""
    if len(rankings) < 2:
        return []
    playbook = playbook or default_playbook()
    everywhere = set.intersection(*(set(modes) for modes in fatal.values())) if fatal else set()
    shared = []
    for entry in playbook.interventions:
        common = [m for m in entry.modes if m in everywhere]
        if common:
            shared.append(_shared(entry, common, rankings, noun))
    return shared


def _shared(
    entry: PlaybookEntry, common: list[str], rankings: dict[str, list[Intervention]], noun: str
) -> SharedIntervention:
    groups = []
    for group, ranked in rankings.items():
        fix = next((i for i in ranked if i.id == entry.id), None)
        groups.append(
            SharedGroup(group=group, coverage_failed=fix and fix.coverage_failed, coverage=fix.coverage if fix else 0.0)
        )
    touched = ", ".join(f"{g.group} {g.coverage_failed or 0:.0%}" for g in groups)
    why = f"{', '.join(common)} fatal in every {noun}; the fix touches their failed traces: {touched}."
    return SharedIntervention(
        id=entry.id, title=entry.title, fix=entry.fix, modes=entry.modes, fatal_everywhere=common, groups=groups,
        why=why,
    )  # fmt: skip
