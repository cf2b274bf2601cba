"""A planted population for the label-quality tests and benchmark: true prevalences, a judge with known errors.

Three groups of 200 traces (600 in all), each with a fixed number of failed traces; five modes whose true
prevalence per group and outcome class is planted; a judge whose sensitivity and false-alarm rate are planted per
mode, one of them (MODES[1]) raising false alarms in failed traces only, one (MODES[2]) answering at chance. A
random share of the traces also gets the truth as the reference. Everything is drawn for many seeds at once
(numpy, seeds on the first axis), so hundreds of replications take well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agentmortem.analysis.calibration import Stratum

GROUPS = ("alpha", "beta", "gamma")
TRACES_PER_GROUP = 200
FAILED_PER_GROUP = (100, 120, 80)
MODES = ("fatal", "biased", "chance", "common", "rare")
FATAL, BIASED, CHANCE = 0, 1, 2

# True prevalence [group, class (0 failed, 1 succeeded), mode].
TRUE_PREVALENCE = np.array(
    [
        [[0.70, 0.30, 0.30, 0.40, 0.20], [0.10, 0.30, 0.20, 0.40, 0.10]],
        [[0.65, 0.25, 0.35, 0.45, 0.25], [0.10, 0.25, 0.25, 0.35, 0.10]],
        [[0.70, 0.35, 0.25, 0.40, 0.15], [0.15, 0.35, 0.20, 0.45, 0.05]],
    ]
)
# The judge: P(judge present | truly present) and P(judge present | truly absent) [class, mode].
SENSITIVITY = np.array([[0.90, 0.85, 0.30, 0.80, 0.75], [0.90, 0.85, 0.30, 0.80, 0.75]])
FALSE_ALARM = np.array([[0.08, 0.40, 0.30, 0.12, 0.05], [0.08, 0.04, 0.30, 0.12, 0.05]])


@dataclass(frozen=True)
class Population:
    """Drawn labels for every seed: truth, judge and reference membership, with each trace's group and class."""

    truth: npt.NDArray[np.bool_]  # (seeds, traces, modes)
    judge: npt.NDArray[np.bool_]  # (seeds, traces, modes)
    labelled: npt.NDArray[np.bool_]  # (seeds, traces)
    group: npt.NDArray[np.int64]  # (traces,)
    failed: npt.NDArray[np.bool_]  # (traces,)


def layout() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Group index and failed flag of each of the 600 traces."""
    group = np.repeat(np.arange(len(GROUPS)), TRACES_PER_GROUP)
    failed = np.concatenate([np.arange(TRACES_PER_GROUP) < f for f in FAILED_PER_GROUP])
    return group, failed


def draw(seeds: int, *, reference_share: float = 0.15, first_seed: int = 0) -> Population:
    """Truth, judge verdicts and a random reference subset of `reference_share` of the traces, per seed."""
    rng = np.random.default_rng(first_seed)
    group, failed = layout()
    cls = (~failed).astype(int)
    n = len(group)
    truth = rng.random((seeds, n, len(MODES))) < TRUE_PREVALENCE[group, cls][None]
    rate = np.where(truth, SENSITIVITY[cls][None], FALSE_ALARM[cls][None])
    judge = rng.random((seeds, n, len(MODES))) < rate
    size = round(reference_share * n)
    order = np.argsort(rng.random((seeds, n)), axis=1)
    labelled = np.zeros((seeds, n), dtype=bool)
    np.put_along_axis(labelled, order[:, :size], True, axis=1)
    return Population(truth, judge, labelled, group, failed)


def strata(pop: Population) -> dict[str, Stratum]:
    """Per outcome class, the counts of every (seed, group, mode) cell: shape (seeds, groups, modes)."""
    out = {}
    for code, in_class in (("f", pop.failed), ("s", ~pop.failed)):
        member = np.stack([(pop.group == g) & in_class for g in range(len(GROUPS))], axis=1)  # (traces, groups)
        lab = pop.labelled[:, :, None, None] & member[None, :, :, None]  # (seeds, traces, groups, 1)
        y, f = pop.truth[:, :, None, :], pop.judge[:, :, None, :]

        def count(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
            return mask.sum(axis=1).astype(float)

        out[code] = Stratum(
            traces=np.broadcast_to(member.sum(axis=0)[None, :, None], (pop.truth.shape[0], len(GROUPS), len(MODES)))
            .astype(float),
            judged=count(f & member[None, :, :, None]),
            both=count(lab & y & f), missed=count(lab & y & ~f), false_alarm=count(lab & ~y & f),
            neither=count(lab & ~y & ~f),
        )  # fmt: skip
    return out


def raw_prevalence(pop: Population) -> npt.NDArray[np.float64]:
    """The judge's own prevalence [seed, group, class, mode]."""
    out = np.zeros((pop.truth.shape[0], len(GROUPS), 2, len(MODES)))
    for g in range(len(GROUPS)):
        for c, in_class in enumerate((pop.failed, ~pop.failed)):
            out[:, g, c] = pop.judge[:, (pop.group == g) & in_class].mean(axis=1)
    return out
