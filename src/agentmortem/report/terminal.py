"""The terminal form of a Report: rich renderables, headline first. The CLI prints them; nothing here prints."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agentmortem.report.format import num, pct, points, prob, ratio, relative
from agentmortem.report.report import GroupReport, Report
from agentmortem.report.signature_text import decisive_line, shared_line, signature_line

MAX_MODES_SHOWN = 8
"""Modes per group in the terminal table (ranked first); the JSON, Markdown and HTML forms have all of them."""

_VERDICT_STYLE = {"fatal": "bold red", "benign": "green", "inconclusive": "dim"}


def render_terminal(report: Report, *, modes_shown: int = MAX_MODES_SHOWN, width: int = 80) -> list[RenderableType]:
    """Renderables for the whole report: headlines, the overview table, one panel per group, comparisons, notes.

    `width` is the terminal's: from 120 columns on, mode tables carry intervals and overall prevalence too.
    """
    parts: list[RenderableType] = [_headlines(report), overview_table(report)]
    if report.shared_interventions:
        parts.append(_shared(report))
    parts += [_group_panel(g, modes_shown, wide=width >= 120) for g in report.groups]
    parts.append(_comparisons(report))
    parts.append(_notes(report))
    return parts


def _headlines(report: Report) -> RenderableType:
    title = Text(f"Failure signatures — annotator {report.annotator}, {report.taxonomy}", style="bold")
    lines = [Text("• " + g.headline) for g in report.groups] or [Text("No analysed traces.")]
    return Group(title, *lines)


def overview_table(report: Report) -> Table:
    """One row per group: size, outcomes, success rate, mean score, and failure shape (isolated / cascading share).

    Headers are short so the table fits an 80-column terminal: n traces, fail/ok outcomes, modes per failed trace.
    """
    s = report.settings
    table = Table(title="Groups", title_justify="left", box=box.SIMPLE_HEAD, collapse_padding=True)
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


def mode_table(group: GroupReport, *, limit: int = MAX_MODES_SHOWN, wide: bool = False) -> Table:
    """The group's modes, ranked by how strongly they predict failure, then by prevalence.

    `wide` adds the overall prevalence and the odds ratio's interval (they need about 120 columns).
    """
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    # Numbers never wrap; on a narrow terminal the mode name is what gets shortened.
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("mode", no_wrap=True, overflow="ellipsis", max_width=None if wide else 16)
    numbers = ["failed", "succ.", *(["all"] if wide else []), "diff", "rel.", "OR [95% CI]" if wide else "OR", "q"]
    for column in numbers:
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    ordered = sorted(group.modes, key=lambda s: (s.rank is None, s.rank or 0, -(s.prevalence or 0), s.id))
    for s in [m for m in ordered if m.present][:limit]:
        cells = [pct(s.prevalence_failed), pct(s.prevalence_succeeded), *([pct(s.prevalence)] if wide else []),
                 points(s.difference_points), relative(s.relative_increase, s.relative_increase_kind),
                 ratio(s.odds_ratio, s.ci95 if wide else None), prob(s.q_value)]  # fmt: skip
        verdict = Text(s.verdict, style=_VERDICT_STYLE[s.verdict])
        table.add_row(str(s.rank or "–"), escape(f"{s.id} {s.name}"), *cells, verdict)
    return table


def _group_panel(group: GroupReport, modes_shown: int, *, wide: bool) -> Panel:
    parts: list[RenderableType] = [Text(group.headline, style="bold"), mode_table(group, limit=modes_shown, wide=wide)]
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


def _notes(report: Report) -> RenderableType:
    t = report.totals
    lines = [f"{t.annotated} of {t.traces_in_store} traces analysed; {t.failed_annotations} excluded (failed "
             f"annotation), {t.not_annotated} not annotated.", *report.notes]  # fmt: skip
    return Group(*(Text(line, style="dim") for line in lines))
