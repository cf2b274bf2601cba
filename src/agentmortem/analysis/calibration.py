r"""Numbers corrected for the judge's error: prediction-powered prevalences, differences and verdicts.

A judge (an LLM, the detectors) labels every analysed trace; a reference (people) labels a random subset. The
judge's raw prevalences inherit its errors; the reference alone is unbiased but small. Prediction-powered
inference (Angelopoulos, Bates, Fannjiang, Jordan & Zrnic, *Science* 2023) uses both, and its power-tuned form
PPI++ (Angelopoulos, Duchi & Zrnic 2023, arXiv 2311.01453) never does worse than the reference alone.

**The mean estimator, derived.** Take one stratum: a group's traces of one outcome class (failed, succeeded or
unknown). N traces have a judge verdict f in {0, 1} (a mode the judge left unknown counts as 0: any fixed
predictor is allowed, a poor one only makes the interval wider). A simple random sample of n of them also has the
reference's label Y; the other N_u = N - n traces have f only. For any fixed lambda,

    theta_hat(lambda) = mean_labelled(Y - lambda f) + lambda mean_unlabelled(f)

is unbiased for the stratum's true prevalence theta = E[Y], since E[Y - lambda f] + lambda E[f] = E[Y]. The two
means are over disjoint random samples, so they are independent and

    Var theta_hat = (Var Y - 2 lambda Cov(Y, f) + lambda^2 Var f) / n + lambda^2 Var f / N_u.

Setting the derivative in lambda to zero gives the PPI++ weight lambda* = Cov(Y, f) / ((1 + n / N_u) Var f).
lambda = 1 is the original PPI; lambda = 0 ignores the judge and is the classical estimate from the reference
alone. We plug the sample moments into lambda*, clip it to [0, 1] (a judge that anti-correlates with people gets
no weight rather than a negative one), and report theta_hat +- 1.96 sqrt(Var_hat) cut to [0, 1]. The interval is
valid as n and N_u grow (central limit theorem, lambda_hat consistent); the planted simulation in
tests/test_calibration.py measures its coverage at the sizes a user labels (docs/label-quality.md).

Small samples: a reference subset of fifteen traces often shows no positive at all, or no disagreement with the
judge, and the plain sample variance is then 0 and the interval a point. The variance terms (never the estimate)
are therefore computed from the labelled (Y, f) table with half a count added to each of its four cells, and the
unlabelled Var f with half a count added to each side, as Haldane and Anscombe do for odds ratios.

**Combining strata.** The prevalence over all of a group's traces weights each stratum by N_c / N, with variance
sum (N_c / N)^2 Var_c. The failed-minus-successful difference is theta_f - theta_s with variance Var_f + Var_s
(independent samples), so its interval and a two-sided z-test follow directly.

**Sensitivity and specificity** of the judge are measured on the reference traces of the group, pooled over
outcome classes (`agentmortem sample` draws them in proportion to the classes, so the pool mirrors the group):
Wilson score intervals, and for sensitivity + specificity - 1 (Youden's J) the MOVER interval built from the two
Wilson intervals (Zou & Donner 2008). A mode whose J interval reaches 0 — the judge may be no better than chance —
is *not informative* and gets no corrected verdict.

**Corrected verdict** (thresholds from `ReportSettings`, mirroring analysis/fatality.py): inconclusive unless each
of the failed and successful strata has at least `min_class_traces` reference labels for the mode and the
reference found it at least `min_present` times; fatal when the corrected difference is positive and its z-test
survives Benjamini-Hochberg across the group's tested modes (q <= q_max); benign when the corrected prevalence
among successes is at least `benign_min_prevalence` and either the difference is significantly negative or the
upper 95% bound of the corrected odds ratio (delta method on the logits) is below `benign_max_or`.

Assumption, the one that matters: within each outcome class the reference traces are a random sample of the
analysed traces (what `agentmortem sample` draws). Reference "unsure" answers are treated as missing at random.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import t as student_t

from agentmortem.analysis.signatures import GroupMasks
from agentmortem.analysis.stats import Z95
from agentmortem.report.report import (
    CorrectedStat,
    Estimate,
    GroupReference,
    GroupReport,
    LabelQuality,
    ReportSettings,
    Verdict,
)
from agentmortem.store import Store
from agentmortem.store.signatures import GroupColumn

Array = npt.NDArray[np.float64]
STRATA = ("f", "s", "u")
"""Outcome classes as the store codes them: failed, succeeded, unknown."""
SUGGESTED_SAMPLE = 40
"""Reference size the header suggests: 40 traces of one group give about +-16 points per outcome class
(docs/label-quality.md)."""

_FATAL, _BENIGN, _INCONCLUSIVE, _NONE = 1, 2, 0, -1
_VERDICTS: dict[int, Verdict | None] = {_FATAL: "fatal", _BENIGN: "benign", _INCONCLUSIVE: "inconclusive", _NONE: None}


@dataclass(frozen=True)
class Stratum:
    """Counts of one stratum, per mode on the last axis (leading axes, e.g. simulation seeds, broadcast).

    `traces` and `judged` cover every analysed trace of the stratum; the four joint cells cover the traces the
    reference answered for the mode: both present, reference only (the judge missed it), judge only (a false
    alarm), neither.
    """

    traces: Array
    judged: Array
    both: Array
    missed: Array
    false_alarm: Array
    neither: Array

    @property
    def labelled(self) -> Array:
        """Reference-labelled traces per mode (n)."""
        return self.both + self.missed + self.false_alarm + self.neither

    @property
    def reference_present(self) -> Array:
        """Traces the reference found the mode in."""
        return self.both + self.missed


def ppi_prevalence(s: Stratum) -> tuple[Array, Array]:
    """PPI++ estimate of the stratum's prevalence and its standard error (NaN where nothing is labelled)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        n = s.labelled
        unlabelled = s.traces - n
        y_mean = s.reference_present / n
        f_mean_labelled = (s.both + s.false_alarm) / n
        f_mean_unlabelled = np.where(unlabelled > 0, (s.judged - s.both - s.false_alarm) / unlabelled, 0.0)
        var_y, var_f_lab, cov = _smoothed_moments(s)
        var_f_unl = _smoothed_variance(s.judged - s.both - s.false_alarm, unlabelled)
        var_f_all = _smoothed_variance(s.judged, s.traces)
        weight = np.where(unlabelled > 0, cov / ((1 + n / np.maximum(unlabelled, 1)) * var_f_all), 0.0)
        weight = np.clip(np.nan_to_num(weight), 0.0, 1.0)
        estimate = y_mean + weight * (f_mean_unlabelled - f_mean_labelled)
        rectifier = var_y - 2 * weight * cov + weight**2 * var_f_lab
        variance = rectifier / n + np.where(unlabelled > 0, weight**2 * var_f_unl / np.maximum(unlabelled, 1), 0.0)
        undefined = n <= 0
    return np.where(undefined, np.nan, estimate), np.where(undefined, np.nan, np.sqrt(np.maximum(variance, 0.0)))


