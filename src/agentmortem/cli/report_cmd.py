"""`agentmortem report` (failure signatures over the store) and `agentmortem analyze` (ingest + annotate + report)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

from agentmortem.cli import exit_codes
from agentmortem.cli.app import (
    DEFAULT_THRESHOLD,
    FormatOption,
    GroundTruthOption,
    OutcomesOption,
    PathsArgument,
    ThresholdOption,
    app,
    check_format,
    console,
    err_console,
    fail,
    open_store,
    warn,
)
from agentmortem.cli.ingest_cmd import ingest_summary, print_ingest_problems
from agentmortem.cli.interrupt import Tally, on_interrupt
from agentmortem.cli.judge_options import build_judge, judge_options
from agentmortem.cli.judge_run import (
    budget_stop,
    check_endpoint,
    dry_run,
    end_annotate_run,
    not_analysed_warning,
    stop_if_interrupted,
    warn_failures,
    warn_if_capped,
)
from agentmortem.defaults import (
    DEFAULT_CASCADING_MIN,
    DEFAULT_ISOLATED_MAX,
    DEFAULT_MAX_DRILLDOWN,
)

if TYPE_CHECKING:  # analysis (scipy), the store (DuckDB) and the judges load only when a command runs
    from agentmortem.ingest import IngestReport
    from agentmortem.report.report import Report, ReportSettings
    from agentmortem.store import Store

GroupByOption = Annotated[
    str,
    typer.Option(
        "--group-by",
        "-g",
        help="model | agent_system | benchmark | metadata.KEY (dots nest; also looked up in a nested 'metadata').",
    ),
]
STDOUT = Path("-")
"""The `--json` value meaning standard output (also what a bare `--json` stands for)."""

JsonOption = Annotated[
    Path | None,
    typer.Option(
        "--json",
        metavar="[FILE]",
        help="Write the report as JSON to FILE; without FILE (or with -), to standard output instead of the tables.",
    ),
]
MdOption = Annotated[Path | None, typer.Option("--md", help="Write a Markdown summary to FILE.")]
HtmlOption = Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML report to FILE.")]
IsolatedOption = Annotated[
    int, typer.Option("--isolated-max", help="A failed trace with 1..N distinct modes is an isolated failure.")
]
CascadingOption = Annotated[
    int, typer.Option("--cascading-min", help="A failed trace with at least N distinct modes is a cascade.")
]
DrilldownOption = Annotated[int, typer.Option("--max-drilldown", help="Traces kept for the HTML drill-down.")]
PlaybookOption = Annotated[Path | None, typer.Option("--playbook", help="Interventions YAML (default: built in).")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Do not print the report to the terminal.")]
ReferenceOption = Annotated[
    str | None,
    typer.Option(
        "--reference",
        help="Annotator whose labels (people's) correct the figures; default: the store's only human annotator.",
    ),
]


class _OptionalJsonPath(TyperCommand):
    """A command whose `--json` may come without a file: then it means `--json -` (standard output).

    Typer has no options with an optional value, so a bare `--json` (last, or followed by another option) is given
    the value `-` before parsing.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Insert `-` after a bare `--json`, then parse as usual."""
        given: list[str] = []
        for position, arg in enumerate(args):
            given.append(arg)
            following = args[position + 1] if position + 1 < len(args) else None
            if arg == "--json" and (following is None or (following.startswith("-") and following != "-")):
                given.append(str(STDOUT))
        return super().parse_args(ctx, given)


@app.command("report", cls=_OptionalJsonPath)
def report_command(
    annotator: Annotated[
        str | None, typer.Option("--annotator", "-a", help="Whose annotations (default: the store's only one).")
    ] = None,
    group_by: GroupByOption = "model",
    json_file: JsonOption = None,
    md_file: MdOption = None,
    html_file: HtmlOption = None,
    isolated_max: IsolatedOption = DEFAULT_ISOLATED_MAX,
    cascading_min: CascadingOption = DEFAULT_CASCADING_MIN,
    max_drilldown: DrilldownOption = DEFAULT_MAX_DRILLDOWN,
    playbook: PlaybookOption = None,
    reference: ReferenceOption = None,
    quiet: QuietOption = False,
    from_parquet: Annotated[
        Path | None, typer.Option("--from-parquet", help="Report on an `export --parquet` folder, read in place.")
    ] = None,
) -> None:
    """Failure signatures per group: fatal vs benign modes, isolated vs cascading failures, fixes to try."""
    settings = _settings(group_by, isolated_max, cascading_min, max_drilldown)
    with _report_source(from_parquet) as store:
        report = _build(store, annotator, settings, playbook, reference)
    _emit(report, json_file=json_file, md_file=md_file, html_file=html_file, quiet=quiet)


@app.command("analyze", cls=_OptionalJsonPath)
@judge_options
def analyze_command(
    paths: PathsArgument,
    format: FormatOption = None,
    outcomes: OutcomesOption = None,
    ground_truth: GroundTruthOption = None,
    success_threshold: ThresholdOption = DEFAULT_THRESHOLD,
    group_by: GroupByOption = "model",
    json_file: JsonOption = None,
    md_file: MdOption = None,
    html_file: HtmlOption = None,
    isolated_max: IsolatedOption = DEFAULT_ISOLATED_MAX,
    cascading_min: CascadingOption = DEFAULT_CASCADING_MIN,
    max_drilldown: DrilldownOption = DEFAULT_MAX_DRILLDOWN,
    playbook: PlaybookOption = None,
    labels: Annotated[
        Path | None,
        typer.Option("--labels", help="Reference labels made by people (label JSONL), imported before the report."),
    ] = None,
    reference: ReferenceOption = None,
    quiet: QuietOption = False,
    *,
    judge_opts: dict[str, Any],
) -> None:
    """Ingest traces, annotate them (detectors by default, or an LLM judge) and report, in one go."""
    from agentmortem.engines.local import annotate_store
    from agentmortem.taxonomy import mast

    check_format(format)
    if labels is not None and not labels.is_file():  # before any judging: a typo must not cost a run
        fail(f"{labels}: no such label file", code=2)
    settings = _settings(group_by, isolated_max, cascading_min, max_drilldown)
    with on_interrupt(Tally()) as tally, open_store() as store:
        judge = build_judge(store, judge_opts)
        if not judge_opts["dry_run"]:
            check_endpoint(judge)  # an LLM endpoint that cannot serve the run ends it here, before anything is read
        tally.ingesting = True
        ingested = _ingest(paths, store, judge, format, outcomes, ground_truth, success_threshold)
        tally.ingesting = False
        if labels is not None:  # the label file given with --labels is read below, not skipped
            ingested.skipped = [f for f in ingested.skipped if Path(f.path).resolve() != labels.resolve()]
        print_ingest_problems(ingested)
        if judge_opts["dry_run"]:
            err_console.print(ingest_summary(ingested), highlight=False, soft_wrap=True)
            dry_run(store, judge, mast(), None, redo=False, as_json=json_file == STDOUT)
            return
        annotated = annotate_store(
            store, judge, concurrency=judge_opts["concurrency"], stop=budget_stop(judge), handle_signals=True
        )
        stop_if_interrupted(annotated)
        tally.saved = annotated.saved
        err_console.print(
            f"{ingest_summary(ingested)}; annotated {ingested.annotated + annotated.annotated} with "
            f"{judge.name!r} ({annotated.skipped - ingested.annotated} already done, {annotated.failed} failed)",
            highlight=False,
            soft_wrap=True,
        )
        warn_failures(annotated.failures)
        warn_if_capped(judge)
        not_analysed_warning(annotated.failed)
        labelled = _import_reference(labels, store, reference) if labels is not None else True
        report = _build(store, judge.name, settings, playbook, reference)
        _emit(report, json_file=json_file, md_file=md_file, html_file=html_file, quiet=quiet)
    if not (ingested.ok and labelled):
        raise typer.Exit(exit_codes.BAD_INPUT)
    end_annotate_run(annotated)


def _ingest(
    paths: list[Path], store: Store, judge: Any, format: str | None, outcomes: Path | None,
    ground_truth: Path | None, success_threshold: float,
) -> IngestReport:  # fmt: skip
    """Read the traces into the store; an offline judge labels each trace as it is read.

    A judge with a synchronous `annotate` (the offline detectors) labels each trace while it is read; the engine
    then only judges what is left (traces stored earlier), and an LLM judge everything not yet done.
    """
    from agentmortem.ingest import ingest
    from agentmortem.taxonomy import mast

    inline = getattr(judge, "annotate", None)
    return ingest(
        paths, store, format=format, outcomes_file=outcomes, ground_truth=ground_truth,
        success_threshold=success_threshold,
        annotate=(lambda trace: inline(trace, mast())) if inline is not None else None,
    )  # fmt: skip


def _import_reference(path: Path, store: Store, reference: str | None) -> bool:
    """Import people's labels as a human annotator (named `reference`, else as each row says); True when clean."""
    from agentmortem.labels import import_labels

    imported = import_labels(path, store, annotator=reference, kind="human")
    for error in imported.errors:
        err_console.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
    if imported.missing:
        shown = imported.missing_ids[:5]
        more = f" and {imported.missing - len(shown)} more" if imported.missing > len(shown) else ""
        warn(f"{path}: {imported.missing} labelled traces are not in the store: {', '.join(shown)}{more}")
    err_console.print(f"imported {imported.imported} reference label rows from {path}", highlight=False)
    return imported.ok


