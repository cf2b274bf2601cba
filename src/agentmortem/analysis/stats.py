"""Small statistics used by the report: shares, odds ratios with intervals, Fisher's test, Benjamini-Hochberg.

Every function takes counts and returns None rather than dividing by zero, so an empty outcome class or a mode
nobody saw yields "no number" instead of a crash or a misleading infinity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from scipy.special import gammaln
from scipy.stats import hypergeom

from agentmortem.report.report import RelativeKind

Z95 = 1.959963984540054
"""Two-sided 95% normal quantile."""


def share(part: int | float, whole: int | float) -> float | None:
    """The share part / whole, or None when whole is 0."""
    return part / whole if whole else None


def relative_change(value: float | None, base: float | None) -> tuple[float | None, RelativeKind]:
    """The change value / base - 1 with its kind: 'infinite' when base is 0 < value, 'undefined' if nothing to say."""
    if value is None or base is None:
        return None, "undefined"
    if base == 0:
        return None, ("infinite" if value > 0 else "undefined")
    return value / base - 1, "finite"


def odds_ratio(a: int, b: int, c: int, d: int) -> tuple[float, float, float] | None:
    """Odds ratio of a 2x2 table [[a, b], [c, d]] (a, b: present/absent in the first class) with its 95% CI.

    Woolf's logit interval; when any cell is 0, Haldane-Anscombe adds 0.5 to every cell so the ratio and the
    interval stay finite. None when a class is empty (no odds to compare).
    """
    if a + b == 0 or c + d == 0:
        return None
    if 0 in (a, b, c, d):
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5  # type: ignore[assignment]
    log_or = math.log(a * d / (b * c))
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return math.exp(log_or), math.exp(log_or - Z95 * se), math.exp(log_or + Z95 * se)


def fisher_p(a: int, b: int, c: int, d: int) -> float | None:
    """Two-sided Fisher exact p-value of [[a, b], [c, d]]; None when a row is empty.

    The same test as `scipy.stats.fisher_exact` (sum of the probabilities of every table with the same margins
    that is no more likely than the observed one, with scipy's 1e-7 relative tolerance), computed from the two
    tails: a binary search on the far side of the hypergeometric mode finds where the other tail starts, so the
    cost stays flat for tables of a million traces where scipy's search takes milliseconds.
    """
    if a + b == 0 or c + d == 0:
        return None
    total, successes, draws = a + b + c + d, a + c, a + b
    if successes in (0, total):
        return 1.0
    mode = (draws + 1) * (successes + 1) // (total + 2)
    low, high = max(0, draws - (total - successes)), min(draws, successes)
    cut = _log_hypergeom(a, total, successes, draws) + math.log1p(1e-7)
    # scipy's distribution methods are called unfrozen: building a frozen distribution costs more than the tails.
    shape = (total, successes, draws)
    if a < mode:
        start = _search(lambda k: _log_hypergeom(k, total, successes, draws) <= cut, mode, high + 1)
        p = float(hypergeom.cdf(a, *shape)) + (float(hypergeom.sf(start - 1, *shape)) if start <= high else 0.0)
    elif a > mode:
        end = _search(lambda k: _log_hypergeom(k, total, successes, draws) > cut, low, mode + 1) - 1
        p = (float(hypergeom.cdf(end, *shape)) if end >= low else 0.0) + float(hypergeom.sf(a - 1, *shape))
    else:
        return 1.0
    return min(1.0, p)


def _log_hypergeom(k: int, total: int, successes: int, draws: int) -> float:
    """Return log P(X = k) for X ~ Hypergeometric(total, successes, draws)."""
    return float(_log_choose(successes, k) + _log_choose(total - successes, draws - k) - _log_choose(total, draws))


def _log_choose(n: int, k: int) -> float:
    return float(gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1))


def _search(predicate: Callable[[int], bool], start: int, stop: int) -> int:
    """The first k in [start, stop) where a monotone `predicate` holds, or `stop` when it never does."""
    while start < stop:
        middle = (start + stop) // 2
        if predicate(middle):
            stop = middle
        else:
            start = middle + 1
    return start


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """BH q-values in input order; None p-values stay None and do not count as tests."""
    tested = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(tested)
    q: list[float | None] = [None] * len(p_values)
    running = 1.0
    # Step up from the largest p: q_(k) = min over j >= k of p_(j) * m / j, capped at 1.
    for rank in range(m, 0, -1):
        p, index = tested[rank - 1]
        running = min(running, p * m / rank)
        q[index] = running
    return q


def median_of_histogram(histogram: Sequence[tuple[int, int]]) -> float | None:
    """Median of values given as (value, count) pairs sorted by value; None when empty."""
    total = sum(count for _, count in histogram)
    if total == 0:
        return None
    lower, upper = _nth_value(histogram, (total - 1) // 2), _nth_value(histogram, total // 2)
    return (lower + upper) / 2


def _nth_value(histogram: Sequence[tuple[int, int]], n: int) -> int:
    seen = 0
    for value, count in histogram:
        seen += count
        if n < seen:
            return value
    raise IndexError(n)
