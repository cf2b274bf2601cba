"""The decisive step of a failed trace and its root mode: where, and by which fatal mode, a run turned.

Who&When's notion of the decisive error, made from annotations: among the modes that are fatal in the trace's
group, the earliest evidence step of any of them that is present in the trace is its *decisive step*, and that mode
is its *root mode*. When two fatal modes first show at the same step the stronger one (better fatality rank) is the
root. A fatal mode present without any evidence step cannot be placed: such a failed trace is counted as
unlocated. A group with no fatal mode has no decisive steps (there is nothing yet known to have killed its runs).

Per group the report gives the distribution of root modes and the median position of the decisive step as a share
of the trace, step / (n_steps - 1), the relative position the cascade view uses. The per-group figures come from
the store's first-evidence facts in one aggregate (Store.signature_session → decisive); `decisive_step` computes the
same for one annotation (the drill-down, and comparisons with reference labels that name a decisive step).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from agentmortem.analysis.stats import share
from agentmortem.model import Annotation, ModeVerdict
from agentmortem.report.report import DecisiveSteps, ModeStat, RootMode
from agentmortem.store.signatures import DecisiveRow


def fatal_modes(stats: Sequence[ModeStat]) -> list[str]:
    """The group's fatal modes, strongest (best fatality rank) first."""
    fatal = [s for s in stats if s.verdict == "fatal"]
    return [s.id for s in sorted(fatal, key=lambda s: (s.rank is None, s.rank or 0, s.id))]


def decisive_step(fatal: Sequence[str], verdicts: Annotation | Iterable[ModeVerdict]) -> tuple[int, str] | None:
    """(decisive step, root mode) of one trace given its group's fatal modes (strongest first), or None.

    None when no fatal mode is present with an evidence step. Ties at the earliest step go to the mode listed first.
    """
    order = {mode_id: i for i, mode_id in enumerate(fatal)}
    found = verdicts.verdicts if isinstance(verdicts, Annotation) else verdicts
    best: tuple[int, int] | None = None
    for verdict in found:
        rank = order.get(verdict.mode_id)
        if rank is None or not verdict.present:
            continue
        step = verdict.first_step
        if step is not None and (best is None or (step, rank) < best):
            best = (step, rank)
    return None if best is None else (best[0], fatal[best[1]])


def decisive_steps(
    row: DecisiveRow | None, fatal: list[str], mode_ids: Sequence[str], *, failed: int, fatal_present: int
) -> DecisiveSteps:
    """A group's decisive-step summary from its store aggregate (None: no failed trace has a decisive step)."""
    located = row.located if row is not None else 0
    roots = [] if row is None else [(mode_ids[bit], n) for bit, n in enumerate(row.roots) if n]
    strength = {mode_id: i for i, mode_id in enumerate(fatal)}
    roots.sort(key=lambda r: (-r[1], strength.get(r[0], len(strength)), r[0]))
    return DecisiveSteps(
        fatal_modes=fatal, failed=failed, located=located, unlocated=fatal_present - located,
        without_fatal_mode=failed - fatal_present,
        median_position=None if row is None or row.median_position is None else round(row.median_position, 6),
        roots=[RootMode(mode=mode_id, traces=n, share=share(n, located)) for mode_id, n in roots],
    )  # fmt: skip
