"""Reading aids: mode definitions where modes are named, what a dash means, no empty outcome columns or rows."""

from __future__ import annotations

import re

from rich.console import Console

from agentmortem.analysis import build_report
from agentmortem.report.html import render_html
from agentmortem.report.markdown import render_markdown
from agentmortem.report.terminal import render_terminal
from agentmortem.store import Store
from agentmortem.taxonomy import mast
from report_builders import Row, fill


def _terminal(report) -> str:
    console = Console(record=True, width=120)
    for part in render_terminal(report, width=120):
        console.print(part)
    return console.export_text()


def _mixed(store: Store) -> None:
    # FM-1.3 judged everywhere; FM-2.2 left unknown in every successful trace; FM-3.1 only ever in group a.
    rows = [
        Row(id=f"a{i}", group="a", success=i % 2 == 0,
            verdicts={"FM-1.3": i % 3 == 0, "FM-3.1": i < 4, **({} if i % 2 == 0 else {"FM-2.2": True})})
        for i in range(8)
    ] + [Row(id=f"b{i}", group="b", success=i % 2 == 0, verdicts={"FM-1.3": True, "FM-3.1": False})
         for i in range(6)]  # fmt: skip
    fill(store, rows, all_modes=["FM-2.4"])  # FM-2.4: judged absent everywhere


def test_modes_carry_their_definition_where_they_are_named(store: Store):
    _mixed(store)
    report = build_report(store, annotator="judge")
    definition = mast().mode("FM-1.3").definition
    assert report.modes[2].definition == definition
    page = render_html(report)
    assert f'<span class="mode-chip" title="{definition}">FM-1.3</span>' in page
    assert 'id="definitions"' in page and 'id="def-FM-1.3"' in page
    assert f"FM-1.3 Step Repetition: {definition}" in _terminal(report).replace("\n", " ").replace("  ", " ")
    assert f"**FM-1.3 Step Repetition**: {definition}" in render_markdown(report)


def test_a_dash_says_the_mode_was_not_judged(store: Store):
    _mixed(store)
    report = build_report(store, annotator="judge")
    page = render_html(report)
    row = page[page.index('<span class="mode-chip" title="' + mast().mode("FM-2.2").definition) :]
    row = row[: row.index("</tr>")]
    assert '<span class="dash" title="not judged by this annotator">–</span>' in row  # successful column of FM-2.2
    assert "not judged by this annotator" in _terminal(report)
    assert "not judged by this annotator" in render_markdown(report)


def test_without_outcomes_tables_show_prevalence_over_all_traces(store: Store):
    fill(store, [Row(id=f"t{i}", verdicts={"FM-1.3": i % 2 == 0, "FM-3.1": True}) for i in range(6)])
    report = build_report(store, annotator="judge")
    page = render_html(report)
    table = page[page.index('<table class="modes">') :]
    table = table[: table.index("</table>")]
    assert '<th class="n">All traces</th>' in table and "Failed" not in table and "Successful" not in table
    assert re.search(r"50%</span>|50% <span", table)  # FM-1.3 in 3 of 6
    header = next(line for line in _terminal(report).splitlines() if " mode " in line and "verdict" in line)
    assert " all " in header and "failed" not in header and "succ" not in header
    markdown = render_markdown(report)
    assert "| mode | all | traces judged |" in markdown and "| FM-1.3 Step Repetition | 50% | 6 |" in markdown


def test_cross_group_table_hides_modes_neither_group_has(store: Store):
    _mixed(store)
    report = build_report(store, annotator="judge")
    page = render_html(report)
    across = page[page.index('id="comparisons"') : page.index('id="definitions"')]
    assert "FM-1.3</span>" in across and "FM-3.1</span>" in across  # present in at least one group
    assert "FM-2.4</span>" not in across  # judged in both, present in neither
    assert any(c.mode == "FM-2.4" for c in report.comparisons)  # still in the JSON
