"""How far one annotator agrees with a reference, per mode and overall: whether and where.

Whether: Cohen's kappa with a bootstrap interval, precision, recall, F1. Where: step hits, decisive steps and agents
(definitions in `agentmortem.analysis.localisation`).

This is how any judge (an LLM prompt, the offline detectors, a new model) is checked against human labels or
another judge, as the MAST authors checked their o1 judge against expert annotators.

Pairing rules: only traces both annotators annotated successfully are compared (the others are counted). Within
them, a mode one side left unknown (no verdict, or `present=None`) is excluded from that mode's figures and
counted under that side. Intervals come from a bootstrap over traces, so the modes of one trace are resampled
together and the overall (micro) figures keep their within-trace correlation; the localisation rates use the same
resamples.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from agentmortem.analysis.localisation import FIGURES, location_cells
from agentmortem.defaults import DEFAULT_BOOTSTRAP, DEFAULT_SEED, DEFAULT_TOLERANCE
from agentmortem.model import Annotation
from agentmortem.store import Store
from agentmortem.taxonomy import TaxonomyError, built_in, mast

# Cell order of the per-trace count arrays: annotator/reference = yes/yes, yes/no, no/yes, no/no.
_TP, _FP, _FN, _TN = range(4)


class AgreementError(ValueError):
    """Agreement cannot be measured (an annotator has no annotations, nothing in common…)."""


@dataclass(frozen=True)
class Figures:
    """Agreement figures over a set of (trace, mode) pairs both sides answered."""

    n: int
    tp: int
    fp: int
    fn: int
    tn: int
    kappa: float | None
    kappa_low: float | None
    kappa_high: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    prevalence_annotator: float | None
    prevalence_reference: float | None
    support: int
    """Positives under the reference."""


@dataclass(frozen=True)
class Rate:
    """Hits out of chances, with a bootstrap interval; `rate` is None when there was no chance."""

    hits: int
    n: int
    rate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Location:
    """Where the annotator puts failures against the reference (definitions: `analysis.localisation`)."""

    step_hit: Rate
    step_hit_within: Rate
    decisive_step: Rate
    decisive_step_within: Rate
    agent: Rate


@dataclass(frozen=True)
class ModeAgreement:
    """One mode's figures plus how many traces each side left it unknown on."""

    mode_id: str
    figures: Figures
    unknown_annotator: int
    unknown_reference: int
    location: Location


@dataclass(frozen=True)
class MacroFigures:
    """Unweighted means over the modes where each figure is defined."""

    kappa: float | None
    kappa_low: float | None
    kappa_high: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    modes: int
    """Modes with at least one compared pair."""


