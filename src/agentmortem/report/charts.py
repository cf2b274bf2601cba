"""Chart geometry for the HTML report: plain rectangles and labels, drawn as inline SVG by the template.

Charts are computed here as data (positions, colours, texts) and rendered by one Jinja macro with autoescaping,
so no text that came from a trace ever reaches the SVG unescaped and the report needs no charting library or
network at view time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from agentmortem.report.report import Distribution, GroupReport, ModeInfo, ModeStat, Report, ReportSettings

Anchor = Literal["start", "middle", "end"]
CellFn = Callable[[int, int], tuple[str, str, str, str]]
"""(row, column) -> fill, ink, text, title of one cell of a square matrix."""

FAILED_COLOUR = "#c0392b"
SUCCEEDED_COLOUR = "#2a9d8f"
ISOLATED_COLOUR = "#e9a23b"
CASCADING_COLOUR = "#8e2c48"
NONE_COLOUR = "#b7bcc4"
EMPTY_COLOUR = "#f1f2f4"
_LOW = (250, 245, 240)
_HIGH = (158, 24, 38)
_COOL = (44, 101, 164)

CELL = 46
"""Side of a heatmap cell, px."""
LABEL_W = 272
"""Width of the mode-name column, px."""


@dataclass(frozen=True)
class Rect:
    """A filled rectangle, optionally with centred text and a hover title."""

    x: float
    y: float
    w: float
    h: float
    fill: str
    title: str = ""
    text: str = ""
    ink: str = "#1d2330"


@dataclass(frozen=True)
class Label:
    """A text label; `rotate` turns it about its anchor point (degrees)."""

    x: float
    y: float
    text: str
    anchor: Anchor = "start"
    rotate: float = 0.0
    css: str = "lbl"


@dataclass
class Chart:
    """An SVG drawing: a view box, rectangles and labels, plus a caption for screen readers."""

    width: float
    height: float
    caption: str
    rects: list[Rect] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when there is nothing to draw."""
        return not self.rects


def mix(low: tuple[int, int, int], high: tuple[int, int, int], t: float) -> str:
    """Colour between `low` (t=0) and `high` (t=1) as #rrggbb."""
    t = min(1.0, max(0.0, t))
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(low, high, strict=True))


def heat(value: float | None) -> tuple[str, str]:
    """Fill and text colour of a share in [0, 1] (grey for unknown)."""
    if value is None:
        return EMPTY_COLOUR, "#7a8190"
    return mix(_LOW, _HIGH, math.sqrt(value)), "#ffffff" if value > 0.45 else "#1d2330"


def diverging(lift: float | None) -> tuple[str, str]:
    """Fill and text colour of a lift: blue below 1, red above, on a log scale capped at 4x."""
    if lift is None:
        return EMPTY_COLOUR, "#7a8190"
    if lift <= 0:
        return mix(_LOW, _COOL, 1.0), "#ffffff"
    t = max(-1.0, min(1.0, math.log(lift, 4)))
    fill = mix(_LOW, _HIGH, t) if t >= 0 else mix(_LOW, _COOL, -t)
    return fill, "#ffffff" if abs(t) > 0.55 else "#1d2330"


def pct(value: float | None) -> str:
    """A share as a whole percentage, '–' when unknown."""
    return "–" if value is None else f"{value * 100:.0f}%"


def mode_label(mode: ModeInfo | ModeStat) -> str:
    """'FM-1.3 Step Repetition'."""
    return f"{mode.id} {mode.name}"


