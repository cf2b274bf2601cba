"""Report model: stable.

The typed `Report` is the single object every renderer reads (terminal, JSON, Markdown, HTML). It holds numbers
only; nothing in it depends on how it is shown. Field names of the JSON form are part of the public contract:
add fields freely, never rename or remove one without bumping `REPORT_SCHEMA_VERSION`.

Conventions used throughout:
- A prevalence is a share in [0, 1] (not a percentage); None when its denominator is 0.
- Denominators leave out traces where the annotator gave no verdict for that mode (an unknown mode is not an
  absent mode).
- "failed" / "succeeded" are traces whose outcome is known; traces with unknown outcome count in `traces` and in
  the overall prevalence only.
- Mode-by-mode matrices (`precedence`, `cooccurrence`, `lift`) are indexed like `Report.modes` / `mode_ids`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agentmortem.defaults import DEFAULT_CASCADING_MIN, DEFAULT_ISOLATED_MAX, DEFAULT_MAX_DRILLDOWN

REPORT_SCHEMA_VERSION = "1"
"""Version of the Report's JSON form."""

Verdict = Literal["fatal", "benign", "inconclusive"]
"""Fatality verdict of one mode in one group (rule in `ReportSettings` and analysis/fatality.py)."""

Profile = Literal["isolated", "cascading", "mixed", "clean", "unknown"]
"""Failure profile of a group: isolated (few modes per failed trace), cascading (many), mixed, clean (no modes
found at all), unknown (no failed traces to judge from)."""

RelativeKind = Literal["finite", "infinite", "undefined"]
"""How to read a relative increase: a number, +infinity (base prevalence 0, other > 0), or undefined (both 0 or a
prevalence unknown). JSON carries no infinity, so the value itself is None in the last two cases."""

CascadePopulation = Literal["failed", "all"]
"""Traces the cascade view is computed over: failed ones when any outcome is known in the group, else all."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportSettings(_Model):
    """Every threshold and bound the report was built with; printed with the report so numbers can be read."""

    group_by: str = Field(default="model", description="model | agent_system | benchmark | metadata.KEY.")
    isolated_max: int = Field(
        default=DEFAULT_ISOLATED_MAX, description="A failed trace with 1..isolated_max distinct modes is isolated."
    )
    cascading_min: int = Field(
        default=DEFAULT_CASCADING_MIN, description="A failed trace with at least this many modes is cascading."
    )
    min_class_traces: int = Field(
        default=5, description="Fatality needs at least this many traces with a verdict in EACH outcome class."
    )
    min_present: int = Field(default=3, description="Fatality needs the mode present in at least this many traces.")
    q_max: float = Field(default=0.05, description="Benjamini-Hochberg q-value at or below which a link is called.")
    benign_min_prevalence: float = Field(
        default=0.2, description="A benign mode occurs in at least this share of successful traces."
    )
    benign_max_or: float = Field(
        default=2.0, description="…and the upper 95% bound of its odds ratio (failed vs succeeded) is below this."
    )
    ci_method: str = Field(
        default="Woolf logit interval; Haldane-Anscombe +0.5 on every cell when any cell is 0",
        description="How odds ratios and their 95% intervals are computed.",
    )
    test: str = Field(
        default="two-sided Fisher exact test per mode; Benjamini-Hochberg across the modes of a group",
        description="The significance test and multiple-testing correction.",
    )
    max_drilldown: int = Field(
        default=DEFAULT_MAX_DRILLDOWN, description="At most this many traces in `Report.drilldown`."
    )
    step_chars: int = Field(default=2000, description="Step content in the drill-down is cut to this many chars.")
    max_steps: int = Field(
        default=300, description="Drill-down keeps the first max_steps steps of a trace plus every evidence step."
    )
    max_comparison_groups: int = Field(
        default=10, description="Across-group comparisons use at most this many groups (the largest)."
    )


class ModeInfo(_Model):
    """A failure mode of the taxonomy: the axis of every per-mode table and matrix."""

    id: str = Field(description="Canonical id, e.g. 'FM-1.3'.")
    name: str = Field(description="Short name, e.g. 'Step Repetition'.")
    category: str = Field(description="Category id, e.g. 'FC1'.")
    definition: str = Field(default="", description="What the mode is, from the taxonomy (shown where it is named).")


class CategoryInfo(_Model):
    """A category of the taxonomy."""

    id: str = Field(description="Category id, e.g. 'FC2'.")
    name: str = Field(description="Category name.")


class Totals(_Model):
    """Trace accounting over the whole store for this annotator."""

    traces_in_store: int = Field(description="All stored traces.")
    annotated: int = Field(description="Traces with an 'ok' annotation by the annotator: the analysed traces.")
    failed_annotations: int = Field(description="Traces whose annotation by the annotator failed: excluded.")
    not_annotated: int = Field(description="Traces the annotator has not annotated: excluded.")
    outcome_known: int = Field(description="Analysed traces whose success is known.")


MAX_FAILED_LISTED = 200
"""Failed annotations a report names at most (the rest are counted in `Totals.failed_annotations`)."""


def not_analysed_line(count: int) -> str:
    """The one sentence every form of a report and every run summary uses for traces whose annotation failed."""
    noun = "trace" if count == 1 else "traces"
    return f"{count} {noun} not analysed: their annotation failed (rerun to retry)"


class FailedTrace(_Model):
    """A trace left out of the analysis because its annotation failed."""

    id: str = Field(description="Trace id.")
    error: str = Field(description="Why its annotation failed, as the annotator recorded it.")


class Bin(_Model):
    """One bar of a modes-per-trace histogram."""

    modes: int = Field(description="Number of distinct modes present in a trace.")
    traces: int = Field(description="How many traces have exactly that many.")


class Distribution(_Model):
    """Distinct modes present per trace over a set of traces."""

    traces: int = Field(description="Traces in the set.")
    mean: float | None = Field(description="Mean modes per trace; None for an empty set.")
    median: float | None = Field(description="Median modes per trace; None for an empty set.")
    histogram: list[Bin] = Field(default_factory=list, description="Traces per mode count, ascending, no empty bins.")


class CategoryStat(_Model):
    """How much of a group's failure comes from one category (FC1/FC2/FC3)."""

    id: str = Field(description="Category id.")
    share_of_occurrences: float | None = Field(
        description="Share of all present mode verdicts in the group that belong to this category."
    )
    prevalence: float | None = Field(description="Share of traces with at least one mode of this category.")
    prevalence_failed: float | None = Field(description="Same, among failed traces.")
    prevalence_succeeded: float | None = Field(description="Same, among successful traces.")


