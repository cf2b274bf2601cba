"""build_report: one annotator's annotations and the traces' outcomes in the store, turned into a typed Report.

The store does the heavy lifting in SQL (see Store.signature_tables); this module only assembles small tables.
Traces whose annotation failed, and traces the annotator has not seen, are excluded and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from agentmortem.analysis.calibration import corrected_groups, label_quality
from agentmortem.analysis.cascade import cascade_view
from agentmortem.analysis.compare import compare_groups
from agentmortem.analysis.decisive import decisive_steps, fatal_modes
from agentmortem.analysis.distinctive import Tally, distinctions, signature
from agentmortem.analysis.drilldown import choose, trace_details
from agentmortem.analysis.fatality import mode_stats, ranking
from agentmortem.analysis.headline import dominant_mode, headline, profile_of
from agentmortem.analysis.playbook import (
    TOP_INTERVENTIONS,
    GroupEvidence,
    Playbook,
    rank_interventions,
    shared_interventions,
)
from agentmortem.analysis.signatures import (
    GroupMasks,
    category_stats,
    cooccurrence,
    distribution,
    failure_shape,
    mode_counts,
    traces_showing_any,
)
from agentmortem.analysis.stats import share
from agentmortem.report.report import (
    MAX_FAILED_LISTED,
    CascadePopulation,
    CategoryInfo,
    Distinction,
    FailedTrace,
    GroupReport,
    ModeInfo,
    Report,
    ReportSettings,
    SharedIntervention,
    Totals,
    not_analysed_line,
)
from agentmortem.store import AnnotatorSummary, Store
from agentmortem.store.signatures import CascadeRow, DecisiveRow, GroupColumn
from agentmortem.taxonomy import Taxonomy, mast

GROUP_COLUMNS = ("model", "agent_system", "benchmark")


class AnalysisError(ValueError):
    """A report that cannot be built as asked (one line, says why)."""


def parse_group_by(group_by: str) -> tuple[GroupColumn, str | None]:
    """'model' | 'agent_system' | 'benchmark' | 'metadata.KEY' as (column, key)."""
    if group_by in GROUP_COLUMNS:
        return cast(GroupColumn, group_by), None
    if group_by.startswith("metadata.") and len(group_by) > len("metadata.") and '"' not in group_by:
        return "metadata", group_by[len("metadata.") :]
    raise AnalysisError(f"cannot group by {group_by!r}: use model, agent_system, benchmark or metadata.KEY")


def resolve_annotator(store: Store, annotator: str | None, *, summaries: list[AnnotatorSummary] | None = None) -> str:
    """The annotator to report on: the one asked for, or the store's only one."""
    names = [a.annotator for a in (store.annotators() if summaries is None else summaries)]
    if annotator is not None:
        if annotator not in names:
            raise AnalysisError(f"no annotations by {annotator!r} in {store.path}; annotators: {_listing(names)}")
        return annotator
    if not names:
        raise AnalysisError(f"no annotations in {store.path}: run `annotate` (or `analyze`) first")
    if len(names) > 1:
        raise AnalysisError(f"several annotators in {store.path}, pick one with --annotator: {_listing(names)}")
    return names[0]


def resolve_reference(
    store: Store, annotator: str, reference: str | None, summaries: list[AnnotatorSummary]
) -> tuple[str | None, str | None]:
    """The reference annotator and a note when one could be used but none was chosen.

    The reference is the one asked for, else the store's only human annotator besides `annotator`.
    """
    if reference is not None:
        if reference not in {a.annotator for a in summaries}:
            names = [a.annotator for a in summaries]
            raise AnalysisError(f"no annotations by reference {reference!r} in {store.path}; annotators: "
                                f"{_listing(names)}")  # fmt: skip
        if reference == annotator:
            raise AnalysisError(f"the reference must be another annotator than {annotator!r}")
        return reference, None
    humans = [a.annotator for a in summaries if a.kind == "human" and a.annotator != annotator]
    if len(humans) == 1:
        return humans[0], None
    if humans:
        return None, f"Several human annotators ({_listing(humans)}): choose the reference with --reference."
    return None, None


