"""Signatures that tell groups apart: distinctive modes, headlines, per-group and shared fixes, decisive steps.

The planted set is described in tests/planted_signatures.py.
"""

from __future__ import annotations

import random
import statistics

import pytest
from scipy.stats import fisher_exact

from agentmortem.analysis import build_report
from agentmortem.analysis.decisive import decisive_step
from agentmortem.model import Evidence, ModeVerdict
from agentmortem.report.report import Report
from agentmortem.taxonomy import mast
from planted_signatures import planted_report, planted_rows
from report_builders import Row, fill

MODES = mast().ids


@pytest.fixture
def planted(store) -> Report:
    return planted_report(store)


def test_verification_is_fatal_everywhere_and_each_group_has_its_own_fatal_modes(planted: Report):
    fatal = {g.group: g.signature.fatal for g in planted.groups}  # type: ignore[union-attr]
    assert fatal["A"] == ["FM-3.3"]
    assert set(fatal["B"]) == {"FM-3.3", "FM-3.1", "FM-1.5"}
    assert set(fatal["C"]) == {"FM-3.3", "FM-1.4"}


def test_distinctive_modes_are_the_planted_ones(planted: Report):
    sig = {g.group: g.signature for g in planted.groups}
    assert sig["A"].distinctive == [] and set(sig["A"].less_frequent) >= {"FM-1.4"}  # type: ignore[union-attr]
    assert sig["B"].distinctive == ["FM-1.5", "FM-3.1"]  # type: ignore[union-attr]  # same +, id order
    assert sig["C"].distinctive == ["FM-1.4"]  # type: ignore[union-attr]
    b = next(d for d in sig["B"].distinctions if d.mode == "FM-3.1")  # type: ignore[union-attr]
    assert (b.present, b.known, b.others_present, b.others_known) == (14, 20, 4, 40)
    assert b.p_value == pytest.approx(fisher_exact([[14, 6], [4, 36]]).pvalue)
    assert b.significant and set(b.against) == {"A", "C"}  # pairwise too, not only pooled
    same = next(d for d in sig["B"].distinctions if d.mode == "FM-3.3")  # type: ignore[union-attr]
    assert not same.significant and same.difference_points == 0


def test_each_headline_names_its_distinctive_modes(planted: Report):
    a, b, c = (planted.group(name).headline for name in "ABC")
    assert "strongest fatal mode: incorrect verification (FM-3.3, 80% of failed vs 10% of successful" in a
    assert "no mode is significantly more frequent than in the other models" in a
    assert "what sets it apart: unaware of termination conditions (FM-1.5, 70% vs 10% of the other models' failed" in b
    assert "premature termination (FM-3.1, 70% vs 10%)" in b
    assert "what sets it apart: loss of conversation history (FM-1.4, 60% vs 0%" in c
    assert "FM-1.4" not in a + b and "FM-3.1" not in a + c


def test_verification_fix_is_shared_once_and_each_group_gets_its_own_first_fix(planted: Report):
    shared = planted.shared_interventions
    assert [s.id for s in shared] == ["verification-gate"]
    assert shared[0].fatal_everywhere == ["FM-3.3"]
    assert [g.group for g in shared[0].groups] == ["A", "B", "C"]
    assert "FM-3.3 fatal in every model" in shared[0].why
    for group in planted.groups:
        assert "verification-gate" not in [fix.id for fix in group.interventions]
    b, c = planted.group("B").interventions[0], planted.group("C").interventions[0]
    assert b.id == "termination-state-machine" and b.distinctive_mode in {"FM-1.5", "FM-3.1"}
    assert c.id == "context-hygiene" and c.distinctive_mode == "FM-1.4"


