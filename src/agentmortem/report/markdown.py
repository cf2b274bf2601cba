"""The Markdown form of a Report: a summary fit for a pull request or an issue (no trace text, numbers only)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from agentmortem.report.format import DASH_MEANS, estimate, num, pct, points, prob, ratio, relative
from agentmortem.report.report import Comparison, GroupReport, ModeStat, Report, not_analysed_line
from agentmortem.report.signature_text import decisive_line, shared_line, signature_line

MAX_COMPARISONS = 10
"""Significant across-group differences listed at most (the JSON has them all)."""


def render_markdown(report: Report) -> str:
    """The report as Markdown text."""
    parts: list[str] = [f"# Failure signatures — {_escape(report.annotator)} on {report.taxonomy}", ""]
    if report.label_quality is not None:
        parts += [f"*{_escape(report.label_quality.statement)}*", ""]
    parts += [f"- {_escape(g.headline)}" for g in report.groups] + [""]
    parts += _overview(report) + [""]
    if report.shared_interventions:
        parts += [
            "## Fixes every group needs",
            "",
            *(f"- {_escape(shared_line(x))}" for x in report.shared_interventions),
            "",
        ]
    for group in report.groups:
        parts += _group_section(report, group) + [""]
    parts += _comparisons(report.comparisons) + [""]
    parts += _definitions(report) + [""]
    parts += _not_analysed(report)
    parts += _notes(report)
    return "\n".join(parts).rstrip() + "\n"


def write_markdown(report: Report, path: str | Path) -> None:
    """Write the report's Markdown to `path`."""
    Path(path).write_text(render_markdown(report), encoding="utf-8")


def _overview(report: Report) -> list[str]:
    header = ["group", "traces", "failed", "succeeded", "success", "mean score", "modes / failed trace",
              "isolated", "cascading", "profile"]  # fmt: skip
    rows = [
        [_escape(g.group), str(g.traces), str(g.failed), str(g.succeeded), pct(g.success_rate),
         num(g.mean_score, digits=2), num(g.modes_per_failed_trace.mean), pct(g.isolated_share),
         pct(g.cascading_share), g.profile]
        for g in report.groups
    ]  # fmt: skip
    return ["## Overview", "", *_table(header, rows)]


def _group_section(report: Report, group: GroupReport) -> list[str]:
    lines = [f"## {_escape(group.group)}", "", _escape(group.headline), ""]
    failed, success = group.modes_per_failed_trace, group.modes_per_successful_trace
    lines.append(
        f"Modes per failed trace: mean {num(failed.mean)}, median {num(failed.median)}; per successful trace: "
        f"mean {num(success.mean)}, median {num(success.median)}. Categories: "
        + ", ".join(f"{c.id} {pct(c.share_of_occurrences)}" for c in group.categories)
        + "."
    )
    if group.reference is not None:
        r = group.reference
        lines += ["", f"Reference {_escape(r.annotator)}: {r.traces} traces labelled ({r.failed} failed, "
                      f"{r.succeeded} succeeded). Columns marked * are corrected for the judge's error against it "
                      "(prediction-powered, with 95% intervals)."]  # fmt: skip
    lines += ["", *_mode_table(group)]
    lines += [text for line in (signature_line(group), decisive_line(group)) if line for text in ("", _escape(line))]
    if group.interventions:
        lines += ["", "**Top interventions**", ""]
        lines += [f"{i}. **{_escape(x.title)}** — {_escape(x.why)}" for i, x in enumerate(group.interventions, 1)]
    return lines


def _mode_table(group: GroupReport) -> list[str]:
    """Per mode: raw figures (over all traces only when no outcome is known), then the corrected ones if any."""
    outcomes = group.failed + group.succeeded > 0
    header = ["rank", "mode", "failed", "succeeded", "all", "diff", "relative", "OR [95% CI]", "q", "verdict"]
    if not outcomes:
        header = ["mode", "all", "traces judged"]
    if group.reference is not None:
        header += ["failed*", "succeeded*", "diff*", "verdict*"] if outcomes else ["all*"]
    stats = sorted(group.modes, key=lambda s: (s.rank is None, s.rank or 0, s.id))
    shown = [s for s in stats if s.present or s.known or s.found_by_reference]
    rows = [_mode_row(s, outcomes) + _corrected_row(s, outcomes) for s in shown]
    return _table(header, rows)


