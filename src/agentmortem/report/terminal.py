"""The terminal form of a Report: rich renderables, headline first. The CLI prints them; nothing here prints."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agentmortem.report.format import DASH_MEANS, estimate, num, pct, points, prob, ratio, relative
from agentmortem.report.report import MAX_FAILED_LISTED, GroupReport, ModeStat, Report, not_analysed_line
from agentmortem.report.signature_text import decisive_line, shared_line, signature_line

MAX_MODES_SHOWN = 8
"""Modes per group in the terminal table (ranked first); the JSON, Markdown and HTML forms have all of them."""

MAX_FAILED_SHOWN = 10
"""Traces with a failed annotation the terminal names; the others are counted in one line."""

_VERDICT_STYLE = {"fatal": "bold red", "benign": "green", "inconclusive": "dim"}


def render_terminal(report: Report, *, modes_shown: int = MAX_MODES_SHOWN, width: int = 80) -> list[RenderableType]:
    """Renderables for the whole report: headlines, the overview table, one panel per group, comparisons, notes.

    `width` is the terminal's: from 120 columns on, mode tables carry intervals and overall prevalence too.
    """
    parts: list[RenderableType] = [_headlines(report), overview_table(report), *_label_quality(report)]
    if report.shared_interventions:
        parts.append(_shared(report))
    parts += [_group_panel(g, modes_shown, width=width) for g in report.groups]
    parts.append(_comparisons(report))
    parts.append(_legend(report, modes_shown))
    parts += _not_analysed(report)
    parts.append(_notes(report))
    return parts


def _headlines(report: Report) -> RenderableType:
    title = Text(f"Failure signatures — annotator {report.annotator}, {report.taxonomy}", style="bold")
    lines = [Text("• " + g.headline) for g in report.groups] or [Text("No analysed traces.")]
    return Group(title, *lines)


def _label_quality(report: Report) -> list[RenderableType]:
    """How far the labels are measured against people: under the overview, before any group's numbers."""
    if report.label_quality is None:
        return []
    measured = report.label_quality.reference is not None
    return [Text(report.label_quality.statement, style="italic" if measured else "yellow")]


