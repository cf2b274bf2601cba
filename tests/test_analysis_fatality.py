"""The fatal / benign / inconclusive rule and the ranking, on counts with known answers."""

import pytest

from agentmortem.analysis.fatality import ModeCounts, mode_stats, ranking
from agentmortem.report.report import ModeInfo, ReportSettings

SETTINGS = ReportSettings()


def counts(fk: int, fp: int, sk: int, sp: int) -> ModeCounts:
    return ModeCounts(known=fk + sk, present=fp + sp, failed_known=fk, failed_present=fp, succeeded_known=sk,
                      succeeded_present=sp)  # fmt: skip


def stats(*rows: ModeCounts):
    modes = [ModeInfo(id=f"FM-{i}", name=f"mode {i}", category="FC1") for i in range(len(rows))]
    return mode_stats(modes, list(rows), SETTINGS)


def test_fatal_when_more_frequent_in_failures_and_significant():
    (s,) = stats(counts(40, 30, 40, 5))
    assert s.verdict == "fatal" and s.odds_ratio > 1 and s.q_value <= 0.05
    assert s.relative_increase == pytest.approx(30 / 40 / (5 / 40) - 1)


def test_benign_when_common_in_successes_and_a_strong_link_is_ruled_out():
    (s,) = stats(counts(200, 90, 200, 100))
    assert s.verdict == "benign" and s.ci95[1] < SETTINGS.benign_max_or
    assert "upper bound" in s.verdict_reason


def test_benign_when_significantly_rarer_in_failures():
    (s,) = stats(counts(50, 5, 50, 40))
    assert s.verdict == "benign" and "less frequent in failures" in s.verdict_reason


def test_rare_in_successes_and_unlinked_is_inconclusive_not_benign():
    (s,) = stats(counts(200, 10, 200, 12))
    assert s.prevalence_succeeded < SETTINGS.benign_min_prevalence and s.verdict == "inconclusive"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (counts(4, 4, 30, 0), "too few traces per outcome (4 failed, 30 succeeded"),
        (counts(30, 2, 30, 0), "present in only 2 traces"),
        (counts(30, 0, 30, 0), "present in only 0 traces"),
        (counts(12, 12, 0, 0), "too few traces per outcome (12 failed, 0 succeeded"),
        (counts(0, 0, 0, 0), "no outcomes known"),
    ],
)
def test_small_support_refuses_to_decide(row, reason):
    (s,) = stats(row)
    assert s.verdict == "inconclusive" and s.verdict_reason.startswith(reason)


def test_edge_cases_yield_no_number_rather_than_a_crash():
    all_failed, nothing = stats(counts(12, 12, 0, 0), counts(0, 0, 0, 0))
    assert all_failed.prevalence_failed == 1.0 and all_failed.prevalence_succeeded is None
    assert all_failed.odds_ratio is None and all_failed.p_value is None and all_failed.rank is None
    assert nothing.prevalence is None and nothing.difference_points is None
    assert nothing.relative_increase_kind == "undefined"


def test_never_present_modes_are_not_counted_as_tests():
    strong, never = stats(counts(20, 15, 20, 2), counts(20, 0, 20, 0))
    assert never.p_value == 1.0 and never.q_value is None and never.rank is None
    assert strong.q_value == pytest.approx(strong.p_value)  # one test only: q = p


def test_ranking_by_lower_confidence_bound():
    weak, strong, protective = stats(counts(30, 12, 30, 6), counts(30, 25, 30, 3), counts(30, 3, 30, 20))
    assert ranking([weak, strong, protective]) == ["FM-1", "FM-0", "FM-2"]
    assert (strong.rank, weak.rank, protective.rank) == (1, 2, 3)
