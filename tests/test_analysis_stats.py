import math

import pytest
from scipy.stats import fisher_exact

from agentmortem.analysis.stats import (
    benjamini_hochberg,
    fisher_p,
    median_of_histogram,
    odds_ratio,
    relative_change,
    share,
)


def test_share_refuses_empty_denominator():
    assert share(3, 4) == 0.75
    assert share(0, 0) is None


@pytest.mark.parametrize(
    ("value", "base", "expected"),
    [
        (0.6, 0.4, (pytest.approx(0.5), "finite")),
        (0.2, 0.0, (None, "infinite")),
        (0.0, 0.0, (None, "undefined")),
        (None, 0.3, (None, "undefined")),
        (0.3, None, (None, "undefined")),
    ],
)
def test_relative_change_never_divides_by_zero(value, base, expected):
    assert relative_change(value, base) == expected


def test_odds_ratio_woolf_interval_without_zero_cells():
    result = odds_ratio(10, 5, 2, 8)
    assert result is not None
    value, low, high = result
    se = math.sqrt(1 / 10 + 1 / 5 + 1 / 2 + 1 / 8)
    assert value == pytest.approx(8.0)
    assert low == pytest.approx(math.exp(math.log(8) - 1.959964 * se), rel=1e-5)
    assert high == pytest.approx(math.exp(math.log(8) + 1.959964 * se), rel=1e-5)


def test_odds_ratio_haldane_correction_on_a_zero_cell():
    value, low, high = odds_ratio(5, 0, 2, 3)  # type: ignore[misc]
    assert value == pytest.approx(5.5 * 3.5 / (0.5 * 2.5))
    assert 0 < low < value < high < math.inf


def test_odds_ratio_and_fisher_refuse_an_empty_class():
    assert odds_ratio(0, 0, 3, 4) is None
    assert fisher_p(3, 4, 0, 0) is None


def test_fisher_matches_the_tea_tasting_table():
    assert fisher_p(3, 1, 1, 3) == pytest.approx(0.4857142857)
    assert fisher_p(8, 2, 1, 9) == pytest.approx(fisher_exact([[8, 2], [1, 9]]).pvalue)


def test_benjamini_hochberg_known_answer_and_untested_entries():
    q = benjamini_hochberg([0.01, 0.04, None, 0.03, 0.005])
    assert q == [pytest.approx(0.02), pytest.approx(0.04), None, pytest.approx(0.04), pytest.approx(0.02)]
    assert benjamini_hochberg([None, None]) == [None, None]
    assert benjamini_hochberg([0.9, 0.8]) == [pytest.approx(0.9), pytest.approx(0.9)]


def test_median_of_histogram():
    assert median_of_histogram([(1, 2), (3, 1)]) == 1
    assert median_of_histogram([(1, 1), (2, 1), (4, 1), (9, 1)]) == 3
    assert median_of_histogram([]) is None


def test_fisher_agrees_with_scipy_on_many_tables():
    import random

    rng = random.Random(7)
    tables = [[rng.randrange(0, 40) for _ in range(4)] for _ in range(300)]
    tables += [[rng.randrange(0, 50000) for _ in range(4)] for _ in range(30)]
    tables += [[0, 10, 0, 7], [5, 0, 0, 5], [3, 3, 3, 3], [1, 0, 0, 0], [12, 0, 0, 0], [0, 5, 5, 0]]
    for a, b, c, d in tables:
        if a + b == 0 or c + d == 0:
            continue
        expected = fisher_exact([[a, b], [c, d]]).pvalue
        assert fisher_p(a, b, c, d) == pytest.approx(expected, rel=1e-6, abs=1e-300), (a, b, c, d)
