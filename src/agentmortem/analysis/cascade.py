"""The cascade view: which modes show up first in a trace, which follow, and which travel together.

A mode's place in a trace is its earliest evidence step, made relative as step / (n_steps - 1) so long and short
traces compare. The root of a trace is its earliest mode; when several modes share the earliest step each of them
counts as a root. Modes present without any evidence step cannot be placed: such traces are counted as unlocated.
Precedence and roots are computed over failed traces (the cascades that killed a run) or, in a group where no
outcome is known, over all its traces; co-occurrence and lift always use every analysed trace of the group.
"""

from __future__ import annotations

from agentmortem.analysis.stats import share
from agentmortem.report.report import CascadeView, ModeInfo, ModePosition
from agentmortem.store.signatures import CascadeRow


def cascade_view(
    row: CascadeRow | None,
    modes: list[ModeInfo],
    cooccurrence: list[list[int]],
    lift: list[list[float | None]],
    *,
    has_outcomes: bool,
) -> CascadeView:
    """Assemble a group's cascade view from its store aggregates and its co-occurrence matrices."""
    n = len(modes)
    if row is None:  # no trace of the population: an empty but well-formed view
        row = CascadeRow(
            group="", population="failed" if has_outcomes else "all", located=0, unlocated=0, counts=[0] * n,
            positions=[None] * n, roots=[0] * n, precedence=[[0] * n for _ in range(n)],
        )  # fmt: skip
    positions = [
        ModePosition(
            id=m.id,
            traces=row.counts[i],
            mean_position=_rounded(row.positions[i]),
            roots=row.roots[i],
            root_share=share(row.roots[i], row.located),
        )  # fmt: skip
        for i, m in enumerate(modes)
    ]
    return CascadeView(
        population="all" if row.population == "all" else "failed",
        traces=row.located,
        unlocated=row.unlocated,
        positions=positions,
        precedence=row.precedence,
        cooccurrence=cooccurrence,
        lift=lift,
    )


def _rounded(value: float | None) -> float | None:
    # Means of relative positions carry float noise from the SQL average; six places is plenty for a [0, 1] share.
    return None if value is None else round(float(value), 6)


def root_modes(view: CascadeView) -> list[ModePosition]:
    """Modes that start cascades, most frequent root first (only those that are a root at least once)."""
    return sorted((p for p in view.positions if p.roots), key=lambda p: (-p.roots, p.id))


def leads(view: CascadeView, modes: list[ModeInfo], *, limit: int = 3) -> list[tuple[str, str, int]]:
    """The strongest 'A comes before B' pairs: (A, B, traces where A precedes B minus traces where B precedes A)."""
    n = len(modes)
    pairs = [
        (modes[i].id, modes[j].id, view.precedence[i][j] - view.precedence[j][i])
        for i in range(n)
        for j in range(n)
        if view.precedence[i][j] > view.precedence[j][i]
    ]
    return sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))[:limit]