def _smoothed_moments(s: Stratum) -> tuple[Array, Array, Array]:
    """Var Y, Var f and Cov(Y, f) of the labelled table with half a count in each cell (variances only)."""
    both, missed, alarm, neither = s.both + 0.5, s.missed + 0.5, s.false_alarm + 0.5, s.neither + 0.5
    n = both + missed + alarm + neither
    p_y, p_f, p_yf = (both + missed) / n, (both + alarm) / n, both / n
    return p_y * (1 - p_y), p_f * (1 - p_f), p_yf - p_y * p_f


def _smoothed_variance(positives: Array, n: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (positives + 0.5) / (n + 1.0)
    return p * (1 - p)


def wilson(successes: Array, n: Array) -> tuple[Array, Array, Array]:
    """Share with its Wilson score 95% interval; NaN where n is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = successes / n
        centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
        half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n**2)) / (1 + Z95**2 / n)
    return p, centre - half, centre + half


@dataclass(frozen=True)
class Calibrated:
    """Corrected figures of one group (or many: leading axes broadcast), per mode on the last axis."""

    prevalence_failed: tuple[Array, Array]
    prevalence_succeeded: tuple[Array, Array]
    prevalence: tuple[Array, Array]
    difference: tuple[Array, Array]
    difference_critical: Array
    sensitivity: tuple[Array, Array, Array]
    specificity: tuple[Array, Array, Array]
    youden_low: Array
    informative: npt.NDArray[np.bool_]
    measurable: npt.NDArray[np.bool_]
    q_value: Array
    odds_high: Array
    verdict: npt.NDArray[np.int64]


def calibrate(strata: dict[str, Stratum], settings: ReportSettings) -> Calibrated:
    """Corrected prevalences, difference, judge accuracy and verdict codes from a group's strata (f, s, u)."""
    empty = _empty_like(next(iter(strata.values())))
    failed, succeeded = strata.get("f", empty), strata.get("s", empty)
    est_f, se_f = ppi_prevalence(failed)
    est_s, se_s = ppi_prevalence(succeeded)
    overall = _combined([strata[c] for c in STRATA if c in strata])
    difference = (est_f - est_s, np.sqrt(se_f**2 + se_s**2))
    # Student's t with (smaller labelled class - 1) degrees of freedom, not the normal: with a handful of labels
    # per class a normal test calls links that Fisher's exact test on the same counts would not.
    freedom = np.maximum(np.minimum(failed.labelled, succeeded.labelled) - 1, 1)
    critical = student_t.ppf(0.975, freedom)
    pooled = _pooled(list(strata.values()))
    sens = wilson(pooled.both, pooled.both + pooled.missed)
    spec = wilson(pooled.neither, pooled.neither + pooled.false_alarm)
    youden_low = sens[0] + spec[0] - 1 - np.sqrt((sens[0] - sens[1]) ** 2 + (spec[0] - spec[1]) ** 2)
    measurable = ~(np.isnan(sens[0]) | np.isnan(spec[0]))
    informative = measurable & (youden_low > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_values = 2 * student_t.sf(np.abs(difference[0]) / difference[1], freedom)
    supported = _supported(failed, succeeded, settings)
    tested = supported & ~(measurable & ~informative) & np.isfinite(p_values)
    q_values = benjamini_hochberg(np.where(tested, p_values, np.nan))
    odds_high = _odds_ratio_high(est_f, se_f, est_s, se_s)
    verdict = _verdict_codes(difference[0], q_values, est_s, odds_high, supported, settings)
    verdict = np.where(measurable & ~informative, _NONE, verdict)
    return Calibrated(
        prevalence_failed=(est_f, se_f), prevalence_succeeded=(est_s, se_s), prevalence=overall,
        difference=difference, difference_critical=critical, sensitivity=sens, specificity=spec,
        youden_low=youden_low, informative=informative, measurable=measurable, q_value=q_values,
        odds_high=odds_high, verdict=verdict,
    )  # fmt: skip


def _empty_like(s: Stratum) -> Stratum:
    zero = np.zeros_like(s.both, dtype=float)
    return Stratum(zero, zero, zero, zero, zero, zero)


def _pooled(strata: Sequence[Stratum]) -> Stratum:
    return Stratum(*(sum(getattr(s, name) for s in strata) for name in Stratum.__dataclass_fields__))


def _combined(strata: Sequence[Stratum]) -> tuple[Array, Array]:
    """Prevalence over all traces: strata weighted by their size; NaN when a non-empty stratum has no labels."""
    total = sum(s.traces for s in strata)
    estimate, variance = np.zeros_like(strata[0].both, dtype=float), np.zeros_like(strata[0].both, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        for s in strata:
            est, se = ppi_prevalence(s)
            share = s.traces / total
            estimate = estimate + np.where(s.traces > 0, share * est, 0.0)
            variance = variance + np.where(s.traces > 0, share**2 * se**2, 0.0)
    return estimate, np.sqrt(variance)


def _supported(failed: Stratum, succeeded: Stratum, settings: ReportSettings) -> npt.NDArray[np.bool_]:
    enough = np.minimum(failed.labelled, succeeded.labelled) >= settings.min_class_traces
    seen = failed.reference_present + succeeded.reference_present >= settings.min_present
    return np.asarray(enough & seen)


def _odds_ratio_high(est_f: Array, se_f: Array, est_s: Array, se_s: Array) -> Array:
    """Upper 95% bound of the corrected odds ratio (failed vs succeeded), delta method on the logits."""
    p_f, p_s = np.clip(est_f, 1e-3, 1 - 1e-3), np.clip(est_s, 1e-3, 1 - 1e-3)
    log_or = np.log(p_f / (1 - p_f)) - np.log(p_s / (1 - p_s))
    se = np.sqrt((se_f / (p_f * (1 - p_f))) ** 2 + (se_s / (p_s * (1 - p_s))) ** 2)
    return np.asarray(np.exp(np.minimum(log_or + Z95 * se, 700.0)))  # e^700 is as good as infinite, and finite


def _verdict_codes(
    difference: Array, q: Array, est_s: Array, odds_high: Array, supported: npt.NDArray[np.bool_],
    settings: ReportSettings,
) -> npt.NDArray[np.int64]:  # fmt: skip
    significant = np.nan_to_num(q, nan=2.0) <= settings.q_max
    common = np.nan_to_num(est_s) >= settings.benign_min_prevalence
    fatal = supported & significant & (difference > 0)
    benign = supported & common & ((significant & (difference < 0)) | (odds_high < settings.benign_max_or))
    return np.where(fatal, _FATAL, np.where(benign, _BENIGN, _INCONCLUSIVE)).astype(np.int64)


def benjamini_hochberg(p: Array) -> Array:
    """BH q-values along the last axis; NaN p-values are not tests and stay NaN."""
    p = np.asarray(p, dtype=float)
    tests = np.sum(~np.isnan(p), axis=-1, keepdims=True)
    order = np.argsort(np.where(np.isnan(p), np.inf, p), axis=-1)
    ranked = np.take_along_axis(p, order, axis=-1)
    ranks = np.arange(1, p.shape[-1] + 1)
    scaled = np.where(np.isnan(ranked), np.inf, ranked * tests / ranks)
    stepped = np.minimum.accumulate(scaled[..., ::-1], axis=-1)[..., ::-1]
    q = np.empty_like(p)
    np.put_along_axis(q, order, np.minimum(stepped, 1.0), axis=-1)
    return np.where(np.isnan(p), np.nan, q)


# -- from the store's tables to the report ------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceMasks:
    """A group's traces labelled by the reference: outcome class, judge / reference present and reference known."""

    classes: npt.NDArray[np.str_]
    judged: npt.NDArray[np.bool_]
    present: npt.NDArray[np.bool_]
    known: npt.NDArray[np.bool_]
    weights: npt.NDArray[np.int64]

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[str, int, int, int, int]], n_modes: int) -> ReferenceMasks:
        """From (class, judge present mask, reference present mask, reference known mask, traces) rows."""
        bits = np.int64(1) << np.arange(n_modes, dtype=np.int64)

        def column(i: int) -> npt.NDArray[np.bool_]:
            return (np.array([r[i] for r in rows], dtype=np.int64).reshape(-1, 1) & bits) != 0

        present = column(2)
        return cls(
            classes=np.array([r[0] for r in rows], dtype=str), judged=column(1), present=present,
            known=column(3) | present, weights=np.array([r[4] for r in rows], dtype=np.int64),
        )  # fmt: skip

    def stratum(self, outcome: str, masks: GroupMasks) -> Stratum:
        """The stratum of one outcome class: the judge's counts from `masks`, the joint cells from the reference."""
        keep = self.classes == outcome
        w, y, f, k = self.weights[keep], self.present[keep], self.judged[keep], self.known[keep]
        judge = masks.only(outcome)  # type: ignore[arg-type]
        n_modes = masks.present.shape[1]

        def cells(mask: npt.NDArray[np.bool_]) -> Array:
            return np.asarray(w @ mask, dtype=float) if len(w) else np.zeros(n_modes)

        return Stratum(
            traces=np.full(n_modes, float(judge.traces)), judged=judge.present_counts().astype(float),
            both=cells(k & y & f), missed=cells(k & y & ~f), false_alarm=cells(k & ~y & f), neither=cells(k & ~y & ~f),
        )  # fmt: skip

    def traces(self, outcome: str | None = None) -> int:
        """Reference-labelled traces (of one outcome class)."""
        return int(self.weights.sum() if outcome is None else self.weights[self.classes == outcome].sum())


def corrected_group(
    masks: GroupMasks, reference: ReferenceMasks, annotator: str, settings: ReportSettings
) -> tuple[GroupReference, list[CorrectedStat]]:
    """The reference summary and per-mode corrected figures of one group."""
    present = [c for c in STRATA if masks.only(c).traces]  # type: ignore[arg-type]
    strata = {c: reference.stratum(c, masks) for c in present} or {"u": reference.stratum("u", masks)}
    result = calibrate(strata, settings)
    summary = GroupReference(
        annotator=annotator, traces=reference.traces(), failed=reference.traces("f"),
        succeeded=reference.traces("s"),
    )  # fmt: skip
    return summary, [_mode(result, i) for i in range(masks.present.shape[1])]


def _mode(c: Calibrated, i: int) -> CorrectedStat:
    code = int(c.verdict[i])
    informative = bool(c.informative[i]) if c.measurable[i] else None
    return CorrectedStat(
        prevalence_failed=_interval(*c.prevalence_failed, i),
        prevalence_succeeded=_interval(*c.prevalence_succeeded, i),
        prevalence=_interval(*c.prevalence, i),
        difference_points=_interval(*c.difference, i, scale=100, lowest=-1.0, critical=float(c.difference_critical[i])),
        sensitivity=_wilson_estimate(c.sensitivity, i),
        specificity=_wilson_estimate(c.specificity, i),
        informative=informative,
        verdict=_VERDICTS[code],
        verdict_reason=_reason(c, i, code),
        q_value=_finite(c.q_value[i]),
    )


def _interval(
    est: Array, se: Array, i: int, *, scale: float = 1.0, lowest: float = 0.0, critical: float = Z95
) -> Estimate:
    """Estimate +- 1.96 se, all cut to [lowest, 1] (a share, or a difference of shares), times `scale`."""
    value, error = float(est[i]), float(se[i])
    if not np.isfinite(value):
        return Estimate(estimate=None, ci95=None)
    low, high = max(value - critical * error, lowest), min(value + critical * error, 1.0)
    value = min(max(value, lowest), 1.0)
    return Estimate(estimate=value * scale, ci95=[low * scale, high * scale])


def _wilson_estimate(w: tuple[Array, Array, Array], i: int) -> Estimate:
    p, low, high = (float(x[i]) for x in w)
    return Estimate(estimate=None, ci95=None) if not np.isfinite(p) else Estimate(estimate=p, ci95=[low, high])


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _reason(c: Calibrated, i: int, code: int) -> str:
    if code == _NONE:
        return (
            f"judge not informative: sensitivity + specificity - 1 may be 0 (lower bound {c.youden_low[i]:.2f}); "
            "no verdict"
        )
    q = c.q_value[i]
    diff = _interval(*c.difference, i, scale=100, lowest=-1.0, critical=float(c.difference_critical[i]))
    if not np.isfinite(q) or diff.estimate is None or diff.ci95 is None:
        return "too few reference labels for a corrected verdict"
    low, high = diff.ci95
    text = f"corrected difference {diff.estimate:+.0f} pts [{low:+.0f}, {high:+.0f}], q={q:.3g}"
    if code == _FATAL:
        return f"fatal: {text}"
    if code == _BENIGN:
        return f"benign: common in successes; {text}"
    return f"no decisive link: {text}"


def with_reference(
    group: GroupReport, masks: GroupMasks, reference: ReferenceMasks | None, annotator: str, settings: ReportSettings
) -> GroupReport:
    """`group` with its reference summary and every mode's corrected figures (a group the reference missed too)."""
    if reference is None:
        reference = ReferenceMasks.from_rows([], masks.present.shape[1])
    summary, corrected = corrected_group(masks, reference, annotator, settings)
    modes = [m.model_copy(update={"corrected": c}) for m, c in zip(group.modes, corrected, strict=True)]
    return group.model_copy(update={"reference": summary, "modes": modes})


def label_quality(judge: str, judge_kind: str | None, reference: str | None, labelled: int) -> LabelQuality:
    """The report header's line on how far its labels are measured against people."""
    if judge_kind == "human":
        statement = f"labels by {judge} (people's labels: reported as they are, no judge error to correct)"
    elif reference is None:
        statement = (
            f"labels by {judge}, agreement with people unmeasured: label {SUGGESTED_SAMPLE} traces with "
            "`agentmortem sample` to measure it"
        )
    else:
        statement = (
            f"labels by {judge}, measured against {reference} on {labelled} traces: corrected figures "
            "(prediction-powered, 95% intervals) beside the raw ones"
        )
    return LabelQuality(judge=judge, reference=reference, statement=statement)


def corrected_groups(
    store: Store,
    pair: tuple[str, str],
    groups: list[GroupReport],
    masks: dict[str, GroupMasks],
    settings: ReportSettings,
    grouping: tuple[GroupColumn, str | None],
) -> tuple[list[GroupReport], list[str]]:
    """Groups with their corrected figures (annotator vs reference), and a note on reference traces left out."""
    annotator, reference = pair
    mode_ids = [m.id for m in groups[0].modes] if groups else []
    column, key = grouping
    tables = store.reference_tables(annotator, reference, mode_ids, group_column=column, group_key=key)
    by_group: dict[str, list[tuple[str, int, int, int, int]]] = {}
    for group, cls, judged, present, known, traces in tables.rows:
        by_group.setdefault(group, []).append((cls, judged, present, known, traces))
    refs = {name: ReferenceMasks.from_rows(rows, len(mode_ids)) for name, rows in by_group.items()}
    corrected = [with_reference(g, masks[g.group], refs.get(g.group), reference, settings) for g in groups]
    notes = []
    if tables.unmatched:
        notes.append(f"{tables.unmatched} traces labelled by {reference} have no analysed annotation by "
                     f"{annotator}: left out of the corrected figures.")  # fmt: skip
    return corrected, notes