def overview_table(report: Report) -> Table:
    """One row per group: size, outcomes, success rate, mean score, and failure shape (isolated / cascading share).

    Headers are short so the table fits an 80-column terminal: n traces, fail/ok outcomes, modes per failed trace.
    """
    s = report.settings
    table = Table(title="Groups", title_justify="left", box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
    longest = max((len(g.group) for g in report.groups), default=8)
    table.add_column("group", overflow="fold", min_width=min(max(longest, 8), 24))  # model ids must stay legible
    for column in ["n", "fail", "ok", "rate", "score", "modes",
                   f"≤{s.isolated_max}", f"≥{s.cascading_min}"]:  # fmt: skip
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("profile", no_wrap=True)
    for g in report.groups:
        table.add_row(
            escape(g.group), str(g.traces), str(g.failed), str(g.succeeded), pct(g.success_rate),
            num(g.mean_score, digits=2), num(g.modes_per_failed_trace.mean), pct(g.isolated_share),
            pct(g.cascading_share), g.profile,
        )  # fmt: skip
    return table


def mode_table(
    group: GroupReport, *, limit: int = MAX_MODES_SHOWN, wide: bool = False, intervals: bool = False
) -> Table:
    """The group's modes, ranked by how strongly they predict failure, then by prevalence.

    `wide` adds the overall prevalence and the odds ratio's interval (they need about 120 columns). A group
    with no known outcome shows prevalence over all its traces instead of empty outcome columns; a group with a
    reference adds the corrected (prediction-powered) figures beside the raw ones, with their 95% intervals when
    `intervals` (about 150 columns; the JSON, Markdown and HTML forms always have them).
    """
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    # Numbers never wrap; on a narrow terminal the mode name is what gets shortened.
    table.add_column("#", justify="right", no_wrap=True)
    name_width = (14 if group.reference else 16) if not wide else 24 if group.reference and not intervals else None
    table.add_column("mode", no_wrap=True, overflow="ellipsis", max_width=name_width)
    outcomes = group.failed + group.succeeded > 0
    for column in _raw_columns(wide, compact=group.reference is not None) if outcomes else ["all"]:
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    if group.reference:  # corrected figures to the right of the raw ones they correct
        for column in (["failed*", "succ.*"] if wide else ["fail*", "ok*"]) if outcomes else ["all*"]:
            table.add_column(column, justify="right", no_wrap=True)
        table.add_column("verdict*", no_wrap=True)
    for s in _shown(group, limit):
        cells = _raw_cells(s, wide, compact=group.reference is not None) if outcomes else [pct(s.prevalence)]
        verdict = Text(s.verdict, style=_VERDICT_STYLE[s.verdict])
        table.add_row(str(s.rank or "–"), escape(f"{s.id} {s.name}"), *cells, verdict,
                      *_corrected_cells(s, outcomes, intervals), *_corrected_verdict(s))  # fmt: skip
    return table


def _raw_columns(wide: bool, *, compact: bool) -> list[str]:
    # Beside the corrected columns (compact), the relative increase and the odds ratio's interval give way, and
    # on a narrow terminal everything but the two prevalences.
    if compact:
        return ["failed", "succ.", "diff", "OR", "q"] if wide else ["fail", "ok"]
    return ["failed", "succ.", *(["all"] if wide else []), "diff", "rel.", "OR [95% CI]" if wide else "OR", "q"]


def _raw_cells(s: ModeStat, wide: bool, *, compact: bool) -> list[str]:
    if compact:
        more = [points(s.difference_points), ratio(s.odds_ratio), prob(s.q_value)] if wide else []
        return [pct(s.prevalence_failed), pct(s.prevalence_succeeded), *more]
    return [pct(s.prevalence_failed), pct(s.prevalence_succeeded), *([pct(s.prevalence)] if wide else []),
            points(s.difference_points), relative(s.relative_increase, s.relative_increase_kind),
            ratio(s.odds_ratio, s.ci95 if wide else None), prob(s.q_value)]  # fmt: skip


def _shown(group: GroupReport, limit: int) -> list[ModeStat]:
    """The modes a group's table lists: found by the judge or the reference; ranked first, then by prevalence."""
    ordered = sorted(group.modes, key=lambda s: (s.rank is None, s.rank or 0, -(s.prevalence or 0), s.id))
    return [m for m in ordered if m.present or m.found_by_reference][:limit]


def _corrected_cells(s: ModeStat, outcomes: bool, intervals: bool) -> list[str]:
    if s.corrected is None:
        return []
    chosen = [s.corrected.prevalence_failed, s.corrected.prevalence_succeeded] if outcomes else [s.corrected.prevalence]
    return [estimate(e, interval=intervals) for e in chosen]


def _corrected_verdict(s: ModeStat) -> list[RenderableType]:
    if s.corrected is None:
        return []
    if s.corrected.verdict is None:
        return [Text("not informative", style="yellow")]
    return [Text(s.corrected.verdict, style=_VERDICT_STYLE[s.corrected.verdict])]


def _group_panel(group: GroupReport, modes_shown: int, *, width: int) -> Panel:
    parts: list[RenderableType] = [Text(group.headline, style="bold")]
    if group.reference is not None:
        r = group.reference
        parts.append(Text(f"reference {r.annotator}: {r.traces} traces labelled ({r.failed} failed, {r.succeeded} "
                          "succeeded); * = corrected for the judge's error against it", style="dim"))  # fmt: skip
    parts.append(mode_table(group, limit=modes_shown, wide=width >= 120, intervals=width >= 150))
    parts += [Text(line) for line in (signature_line(group), decisive_line(group)) if line]
    roots = sorted((p for p in group.cascade.positions if p.roots), key=lambda p: -p.roots)[:3]
    if roots:
        parts.append(Text("Cascade roots: " + ", ".join(f"{p.id} ({pct(p.root_share)})" for p in roots)))
    for i, fix in enumerate(group.interventions, 1):
        # The first fix cites why it is first; the others need only their place (the why is in every other form).
        parts.append(Text(f"{i}. {fix.title} — {fix.why}" if i == 1 else f"{i}. {fix.title} (score {fix.score:.2f})"))
    excluded = group.failed_annotations + group.not_annotated
    if excluded:
        parts.append(Text(f"excluded: {group.failed_annotations} failed annotations, {group.not_annotated} not "
                          "annotated", style="dim"))  # fmt: skip
    return Panel(Group(*parts), title=escape(group.group), title_align="left")


def _shared(report: Report) -> RenderableType:
    lines = [Text("Fixes every group needs (listed once, not in the groups' lists)", style="bold")]
    return Group(*lines, *(Text(f"• {shared_line(fix)}") for fix in report.shared_interventions))


def _comparisons(report: Report) -> RenderableType:
    significant = [c for c in report.comparisons if c.significant]
    if not significant:
        return Text("No mode differs significantly between groups.", style="dim")
    lines = [Text("Differences between groups", style="bold")]
    return Group(*lines, *(Text("• " + c.statement) for c in significant[:10]))


def _legend(report: Report, modes_shown: int) -> RenderableType:
    """What the dash means, and the definition of every mode a table above names."""
    named = {s.id for g in report.groups for s in _shown(g, modes_shown)}
    lines = [Text(DASH_MEANS, style="dim")]
    for mode in report.modes:
        if mode.id in named and mode.definition:
            lines.append(Text(f"{mode.id} {mode.name}: {mode.definition}", style="dim"))
    return Group(*lines)


def _not_analysed(report: Report) -> list[RenderableType]:
    """The traces whose annotation failed, by name, with the reason; the rest counted."""
    limit = MAX_FAILED_SHOWN
    total = report.totals.failed_annotations
    if not total:
        return []
    lines = [Text(not_analysed_line(total) + ":", style="bold yellow")]
    lines += [Text(f"• {t.id}: {t.error}") for t in report.failed_traces[:limit]]
    left_out = total - min(limit, len(report.failed_traces))
    if left_out > 0:
        lines.append(Text(f"… and {left_out} more (the JSON, Markdown and HTML forms name up to "
                          f"{MAX_FAILED_LISTED})", style="dim"))  # fmt: skip
    return [Group(*lines)]


def _notes(report: Report) -> RenderableType:
    t = report.totals
    lines = [f"{t.annotated} of {t.traces_in_store} traces analysed; {t.failed_annotations} excluded (failed "
             f"annotation), {t.not_annotated} not annotated.", *report.notes]  # fmt: skip
    return Group(*(Text(line, style="dim") for line in lines))
