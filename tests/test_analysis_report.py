"""build_report on hand-made annotation sets whose every figure is known in advance."""

import pytest
from scipy.stats import fisher_exact

from agentmortem.analysis import AnalysisError, build_report
from agentmortem.model import Trace
from agentmortem.report import ReportSettings
from agentmortem.taxonomy import mast
from report_builders import Row, fill

MODES = mast().ids


def _scenario() -> list[Row]:
    rows = []
    for i in range(10):
        verdicts = {"FM-3.3": 1, "FM-1.4": None if i < 5 else 3}
        if i == 0:
            verdicts["FM-2.2"] = True  # present without evidence: counted, but cannot be placed in the cascade
        rows.append(Row(f"f{i}", "g", False, verdicts))
        rows.append(Row(f"s{i}", "g", True, {}))
    rows.append(Row("x0", "g", False, failed_annotation=True))
    rows += [Row(f"h{i}", "h", None, {"FM-1.3": 2} if i < 2 else {}) for i in range(3)]
    return rows


@pytest.fixture
def report(store):
    fill(store, _scenario(), all_modes=MODES)
    store.add_traces([Trace(id="never-annotated", source_format="test", model="g")])
    return build_report(store, settings=ReportSettings(max_drilldown=3, max_steps=2))


def _mode(report, group, mode_id):
    return next(m for m in report.group(group).modes if m.id == mode_id)


def test_accounting_excludes_failed_and_missing_annotations(report):
    g = report.group("g")
    assert (g.traces, g.failed, g.succeeded, g.unknown_outcome) == (20, 10, 10, 0)
    assert (g.failed_annotations, g.not_annotated) == (1, 1)
    assert g.success_rate == 0.5
    assert g.mean_score == 0.5
    assert report.totals.model_dump() == {
        "traces_in_store": 25, "annotated": 23, "failed_annotations": 1, "not_annotated": 1, "outcome_known": 20,
    }  # fmt: skip
    assert "1 trace not analysed: their annotation failed (rerun to retry)." in report.notes
    assert [(t.id, t.error) for t in report.failed_traces] == [("x0", "judge broke")]


def test_every_annotation_failed_names_them_and_never_says_no_outcome_is_known(store):
    # Outcomes are known for every trace; only the judging failed. The report once said "No outcome is known"
    # because it looked for outcomes among analysed groups only, and there were none.
    fill(store, [Row(f"t{i}", "g", i % 2 == 0, failed_annotation=True) for i in range(3)], all_modes=MODES)
    report = build_report(store)
    assert report.groups == [] and report.totals.failed_annotations == 3
    assert report.notes[0] == "3 traces not analysed: their annotation failed (rerun to retry)."
    assert not any("outcome" in n.lower() for n in report.notes)
    assert [t.id for t in report.failed_traces] == ["t0", "t1", "t2"]


def test_outcomes_known_only_for_left_out_traces_are_not_called_unknown(store):
    rows = [Row("ok-unknown", "g", None, {}), Row("failed-known", "g", False, failed_annotation=True)]
    fill(store, rows, all_modes=MODES)
    notes = build_report(store).notes
    assert any(n.startswith("No analysed trace has a known outcome (the 1 traces with one were not analysed)")
               for n in notes)  # fmt: skip
    assert not any(n.startswith("No outcome is known") for n in notes)


def test_fatal_mode_with_zero_prevalence_in_successes(report):
    m = _mode(report, "g", "FM-3.3")
    assert (m.prevalence_failed, m.prevalence_succeeded, m.prevalence) == (1.0, 0.0, 0.5)
    assert m.difference_points == 100
    assert m.relative_increase is None and m.relative_increase_kind == "infinite"
    assert m.odds_ratio == pytest.approx(10.5 * 10.5 / (0.5 * 0.5))
    assert m.p_value == pytest.approx(fisher_exact([[10, 0], [0, 10]]).pvalue)
    assert m.q_value == pytest.approx(m.p_value * 3 / 1)  # three modes are present in g: FM-3.3, FM-1.4, FM-2.2…
    assert m.verdict == "fatal" and m.rank == 1
    assert report.group("g").ranking[0] == "FM-3.3"


