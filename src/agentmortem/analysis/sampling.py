"""Which traces people should label: a random sample stratified by outcome class, and nothing else.

Prediction-powered estimates (analysis/calibration.py) need the reference traces to be a simple random sample
of the analysed traces within each outcome class. So the sample is drawn per class (failed, succeeded,
unknown), each class getting a share of `n` proportional to its size (largest remainders, so the shares add up
to `n`), and within a class uniformly at random with a seeded generator over the sorted trace ids: the same
frame and seed give the same sample on any machine. Nothing else (group, length, the judge's verdicts) steers
the choice, which is what keeps the estimates valid.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentmortem.analysis.drilldown import trace_details
from agentmortem.report.labelling import LabellingPage
from agentmortem.report.report import ModeInfo, ReportSettings
from agentmortem.store import AnnotatorSummary, Store
from agentmortem.taxonomy import mast

CLASS_NAMES = {"f": "failed", "s": "succeeded", "u": "unknown"}


@dataclass(frozen=True)
class SamplePlan:
    """A drawn sample: the chosen ids (frame order) and how the frame and the draw split by outcome class."""

    seed: int
    requested: int
    trace_ids: list[str]
    frame: dict[str, int] = field(default_factory=dict)  # class name -> traces in the frame
    drawn: dict[str, int] = field(default_factory=dict)  # class name -> traces drawn


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Split `n` over classes in proportion to their sizes (largest remainders); never more than a class holds."""
    total = sum(sizes.values())
    n = min(n, total)
    if n <= 0:
        return dict.fromkeys(sizes, 0)
    exact = {c: n * size / total for c, size in sizes.items()}
    shares = {c: int(x) for c, x in exact.items()}
    by_remainder = sorted(sizes, key=lambda c: (-(exact[c] - shares[c]), c))
    for c in by_remainder[: n - sum(shares.values())]:
        shares[c] += 1
    return shares


def stratified_sample(frame: Sequence[tuple[str, str, str]], n: int, seed: int) -> SamplePlan:
    """Draw `n` of the (trace id, class f/s/u, model) rows of `frame`, stratified by class (module docstring)."""
    by_class: dict[str, list[str]] = {}
    for trace_id, cls, _ in sorted(frame):
        by_class.setdefault(cls, []).append(trace_id)
    shares = allocate({c: len(ids) for c, ids in by_class.items()}, n)
    rng = random.Random(seed)
    chosen: set[str] = set()
    for cls in sorted(by_class):  # a fixed order, so one generator gives the same draws every time
        chosen.update(rng.sample(by_class[cls], shares[cls]))
    return SamplePlan(
        seed=seed, requested=n, trace_ids=[t for t, _, _ in sorted(frame) if t in chosen],
        frame={CLASS_NAMES.get(c, c): len(ids) for c, ids in sorted(by_class.items())},
        drawn={CLASS_NAMES.get(c, c): shares[c] for c in sorted(by_class)},
    )  # fmt: skip


LABELLING_SETTINGS = ReportSettings(max_steps=100_000, step_chars=20_000)
"""Bounds for the labelling page: people label whole traces, so only absurd step contents are cut."""


class SamplingError(ValueError):
    """A sample that cannot be drawn as asked (one line, says why)."""


def resolve_judge(summaries: Sequence[AnnotatorSummary], judge: str | None) -> str | None:
    """The judge whose analysed traces form the frame: the one asked for, else the store's only non-human one."""
    names = [a.annotator for a in summaries]
    if judge is not None:
        if judge not in names:
            raise SamplingError(f"no annotations by {judge!r}; annotators: {', '.join(names) or '(none)'}")
        return judge
    machines = [a.annotator for a in summaries if a.kind != "human"]
    if len(machines) > 1:
        raise SamplingError(f"several judges in the store, pick the one to measure with --judge: {', '.join(machines)}")
    return machines[0] if machines else None


def labelling_sample(
    store: Store, *, annotator: str, n: int, seed: int, judge: str | None, show_judge: bool = False
) -> tuple[SamplePlan, LabellingPage]:
    """Draw the sample (frame: the judge's analysed traces, or every trace without a judge) and build its page."""
    judge = resolve_judge(store.annotators(), judge)
    if show_judge and judge is None:
        raise SamplingError("--show-judge needs a judge: the store holds no judge's annotations")
    frame = store.sampling_frame(judge)
    if not frame:
        where = f"analysed by {judge!r}" if judge else "in the store"
        raise SamplingError(f"no traces {where} to sample from")
    plan = stratified_sample(frame, n, seed)
    taxonomy = mast()
    models = {trace_id: model for trace_id, _, model in frame}
    chosen = [(trace_id, models[trace_id]) for trace_id in plan.trace_ids]
    details = trace_details(store, judge if show_judge else None, chosen, taxonomy, LABELLING_SETTINGS)
    digest = hashlib.sha256("\n".join(plan.trace_ids).encode()).hexdigest()[:8]
    page = LabellingPage(
        annotator=annotator, sample_id=f"{seed}-{digest}", file_name=f"labels-{_safe(annotator)}.jsonl",
        modes=[ModeInfo(id=m.id, name=m.name, category=m.category, definition=m.definition) for m in taxonomy.modes],
        traces=details, show_judge=show_judge, judge=judge,
        about={"seed": seed, "frame": f"{len(frame)} traces" + (f" analysed by {judge}" if judge else "")},
    )  # fmt: skip
    return plan, page


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "labeller"


def sample_record(plan: SamplePlan, page: LabellingPage, *, store_path: str) -> dict[str, Any]:
    """What `sample.json` records: enough to redraw the same sample and to know what it was drawn from."""
    return {
        "annotator": page.annotator, "sample_id": page.sample_id, "seed": plan.seed, "requested": plan.requested,
        "stratified_by": "outcome class", "allocation": "proportional to class size (largest remainders)",
        "frame": {"store": store_path, "judge": page.judge,
                  "population": "traces with an ok annotation by the judge" if page.judge else "all stored traces",
                  "traces_by_class": plan.frame},
        "drawn_by_class": plan.drawn, "trace_ids": plan.trace_ids, "show_judge": page.show_judge,
        "labels_file": page.file_name, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
