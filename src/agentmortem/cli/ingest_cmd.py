"""`agentmortem ingest` and `agentmortem formats`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

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
    note,
    open_store,
    print_json,
    warn,
)
from agentmortem.cli.interrupt import Tally, on_interrupt
from agentmortem.readers import format_descriptions

if TYPE_CHECKING:  # ingest pulls in the store (DuckDB) and the outcome scorers; loaded when `ingest` runs
    from agentmortem.identity import Collision, Duplicate
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
    with on_interrupt(Tally(ingesting=True)), open_store() as store, _progress(disable=as_json) as progress:
        task = progress.add_task("ingesting", total=None)
        report = ingest(
            paths, store, format=format, outcomes_file=outcomes, model=model,
            success_threshold=success_threshold, on_trace=lambda _trace: progress.advance(task),
            ground_truth=ground_truth,
        )  # fmt: skip
    _print_report(report, as_json=as_json)
    if not report.ok:
        raise typer.Exit(exit_codes.BAD_INPUT)


def _progress(*, disable: bool) -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("traces"), TimeElapsedColumn(), console=err_console, transient=True, disable=disable,
    )  # fmt: skip


SHOWN_PER_SOURCE = 3
"""Collisions and duplicates printed per pair of source files; the rest are counted in one line (all are in --json)."""


def _print_report(report: IngestReport, *, as_json: bool) -> None:
    print_ingest_problems(report)
    if as_json:
        print_json(ingest_json(report))
        return
    console.print(ingest_summary(report), highlight=False, soft_wrap=True)


def print_ingest_problems(report: IngestReport) -> None:
    """Every error, warning and note of an ingest, one line each on stderr (repeats per file pair summarised)."""
    for error in report.errors:
        err_console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
    for line in _capped(report.collisions, "id collisions"):
        warn(line)
    for message in report.warnings + report.label_warnings:
        warn(message)
    for line in _capped(report.duplicates, "duplicates"):
        note(line)
    for side in report.skipped:
        note(str(side))
    if report.renamed:
        former, new = report.renamed[0]
        note(
            f"{len(report.renamed)} stored traces renamed to ids that follow their file's path under the folder "
            f"given (e.g. {former!r} is now {new!r}); their annotations moved with them"
        )


def _capped(items: Sequence[Collision | Duplicate], what: str) -> list[str]:
    """One line per item, at most SHOWN_PER_SOURCE per pair of source files, then one line counting the rest."""
    by_files: dict[tuple[str, str], list[str]] = {}
    for item in items:
        by_files.setdefault((_file_of(item.first), _file_of(item.second)), []).append(str(item))
    lines: list[str] = []
    for (first, second), messages in by_files.items():
        lines += messages[:SHOWN_PER_SOURCE]
        if len(messages) > SHOWN_PER_SOURCE:
            where = first if first == second else f"{first} and {second}"
            lines.append(f"… and {len(messages) - SHOWN_PER_SOURCE} more {what} in {where} (all listed by --json)")
    return lines


def _file_of(source: str) -> str:
    """The file of a source (`path` or `path:line`)."""
    path, _, line = source.rpartition(":")
    return path if path and line.isdigit() else source


def ingest_summary(report: IngestReport) -> str:
    """The one line that accounts for every trace read: read = added + replaced + unchanged + duplicates."""
    parts = [
        f"read {report.read} traces ({report.steps} steps): {report.added} added, {report.replaced} replaced, "
        f"{report.unchanged} unchanged, {len(report.duplicates)} duplicates"
    ]
    if report.collisions:
        parts.append(f"{len(report.collisions)} stored under suffixed ids (id collisions)")
    if report.skipped:
        parts.append(f"{len(report.skipped)} non-trace files skipped")
    parts.append(f"{len(report.errors)} errors")
    return "; ".join(parts)


def ingest_json(report: IngestReport) -> dict[str, Any]:
    """The `ingest --json` document (docs/json.md)."""
    return {
        "read": report.read, "added": report.added, "replaced": report.replaced, "unchanged": report.unchanged,
        "duplicates": len(report.duplicates), "steps": report.steps, "errors": [str(e) for e in report.errors],
        "collisions": [
            {"id": c.id, "stored_as": c.stored_as, "first": c.first, "second": c.second} for c in report.collisions
        ],
        "duplicate_traces": [{"id": d.id, "first": d.first, "second": d.second} for d in report.duplicates],
        "renamed": [{"from": former, "to": new} for former, new in report.renamed],
        "skipped": [{"path": str(f.path), "what": f.what, "use": f.use} for f in report.skipped],
        "warnings": report.warnings, "label_warnings": report.label_warnings,
    }  # fmt: skip


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
