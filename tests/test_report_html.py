"""The HTML renderer: self-contained, escaped everywhere, charts matching the report's numbers."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from agentmortem.engines.local import annotate_store
from agentmortem.ingest import ingest
from agentmortem.judges import get_judge
from agentmortem.report import charts
from agentmortem.report.html import SCRIPT, content_security_policy, render_html
from agentmortem.report.report import (
    CategoryInfo,
    Distribution,
    ModeInfo,
    Report,
    ReportSettings,
    Totals,
)
from agentmortem.store import Store
from conftest import REPO
from hostile_report import HOSTILE_MODEL, PAYLOADS, build_hostile_report


class Elements(HTMLParser):
    """Every start tag with its attributes, and all text, as the browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, str]:
    report = build_hostile_report(tmp_path_factory.mktemp("hostile"))
    return report, render_html(report)


def test_only_our_own_script_and_style_exist(hostile: tuple[Report, str]) -> None:
    _, html = hostile
    page = parse(html)
    assert len(page.named("script")) == 1
    assert len(page.named("style")) == 1
    assert page.named("img") == [] and page.named("iframe") == []
    assert not [t for t, attrs in page.tags if any(k.startswith("on") for k in attrs)], "event-handler attribute"
    assert not [a for a in page.named("a") if (a.get("href") or "").startswith("javascript")]


def test_payload_text_survives_as_text(hostile: tuple[Report, str]) -> None:
    _, html = hostile
    text = "".join(parse(html).text)
    for payload in PAYLOADS:
        assert payload in text
    assert HOSTILE_MODEL in text
    assert "<script>window.__pwned" not in html
    assert "&lt;script&gt;window.__pwned" in html


def test_the_page_loads_nothing_from_anywhere(hostile: tuple[Report, str]) -> None:
    _, html = hostile
    page = parse(html)
    for _tag, attrs in page.tags:
        for key in ("src", "href", "srcset", "data", "action"):
            value = attrs.get(key) or ""
            assert not value or value.startswith("#"), f"external reference {key}={value!r}"
    assert "@import" not in html and "url(" not in html


