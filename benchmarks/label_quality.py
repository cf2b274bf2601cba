"""How many reference labels make a corrected interval useful: the planted population at several reference sizes.

Uses the planted population of tests/test_calibration.py (tests/planted.py: 3 groups x 200 traces, 5 modes, a
judge with known errors, one mode biased upwards in failed traces only). For each share of traces labelled by
the reference it draws many seeds and prints, per group and outcome class (about 100 traces each): the reference
labels per cell, the mean half-width of the corrected 95% interval (over all modes, and for the mode whose judge
is accurate, against the reference alone), its coverage of the true prevalence (a cell with no label counts as
not covered), the half-width from the reference labels alone (what you would have without the judge), the share
of cells with no label at all, and the raw judge's coverage on the biased mode. docs/label-quality.md quotes the table.

    .venv/bin/python benchmarks/label_quality.py [--seeds N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from _machine import machine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the test's planted population

from agentmortem.analysis.calibration import Z95, Stratum, calibrate, ppi_prevalence  # noqa: E402
from agentmortem.report.report import ReportSettings  # noqa: E402
from planted import BIASED, FATAL, TRUE_PREVALENCE, draw, raw_prevalence, strata  # noqa: E402

SHARES = (0.05, 0.10, 0.15, 0.25, 0.40)


def _reference_only(s: Stratum) -> tuple[np.ndarray, np.ndarray]:
    """The same estimator with no unlabelled traces: the classical estimate from the reference alone."""
    return ppi_prevalence(Stratum(s.labelled, s.both + s.false_alarm, s.both, s.missed, s.false_alarm, s.neither))


def _row(share: float, seeds: int) -> str:
    population = draw(seeds, reference_share=share, first_seed=int(share * 1000))
    cells = strata(population)
    result = calibrate(cells, ReportSettings())
    widths, covered, alone = [], [], []
    for k, (code, (est, se)) in enumerate((("f", result.prevalence_failed), ("s", result.prevalence_succeeded))):
        true = TRUE_PREVALENCE[None, :, k, :]
        low, high = np.clip(est - Z95 * se, 0, 1), np.clip(est + Z95 * se, 0, 1)
        widths.append(high - low)
        covered.append((low <= true) & (true <= high))
        ref_est, ref_se = _reference_only(cells[code])
        alone.append(np.clip(ref_est + Z95 * ref_se, 0, 1) - np.clip(ref_est - Z95 * ref_se, 0, 1))
    raw = raw_prevalence(population)[:, :, 0, BIASED]
    raw_se = np.sqrt(raw * (1 - raw) / np.array([100, 120, 80])[None])
    raw_true = TRUE_PREVALENCE[None, :, 0, BIASED]
    raw_cover = np.mean(np.abs(raw - raw_true) <= Z95 * raw_se)
    per_cell = np.mean([cells["f"].labelled.mean(), cells["s"].labelled.mean()])
    width, ref_width = np.stack(widths), np.stack(alone)
    return (
        f"| {share:.0%} | {round(share * 600)} | {per_cell:.0f} | ±{np.nanmean(width) * 50:.0f} pts | "
        f"±{np.nanmean(width[..., FATAL]) * 50:.0f} vs ±{np.nanmean(ref_width[..., FATAL]) * 50:.0f} pts | "
        f"{np.mean(covered):.1%} | ±{np.nanmean(ref_width) * 50:.0f} pts | {np.mean(np.isnan(width)):.1%} | "
        f"{raw_cover:.0%} |"
    )


def main() -> None:
    """Print the table for each reference share."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=500)
    args = parser.parse_args()
    start = time.perf_counter()
    print(f"machine: {machine()}; {args.seeds} seeds per row")
    print("| reference share | reference traces | labels per group x class | corrected 95% interval (half-width) | "
          "accurate-judge mode: corrected vs reference alone | coverage | reference alone (half-width) | "
          "cells with no label | raw judge coverage, biased mode |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for share in SHARES:
        print(_row(share, args.seeds))
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
