"""Number formatting shared by the text renderers (terminal and Markdown): one spelling of every figure."""

from __future__ import annotations

from agentmortem.report.report import Estimate, RelativeKind

DASH = "–"
"""Shown for a number that does not exist (empty denominator, no test possible)."""

NOT_JUDGED = "not judged by this annotator"
"""What a dash in a prevalence cell means when the class has traces: the annotator left the mode unknown."""

DASH_MEANS = f"{DASH} = {NOT_JUDGED} (the mode was left unknown), or no trace in that outcome class / no test possible."
"""The legend line every text renderer prints."""


def pct(value: float | None, *, digits: int = 0) -> str:
    """A share in [0, 1] as a percentage, e.g. 0.523 -> '52%'."""
    return DASH if value is None else f"{value * 100:.{digits}f}%"


def points(value: float | None) -> str:
    """A difference in percentage points with its sign, e.g. '+24pt'."""
    return DASH if value is None else f"{value:+.0f}pt"


def relative(value: float | None, kind: RelativeKind) -> str:
    """A relative change: '+52%', '∞' when the base is 0, '–' when undefined."""
    if kind == "infinite":
        return "∞"
    return DASH if value is None else f"{value * 100:+.0f}%"


def ratio(value: float | None, ci: list[float] | None = None) -> str:
    """An odds ratio with its interval when given, e.g. '3.1 [1.4, 6.8]'."""
    if value is None:
        return DASH
    text = f"{value:.2g}" if value < 10 else f"{value:.0f}"
    return text if ci is None else f"{text} [{ci[0]:.2g}, {ci[1]:.2g}]"


def prob(value: float | None) -> str:
    """A p- or q-value, two significant digits; tiny ones as '<0.001'."""
    if value is None:
        return DASH
    return "<0.001" if value < 0.001 else f"{value:.2g}"


def num(value: float | None, *, digits: int = 1) -> str:
    """A plain number with fixed decimals."""
    return DASH if value is None else f"{value:.{digits}f}"


def estimate(value: Estimate, *, interval: bool = True) -> str:
    """A corrected share with its 95% interval, e.g. '45% [30–60]'; '–' when it cannot be computed."""
    if value.estimate is None:
        return DASH
    text = pct(value.estimate)
    if not interval or value.ci95 is None:
        return text
    return f"{text} [{value.ci95[0] * 100:.0f}–{value.ci95[1] * 100:.0f}]"