def _mode_row(s: ModeStat, outcomes: bool) -> list[str]:
    name = f"{s.id} {_escape(s.name)}"
    if not outcomes:
        return [name, pct(s.prevalence), str(s.known)]
    verdict = f"**{s.verdict}**" if s.verdict == "fatal" else s.verdict
    return [str(s.rank or "–"), name, pct(s.prevalence_failed), pct(s.prevalence_succeeded), pct(s.prevalence),
            points(s.difference_points), relative(s.relative_increase, s.relative_increase_kind),
            ratio(s.odds_ratio, s.ci95), prob(s.q_value), verdict]  # fmt: skip


def _corrected_row(s: ModeStat, outcomes: bool) -> list[str]:
    c = s.corrected
    if c is None:
        return []
    if not outcomes:
        return [estimate(c.prevalence)]
    diff = c.difference_points
    diff_text = "–" if diff.estimate is None or diff.ci95 is None else (
        f"{diff.estimate:+.0f}pt [{diff.ci95[0]:+.0f}, {diff.ci95[1]:+.0f}]")  # fmt: skip
    verdict = "not informative" if c.verdict is None else f"**{c.verdict}**" if c.verdict == "fatal" else c.verdict
    return [estimate(c.prevalence_failed), estimate(c.prevalence_succeeded), diff_text, verdict]


def _definitions(report: Report) -> list[str]:
    named = {s.id for g in report.groups for s in g.modes if s.present or s.known or s.found_by_reference}
    lines = ["## Failure modes named above", ""]
    lines += [f"- **{m.id} {_escape(m.name)}**: {_escape(m.definition)}" for m in report.modes if m.id in named]
    return [*lines, "", DASH_MEANS]


def _comparisons(comparisons: Sequence[Comparison]) -> list[str]:
    significant = [c for c in comparisons if c.significant][:MAX_COMPARISONS]
    lines = ["## Differences between groups", ""]
    if not significant:
        return [*lines, "No mode differs significantly between groups (BH q-value cut)."]
    return lines + [f"- {_escape(c.statement)}" for c in significant]


def _not_analysed(report: Report) -> list[str]:
    """A section naming every listed trace whose annotation failed, and counting any not listed."""
    total = report.totals.failed_annotations
    if not total:
        return []
    lines = ["## Not analysed", "", not_analysed_line(total) + ".", ""]
    lines += [f"- `{_escape(t.id)}`: {_escape(t.error)}" for t in report.failed_traces]
    if total > len(report.failed_traces):
        lines.append(f"- … and {total - len(report.failed_traces)} more")
    return [*lines, ""]


def _notes(report: Report) -> list[str]:
    s = report.settings
    rules = (
        f"Verdicts: fatal when OR > 1 and q ≤ {s.q_max}; benign when present in ≥ {pct(s.benign_min_prevalence)} of "
        f"successes and OR upper bound < {s.benign_max_or} (or significantly protective); inconclusive below "
        f"{s.min_class_traces} traces per outcome class or {s.min_present} occurrences. OR: {s.ci_method}."
    )
    totals = report.totals
    accounting = (
        f"{totals.annotated} of {totals.traces_in_store} traces analysed; {totals.failed_annotations} excluded "
        f"(failed annotation), {totals.not_annotated} not annotated by {_escape(report.annotator)}."
    )
    return ["## Notes", "", *(f"- {_escape(n)}" for n in report.notes), f"- {accounting}", f"- {rules}"]


def _table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _escape(text: str) -> str:
    # Group names and headlines come from trace metadata: keep them from breaking tables or injecting markup.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")