def mode_group_heatmap(report: Report) -> Chart:
    """Modes (rows) × groups (columns), coloured by the mode's prevalence in the group."""
    groups = report.groups
    top = 96.0
    chart = Chart(
        width=LABEL_W + CELL * max(1, len(groups)) + 140,  # room for the last rotated column label
        height=top + CELL * 0.62 * len(report.modes) + 8,
        caption="Prevalence of each failure mode in each group",
    )
    for col, group in enumerate(groups):
        x = LABEL_W + col * CELL + CELL / 2
        chart.labels.append(Label(x, top - 8, _short(group.group, 24), "start", -40.0, "lbl col"))
    row_h = CELL * 0.62
    for row, mode in enumerate(report.modes):
        y = top + row * row_h
        chart.labels.append(Label(LABEL_W - 8, y + row_h * 0.66, mode_label(mode), "end"))
        for col, group in enumerate(groups):
            chart.rects.append(_prevalence_cell(group, group.modes[row], LABEL_W + col * CELL, y, row_h))
    return chart


def _prevalence_cell(group: GroupReport, stat: ModeStat, x: float, y: float, h: float) -> Rect:
    fill, ink = heat(stat.prevalence)
    title = (
        f"{group.group} · {mode_label(stat)}: {stat.present}/{stat.known} traces ({pct(stat.prevalence)}); "
        f"failed {pct(stat.prevalence_failed)}, successful {pct(stat.prevalence_succeeded)}; verdict {stat.verdict}"
    )
    if not stat.known:
        title = f"{group.group} · {mode_label(stat)}: not judged by this annotator"
    return Rect(x + 1, y + 1, CELL - 2, h - 2, fill, title, pct(stat.prevalence), ink)


def outcome_bars(group: GroupReport) -> Chart:
    """Per mode, prevalence among failed (red) and successful (teal) traces of one group."""
    rows = [m for m in group.modes if m.present > 0] or group.modes
    plot_w, bar_h, gap = 300.0, 9.0, 9.0
    row_h = 2 * bar_h + gap
    chart = Chart(
        width=LABEL_W + plot_w + 60,
        height=row_h * len(rows) + 34,
        caption=f"Failed vs successful prevalence per mode in {group.group}",
    )
    for frac in (0.0, 0.5, 1.0):
        x = LABEL_W + plot_w * frac
        chart.rects.append(Rect(x, 0, 0.6, row_h * len(rows), "#d5d8de"))
        chart.labels.append(Label(x, row_h * len(rows) + 14, f"{frac * 100:.0f}%", "middle", css="lbl tick"))
    for i, stat in enumerate(rows):
        y = i * row_h + gap / 2
        chart.labels.append(Label(LABEL_W - 8, y + bar_h + 4, mode_label(stat), "end"))
        chart.rects.extend(_outcome_pair(stat, y, bar_h, plot_w))
    return chart


def _outcome_pair(stat: ModeStat, y: float, bar_h: float, plot_w: float) -> list[Rect]:
    failed = stat.prevalence_failed
    succeeded = stat.prevalence_succeeded
    return [
        Rect(
            LABEL_W,
            y,
            max(1.5, plot_w * (failed or 0)),
            bar_h,
            FAILED_COLOUR if failed is not None else NONE_COLOUR,
            f"{stat.id} in failed traces: {stat.failed_present}/{stat.failed_known} ({pct(failed)})",
        ),
        Rect(
            LABEL_W,
            y + bar_h,
            max(1.5, plot_w * (succeeded or 0)),
            bar_h,
            SUCCEEDED_COLOUR if succeeded is not None else NONE_COLOUR,
            f"{stat.id} in successful traces: {stat.succeeded_present}/{stat.succeeded_known} ({pct(succeeded)})",
        ),
    ]