def test_unknown_verdicts_leave_the_denominator(report):
    m = _mode(report, "g", "FM-1.4")
    assert (m.failed_known, m.failed_present, m.succeeded_known, m.known) == (5, 5, 10, 15)
    assert m.prevalence_failed == 1.0
    assert m.prevalence == pytest.approx(5 / 15)


def test_modes_per_trace_and_failure_shape(report):
    g = report.group("g")
    failed = g.modes_per_failed_trace
    assert [(b.modes, b.traces) for b in failed.histogram] == [(1, 4), (2, 6)]
    assert (failed.traces, failed.mean, failed.median) == (10, pytest.approx(1.6), 2)
    assert g.modes_per_successful_trace.mean == 0
    assert (g.isolated_share, g.cascading_share, g.no_mode_share) == (1.0, 0.0, 0.0)
    assert g.profile == "isolated"
    assert g.headline.startswith("g: isolated failures (1.6 modes per failed trace, 50% success)")
    assert "FM-3.3" in g.headline


def test_categories(report):
    shares = {c.id: c.share_of_occurrences for c in report.group("g").categories}
    assert shares == {"FC1": pytest.approx(5 / 16), "FC2": pytest.approx(1 / 16), "FC3": pytest.approx(10 / 16)}
    fc3 = next(c for c in report.group("g").categories if c.id == "FC3")
    assert (fc3.prevalence_failed, fc3.prevalence_succeeded) == (1.0, 0.0)


def test_cascade_precedence_roots_and_lift(report):
    cascade = report.group("g").cascade
    i33, i14, i22 = MODES.index("FM-3.3"), MODES.index("FM-1.4"), MODES.index("FM-2.2")
    assert cascade.population == "failed"
    assert (cascade.traces, cascade.unlocated) == (10, 0)
    assert cascade.precedence[i33][i14] == 5 and cascade.precedence[i14][i33] == 0
    assert sum(map(sum, cascade.precedence)) == 5
    roots = {p.id: (p.roots, p.root_share) for p in cascade.positions if p.roots}
    assert roots == {"FM-3.3": (10, 1.0)}
    positions = {p.id: p.mean_position for p in cascade.positions}
    assert positions["FM-3.3"] == 0.25 and positions["FM-1.4"] == 0.75 and positions["FM-2.2"] is None
    assert cascade.cooccurrence[i33][i14] == 5 and cascade.cooccurrence[i33][i22] == 1
    assert cascade.lift[i33][i14] == pytest.approx(3.0)
    assert cascade.lift[MODES.index("FM-1.1")][i33] is None


def test_group_without_outcomes_is_characterised_over_all_its_traces(report):
    h = report.group("h")
    assert h.success_rate is None and h.cascade.population == "all"
    m = _mode(report, "h", "FM-1.3")
    assert m.prevalence == pytest.approx(2 / 3) and m.verdict == "inconclusive"
    assert m.verdict_reason == "no outcomes known"
    assert h.cascade.positions[MODES.index("FM-1.3")].roots == 2
    assert h.interventions and h.interventions[0].basis == "prevalence"


def test_interventions_cite_their_numbers(report):
    fixes = report.group("g").interventions
    assert len(fixes) == 3
    gate = next(f for f in fixes if f.id == "verification-gate")
    assert gate.score == 1.0 and gate.cited[0].mode == "FM-3.3"
    assert "100% of failed vs 0% of successful" in gate.why
    assert [f.score for f in fixes] == sorted((f.score for f in fixes), reverse=True)


def test_comparisons_between_groups_keep_the_support_rule(report):
    # h has 3 traces, fewer than min_class_traces (5): its comparisons are reported, but never tested.
    c = next(c for c in report.comparisons if c.mode == "FM-1.3")
    assert (c.group_a, c.group_b) == ("h", "g")
    assert c.prevalence_a == pytest.approx(2 / 3) and c.prevalence_b == 0
    assert c.relative_difference_kind == "infinite"
    assert (c.p_value, c.q_value, c.significant) == (None, None, False)
    assert c.not_tested == "too few traces per group (3 h, 20 g; need 5 each)"
    assert c.statement == "FM-1.3: h vs g not tested, too few traces per group (3 h, 20 g; need 5 each)"