class Estimate(_Model):
    """A corrected figure with its 95% interval."""

    estimate: float | None = Field(description="Point estimate; None when it cannot be computed.")
    ci95: list[float] | None = Field(description="[low, high] 95% interval; None with the estimate.")


class CorrectedStat(_Model):
    """One mode's figures corrected for the judge's error against the reference (analysis/calibration.py)."""

    prevalence_failed: Estimate = Field(description="Prediction-powered prevalence among failed traces.")
    prevalence_succeeded: Estimate = Field(description="Prediction-powered prevalence among successful traces.")
    prevalence: Estimate = Field(description="Over all analysed traces of the group (outcome classes weighted).")
    difference_points: Estimate = Field(description="prevalence_failed - prevalence_succeeded, percentage points.")
    sensitivity: Estimate = Field(description="Judge present when the reference says present (Wilson interval).")
    specificity: Estimate = Field(description="Judge absent when the reference says absent (Wilson interval).")
    informative: bool | None = Field(
        description="False when sensitivity + specificity <= 1 is inside its interval (judge may be at chance); "
        "None when the reference lacks positives or negatives to measure it."
    )
    verdict: Verdict | None = Field(description="Verdict from the corrected figures; None when not informative.")
    verdict_reason: str = Field(description="One line: why this corrected verdict.")
    q_value: float | None = Field(default=None, description="BH q-value of the corrected difference's z-test.")


class GroupReference(_Model):
    """The reference annotator's coverage of one group (the labels the corrected figures rest on)."""

    annotator: str = Field(description="Reference annotator (people's labels).")
    traces: int = Field(description="Analysed traces of the group the reference labelled.")
    failed: int = Field(description="…of them failed.")
    succeeded: int = Field(description="…of them successful.")


class LabelQuality(_Model):
    """How far the report's labels are measured against people: the line the report header prints."""

    judge: str = Field(description="Whose labels the raw figures are (the report's annotator).")
    reference: str | None = Field(description="Reference annotator the corrected figures use; None without one.")
    statement: str = Field(description="One sentence for the header, e.g. 'labels by X, agreement ... unmeasured'.")
    method: str = Field(
        default="prediction-powered inference (PPI++, power-tuned mean estimator) per group and outcome class",
        description="How corrected figures are computed.",
    )