def modes_histogram(dist: Distribution, settings: ReportSettings, *, caption: str) -> Chart:
    """Columns: traces with 0, 1, 2 … distinct modes, coloured by none / isolated / cascading band."""
    counts = {b.modes: b.traces for b in dist.histogram}
    top_modes = max([settings.cascading_min, *counts])
    tallest = max(counts.values(), default=0) or 1
    col_w, plot_h, left = 30.0, 120.0, 34.0
    chart = Chart(width=left + col_w * (top_modes + 1) + 12, height=plot_h + 44, caption=caption)
    chart.labels.append(Label(left - 6, 12, str(tallest), "end", css="lbl tick"))
    for n in range(top_modes + 1):
        x = left + n * col_w
        h = plot_h * counts.get(n, 0) / tallest
        title = f"{counts.get(n, 0)} of {dist.traces} traces have {n} distinct mode{'s' if n != 1 else ''}"
        chart.rects.append(Rect(x + 3, 8 + plot_h - h, col_w - 6, max(h, 0.8), _band(n, settings), title))
        chart.labels.append(Label(x + col_w / 2, plot_h + 24, str(n), "middle", css="lbl tick"))
    chart.rects.append(Rect(left, 8 + plot_h, col_w * (top_modes + 1), 0.8, "#9aa1ad"))
    chart.labels.append(Label(left, plot_h + 40, "distinct modes per trace", css="lbl tick"))
    return chart


def _band(n: int, settings: ReportSettings) -> str:
    if n == 0:
        return NONE_COLOUR
    return CASCADING_COLOUR if n >= settings.cascading_min else ISOLATED_COLOUR


def present_axis(group: GroupReport) -> list[int]:
    """Indices of the modes present at least once in the group (the axis of its mode-by-mode matrices)."""
    return [i for i, stat in enumerate(group.modes) if stat.present > 0]


def precedence_matrix(group: GroupReport, modes: Sequence[ModeInfo]) -> Chart:
    """How often row mode first appears strictly before column mode, in the cascade population."""
    axis = present_axis(group)
    table = group.cascade.precedence
    biggest = max((table[i][j] for i in axis for j in axis), default=0) or 1

    def cell(i: int, j: int) -> tuple[str, str, str, str]:
        value = table[i][j]
        fill, ink = heat(value / biggest) if i != j else (EMPTY_COLOUR, "#7a8190")
        title = f"{modes[i].id} first appears before {modes[j].id} in {value} trace(s)"
        return fill, ink, (str(value) if i != j and value else ""), title

    return _square(axis, modes, cell, f"Which mode comes first in {group.group} (row before column)")


def lift_matrix(group: GroupReport, modes: Sequence[ModeInfo]) -> Chart:
    """Co-occurrence lift of every pair of present modes (1 = independent)."""
    axis = present_axis(group)

    def cell(i: int, j: int) -> tuple[str, str, str, str]:
        lift = group.cascade.lift[i][j]
        both = group.cascade.cooccurrence[i][j]
        fill, ink = diverging(lift) if i != j else (EMPTY_COLOUR, "#7a8190")
        shown = "" if i == j or lift is None else f"{lift:.1f}"
        lift_text = "undefined" if lift is None else f"{lift:.2f}"
        return fill, ink, shown, f"{modes[i].id} with {modes[j].id}: together in {both} trace(s), lift {lift_text}"

    return _square(axis, modes, cell, f"Co-occurrence lift of mode pairs in {group.group}")


def _square(axis: list[int], modes: Sequence[ModeInfo], cell: CellFn, caption: str) -> Chart:
    size, left, top = 34.0, 72.0, 64.0
    chart = Chart(width=left + size * len(axis) + 8, height=top + size * len(axis) + 8, caption=caption)
    for k, i in enumerate(axis):
        chart.labels.append(Label(left - 6, top + k * size + size * 0.62, modes[i].id, "end", css="lbl tick"))
        chart.labels.append(Label(left + k * size + size * 0.4, top - 6, modes[i].id, "start", -50.0, "lbl tick"))
        for m, j in enumerate(axis):
            fill, ink, text, title = cell(i, j)
            chart.rects.append(
                Rect(left + m * size + 1, top + k * size + 1, size - 2, size - 2, fill, title, text, ink)
            )
    return chart


def _short(text: str, limit: int) -> str:
    """Text cut to `limit` characters with an ellipsis (full text stays in titles and tables)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
