"""`agentmortem ingest` and `agentmortem formats`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

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
    open_store,
    print_json,
    warn,
)
from agentmortem.readers import format_descriptions

if TYPE_CHECKING:  # ingest pulls in the store (DuckDB) and the outcome scorers; loaded when `ingest` runs
    from agentmortem.ingest import IngestReport


@app.command("ingest")
def ingest_command(
    paths: PathsArgument,
    format: FormatOption = None,
    outcomes: OutcomesOption = None,
    model: Annotated[str | None, typer.Option("--model", help="Model name for traces that do not say.")] = None,
    ground_truth: GroundTruthOption = None,
    success_threshold: ThresholdOption = DEFAULT_THRESHOLD,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Read trace files into the store. Bad files are reported one line each; the rest goes on."""
    from agentmortem.ingest import ingest

    check_format(format)
    with open_store() as store, _progress(disable=as_json) as progress:
        task = progress.add_task("ingesting", total=None)
        report = ingest(
            paths, store, format=format, outcomes_file=outcomes, model=model,
            success_threshold=success_threshold, on_trace=lambda _trace: progress.advance(task),
            ground_truth=ground_truth,
        )  # fmt: skip
    _print_report(report, as_json=as_json)
    if not report.ok:
        raise typer.Exit(1)


def _progress(*, disable: bool) -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("traces"), TimeElapsedColumn(), console=err_console, transient=True, disable=disable,
    )  # fmt: skip


def _print_report(report: IngestReport, *, as_json: bool) -> None:
    for error in report.errors:
        err_console.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
    for message in report.label_warnings:
        warn(message)
    if as_json:
        print_json(
            {
                "read": report.read, "added": report.added, "replaced": report.replaced,
                "unchanged": report.unchanged, "steps": report.steps, "errors": [str(e) for e in report.errors],
            }
        )  # fmt: skip
        return
    console.print(
        f"read {report.read} traces ({report.steps} steps): {report.added} added, {report.replaced} replaced, "
        f"{report.unchanged} unchanged; {len(report.errors)} errors"
    )


@app.command("formats")
def formats_command(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """List the trace formats agentmortem reads."""
    formats = format_descriptions()  # without importing the readers: this command starts at once
    if as_json:
        print_json([{"name": name, "description": description} for name, description in formats.items()])
        return
    table = Table("format", "what it reads")
    for name, description in formats.items():
        table.add_row(name, escape(description))  # descriptions name markers such as [agent]
    console.print(table)