def _listing(names: list[str]) -> str:
    return ", ".join(names) if names else "(none)"


def build_report(
    store: Store,
    *,
    annotator: str | None = None,
    settings: ReportSettings | None = None,
    taxonomy: Taxonomy | None = None,
    playbook: Playbook | None = None,
    reference: str | None = None,
) -> Report:
    """Build the failure-signature Report of `annotator` (default: the store's only one) over the whole store.

    With a `reference` (default: the store's only human annotator), every group also carries figures corrected
    for the annotator's error against it (analysis/calibration.py).
    """
    settings = settings or ReportSettings()
    taxonomy = taxonomy or mast()
    column, key = parse_group_by(settings.group_by)
    summaries = store.annotators()
    annotator = resolve_annotator(store, annotator, summaries=summaries)
    reference, reference_note = resolve_reference(store, annotator, reference, summaries)
    modes = [ModeInfo(id=m.id, name=m.name, category=m.category, definition=m.definition) for m in taxonomy.modes]
    categories = [CategoryInfo(id=c.id, name=c.name) for c in taxonomy.categories]
    with store.signature_session(annotator, taxonomy.ids, group_column=column, group_key=key) as session:
        tables = session.tables(drilldown=settings.max_drilldown)
        accounting = _accounting(session.accounting())
        masks = _masks_by_group(tables.masks, len(modes))
        cascades = {row.group: row for row in tables.cascade}
        context = _Context(
            modes, categories, settings, playbook, group_noun(settings.group_by), *_profiles(masks, modes, settings)
        )
        groups = [
            _group(name, group_masks, accounting.get(name, {}), cascades.get(name), context)
            for name, group_masks in masks.items()
        ]
        groups.sort(key=lambda g: (-g.traces, g.group))
        fatal = {g.group: g.signature.fatal if g.signature else [] for g in groups}
        bits = {mode_id: i for i, mode_id in enumerate(taxonomy.ids)}
        decisive = {r.group: r for r in session.decisive({g: [bits[m] for m in f] for g, f in fatal.items()})}
    shared = shared_interventions(
        {g.group: g.interventions for g in groups}, fatal, noun=context.noun, playbook=playbook
    )
    groups = [_finished(g, masks[g.group], decisive.get(g.group), shared, taxonomy.ids) for g in groups]
    notes = _notes(groups, accounting, settings) + ([reference_note] if reference_note else [])
    if reference is not None:
        pair, grouping = (annotator, reference), (column, key)
        groups, reference_notes = corrected_groups(store, pair, groups, masks, settings, grouping)
        notes += reference_notes
    groups.sort(key=lambda g: (-g.traces, g.group))
    counts = {name: mode_counts(m) for name, m in masks.items()}
    kind = next((a.kind for a in summaries if a.annotator == annotator), None)
    chosen = choose(tables.drilldown, settings.max_drilldown)
    return Report(
        generated_at=datetime.now(UTC), annotator=annotator, taxonomy=taxonomy.name,
        taxonomy_version=taxonomy.version, settings=settings, modes=modes, categories=categories,
        totals=_totals(store, accounting, groups), outcomes_known=any(g.failed + g.succeeded for g in groups),
        notes=notes, groups=groups, failed_traces=_failed_traces(store, annotator),
        comparisons=compare_groups(counts, {g.group: g.traces for g in groups}, modes, settings),
        shared_interventions=shared,
        drilldown=trace_details(store, annotator, chosen, taxonomy, settings, fatal=fatal),
        drilldown_candidates=sum(g.traces for g in groups),
        label_quality=label_quality(annotator, kind, reference, sum(g.reference.traces for g in groups if g.reference)),
    )  # fmt: skip


