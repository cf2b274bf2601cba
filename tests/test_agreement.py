"""Agreement figures against hand-computed examples: kappa, precision/recall/F1, intervals, unknown handling."""

from __future__ import annotations

import pytest

from agentmortem.analysis.agreement import AgreementError, agreement, kappa_of
from agentmortem.model import Annotation, ModeVerdict

M1, M2 = "FM-1.3", "FM-3.1"


def ann(trace: str, who: str, answers: dict[str, bool | None], *, status: str = "ok") -> Annotation:
    verdicts = [ModeVerdict(mode_id=m, present=p) for m, p in answers.items()]
    return Annotation(trace_id=f"t{trace}", annotator=who, annotator_kind="mock", taxonomy_version="1",
                      verdicts=verdicts, status=status)  # type: ignore[arg-type]  # fmt: skip


def paired(a: list[int], b: list[int], mode: str = M1) -> tuple[list[Annotation], list[Annotation]]:
    return ([ann(str(i), "A", {mode: bool(x)}) for i, x in enumerate(a)],
            [ann(str(i), "B", {mode: bool(x)}) for i, x in enumerate(b)])  # fmt: skip


# tp=4 fp=1 fn=1 tn=4: po = .8, pe = .5*.5 + .5*.5 = .5, kappa = (.8-.5)/(1-.5) = .6
A1, B1 = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 1, 0, 0, 0, 0]
# tp=2 fp=3 fn=1 tn=4: po = .6, pa = .5, pb = .3, pe = .15 + .35 = .5, kappa = .2
A2, B2 = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 1, 0, 0, 0, 0]


def test_one_mode_by_hand() -> None:
    report = agreement(*paired(A1, B1), modes=[M1])
    f = report.modes[0].figures
    assert (f.tp, f.fp, f.fn, f.tn, f.n, f.support) == (4, 1, 1, 4, 10, 5)
    assert f.kappa == pytest.approx(0.6)
    assert f.precision == pytest.approx(0.8) and f.recall == pytest.approx(0.8) and f.f1 == pytest.approx(0.8)
    assert f.prevalence_annotator == pytest.approx(0.5) and f.prevalence_reference == pytest.approx(0.5)
    assert f.kappa_low is not None and f.kappa_high is not None
    assert -1 <= f.kappa_low <= 0.6 <= f.kappa_high <= 1


def test_unequal_marginals_by_hand() -> None:
    f = agreement(*paired(A2, B2), modes=[M1]).modes[0].figures
    assert f.kappa == pytest.approx(0.2)
    assert f.precision == pytest.approx(0.4) and f.recall == pytest.approx(2 / 3)
    assert f.f1 == pytest.approx(2 * 0.4 * (2 / 3) / (0.4 + 2 / 3))


def test_micro_and_macro_by_hand() -> None:
    mine = [ann(str(i), "A", {M1: bool(a1), M2: bool(a2)}) for i, (a1, a2) in enumerate(zip(A1, A2, strict=True))]
    theirs = [ann(str(i), "B", {M1: bool(b1), M2: bool(b2)}) for i, (b1, b2) in enumerate(zip(B1, B2, strict=True))]
    report = agreement(mine, theirs, modes=[M1, M2])
    # micro: tp=6 fp=4 fn=2 tn=8, po = .7, pa = .5, pb = .4, pe = .2 + .3 = .5, kappa = .4
    assert report.micro.kappa == pytest.approx(0.4) and report.micro.n == 20
    assert report.macro.kappa == pytest.approx((0.6 + 0.2) / 2) and report.macro.modes == 2
    assert report.macro.precision == pytest.approx((0.8 + 0.4) / 2)
    assert report.macro.recall == pytest.approx((0.8 + 2 / 3) / 2)
    assert report.macro.kappa_low is not None and report.macro.kappa_low <= 0.4 <= report.macro.kappa_high  # type: ignore[operator]


def test_interval_narrows_with_more_data_and_is_reproducible() -> None:
    small = agreement(*paired(A1, B1), modes=[M1]).modes[0].figures
    large = agreement(*paired(A1 * 20, B1 * 20), modes=[M1]).modes[0].figures
    assert large.kappa == pytest.approx(0.6)
    assert (large.kappa_high - large.kappa_low) < (small.kappa_high - small.kappa_low) / 2  # type: ignore[operator]
    again = agreement(*paired(A1, B1), modes=[M1]).modes[0].figures
    assert (again.kappa_low, again.kappa_high) == (small.kappa_low, small.kappa_high)
    other_seed = agreement(*paired(A1, B1), modes=[M1], seed=7).modes[0].figures
    assert other_seed.kappa == small.kappa


def test_perfect_and_undefined_agreement() -> None:
    perfect = agreement(*paired([1, 0, 1, 0], [1, 0, 1, 0]), modes=[M1]).modes[0].figures
    assert (perfect.kappa, perfect.kappa_low, perfect.kappa_high) == (1.0, 1.0, 1.0)
    never = agreement(*paired([0, 0, 0], [0, 0, 0]), modes=[M1]).modes[0].figures
    assert never.kappa is None and never.kappa_low is None and never.precision is None and never.n == 3
    assert never.prevalence_annotator == 0 and never.support == 0


def test_unknowns_failures_and_unpaired_traces_are_excluded_and_counted() -> None:
    mine, theirs = paired(A1, B1)
    mine.append(ann("u1", "A", {}))  # annotator left FM-1.3 unknown
    theirs.append(ann("u1", "B", {M1: True}))
    mine.append(ann("u2", "A", {M1: True}))
    theirs.append(ann("u2", "B", {M1: None}))  # reference cannot tell
    mine.append(ann("only", "A", {M1: True}))
    mine.append(ann("bad", "A", {}, status="failed"))
    theirs.append(ann("bad", "B", {M1: True}))
    report = agreement(mine, theirs, modes=[M1])
    mode = report.modes[0]
    assert (mode.unknown_annotator, mode.unknown_reference) == (1, 1)
    assert mode.figures.kappa == pytest.approx(0.6) and mode.figures.n == 10
    assert (report.traces_compared, report.traces_only_annotator, report.failed_annotator) == (12, 1, 1)


def test_modes_default_to_the_whole_taxonomy_with_empty_ones_reported() -> None:
    report = agreement(*paired(A1, B1))
    assert len(report.modes) == 14 and report.macro.modes == 1
    empty = next(m for m in report.modes if m.mode_id == "FM-2.2")
    assert empty.figures.n == 0 and empty.figures.kappa is None and empty.unknown_annotator == 10


def test_bad_input_is_an_error() -> None:
    with pytest.raises(AgreementError):
        agreement([], paired(A1, B1)[1])
    mixed = [ann("1", "A", {M1: True}), ann("2", "C", {M1: True})]
    with pytest.raises(AgreementError, match="one annotator"):
        agreement(mixed, paired(A1, B1)[1])


def test_kappa_of_vectorised_matches_scalar() -> None:
    counts = [[4, 1, 1, 4], [2, 3, 1, 4], [0, 0, 0, 5]]
    values = kappa_of(counts)  # type: ignore[arg-type]
    assert values[0] == pytest.approx(0.6) and values[1] == pytest.approx(0.2) and str(values[2]) == "nan"