class ModeStat(_Model):
    """One mode in one group: prevalence by outcome, association with failure, and the fatality verdict."""

    id: str = Field(description="Mode id.")
    name: str = Field(description="Mode name.")
    category: str = Field(description="Category id.")
    known: int = Field(description="Traces with a verdict for this mode (the denominator of `prevalence`).")
    present: int = Field(description="Traces where it is present.")
    prevalence: float | None = Field(description="present / known over all traces of the group.")
    failed_known: int = Field(description="Failed traces with a verdict for this mode.")
    failed_present: int = Field(description="Failed traces where it is present.")
    succeeded_known: int = Field(description="Successful traces with a verdict for this mode.")
    succeeded_present: int = Field(description="Successful traces where it is present.")
    prevalence_failed: float | None = Field(description="failed_present / failed_known.")
    prevalence_succeeded: float | None = Field(description="succeeded_present / succeeded_known.")
    difference_points: float | None = Field(
        description="(prevalence_failed - prevalence_succeeded) x 100, in percentage points."
    )
    relative_increase: float | None = Field(
        description="prevalence_failed / prevalence_succeeded - 1; None unless relative_increase_kind is 'finite'."
    )
    relative_increase_kind: RelativeKind = Field(description="finite | infinite | undefined (see RelativeKind).")
    odds_ratio: float | None = Field(description="Odds of the mode in failed vs successful traces (see ci_method).")
    ci95: list[float] | None = Field(description="[low, high] 95% interval of the odds ratio.")
    p_value: float | None = Field(description="Two-sided Fisher exact p-value; None without both outcome classes.")
    q_value: float | None = Field(description="Benjamini-Hochberg q-value across the group's tested modes.")
    verdict: Verdict = Field(description="fatal | benign | inconclusive.")
    verdict_reason: str = Field(description="One line: why this verdict (names the rule's number that decided).")
    rank: int | None = Field(
        description="1 = predicts failure most strongly (by lower CI bound of the odds ratio); None when untested."
    )
    corrected: CorrectedStat | None = Field(
        default=None, description="Figures corrected against the reference; None when the report has none."
    )

    @property
    def found_by_reference(self) -> bool:
        """True when the corrected figures put the mode in some traces (people saw it, whatever the judge said)."""
        return self.corrected is not None and bool(self.corrected.prevalence.estimate)


class ModePosition(_Model):
    """Where a mode first shows up in the traces of a cascade population."""

    id: str = Field(description="Mode id.")
    traces: int = Field(description="Traces where it is present with at least one evidence step.")
    mean_position: float | None = Field(
        description="Mean relative position of its first evidence step: step / (n_steps - 1), in [0, 1]."
    )
    roots: int = Field(description="Traces where it is the earliest mode (ties count for every tied mode).")
    root_share: float | None = Field(description="roots / traces of the cascade population with a located mode.")


class CascadeView(_Model):
    """Order of first appearance of modes, from evidence steps."""

    population: CascadePopulation = Field(description="failed | all (see CascadePopulation).")
    traces: int = Field(description="Traces of the population with at least one mode located by evidence.")
    unlocated: int = Field(description="Traces of the population with modes present but none located.")
    positions: list[ModePosition] = Field(description="Per mode, in taxonomy order.")
    precedence: list[list[int]] = Field(
        description="precedence[i][j] = traces of the population where mode i first appears strictly before j."
    )
    cooccurrence: list[list[int]] = Field(
        description="cooccurrence[i][j] = traces of the group (all outcomes) where modes i and j are both present."
    )
    lift: list[list[float | None]] = Field(
        description="P(i and j) / (P(i) P(j)) over traces with verdicts for both; None when undefined."
    )


class Citation(_Model):
    """The numbers of one mode that put an intervention where it is."""

    mode: str = Field(description="Mode id.")
    prevalence: float | None = Field(description="Overall prevalence in the group.")
    prevalence_failed: float | None = Field(description="Prevalence among failed traces.")
    prevalence_succeeded: float | None = Field(description="Prevalence among successful traces.")
    odds_ratio: float | None = Field(description="Odds ratio, failed vs succeeded.")
    q_value: float | None = Field(description="BH q-value.")
    verdict: Verdict = Field(description="Fatality verdict.")
    score: float = Field(description="This mode's contribution to the intervention's score.")