@dataclass(frozen=True)
class AgreementReport:
    """Agreement of `annotator` with `reference`, per mode, micro-averaged and macro-averaged."""

    annotator: str
    reference: str
    traces_compared: int
    traces_only_annotator: int
    traces_only_reference: int
    failed_annotator: int
    failed_reference: int
    modes: list[ModeAgreement]
    micro: Figures
    macro: MacroFigures
    location: Location
    """Overall: step hits summed over modes; decisive step and agent per decisive trace."""
    decisive_traces: int
    """Compared traces where the reference names a decisive step and the run did not succeed."""
    tolerance: int
    bootstrap: int
    seed: int
    confidence: float

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON output."""
        return asdict(self)


def agreement(
    annotations: Sequence[Annotation],
    references: Sequence[Annotation],
    *,
    modes: Sequence[str] | None = None,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
    tolerance: int = DEFAULT_TOLERANCE,
    success: Mapping[str, bool | None] | None = None,
    step_agents: Mapping[str, Sequence[str | None]] | None = None,
) -> AgreementReport:
    """Measure how `annotations` (one annotator) agree with `references` (another), trace by trace.

    `modes` default to those of the references' taxonomy. `success` (trace id -> outcome) decides which traces
    failed, and `step_agents` (trace id -> each step's agent) names the agent of a step an annotator points at;
    without them outcomes are unknown and only agents the annotator names count.
    """
    mine, theirs = _by_trace(annotations), _by_trace(references)
    if not mine or not theirs:
        raise AgreementError(f"nothing to compare: {len(mine)} annotations vs {len(theirs)} references")
    mode_ids = list(modes) if modes is not None else _reference_modes(references)
    ok_mine = {t for t, a in mine.items() if a.status == "ok"}
    ok_theirs = {t for t, a in theirs.items() if a.status == "ok"}
    common = sorted(ok_mine & ok_theirs)
    pairs = [mine[t] for t in common], [theirs[t] for t in common]
    cells, unknown = _cells(*pairs, mode_ids)
    located, decisive_traces = location_cells(
        *pairs, mode_ids, tolerance=tolerance, success=success or {}, step_agents=step_agents or {}
    )
    samples = _bootstrap_sums(cells, bootstrap, seed)
    located_samples = _bootstrap_sums(located, bootstrap, seed)  # the same seed draws the same resamples
    alpha = (1 - confidence) / 2
    per_mode = [
        ModeAgreement(
            mode, _figures(cells[:, m, :].sum(axis=0), samples[:, m, :], alpha), unknown[m][0], unknown[m][1],
            _location(located[:, m].sum(axis=0), located_samples[:, m], alpha),
        )
        for m, mode in enumerate(mode_ids)
    ]  # fmt: skip
    return AgreementReport(
        annotator=_name(annotations), reference=_name(references), traces_compared=len(common),
        traces_only_annotator=len(set(mine) - set(theirs)), traces_only_reference=len(set(theirs) - set(mine)),
        failed_annotator=len(set(mine) - ok_mine), failed_reference=len(set(theirs) - ok_theirs),
        modes=per_mode, micro=_figures(cells.sum(axis=(0, 1)), samples.sum(axis=1), alpha),
        macro=_macro(per_mode, samples, alpha), location=_overall_location(located, located_samples, alpha),
        decisive_traces=decisive_traces, tolerance=tolerance, bootstrap=bootstrap, seed=seed, confidence=confidence,
    )  # fmt: skip


def _reference_modes(references: Sequence[Annotation]) -> list[str]:
    """The modes of the references' taxonomy when it is built in, else every mode either side answered."""
    try:
        return built_in(references[0].taxonomy).ids if references else mast().ids
    except TaxonomyError:
        return sorted({v.mode_id for a in references for v in a.verdicts})


def agreement_in_store(
    store: Store,
    annotator: str,
    reference: str,
    *,
    modes: Sequence[str] | None = None,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
    tolerance: int = DEFAULT_TOLERANCE,
) -> AgreementReport:
    """`agreement` between two annotators' stored annotations, with the stored outcomes and step agents.

    AgreementError names an annotator the store does not have.
    """
    mine = store.get_annotations(annotator=annotator)
    theirs = store.get_annotations(annotator=reference)
    for name, found in ((annotator, mine), (reference, theirs)):
        if not found:
            known = ", ".join(repr(a.annotator) for a in store.annotators()) or "none"
            raise AgreementError(f"no annotations by {name!r} in {store.path}; annotators there: {known}")
    ids = sorted({a.trace_id for a in mine} & {a.trace_id for a in theirs})
    return agreement(
        mine, theirs, modes=modes, bootstrap=bootstrap, seed=seed, confidence=confidence, tolerance=tolerance,
        success=store.outcome_successes(ids), step_agents=store.step_agents(ids),
    )  # fmt: skip


def _by_trace(annotations: Sequence[Annotation]) -> dict[str, Annotation]:
    names = {a.annotator for a in annotations}
    if len(names) > 1:
        raise AgreementError(f"expected one annotator per side, got {sorted(names)!r}")
    return {a.trace_id: a for a in annotations}


def _name(annotations: Sequence[Annotation]) -> str:
    return annotations[0].annotator if annotations else ""


def _cells(mine: list[Annotation], theirs: list[Annotation], modes: list[str]) -> tuple[np.ndarray, list[list[int]]]:
    """Per trace and mode, a one-hot (tp, fp, fn, tn) row, zero when a side is unknown; and unknown counts."""
    cells = np.zeros((len(mine), len(modes), 4), dtype=np.int64)
    unknown = [[0, 0] for _ in modes]
    for t, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        for m, mode in enumerate(modes):
            mine_says, theirs_say = _present(a, mode), _present(b, mode)
            unknown[m][0] += mine_says is None
            unknown[m][1] += theirs_say is None
            if mine_says is not None and theirs_say is not None:
                cells[t, m, _cell(mine_says, theirs_say)] = 1
    return cells, unknown


def _present(annotation: Annotation, mode: str) -> bool | None:
    verdict = annotation.verdict(mode)
    return None if verdict is None else verdict.present


def _cell(mine: bool, theirs: bool) -> int:
    if mine:
        return _TP if theirs else _FP
    return _FN if theirs else _TN


def _bootstrap_sums(cells: np.ndarray, rounds: int, seed: int) -> np.ndarray:
    """Sums over traces of per-trace `cells` (traces, ...) for each bootstrap resample: shape (rounds, ...)."""
    traces, shape = cells.shape[0], cells.shape[1:]
    if traces == 0 or rounds <= 0:
        return np.zeros((0, *shape), dtype=np.int64)
    rng = np.random.default_rng(seed)
    # How often each trace is drawn in each resample; one matrix product then gives every resample's sums.
    weights = rng.multinomial(traces, np.full(traces, 1 / traces), size=rounds)
    return (weights @ cells.reshape(traces, -1)).reshape(rounds, *shape)


def _location(total: np.ndarray, samples: np.ndarray, alpha: float) -> Location:
    """A Location from (figures, 2) hit/chance sums and their (rounds, figures, 2) resamples."""
    rates = [_rate(total[f], samples[:, f], alpha) for f in range(len(FIGURES))]
    return Location(*rates)


def _overall_location(located: np.ndarray, samples: np.ndarray, alpha: float) -> Location:
    """Step hits summed over the modes; decisive step and agent from the per-trace slot (the last)."""
    steps = located[:, :-1].sum(axis=(0, 1)), samples[:, :-1].sum(axis=1)
    trace = located[:, -1].sum(axis=0), samples[:, -1]
    step_hit, step_within = (_rate(steps[0][f], steps[1][:, f], alpha) for f in range(2))
    decisive, decisive_within, agent = (_rate(trace[0][f], trace[1][:, f], alpha) for f in range(2, 5))
    return Location(step_hit, step_within, decisive, decisive_within, agent)


def _rate(total: np.ndarray, samples: np.ndarray, alpha: float) -> Rate:
    hits, n = int(total[0]), int(total[1])
    low, high = (None, None)
    if n and samples.shape[0]:
        with np.errstate(divide="ignore", invalid="ignore"):
            low, high = _interval(samples[:, 0] / samples[:, 1], alpha)
    return Rate(hits=hits, n=n, rate=_ratio(hits, n), low=low, high=high)


def kappa_of(counts: np.ndarray) -> np.ndarray:
    """Cohen's kappa from (..., 4) arrays of tp, fp, fn, tn; NaN where undefined (no pairs, or pe = 1)."""
    counts = np.asarray(counts, dtype=float)
    n = counts.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = (counts[..., _TP] + counts[..., _TN]) / n
        mine = (counts[..., _TP] + counts[..., _FP]) / n
        theirs = (counts[..., _TP] + counts[..., _FN]) / n
        expected = mine * theirs + (1 - mine) * (1 - theirs)
        result = (observed - expected) / (1 - expected)
    return np.where(np.isclose(expected, 1.0) | (n == 0), np.nan, result)


def _figures(total: np.ndarray, samples: np.ndarray, alpha: float) -> Figures:
    tp, fp, fn, tn = (int(x) for x in total)
    point = _finite(kappa_of(total))
    low, high = _interval(kappa_of(samples), alpha) if point is not None else (None, None)
    n = tp + fp + fn + tn
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return Figures(
        n=n, tp=tp, fp=fp, fn=fn, tn=tn, kappa=point, kappa_low=low, kappa_high=high, precision=precision,
        recall=recall, f1=_f1(precision, recall), prevalence_annotator=_ratio(tp + fp, n),
        prevalence_reference=_ratio(tp + fn, n), support=tp + fn,
    )  # fmt: skip


def _macro(per_mode: list[ModeAgreement], samples: np.ndarray, alpha: float) -> MacroFigures:
    answered = [i for i, m in enumerate(per_mode) if m.figures.n > 0]
    kappas = [per_mode[i].figures.kappa for i in answered]
    point = _mean(kappas)
    low, high = (None, None)
    if point is not None and samples.shape[0]:
        with warnings.catch_warnings():
            # A resample where no mode has a defined kappa is simply NaN, not worth a warning.
            warnings.simplefilter("ignore", RuntimeWarning)
            resampled = np.nanmean(kappa_of(samples[:, answered, :]), axis=1)
        low, high = _interval(resampled, alpha)
    figures = [per_mode[i].figures for i in answered]
    return MacroFigures(
        kappa=point, kappa_low=low, kappa_high=high, precision=_mean([f.precision for f in figures]),
        recall=_mean([f.recall for f in figures]), f1=_mean([f.f1 for f in figures]), modes=len(answered),
    )  # fmt: skip


def _interval(values: np.ndarray, alpha: float) -> tuple[float | None, float | None]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None, None
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    return float(low), float(high)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None or precision + recall == 0:
        return None if precision is None or recall is None else 0.0
    return 2 * precision * recall / (precision + recall)


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _finite(values: np.ndarray) -> float | None:
    value = float(values)
    return value if np.isfinite(value) else None
