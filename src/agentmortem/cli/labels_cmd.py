"""`agentmortem import-labels`: failure labels from outside (label JSONL, MAD records) into the store."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentmortem.cli.app import app, console, err_console, fail, open_store, print_json, warn

if TYPE_CHECKING:
    from agentmortem.labels import ImportReport

_SHOWN_MISSING = 5
"""How many missing trace ids the one-line notice names."""


class KindChoice(StrEnum):
    """Who made the labels."""

    human = "human"
    imported = "imported"


class NumberingChoice(StrEnum):
    """How label codes 3.2 and 3.3 are read."""

    paper = "paper"
    legacy = "legacy"


@app.command("import-labels")
def import_labels_command(
    file: Annotated[Path, typer.Argument(help="JSONL rows {trace_id, labels: {mode: 0|1|null}} or a MAD record file.")],
    annotator: Annotated[
        str | None,
        typer.Option("--annotator", help="Annotator name; default: each row's 'annotator' field (MAD: mad-o1)."),
    ] = None,
    numbering: Annotated[
        NumberingChoice,
        typer.Option("--numbering", help="paper: final MAST codes; legacy: 3.2/3.3 swapped as in the first judge."),
    ] = NumberingChoice.paper,
    kind: Annotated[
        KindChoice | None,
        typer.Option("--kind", help="Annotator kind; default: each row's 'annotator_kind' field, else imported."),
    ] = None,
    taxonomy_file: Annotated[
        Path | None,
        typer.Option("--taxonomy", help="YAML taxonomy the mode keys refer to (default MAST, or the row's taxonomy)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import failure labels as annotations: label rows (JSONL), MAD record files or an AgentRx ground truth.

    A label row is {trace_id, annotator, labels: {mode: 0|1|null or {present, evidence: [{step}], agent}}} with
    optional decisive_step, decisive_agent, decisive_mode and taxonomy (docs/json.md). Exits 1 when a row is bad or
    names a trace not in the store.
    """
    from agentmortem.labels import import_labels
    from agentmortem.taxonomy import TaxonomyError, load_taxonomy

    try:
        taxonomy = load_taxonomy(taxonomy_file) if taxonomy_file is not None else None
    except TaxonomyError as exc:
        fail(str(exc))
    with open_store() as store:
        report = import_labels(
            file, store, annotator=annotator, numbering=numbering.value, kind=kind.value if kind else None,
            taxonomy=taxonomy,
        )  # fmt: skip
    _print_report(report, as_json=as_json)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report: ImportReport, *, as_json: bool) -> None:
    for error in report.errors:
        err_console.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
    for message in report.warnings:
        warn(message)
    if report.missing:
        shown = ", ".join(report.missing_ids[:_SHOWN_MISSING])
        more = f" and {report.missing - _SHOWN_MISSING} more" if report.missing > _SHOWN_MISSING else ""
        warn(f"{report.missing} traces are not in the store (ingest them first): {shown}{more}")
    if report.by_file_name:
        console.print(f"{report.by_file_name} labels named their trace by the file it was read from", highlight=False)
    if as_json:
        print_json(
            {
                "rows": report.rows, "imported": report.imported, "missing": report.missing,
                "missing_ids": report.missing_ids, "by_file_name": report.by_file_name,
                "errors": [str(e) for e in report.errors],
                "warnings": report.warnings,
            }
        )  # fmt: skip
        return
    console.print(
        f"read {report.rows} label rows: {report.imported} annotations imported, {report.missing} traces missing, "
        f"{len(report.errors)} errors, {len(report.warnings)} warnings"
    )