def test_content_security_policy_pins_the_script_by_hash(hostile: tuple[Report, str]) -> None:
    _, html = hostile
    page = parse(html)
    meta = [m for m in page.named("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert len(meta) == 1
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    policy = meta[0]["content"] or ""
    assert f"'sha256-{digest}'" in policy and "default-src 'none'" in policy
    assert policy == content_security_policy(SCRIPT)
    # the script the page carries is byte-for-byte the hashed one, so the browser will run it
    assert f"<script>{SCRIPT}</script>" in html


def test_heatmap_has_one_cell_per_mode_and_group(hostile: tuple[Report, str]) -> None:
    report, _ = hostile
    chart = charts.mode_group_heatmap(report)
    assert len(chart.rects) == len(report.modes) * len(report.groups)
    by_title = {r.title.split(":")[0]: r.text for r in chart.rects}
    for group in report.groups:
        for stat in group.modes:
            assert by_title[f"{group.group} · {stat.id} {stat.name}"] == charts.pct(stat.prevalence)


def test_outcome_bars_are_as_long_as_the_prevalences(hostile: tuple[Report, str]) -> None:
    report, _ = hostile
    group = next(g for g in report.groups if g.failed and g.succeeded)
    chart = charts.outcome_bars(group)
    bars = [r for r in chart.rects if r.title]
    shown = [m for m in group.modes if m.present > 0]
    assert len(bars) == 2 * len(shown)
    for stat, (failed, succeeded) in zip(shown, zip(bars[::2], bars[1::2], strict=True), strict=True):
        assert failed.w == pytest.approx(max(1.5, 300 * (stat.prevalence_failed or 0)))
        assert succeeded.w == pytest.approx(max(1.5, 300 * (stat.prevalence_succeeded or 0)))


def test_evidence_steps_are_highlighted_and_anchored(hostile: tuple[Report, str]) -> None:
    report, html = hostile
    items = {a["id"]: (a.get("class") or "").split() for a in parse(html).named("li") if a.get("id")}
    cited = 0
    for k, trace in enumerate(report.drilldown):
        evidence_steps = {e.step for m in trace.modes for e in m.evidence}
        for step in trace.steps:
            classes = items[f"t{k}-s{step.index}"]
            assert ("ev" in classes) == (step.index in evidence_steps)
            cited += step.index in evidence_steps
    assert cited > 0


def test_histogram_columns_scale_with_counts() -> None:
    dist = Distribution(traces=7, mean=1.6, median=1.0, histogram=[{"modes": 0, "traces": 1}, {"modes": 1, "traces": 4},
                        {"modes": 5, "traces": 2}])  # fmt: skip
    chart = charts.modes_histogram(dist, ReportSettings(), caption="test")
    columns = [r for r in chart.rects if r.title]
    assert [c.title.split(" ")[0] for c in columns] == ["1", "4", "0", "0", "0", "2"]
    assert columns[1].h == pytest.approx(120.0) and columns[5].h == pytest.approx(60.0)
    assert columns[0].fill == charts.NONE_COLOUR
    assert columns[1].fill == charts.ISOLATED_COLOUR and columns[5].fill == charts.CASCADING_COLOUR


def test_colour_scales_are_bounded_and_readable() -> None:
    assert charts.heat(None)[0] == charts.EMPTY_COLOUR
    assert charts.heat(0.0)[0] == "#faf5f0" and charts.heat(1.0)[0] == "#9e1826"
    assert charts.heat(1.0)[1] == "#ffffff" and charts.heat(0.1)[1] != "#ffffff"
    assert charts.diverging(1.0)[0] == "#faf5f0"
    assert charts.diverging(100.0) == charts.diverging(4.0)
    assert charts.diverging(0.25)[0] == charts.mix((250, 245, 240), (44, 101, 164), 1.0)
    assert charts.pct(None) == "–" and charts.pct(0.456) == "46%"


def test_an_empty_report_still_renders() -> None:
    report = Report(
        generated_at=datetime(2026, 2, 1, tzinfo=UTC), annotator="nobody", taxonomy="MAST", taxonomy_version="x",
        settings=ReportSettings(), modes=[ModeInfo(id="FM-1.1", name="Disobey Task Specification", category="FC1")],
        categories=[CategoryInfo(id="FC1", name="System Design Issues")],
        totals=Totals(traces_in_store=0, annotated=0, failed_annotations=0, not_annotated=0, outcome_known=0),
        outcomes_known=False, notes=["No outcome is known."], groups=[], comparisons=[], drilldown=[],
        drilldown_candidates=0,
    )  # fmt: skip
    html = render_html(report)
    text = "".join(parse(html).text)
    assert "No analysed traces." in text and "No outcome is known." in text
    assert "Fewer than two groups" in text


def test_bundled_examples_render_with_the_detectors(tmp_path: Path) -> None:
    """The demo path: examples ingested, judged offline, reported; three models, outcomes known."""
    with Store(tmp_path / "demo.duckdb") as store:
        ingested = ingest([REPO / "examples" / "agent_outputs"], store, format="codex")
        assert ingested.read == 54, [str(e) for e in ingested.errors]
        annotate_store(store, get_judge("detectors"))
        from agentmortem.analysis import build_report

        report = build_report(store)
    html = render_html(report)
    assert {g.group for g in report.groups} == {"gemini-3-flash-preview", "kimi-k2-instruct", "gpt-oss-120b-custom"}
    assert all(g.failed + g.succeeded == 18 for g in report.groups)
    assert len(re.findall(r'<details class="trace"', html)) == 54
    verdicts = {g.group: {m.verdict for m in g.modes} for g in report.groups}
    assert {"fatal", "benign"} <= verdicts["kimi-k2-instruct"]
    firsts = [g.interventions[0].id for g in report.groups]
    assert len(set(firsts)) == 3
    assert len({tuple(g.signature.distinctive) for g in report.groups if g.signature}) == 3
    assert 'class="decisive' in html
    for group in report.groups:
        assert group.headline in "".join(parse(html).text)