def test_comparisons_between_groups_with_enough_traces(store):
    rows = [Row(f"a{i}", "a", None, {"FM-1.3": i < 6}) for i in range(8)]
    rows += [Row(f"b{i}", "b", None, {"FM-1.3": i < 1}) for i in range(10)]
    fill(store, rows, all_modes=MODES)
    c = next(c for c in build_report(store).comparisons if c.mode == "FM-1.3")
    assert (c.group_a, c.group_b, c.not_tested) == ("a", "b", None)
    assert c.p_value == pytest.approx(fisher_exact([[6, 2], [1, 9]]).pvalue)
    assert c.q_value == pytest.approx(c.p_value)  # the only informative mode: one test in the correction
    assert c.significant and c.statement.startswith("FM-1.3 +650% in a vs b")


def test_drilldown_is_bounded_failed_first_and_keeps_evidence_steps(report):
    assert report.drilldown_candidates == 23
    assert [d.id for d in report.drilldown] == ["f0", "f5", "h0"]
    f5 = report.drilldown[1]
    assert [s.index for s in f5.steps] == [0, 1, 3] and f5.steps_omitted == 2
    assert [(m.id, [e.step for e in m.evidence]) for m in f5.modes] == [("FM-1.4", [3]), ("FM-3.3", [1])]
    assert f5.success is False and f5.group == "g"


def test_step_content_is_capped(store):
    fill(store, [Row("long", "g", False, {"FM-3.3": 0}, content="x" * 50)], all_modes=MODES)
    detail = build_report(store, settings=ReportSettings(step_chars=10)).drilldown[0]
    assert detail.steps[0].content == "x" * 10 and detail.steps[0].truncated


def test_no_outcomes_at_all(store):
    fill(store, [Row(f"t{i}", "g", None, {"FM-1.1": i % 2 == 0}) for i in range(6)], all_modes=MODES)
    report = build_report(store)
    assert not report.outcomes_known
    assert any("No outcome is known" in n for n in report.notes)
    m = _mode(report, "g", "FM-1.1")
    assert m.prevalence == 0.5 and m.prevalence_failed is None and m.odds_ratio is None and m.p_value is None
    assert all(s.verdict == "inconclusive" for s in report.group("g").modes)
    assert report.group("g").headline.startswith("g: isolated failures (0.5 modes per trace, outcomes unknown)")


def test_all_failed_is_inconclusive_not_a_division_by_zero(store):
    fill(store, [Row(f"t{i}", "g", False, {"FM-3.1": 2}) for i in range(8)], all_modes=MODES)
    g = build_report(store).group("g")
    m = next(m for m in g.modes if m.id == "FM-3.1")
    assert g.success_rate == 0 and m.prevalence_succeeded is None and m.relative_increase_kind == "undefined"
    assert m.verdict == "inconclusive" and "0 succeeded" in m.verdict_reason
    assert g.interventions[0].basis == "prevalence" and g.interventions[0].score == 1.0


def test_annotator_choice(store):
    fill(store, [Row("a", "g", True, {})], annotator="one")
    assert build_report(store).annotator == "one"
    fill(store, [Row("a", "g", True, {})], annotator="two")
    with pytest.raises(AnalysisError, match="several annotators.*one, two"):
        build_report(store)
    assert build_report(store, annotator="two").annotator == "two"
    with pytest.raises(AnalysisError, match="no annotations by 'three'"):
        build_report(store, annotator="three")


def test_group_by_metadata_key_and_bad_group_by(store):
    rows = [Row(f"t{i}", "m", None, {}, metadata={"run": {"team": "red" if i else "blue"}}) for i in range(3)]
    fill(store, rows, all_modes=MODES)
    report = build_report(store, settings=ReportSettings(group_by="metadata.run.team"))
    assert {g.group: g.traces for g in report.groups} == {"red": 2, "blue": 1}
    with pytest.raises(AnalysisError, match="cannot group by 'colour'"):
        build_report(store, settings=ReportSettings(group_by="colour"))