def _accounting(rows: list[tuple[str, str | None, str | None, int, float, int]]) -> dict[str, dict[str, float]]:
    """Per group: failed annotations, not annotated, and score sums over analysed traces."""
    out: dict[str, dict[str, float]] = {}
    for group, status, cls, traces, score_sum, scored in rows:
        acc = out.setdefault(group, {"failed_annotations": 0, "not_annotated": 0, "score_sum": 0.0, "scored": 0,
                                     "outcome_known_excluded": 0})  # fmt: skip
        if status != "ok" and cls != "u":
            acc["outcome_known_excluded"] += traces
        if status is None:
            acc["not_annotated"] += traces
        elif status != "ok":
            acc["failed_annotations"] += traces
        else:
            acc["score_sum"] += score_sum
            acc["scored"] += scored
    return out


def _masks_by_group(rows: list[tuple[str, str, int, int, int]], n_modes: int) -> dict[str, GroupMasks]:
    by_group: dict[str, list[tuple[str, int, int, int]]] = {}
    for group, cls, present, known, traces in rows:
        by_group.setdefault(group, []).append((cls, present, known, traces))
    return {group: GroupMasks.from_rows(group_rows, n_modes) for group, group_rows in by_group.items()}


def group_noun(group_by: str) -> str:
    """What one group is, in words: 'model', 'agent system', 'benchmark', else 'group'."""
    return {"model": "model", "agent_system": "agent system", "benchmark": "benchmark"}.get(group_by, "group")


@dataclass(frozen=True)
class _Context:
    """What every group of one report is built with."""

    modes: list[ModeInfo]
    categories: list[CategoryInfo]
    settings: ReportSettings
    playbook: Playbook | None
    noun: str
    population: CascadePopulation
    distinctions: dict[str, list[Distinction]]


def _profiles(
    masks: dict[str, GroupMasks], modes: list[ModeInfo], settings: ReportSettings
) -> tuple[CascadePopulation, dict[str, list[Distinction]]]:
    """The distinctive profiles of every group: over failed traces when any outcome is known, else all traces."""
    population: CascadePopulation = (
        "failed" if any(m.only("f").traces + m.only("s").traces for m in masks.values()) else "all"
    )
    chosen = {name: m.only("f") if population == "failed" else m for name, m in masks.items()}
    tallies = {name: Tally(m.known_counts().tolist(), m.present_counts().tolist()) for name, m in chosen.items()}
    return population, distinctions(tallies, modes, settings)


def _group(
    name: str, masks: GroupMasks, acc: dict[str, Any], cascade: CascadeRow | None, context: _Context
) -> GroupReport:
    modes, categories, settings = context.modes, context.categories, context.settings
    failed, succeeded = masks.only("f").traces, masks.only("s").traces
    stats = mode_stats(modes, mode_counts(masks), settings)
    per_failed, per_success = distribution(masks.only("f")), distribution(masks.only("s"))
    isolated, cascading, no_mode = failure_shape(per_failed, settings)
    use_failed = failed + succeeded > 0  # with outcomes, a signature is about failed traces; without, all
    population = per_failed if use_failed else distribution(masks)
    profile = profile_of(population, settings)
    both, lift = cooccurrence(masks)
    success_rate = share(succeeded, failed + succeeded)
    profile_rows = context.distinctions[name]
    sig = signature(
        name, profile_rows, fatal_modes(stats), others=[g for g in context.distinctions if g != name],
        population=context.population, noun=context.noun,
    )  # fmt: skip
    evidence = GroupEvidence(masks=masks, stats=stats, distinctions=profile_rows, noun=context.noun)
    return GroupReport(
        group=name, traces=masks.traces, failed=failed, succeeded=succeeded,
        unknown_outcome=masks.only("u").traces, failed_annotations=int(acc.get("failed_annotations", 0)),
        not_annotated=int(acc.get("not_annotated", 0)), success_rate=success_rate,
        mean_score=share(acc.get("score_sum", 0.0), acc.get("scored", 0)),
        headline=headline(name, profile=profile, population=population, use_failed=use_failed,
                          success_rate=success_rate, dominant=dominant_mode(stats, use_failed=use_failed),
                          signature=sig, stats=stats, noun=context.noun),
        profile=profile, modes_per_trace=distribution(masks), modes_per_failed_trace=per_failed,
        modes_per_successful_trace=per_success, isolated_share=isolated, cascading_share=cascading,
        no_mode_share=no_mode, categories=category_stats(masks, modes, categories), modes=stats,
        ranking=ranking(stats),
        cascade=cascade_view(cascade, modes, both, lift, has_outcomes=bool(failed + succeeded)),
        interventions=rank_interventions(evidence, playbook=context.playbook, limit=None),  # trimmed in _finished
        signature=sig,
    )  # fmt: skip


