"""The offline HTML report: one self-contained file rendered from a `Report` alone.

Everything a trace supplied (group names, trace ids, step contents, quotes, explanations) goes through Jinja's
autoescaping, charts included (they are SVG drawn by the template from `charts` geometry). A Content-Security-Policy
that allows only the report's own inline script, by hash, is a second line of defence: even markup that slipped
through escaping could not run code or load anything from the network.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from agentmortem.report import charts
from agentmortem.report.report import Comparison, GroupReport, ModeStat, Report, TraceDetail, not_analysed_line

MAX_COMPARISONS = 40
"""Rows of the across-group comparison table: tested pairs only, significant ones first (the report's order)."""

SCRIPT = """
(function () {
  function setAll(open) {
    document.querySelectorAll('details').forEach(function (d) { d.open = open; });
  }
  document.querySelectorAll('[data-expand]').forEach(function (b) {
    b.addEventListener('click', function () { setAll(b.getAttribute('data-expand') === 'open'); });
  });
  window.addEventListener('beforeprint', function () { setAll(true); });
  if (location.hash) {
    var target = document.getElementById(location.hash.slice(1));
    var box = target && target.closest('details');
    if (box) { box.open = true; }
  }
})();
"""
"""The report's only script: expand/collapse the drill-down and open everything before printing."""


@dataclass
class GroupView:
    """What the template shows for one group."""

    report: GroupReport
    anchor: str
    shown_modes: list[ModeStat]
    bars: charts.Chart
    failed_histogram: charts.Chart
    successful_histogram: charts.Chart
    precedence: charts.Chart
    lift: charts.Chart


@dataclass
class TraceView:
    """One drill-down trace: its steps, which modes cite each step, and its anchor."""

    detail: TraceDetail
    anchor: str
    cited: dict[int, list[str]] = field(default_factory=dict)


def render_html(report: Report) -> str:
    """The report as one self-contained, offline HTML document."""
    template = environment().get_template("report.html.j2")
    return template.render(
        report=report,
        heatmap=charts.mode_group_heatmap(report),
        groups=[_group_view(report, g, k) for k, g in enumerate(report.groups)],
        comparisons=[c for c in report.comparisons if c.p_value is not None and _either_has(c)][:MAX_COMPARISONS],
        traces=[_trace_view(t, k) for k, t in enumerate(report.drilldown)],
        definitions={m.id: m.definition for m in report.modes},
        not_analysed=not_analysed_line(report.totals.failed_annotations),
        # The one value not escaped: our own constant script, which the CSP below pins by hash.
        script=Markup(SCRIPT),
        csp=content_security_policy(SCRIPT),
    )


def _either_has(c: Comparison) -> bool:
    """A comparison worth a row: at least one of the two groups has the mode."""
    return bool(c.prevalence_a) or bool(c.prevalence_b)


def content_security_policy(script: str) -> str:
    """A policy that forbids every network load and every script except `script` itself."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def _group_view(report: Report, group: GroupReport, k: int) -> GroupView:
    settings = report.settings
    return GroupView(
        report=group,
        anchor=f"g{k}",
        shown_modes=[m for m in group.modes if m.present > 0 or m.verdict != "inconclusive" or m.found_by_reference],
        bars=charts.outcome_bars(group),
        failed_histogram=charts.modes_histogram(
            group.modes_per_failed_trace, settings, caption=f"Distinct modes per failed trace in {group.group}"
        ),
        successful_histogram=charts.modes_histogram(
            group.modes_per_successful_trace, settings, caption=f"Distinct modes per successful trace in {group.group}"
        ),
        precedence=charts.precedence_matrix(group, report.modes),
        lift=charts.lift_matrix(group, report.modes),
    )


def _trace_view(detail: TraceDetail, k: int) -> TraceView:
    return TraceView(detail=detail, anchor=f"t{k}", cited=cited_steps(detail))


def cited_steps(detail: TraceDetail) -> dict[int, list[str]]:
    """Step index -> ids of the modes citing it, each once, in the trace's mode order."""
    cited: dict[int, list[str]] = {}
    for mode in detail.modes:
        for evidence in mode.evidence:
            cited.setdefault(evidence.step, [])
            if mode.id not in cited[evidence.step]:
                cited[evidence.step].append(mode.id)
    return cited


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Jinja environment with autoescaping forced on for every template, whatever its file name."""
    env = Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pct=charts.pct, num=number, pval=p_value, signed=signed_points)
    return env


def number(value: float | None, digits: int = 2) -> str:
    """A number with `digits` decimals, '–' when absent; very large ones in compact form."""
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:.3g}"
    return f"{value:.{digits}f}"


def p_value(value: float | None) -> str:
    """A p- or q-value: '<0.001' below a thousandth, '–' when absent."""
    if value is None:
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def signed_points(value: float | None) -> str:
    """A difference in percentage points with its sign, e.g. '+12 pts'."""
    return "–" if value is None else f"{value:+.0f} pts"