class Intervention(_Model):
    """One engineering fix from the playbook, ranked for a group."""

    id: str = Field(description="Playbook id of the fix.")
    title: str = Field(description="Short imperative title.")
    fix: str = Field(description="What to build, concretely.")
    modes: list[str] = Field(description="Modes of the taxonomy the fix addresses.")
    score: float = Field(description="coverage x (1 + distinctiveness) (rule: analysis/playbook.py).")
    basis: Literal["outcomes", "prevalence"] = Field(
        description="'outcomes' when ranked by failed-vs-successful impact; 'prevalence' when outcomes are unknown."
    )
    why: str = Field(description="One sentence citing the numbers that put it here.")
    cited: list[Citation] = Field(description="Modes that contributed, strongest first.")
    coverage_failed: float | None = Field(
        default=None, description="Share of failed traces (all traces without outcomes) showing one of its modes."
    )
    coverage_succeeded: float | None = Field(
        default=None, description="Share of successful traces showing one of its modes; None without successes."
    )
    coverage: float = Field(
        default=0.0,
        description="max(0, coverage_failed - coverage_succeeded); coverage_failed alone without both classes.",
    )
    distinctiveness: float = Field(
        default=0.0,
        description="Largest excess prevalence (share) of a distinctive mode of the fix over the other groups.",
    )
    distinctive_mode: str | None = Field(default=None, description="The mode that gave `distinctiveness`, if any.")


class SharedGroup(_Model):
    """One group's numbers for a fix every group shares."""

    group: str = Field(description="Group value.")
    coverage_failed: float | None = Field(description="Share of the group's failed traces showing one of its modes.")
    coverage: float = Field(description="The coverage term of the ranking rule in that group.")


class SharedIntervention(_Model):
    """A fix every group needs: one of its modes is fatal in every group. Listed once, not in the groups' lists."""

    id: str = Field(description="Playbook id of the fix.")
    title: str = Field(description="Short imperative title.")
    fix: str = Field(description="What to build, concretely.")
    modes: list[str] = Field(description="Modes of the taxonomy the fix addresses.")
    fatal_everywhere: list[str] = Field(description="Its modes that are fatal in every group.")
    groups: list[SharedGroup] = Field(description="Per group, in the report's group order.")
    why: str = Field(description="One sentence citing the numbers that make it shared.")


class Distinction(_Model):
    """One mode in one group against the other groups pooled (failed traces; all traces without outcomes)."""

    mode: str = Field(description="Mode id.")
    known: int = Field(description="The group's traces of the population with a verdict for the mode.")
    present: int = Field(description="…where it is present.")
    others_known: int = Field(description="The other groups' traces of the population with a verdict, pooled.")
    others_present: int = Field(description="…where it is present.")
    prevalence: float | None = Field(description="present / known.")
    prevalence_others: float | None = Field(description="others_present / others_known.")
    difference_points: float | None = Field(description="(prevalence - prevalence_others) x 100.")
    odds_ratio: float | None = Field(description="Odds of the mode in the group vs the others (see ci_method).")
    ci95: list[float] | None = Field(description="[low, high] 95% interval of the odds ratio.")
    p_value: float | None = Field(description="Two-sided Fisher exact p-value; None when not tested.")
    q_value: float | None = Field(description="BH q-value across every pooled test of the report.")
    significant: bool = Field(description="q_value <= q_max (never when not tested).")
    not_tested: str | None = Field(description="Why no test was made (the support rule), else None.")
    against: list[str] = Field(
        description="For a significant excess: the other groups it also exceeds pairwise (BH q <= q_max)."
    )


class Signature(_Model):
    """What fails a group (its fatal modes) and what fails it more than the others (its distinctive modes)."""

    population: CascadePopulation = Field(description="failed | all: the traces the distinctive profile compares.")
    compared_with: list[str] = Field(description="The other groups, pooled as the baseline.")
    fatal: list[str] = Field(description="Fatal modes of the group, strongest first.")
    distinctive: list[str] = Field(
        description="Modes significantly more frequent than in the other groups, largest difference first."
    )
    less_frequent: list[str] = Field(description="Modes significantly less frequent than in the other groups.")
    distinctions: list[Distinction] = Field(description="Per mode, in taxonomy order.")
    note: str = Field(description="Why the distinctive part is empty, when it is (e.g. only one group).")