def _finished(
    group: GroupReport, masks: GroupMasks, row: DecisiveRow | None, shared: list[SharedIntervention], ids: list[str]
) -> GroupReport:
    """The group with its own fixes (shared ones left out, at most TOP_INTERVENTIONS) and its decisive steps."""
    shared_ids = {fix.id for fix in shared}
    own = [fix for fix in group.interventions if fix.id not in shared_ids][:TOP_INTERVENTIONS]
    fatal = group.signature.fatal if group.signature else []
    columns = [ids.index(mode_id) for mode_id in fatal]
    decisive = decisive_steps(
        row, fatal, ids, failed=group.failed, fatal_present=traces_showing_any(masks.only("f"), columns)
    )
    return group.model_copy(update={"interventions": own, "decisive": decisive})


def _totals(store: Store, accounting: dict[str, dict[str, float]], groups: list[GroupReport]) -> Totals:
    failed_annotations = int(sum(a["failed_annotations"] for a in accounting.values()))
    not_annotated = int(sum(a["not_annotated"] for a in accounting.values()))
    in_store = store.count_traces()
    return Totals(
        traces_in_store=in_store, annotated=in_store - failed_annotations - not_annotated,
        failed_annotations=failed_annotations, not_annotated=not_annotated,
        outcome_known=sum(g.failed + g.succeeded for g in groups),
    )  # fmt: skip


def _failed_traces(store: Store, annotator: str) -> list[FailedTrace]:
    """The traces whose annotation by `annotator` failed, by id, with the reason (at most MAX_FAILED_LISTED)."""
    ids = sorted(store.annotated_trace_ids(annotator, status="failed"))[:MAX_FAILED_LISTED]
    failed = store.get_annotations(annotator=annotator, trace_ids=ids) if ids else []
    return [FailedTrace(id=a.trace_id, error=a.error or "no reason recorded") for a in failed]


def _notes(groups: list[GroupReport], accounting: dict[str, dict[str, float]], settings: ReportSettings) -> list[str]:
    notes = []
    excluded = sum(int(a["failed_annotations"]) for a in accounting.values())
    if excluded:
        notes.append(not_analysed_line(excluded) + ".")
    outcome_note = _outcome_note(groups, accounting)
    if outcome_note:
        notes.append(outcome_note)
    empty = sorted(set(accounting) - {g.group for g in groups})
    if empty:
        notes.append(f"Groups with no analysed trace (left out): {', '.join(empty)}.")
    notes.append(
        f"Isolated failure = 1..{settings.isolated_max} distinct modes; cascading = {settings.cascading_min} or more."
    )
    return notes


def _outcome_note(groups: list[GroupReport], accounting: dict[str, dict[str, float]]) -> str | None:
    """What the report says about outcomes when no analysed trace has one.

    With no analysed trace at all there is nothing to say about outcomes (the traces left out are counted in
    their own note); outcomes known only for traces left out are named as such, never called unknown.
    """
    if not any(g.traces for g in groups) or any(g.failed + g.succeeded for g in groups):
        return None
    left_out = int(sum(a.get("outcome_known_excluded", 0) for a in accounting.values()))
    why = (
        "prevalences are over all traces, every fatality verdict is inconclusive, and the cascade view covers all "
        "traces."
    )
    if left_out:
        return f"No analysed trace has a known outcome (the {left_out} traces with one were not analysed): {why}"
    return f"No outcome is known for any analysed trace: {why}"