def _report_source(parquet: Path | None) -> Store:
    """The store to report on, or a Parquet export opened in place (views, nothing imported)."""
    from agentmortem.store import Store, StoreError

    if parquet is None:
        return open_store(read_only=True)
    try:
        return Store.from_parquet(parquet)
    except StoreError as exc:
        fail(str(exc))


def _settings(group_by: str, isolated_max: int, cascading_min: int, max_drilldown: int) -> ReportSettings:
    from agentmortem.report.report import ReportSettings

    if isolated_max < 1 or cascading_min <= isolated_max:
        fail(f"need 1 <= --isolated-max < --cascading-min, got {isolated_max!r} and {cascading_min!r}", code=2)
    return ReportSettings(
        group_by=group_by, isolated_max=isolated_max, cascading_min=cascading_min, max_drilldown=max(0, max_drilldown)
    )


def _build(
    store: Store, annotator: str | None, settings: ReportSettings, playbook: Path | None, reference: str | None
) -> Report:
    from agentmortem.analysis import AnalysisError, PlaybookError, build_report, load_playbook
    from agentmortem.store import StoreError

    try:
        book = load_playbook(playbook) if playbook is not None else None
        return build_report(store, annotator=annotator, settings=settings, playbook=book, reference=reference)
    except (AnalysisError, PlaybookError, StoreError) as exc:
        fail(str(exc))


def _emit(report: Report, *, json_file: Path | None, md_file: Path | None, html_file: Path | None, quiet: bool) -> None:
    from agentmortem.report.json import render_json, write_json
    from agentmortem.report.markdown import write_markdown
    from agentmortem.report.terminal import render_terminal

    if json_file == STDOUT:  # the JSON is the output: no tables around it, as with every other --json
        sys.stdout.write(render_json(report) + "\n")
        json_file, quiet = None, True
    if not quiet:
        for part in render_terminal(report, width=console.width):
            console.print(part)
    writers = [(json_file, write_json), (md_file, write_markdown), (html_file, _write_html)]
    for path, write in writers:
        if path is None:
            continue
        try:
            write(report, path)
        except OSError as exc:
            fail(f"{path}: cannot write: {exc.strerror or exc}")
        err_console.print(f"wrote {path}", highlight=False)


def _write_html(report: Report, path: Path) -> None:
    # Imported here: the HTML renderer pulls in templates and charts that the other outputs never need.
    from agentmortem.report.html import render_html

    path.write_text(render_html(report), encoding="utf-8")