class RootMode(_Model):
    """How often one fatal mode is the first to show in a group's failed traces."""

    mode: str = Field(description="Mode id.")
    traces: int = Field(description="Failed traces whose decisive step shows this mode.")
    share: float | None = Field(description="traces / failed traces with a decisive step.")


class DecisiveSteps(_Model):
    """Where failed traces turned: the earliest step at which a fatal mode of the group appears (Who&When's notion)."""

    fatal_modes: list[str] = Field(description="The group's fatal modes, strongest first (what a decisive step is).")
    failed: int = Field(description="Failed traces of the group.")
    located: int = Field(description="Failed traces with a decisive step (a fatal mode with an evidence step).")
    unlocated: int = Field(description="Failed traces with a fatal mode present but no evidence step for it.")
    without_fatal_mode: int = Field(description="Failed traces where no fatal mode is present.")
    median_position: float | None = Field(
        description="Median of decisive step / (n_steps - 1) over located traces: how far into a run it turns."
    )
    roots: list[RootMode] = Field(description="Root modes, most frequent first (ties: the stronger fatal mode).")


class GroupReport(_Model):
    """The failure signature of one group (one model, agent system, benchmark, or metadata value)."""

    group: str = Field(description="Group value; '(none)' for traces without one.")
    traces: int = Field(description="Analysed traces (ok annotation by the annotator).")
    failed: int = Field(description="Analysed traces with success = false.")
    succeeded: int = Field(description="Analysed traces with success = true.")
    unknown_outcome: int = Field(description="Analysed traces with unknown success.")
    failed_annotations: int = Field(description="Traces of the group excluded because their annotation failed.")
    not_annotated: int = Field(description="Traces of the group the annotator has not annotated (excluded).")
    success_rate: float | None = Field(description="succeeded / (failed + succeeded); None when no outcome known.")
    mean_score: float | None = Field(description="Mean outcome score over traces that have one.")
    headline: str = Field(description="One plain-language sentence summing up the group's signature.")
    profile: Profile = Field(description="isolated | cascading | mixed | clean | unknown.")
    modes_per_trace: Distribution = Field(description="Distinct modes per trace, all analysed traces.")
    modes_per_failed_trace: Distribution = Field(description="Distinct modes per failed trace.")
    modes_per_successful_trace: Distribution = Field(description="Distinct modes per successful trace.")
    isolated_share: float | None = Field(description="Share of failed traces with 1..isolated_max modes.")
    cascading_share: float | None = Field(description="Share of failed traces with at least cascading_min modes.")
    no_mode_share: float | None = Field(description="Share of failed traces with no mode found.")
    categories: list[CategoryStat] = Field(description="Per category, in taxonomy order.")
    modes: list[ModeStat] = Field(description="Per mode, in taxonomy order.")
    ranking: list[str] = Field(description="Mode ids ranked by how strongly they predict failure (tested ones only).")
    cascade: CascadeView = Field(description="Order of first appearance, precedence and co-occurrence.")
    interventions: list[Intervention] = Field(
        description="Top fixes for this group, best first (at most three); fixes shared by every group are left out."
    )
    signature: Signature | None = Field(default=None, description="Fatal and distinctive modes of the group.")
    decisive: DecisiveSteps | None = Field(default=None, description="Decisive steps and root modes of failures.")
    reference: GroupReference | None = Field(
        default=None, description="The reference labels of this group; None when the report has no reference."
    )


class Comparison(_Model):
    """One mode's prevalence in two groups, with a significance test (all traces of each group)."""

    mode: str = Field(description="Mode id.")
    group_a: str = Field(description="First group.")
    group_b: str = Field(description="Second group.")
    prevalence_a: float | None = Field(description="Prevalence in group_a.")
    prevalence_b: float | None = Field(description="Prevalence in group_b.")
    difference_points: float | None = Field(description="(prevalence_a - prevalence_b) x 100.")
    relative_difference: float | None = Field(description="prevalence_a / prevalence_b - 1 when finite.")
    relative_difference_kind: RelativeKind = Field(description="finite | infinite | undefined.")
    odds_ratio: float | None = Field(description="Odds of the mode in group_a vs group_b.")
    ci95: list[float] | None = Field(description="95% interval of the odds ratio.")
    p_value: float | None = Field(description="Two-sided Fisher exact p-value.")
    q_value: float | None = Field(description="BH q-value across all comparisons of the report.")
    significant: bool = Field(description="q_value <= q_max.")
    statement: str = Field(description="Plain-language sentence, e.g. 'FM-1.4 +46% in A vs B (q=0.01)'.")
    not_tested: str | None = Field(
        default=None, description="Why the pair was not tested (too few traces in a group, by the support rule)."
    )


