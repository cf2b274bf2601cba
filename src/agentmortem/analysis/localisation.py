"""Whether an annotator finds failures *where* a reference puts them: step hits, decisive steps and agents.

Per trace, `location_cells` counts hits and chances of five figures, for each mode and for the trace as a whole:

* step hit (exact / within ±k steps): a (trace, mode) pair both sides call present, the reference citing at least
  one evidence step; a hit when one of the annotator's evidence steps is a reference step (or within k of one). A
  present verdict without evidence cannot hit.
* decisive step (exact / within ±k), the Who&When metric: on a *decisive trace* (the reference names a decisive
  step, and the run failed or its outcome is unknown: a decisive step says the run failed), the annotator's decisive
  step is the one it names, else its earliest evidence step on any present mode; a hit when it equals the
  reference's decisive step (or is within k of it). An annotator that cites nothing misses. Per mode, the chances
  are the decisive traces where the annotator cites that mode, and the mode's earliest evidence step must hit.
* agent: where the reference names an agent (its decisive agent for the trace, a verdict's agent for a mode), a hit
  when the annotator names the same one: the agent it names, else the agent of the step it points at. Names are
  compared without case, punctuation or a trailing "(…)" ("Orchestrator (thought)" is the Orchestrator).

Cells are plain counts so the agreement bootstrap resamples them with the traces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from agentmortem.model import Annotation, ModeVerdict

FIGURES = ("step_hit", "step_hit_within", "decisive_step", "decisive_step_within", "agent")
"""The localisation figures, in the order of the cells' last-but-one axis."""

_STEP, _STEP_WITHIN, _DECISIVE, _DECISIVE_WITHIN, _AGENT = range(len(FIGURES))
_HIT, _CHANCE = 0, 1
_SUFFIX = re.compile(r"\s*\([^)]*\)\s*$")


def location_cells(
    mine: Sequence[Annotation],
    theirs: Sequence[Annotation],
    modes: Sequence[str],
    *,
    tolerance: int,
    success: Mapping[str, bool | None],
    step_agents: Mapping[str, Sequence[str | None]],
) -> tuple[np.ndarray, int]:
    """Cells of shape (traces, modes + 1, figures, 2): hits and chances per trace, per mode and (last) overall.

    Also returns how many traces are decisive traces. `success` and `step_agents` map trace ids to the outcome and
    to each step's agent; a trace missing from them has an unknown outcome and no step agents.
    """
    cells = np.zeros((len(mine), len(modes) + 1, len(FIGURES), 2), dtype=np.int64)
    decisive_traces = 0
    for t, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        agents = step_agents.get(a.trace_id, ())
        decisive = b.decisive_step is not None and success.get(a.trace_id) is not True
        decisive_traces += decisive
        for m, mode in enumerate(modes):
            _mode_cells(cells[t, m], a.verdict(mode), b.verdict(mode), agents, tolerance)
            if decisive:
                _mode_decisive(cells[t, m], a.verdict(mode), b, tolerance)
        if decisive:
            _trace_cells(cells[t, len(modes)], a, b, agents, tolerance)
    return cells, decisive_traces


def _mode_cells(
    cell: np.ndarray, mine: ModeVerdict | None, theirs: ModeVerdict | None, agents: Sequence[str | None], k: int
) -> None:
    if mine is None or theirs is None or not (mine.present and theirs.present):
        return
    reference = [e.step for e in theirs.evidence]
    if reference:
        steps = [e.step for e in mine.evidence]
        _count(cell[_STEP], any(s in reference for s in steps))
        _count(cell[_STEP_WITHIN], any(abs(s - r) <= k for s in steps for r in reference))
    if theirs.agent:
        _count(cell[_AGENT], same_agent(mine.agent or _agent_at(agents, mine.first_step), theirs.agent))


def _mode_decisive(cell: np.ndarray, mine: ModeVerdict | None, theirs: Annotation, k: int) -> None:
    if mine is None or not mine.present or mine.first_step is None or theirs.decisive_step is None:
        return
    _count(cell[_DECISIVE], mine.first_step == theirs.decisive_step)
    _count(cell[_DECISIVE_WITHIN], abs(mine.first_step - theirs.decisive_step) <= k)


def _trace_cells(cell: np.ndarray, mine: Annotation, theirs: Annotation, agents: Sequence[str | None], k: int) -> None:
    step = decisive_step_of(mine)
    reference = theirs.decisive_step
    assert reference is not None  # only decisive traces get here
    _count(cell[_DECISIVE], step == reference)
    _count(cell[_DECISIVE_WITHIN], step is not None and abs(step - reference) <= k)
    if theirs.decisive_agent:
        _count(cell[_AGENT], same_agent(mine.decisive_agent or _agent_at(agents, step), theirs.decisive_agent))


def decisive_step_of(annotation: Annotation) -> int | None:
    """The step an annotation holds decisive: the one it names, else its earliest evidence step on a present mode."""
    if annotation.decisive_step is not None:
        return annotation.decisive_step
    return min((v.first_step for v in annotation.verdicts if v.present and v.first_step is not None), default=None)


def same_agent(mine: str | None, theirs: str) -> bool:
    """True when `mine` names the agent `theirs` names (see the module docstring for the comparison)."""
    return mine is not None and _agent_key(mine) == _agent_key(theirs)


def _agent_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", _SUFFIX.sub("", name).lower())


def _agent_at(agents: Sequence[str | None], step: int | None) -> str | None:
    return agents[step] if step is not None and 0 <= step < len(agents) else None


def _count(pair: np.ndarray, hit: bool) -> None:
    pair[_HIT] += hit
    pair[_CHANCE] += 1