def test_first_fix_cites_both_terms_of_the_rule(planted: Report):
    c = planted.group("C").interventions[0]
    # FM-1.4 in 12 of 20 failed C traces and in no successful one; 0 of the other groups' 40 failed traces.
    assert (c.coverage_failed, c.coverage_succeeded, c.coverage) == (0.6, 0.0, 0.6)
    assert c.distinctiveness == pytest.approx(0.6)
    assert c.score == pytest.approx(0.6 * 1.6)
    assert "touches 60% of failed vs 0% of successful traces (coverage 0.60" in c.why
    assert "FM-1.4 Loss of Conversation History is in 60% of its failed traces vs 0% of the other models'" in c.why
    assert "score 0.60 x 1.60 = 0.96" in c.why
    b = planted.group("B").interventions[0]
    assert b.coverage == pytest.approx(0.7 - 0.05)  # 14 of 20 failed, 1 of 20 successful (FM-3.1)
    assert b.score == pytest.approx(b.coverage * (1 + 0.6))


def test_decisive_steps_are_found_where_planted(planted: Report):
    b, c, a = planted.group("B").decisive, planted.group("C").decisive, planted.group("A").decisive
    assert b is not None and c is not None and a is not None
    # B: 14 failures turn at step 3 (FM-3.1, before FM-1.5 at 4 and FM-3.3 at 6), 2 more at step 6 (FM-3.3 only).
    assert (b.failed, b.located, b.unlocated, b.without_fatal_mode) == (20, 16, 0, 4)
    assert [(r.mode, r.traces) for r in b.roots] == [("FM-3.1", 14), ("FM-3.3", 2)]
    assert b.median_position == pytest.approx(3 / 9)
    # C: 12 turn at step 2 (FM-1.4); of the other 8, 8 have FM-3.3 at 6 (i < 16 and i < 8).
    assert [(r.mode, r.traces) for r in c.roots] == [("FM-1.4", 12), ("FM-3.3", 8)]
    assert c.median_position == pytest.approx(2 / 9)
    # A: only FM-3.3 is fatal there, so A's two termination failures still turn at FM-3.3's step.
    assert [(r.mode, r.traces) for r in a.roots] == [("FM-3.3", 16)]
    assert a.roots[0].share == 1.0 and a.fatal_modes == ["FM-3.3"]


def test_drilldown_traces_carry_the_same_decisive_step(planted: Report):
    by_id = {d.id: d for d in planted.drilldown}
    assert (by_id["B-f00"].decisive_step, by_id["B-f00"].decisive_mode) == (3, "FM-3.1")
    assert (by_id["C-f09"].decisive_step, by_id["C-f09"].decisive_mode) == (2, "FM-1.4")
    assert (by_id["A-f00"].decisive_step, by_id["A-f00"].decisive_mode) == (6, "FM-3.3")
    assert all(d.decisive_step is None for d in planted.drilldown if d.success is not False)
    per_group = {g.group: g.decisive for g in planted.groups}
    for group in "ABC":  # the drill-down's per-trace answers add up to the store's per-group aggregate
        turns = [d.decisive_mode for d in planted.drilldown if d.group == group and d.decisive_mode]
        expected = {r.mode: r.traces for r in per_group[group].roots}  # type: ignore[union-attr]
        assert {m: turns.count(m) for m in set(turns)} == expected


def _verdict(mode: str, *steps: int, present: bool = True) -> ModeVerdict:
    return ModeVerdict(mode_id=mode, present=present, evidence=[Evidence(step=s) for s in steps])


def test_decisive_step_of_one_annotation():
    verdicts = [
        _verdict("FM-1.3", 1),  # not fatal: ignored
        _verdict("FM-3.3", 7, 5),  # earliest evidence counts
        _verdict("FM-3.1", 5),  # same step as FM-3.3: the stronger (listed first) wins
        _verdict("FM-1.5", 2, present=False),  # absent: ignored
        _verdict("FM-1.4"),  # present, no evidence: cannot be placed
    ]
    assert decisive_step(["FM-3.3", "FM-3.1", "FM-1.5"], verdicts) == (5, "FM-3.3")
    assert decisive_step(["FM-3.1", "FM-3.3"], verdicts) == (5, "FM-3.1")
    assert decisive_step(["FM-1.4", "FM-1.5"], verdicts) is None
    assert decisive_step([], verdicts) is None