class EvidenceView(_Model):
    """A cited place in a trace."""

    step: int = Field(description="Canonical step index.")
    quote: str = Field(description="Short excerpt the annotator cited.")


class TraceMode(_Model):
    """A mode found present in a drill-down trace."""

    id: str = Field(description="Mode id.")
    name: str = Field(description="Mode name.")
    evidence: list[EvidenceView] = Field(description="Evidence steps with quotes.")
    explanation: str = Field(description="The annotator's explanation.")
    confidence: float | None = Field(description="The annotator's confidence, if given.")


class StepView(_Model):
    """One step of a drill-down trace, content bounded."""

    index: int = Field(description="Canonical step index.")
    kind: str = Field(description="message | tool_call | tool_result | system | event.")
    who: str | None = Field(description="Agent name, else role.")
    tool: str | None = Field(description="Tool name for tool calls and results.")
    content: str = Field(description="Content cut to settings.step_chars characters (tool args for a bare call).")
    truncated: bool = Field(description="True when content was cut.")
    is_error: bool = Field(description="The step reports a failure.")


class TraceDetail(_Model):
    """One trace for the drill-down: its steps and the modes found in it."""

    id: str = Field(description="Trace id.")
    group: str = Field(description="Its group.")
    success: bool | None = Field(description="Outcome success, if known.")
    score: float | None = Field(description="Outcome score, if known.")
    n_steps: int = Field(description="Steps in the full trace.")
    steps: list[StepView] = Field(description="First settings.max_steps steps plus every evidence step, in order.")
    steps_omitted: int = Field(description="Steps left out by the bound.")
    modes: list[TraceMode] = Field(description="Modes present, in taxonomy order.")
    decisive_step: int | None = Field(
        default=None, description="Earliest evidence step of a fatal mode of its group (failed traces only)."
    )
    decisive_mode: str | None = Field(default=None, description="The fatal mode at the decisive step.")


class Report(_Model):
    """Everything a failure-signature report says, for one annotator over one store."""

    schema_version: str = Field(default=REPORT_SCHEMA_VERSION, description="Version of this JSON form.")
    generated_at: datetime = Field(description="When the report was built (UTC).")
    annotator: str = Field(description="Whose annotations were analysed.")
    taxonomy: str = Field(description="Taxonomy name, e.g. 'MAST'.")
    taxonomy_version: str = Field(description="Taxonomy version.")
    settings: ReportSettings = Field(description="Thresholds and bounds used.")
    modes: list[ModeInfo] = Field(description="The taxonomy's modes: axis of every per-mode list and matrix.")
    categories: list[CategoryInfo] = Field(description="The taxonomy's categories.")
    totals: Totals = Field(description="Trace accounting.")
    outcomes_known: bool = Field(description="False when no analysed trace has a known outcome.")
    notes: list[str] = Field(default_factory=list, description="Caveats worth printing (e.g. no outcomes known).")
    failed_traces: list[FailedTrace] = Field(
        default_factory=list,
        description="Traces not analysed because their annotation failed, by id (at most MAX_FAILED_LISTED; "
        "totals.failed_annotations counts them all). Running `annotate` again retries them.",
    )
    groups: list[GroupReport] = Field(description="One per group, largest first.")
    comparisons: list[Comparison] = Field(description="Per mode, per pair of groups; significant ones first.")
    shared_interventions: list[SharedIntervention] = Field(
        default_factory=list, description="Fixes every group needs (a mode fatal in all), listed once."
    )
    drilldown: list[TraceDetail] = Field(description="At most settings.max_drilldown traces, failed ones first.")
    drilldown_candidates: int = Field(description="Analysed traces the drill-down was chosen from.")
    label_quality: LabelQuality | None = Field(
        default=None, description="Whether the labels are measured against people, and against whom."
    )

    @property
    def mode_ids(self) -> list[str]:
        """Mode ids in taxonomy order (the matrix axis)."""
        return [m.id for m in self.modes]

    def group(self, name: str) -> GroupReport:
        """The group named `name` (KeyError if absent)."""
        for g in self.groups:
            if g.group == name:
                return g
        raise KeyError(name)
