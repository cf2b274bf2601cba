"""Interventions: the playbook of fixes per mode (playbook.yaml) and their ranking for one group.

Ranking rule. With both outcome classes present in the group, a mode's score is
    fatal impact x prevalence = max(0, prevalence_failed - prevalence_succeeded) x prevalence_failed,
i.e. how much more often it shows in failures, weighted by how many failures it touches; modes judged benign
score 0. Without both classes (no outcomes, or all runs failed) the basis is prevalence alone: the prevalence
among failed traces when there are any, else over all traces. An intervention scores the maximum over the modes
it addresses; the group's top interventions are the three best with a positive score, each citing its modes.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from agentmortem.report.report import Citation, Intervention, ModeStat

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
    """A mode's score under the ranking rule of the module docstring."""
    if basis == "outcomes":
        if stat.verdict == "benign" or stat.prevalence_failed is None or stat.prevalence_succeeded is None:
            return 0.0
        return max(0.0, stat.prevalence_failed - stat.prevalence_succeeded) * stat.prevalence_failed
    base = stat.prevalence_failed if stat.failed_known else stat.prevalence
    return base or 0.0


def rank_interventions(
    stats: list[ModeStat],
    *,
    failed: int,
    succeeded: int,
    playbook: Playbook | None = None,
    limit: int = TOP_INTERVENTIONS,
) -> list[Intervention]:
    """The group's best interventions, strongest first, each citing the numbers of its modes."""
    playbook = playbook or default_playbook()
    basis = basis_of(failed, succeeded)
    by_id = {s.id: s for s in stats}
    ranked = [_intervention(entry, by_id, basis) for entry in playbook.interventions]
    ranked = [i for i in ranked if i.score > 0]
    return sorted(ranked, key=lambda i: (-i.score, i.id))[:limit]


def _intervention(
    entry: PlaybookEntry, by_id: dict[str, ModeStat], basis: Literal["outcomes", "prevalence"]
) -> Intervention:
    cited = [_citation(by_id[m], basis) for m in entry.modes if m in by_id]
    cited = sorted((c for c in cited if c.score > 0), key=lambda c: (-c.score, c.mode))
    score = cited[0].score if cited else 0.0
    why = _why(cited[0], by_id[cited[0].mode], basis) if cited else ""
    return Intervention(
        id=entry.id, title=entry.title, fix=entry.fix, modes=entry.modes, score=score, basis=basis, why=why,
        cited=cited,
    )  # fmt: skip


def _citation(stat: ModeStat, basis: Literal["outcomes", "prevalence"]) -> Citation:
    return Citation(
        mode=stat.id, prevalence=stat.prevalence, prevalence_failed=stat.prevalence_failed,
        prevalence_succeeded=stat.prevalence_succeeded, odds_ratio=stat.odds_ratio, q_value=stat.q_value,
        verdict=stat.verdict, score=round(mode_score(stat, basis), 6),
    )  # fmt: skip


def _why(citation: Citation, stat: ModeStat, basis: Literal["outcomes", "prevalence"]) -> str:
    label = f"{stat.id} {stat.name}"
    if basis == "prevalence":
        where = "failed traces" if stat.failed_known else "traces"
        return f"{label} appears in {citation.score:.0%} of {where} (no outcome contrast available)."
    odds = "" if stat.odds_ratio is None else f", OR {stat.odds_ratio:.2f}"
    q = "" if stat.q_value is None else f", q={stat.q_value:.2g}"
    return (
        f"{label} appears in {stat.prevalence_failed:.0%} of failed vs {stat.prevalence_succeeded:.0%} of "
        f"successful traces{odds}{q}; verdict {stat.verdict}."
    )