def test_one_group_leaves_the_distinctive_part_out_and_says_so(store):
    fill(store, [r for r in planted_rows() if r.group == "B"], all_modes=MODES)
    report = build_report(store)
    b = report.group("B")
    assert b.signature is not None and b.signature.distinctive == [] and b.signature.compared_with == []
    assert b.headline.endswith("only one model in the report: nothing to set it apart from.")
    assert report.shared_interventions == []
    # Nothing is shared with one group, so the verification gate stays in B's list; coverage alone ranks: both
    # fixes touch 80% / 70% of failures and 15% / 5% of successes (0.65 each), the tie goes by id.
    first, second = b.interventions[:2]
    assert (first.id, second.id) == ("termination-state-machine", "verification-gate")
    assert first.score == second.score == pytest.approx(0.65)
    assert first.distinctiveness == second.distinctiveness == 0
    assert "none of its modes sets this model apart" in first.why


def test_one_trace_against_four_hundred_is_never_significant(store):
    rows = [Row("solo-0", "solo", False, {"FM-1.3": 1})]
    rows += [Row(f"big-{i:03d}", "big", i % 2 == 0, {"FM-1.3": False}) for i in range(400)]
    fill(store, rows, all_modes=MODES)
    report = build_report(store)
    comparisons = [c for c in report.comparisons if c.mode == "FM-1.3"]
    assert len(comparisons) == 1 and not comparisons[0].significant
    assert comparisons[0].p_value is None and comparisons[0].q_value is None
    assert comparisons[0].not_tested == "too few traces per group (1 solo, 400 big; need 5 each)"
    assert not any(c.significant for c in report.comparisons)
    solo = next(d for d in report.group("solo").signature.distinctions if d.mode == "FM-1.3")  # type: ignore[union-attr]
    assert not solo.significant and solo.not_tested is not None and solo.not_tested.startswith("too few traces")
    assert "+100" not in report.group("solo").headline


def test_store_aggregate_and_decisive_step_agree_on_random_annotations(store):
    """Random verdicts (ties, steps before the trace, present without evidence, unknowns): one rule, two paths."""
    rng = random.Random(7)
    rows = []
    for i in range(300):
        verdicts: dict[str, bool | int | None] = {}
        for mode in rng.sample(MODES, 6):
            verdicts[mode] = rng.choice([False, None, True, -1, 0, 2, 2, 5, 9])
        rows.append(Row(f"t{i:03d}", f"m{i % 3}", rng.random() < 0.7, verdicts, n_steps=rng.randrange(1, 12)))
    fill(store, rows)
    fatal = {"m0": ["FM-1.3", "FM-3.1"], "m1": ["FM-3.3"], "m2": ["FM-2.2", "FM-1.1", "FM-1.4", "FM-3.2"]}
    bits = {m: i for i, m in enumerate(MODES)}
    with store.signature_session("judge", MODES) as session:
        session.tables()
        got = {r.group: r for r in session.decisive({g: [bits[m] for m in f] for g, f in fatal.items()})}
    by_id = {r.id: r for r in rows}
    for group, modes in fatal.items():
        turns = []
        for annotation in store.get_annotations(annotator="judge"):
            row = by_id[annotation.trace_id]
            if row.group == group and row.success is False and (turn := decisive_step(modes, annotation)):
                turns.append((turn, row.n_steps))
        assert got[group].located == len(turns) > 0
        roots = [0] * len(MODES)
        for (_, mode), _ in turns:
            roots[bits[mode]] += 1
        assert got[group].roots == roots
        positions = sorted(min(1.0, step / max(n - 1, 1)) for (step, _), n in turns)
        assert got[group].median_position == pytest.approx(statistics.median(positions))
