"""Corrected numbers: prediction-powered prevalences on a planted population, and the report carrying them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agentmortem.analysis import build_report
from agentmortem.analysis.build import AnalysisError
from agentmortem.analysis.calibration import Z95, Stratum, benjamini_hochberg, calibrate, ppi_prevalence, wilson
from agentmortem.analysis.stats import benjamini_hochberg as scalar_bh
from agentmortem.model import Annotation, ModeVerdict
from agentmortem.report.json import report_dict
from agentmortem.report.report import ReportSettings
from agentmortem.store import Store
from planted import BIASED, CHANCE, FATAL, TRUE_PREVALENCE, draw, raw_prevalence, strata
from report_builders import Row, fill

SEEDS = 200


@pytest.fixture(scope="module")
def planted():
    population = draw(SEEDS)
    return population, calibrate(strata(population), ReportSettings())


def _covered(estimate: np.ndarray, se: np.ndarray, true: np.ndarray) -> np.ndarray:
    low, high = np.clip(estimate - Z95 * se, 0, 1), np.clip(estimate + Z95 * se, 0, 1)
    return (low <= true) & (true <= high)


def test_corrected_intervals_cover_the_true_prevalences(planted):
    _, result = planted
    covered = np.stack(
        [
            _covered(*result.prevalence_failed, TRUE_PREVALENCE[None, :, 0, :]),
            _covered(*result.prevalence_succeeded, TRUE_PREVALENCE[None, :, 1, :]),
        ]
    )  # (class, seed, group, mode)
    assert covered.mean() >= 0.90
    per_cell = covered.mean(axis=1)
    assert per_cell.min() >= 0.85, per_cell  # no cell is carried by the others


def test_raw_prevalence_misses_the_biased_mode(planted):
    population, result = planted
    raw = raw_prevalence(population)[:, :, 0, BIASED]  # the judge's own share among failed traces (n = 80..120)
    true = TRUE_PREVALENCE[None, :, 0, BIASED]
    raw_se = np.sqrt(raw * (1 - raw) / np.array([100, 120, 80])[None])
    assert _covered(raw, raw_se, true).mean() < 0.05  # the raw interval is confidently wrong
    assert (raw - true).mean() > 0.15
    corrected = result.prevalence_failed[0][..., BIASED]
    assert abs((corrected - true).mean()) < 0.03  # corrected: unbiased on average


def test_planted_fatal_mode_is_still_called_fatal(planted):
    _, result = planted
    called = (result.verdict[..., FATAL] == 1).mean(axis=0)  # per group, over seeds (12-18 labels per class)
    assert called.mean() >= 0.9 and called.min() >= 0.85
    assert (result.verdict[..., BIASED] == 1).mean() < 0.05  # equal true prevalence: rarely called fatal


def test_judge_at_chance_is_not_informative(planted):
    _, result = planted
    assert (~result.informative[..., CHANCE]).mean(axis=0).min() >= 0.9
    assert (result.verdict[..., CHANCE] == -1).mean() >= 0.9  # and then gets no verdict
    assert result.informative[..., FATAL].mean() >= 0.95


def test_sensitivity_and_specificity_recover_the_planted_judge(planted):
    _, result = planted
    sens, spec = result.sensitivity[0][..., FATAL], result.specificity[0][..., FATAL]
    assert abs(np.nanmean(sens) - 0.90) < 0.03 and abs(np.nanmean(spec) - 0.92) < 0.03


def _stratum(traces, judged, both, missed, false_alarm, neither) -> Stratum:
    return Stratum(*(np.array([float(x)]) for x in (traces, judged, both, missed, false_alarm, neither)))


def test_a_perfect_judge_narrows_the_interval_and_a_census_is_the_reference_mean():
    alone = _stratum(20, 5, 5, 0, 0, 15)  # everything labelled: the reference mean, whatever the judge
    estimate, _ = ppi_prevalence(alone)
    assert estimate[0] == pytest.approx(0.25)
    perfect = _stratum(200, 50, 5, 0, 0, 15)  # 20 labelled, the judge agrees on each; 180 judged only
    estimate, se = ppi_prevalence(perfect)
    reference_only = np.sqrt(0.25 * 0.75 / 20)
    assert estimate[0] == pytest.approx(0.25, abs=0.02) and se[0] < 0.6 * reference_only
    useless = _stratum(200, 100, 2, 3, 8, 7)  # judge unrelated to the reference: weight goes to ~0
    estimate, se = ppi_prevalence(useless)
    assert estimate[0] == pytest.approx(5 / 20, abs=0.05)
    nothing = _stratum(50, 10, 0, 0, 0, 0)
    assert np.isnan(ppi_prevalence(nothing)[0][0])


def test_small_subsets_never_give_a_zero_width_interval():
    estimate, se = ppi_prevalence(_stratum(100, 0, 0, 0, 0, 15))  # no positive anywhere
    assert estimate[0] == 0 and se[0] > 0.01


def test_vector_bh_matches_the_scalar_one():
    p = np.array([0.01, np.nan, 0.04, 0.03, 0.5])
    expected = [np.nan if q is None else q for q in scalar_bh([None if np.isnan(x) else x for x in p])]
    np.testing.assert_allclose(benjamini_hochberg(p), expected)


def test_wilson_interval_contains_the_share():
    p, low, high = wilson(np.array([0.0, 3.0]), np.array([10.0, 10.0]))
    assert low[0] == 0 and 0 < high[0] < 0.35 and low[1] < p[1] < high[1]


# -- the report ---------------------------------------------------------------------------------------------


MODES = ["FM-1.3", "FM-3.2"]


def _store_with_reference(store: Store, *, kind: str = "human") -> None:
    rows = [
        Row(id=f"t{i}", group="m", success=i % 2 == 0, verdicts={"FM-1.3": i % 3 == 0, "FM-3.2": i % 2 == 1})
        for i in range(40)
    ]
    fill(store, rows, all_modes=MODES)
    # People label every successful trace and every fourth trace from t1: 20 + 10; FM-3.2 in half the failed.
    labelled = [*range(0, 40, 2), *range(1, 40, 4)]
    store.put_annotations([_reference(i, kind, {"FM-1.3": i % 3 == 0, "FM-3.2": i % 8 == 1}) for i in labelled])


def _reference(i: int | str, kind: str, labels: dict[str, bool]) -> Annotation:
    return Annotation(
        trace_id=i if isinstance(i, str) else f"t{i}", annotator="people", annotator_kind=kind, taxonomy_version="1",  # type: ignore[arg-type]
        verdicts=[ModeVerdict(mode_id=mode, present=present) for mode, present in labels.items()],
    )  # fmt: skip


def test_report_without_reference_says_agreement_is_unmeasured(store: Store):
    fill(store, [Row(id="a", success=False, verdicts={"FM-1.3": True})], all_modes=MODES)
    report = build_report(store, annotator="judge")
    assert report.label_quality is not None and report.label_quality.reference is None
    assert report.label_quality.statement == (
        "labels by judge, agreement with people unmeasured: label 40 traces with `agentmortem sample` to measure it"
    )
    assert report.groups[0].reference is None and report.groups[0].modes[0].corrected is None


def test_report_uses_the_only_human_annotator_and_carries_corrected_figures(store: Store):
    _store_with_reference(store)
    report = build_report(store, annotator="judge")
    group = report_dict(report)["groups"][0]
    assert group["reference"] == {"annotator": "people", "traces": 30, "failed": 10, "succeeded": 20}
    by_id = {m["id"]: m for m in group["modes"]}
    corrected = by_id["FM-3.2"]["corrected"]
    assert set(corrected) >= {"prevalence_failed", "prevalence_succeeded", "difference_points", "sensitivity",
                              "specificity", "informative", "verdict"}  # fmt: skip
    for key in ("prevalence_failed", "prevalence_succeeded", "difference_points", "sensitivity", "specificity"):
        assert set(corrected[key]) == {"estimate", "ci95"}
    # The judge says FM-3.2 in every failed trace; the reference only in half of those it labelled.
    assert by_id["FM-3.2"]["prevalence_failed"] == 1.0
    low, high = corrected["prevalence_failed"]["ci95"]
    assert corrected["prevalence_failed"]["estimate"] == pytest.approx(0.5) and low < 0.5 < high
    assert corrected["specificity"]["estimate"] == 0.8  # 25 reference negatives of FM-3.2, 5 of them false alarms
    assert by_id["FM-1.3"]["corrected"]["sensitivity"]["estimate"] == 1.0
    assert "measured against people on 30 traces" in report.label_quality.statement  # type: ignore[union-attr]


def test_reference_by_name_and_its_errors(store: Store):
    _store_with_reference(store, kind="imported")
    assert build_report(store, annotator="judge").label_quality.reference is None  # type: ignore[union-attr]
    assert build_report(store, annotator="judge", reference="people").groups[0].reference is not None
    with pytest.raises(AnalysisError, match="no annotations by reference 'nobody'"):
        build_report(store, annotator="judge", reference="nobody")
    with pytest.raises(AnalysisError, match="another annotator"):
        build_report(store, annotator="judge", reference="judge")


def test_analyze_imports_reference_labels_and_reports_corrected_figures(runner, db_path, tmp_path):
    from agentmortem.cli.main import app
    from conftest import REPO

    labels = tmp_path / "reference.jsonl"
    rows = [
        {"trace_id": "gemini-3-flash-preview/scenario-103/run-1", "annotator": "authors",
         "labels": {"FM-3.3": 1, "FM-3.2": 1, "FM-1.3": 0}},
        {"trace_id": "kimi-k2-instruct/scenario-101/run-2", "annotator": "authors", "labels": {"FM-1.3": 1}},
    ]  # fmt: skip
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["--db", db_path, "analyze", str(REPO / "examples"), "--labels", str(labels),
                                 "--json", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "imported 2 reference label rows" in result.output
    assert "measured against authors on 2 traces" in result.stdout
    report = json.loads(out.read_text())
    assert report["label_quality"]["reference"] == "authors"
    gemini = next(g for g in report["groups"] if g["group"].startswith("gemini"))
    assert gemini["reference"] == {"annotator": "authors", "traces": 1, "failed": 1, "succeeded": 0}
    result = runner.invoke(app, ["--db", db_path, "analyze", str(REPO / "examples"), "--labels", "nope.jsonl"])
    assert result.exit_code == 2 and "nope.jsonl: no such label file" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"trace_id": "nope", "annotator": "authors", "labels": {"FM-1.3": 1}}\n')
    result = runner.invoke(app, ["--db", db_path, "analyze", str(REPO / "examples"), "--labels", str(bad), "-q"])
    assert result.exit_code == 1 and "not in the store" in result.output


def test_every_renderer_shows_corrected_beside_raw(store: Store):
    from rich.console import Console

    from agentmortem.report.html import render_html
    from agentmortem.report.markdown import render_markdown
    from agentmortem.report.terminal import render_terminal

    _store_with_reference(store)
    report = build_report(store, annotator="judge")
    corrected = next(m for m in report.groups[0].modes if m.id == "FM-3.2").corrected
    assert corrected is not None and corrected.prevalence_failed.ci95 is not None
    low, high = (round(x * 100) for x in corrected.prevalence_failed.ci95)
    console = Console(record=True, width=160)
    for part in render_terminal(report, width=160):
        console.print(part)
    text = console.export_text()
    assert "failed*" in text and "verdict*" in text and f"50% [{low}–{high}]" in text and "100%" in text
    markdown = render_markdown(report)
    assert "| failed* | succeeded* | diff* | verdict* |" in markdown and f"50% [{low}–{high}]" in markdown
    page = render_html(report)
    assert '<th class="n corr">Failed*</th>' in page and "judge sensitivity" in page
    assert "measured against people on 30 traces" in page


def test_the_store_path_gives_the_planted_figures(store: Store):
    """One seed of the planted population through the store gives what the vectorised computation gives."""
    from planted import GROUPS, MODES

    population = draw(1, first_seed=11)
    mode_ids = mast_ids()[: len(MODES)]  # the planted modes, named as MAST's first five
    rows = [
        Row(id=f"t{i:03d}", group=GROUPS[population.group[i]], success=not population.failed[i],
            verdicts={m: bool(population.judge[0, i, k]) for k, m in enumerate(mode_ids)})
        for i in range(len(population.group))
    ]  # fmt: skip
    fill(store, rows)
    labelled = np.flatnonzero(population.labelled[0])
    truth = [{m: bool(population.truth[0, i, k]) for k, m in enumerate(mode_ids)} for i in labelled]
    store.put_annotations([_reference(f"t{i:03d}", "human", labels) for i, labels in zip(labelled, truth, strict=True)])
    report = build_report(store, annotator="judge")
    expected = calibrate(strata(population), ReportSettings())
    for g, name in enumerate(GROUPS):
        group = report.group(name)
        for k, mode_id in enumerate(mode_ids):
            corrected = next(m for m in group.modes if m.id == mode_id).corrected
            assert corrected is not None
            want = float(np.clip(expected.prevalence_failed[0][0, g, k], 0, 1))
            assert corrected.prevalence_failed.estimate == pytest.approx(want)
            assert corrected.sensitivity.estimate == pytest.approx(float(expected.sensitivity[0][0, g, k]))


def mast_ids() -> list[str]:
    from agentmortem.taxonomy import mast

    return mast().ids
