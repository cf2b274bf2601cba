"""`agentmortem score-itbench`: deterministic recall/precision of ITBench runs against a ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Column, Table

from agentmortem.cli import exit_codes
from agentmortem.cli.app import app, console, err_console, fail, print_json, warn
from agentmortem.readers.base import ReadError

if TYPE_CHECKING:
    from agentmortem.outcomes.itbench_runs import RunScore


@app.command("score-itbench")
def score_itbench_command(
    run_dir: Annotated[Path, typer.Argument(help="An ITBench run, scenario, agent_outputs/ or dataset directory.")],
    ground_truth: Annotated[
        Path,
        typer.Option("--ground-truth", help="Ground truth: groundtruth_v1/v2 YAML, ground_truths.json, or a folder."),
    ],
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="Score only this scenario's runs (and name an id-less file).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Score each run's agent_output.json: root-cause recall, precision, matched and missed groups.

    Exits 1 when a run cannot be scored (its scenario has no ground truth) or a ground-truth file is unusable.
    """
    from agentmortem.outcomes.itbench import load_ground_truths
    from agentmortem.outcomes.itbench_runs import score_runs

    if not run_dir.is_dir():
        fail(f"{run_dir}: not a directory")
    errors: list[ReadError] = []
    try:
        truths = load_ground_truths(ground_truth, scenario=scenario, errors=errors)
    except ReadError as exc:
        fail(str(exc))
    for error in errors:
        err_console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
    results = score_runs(run_dir, truths, scenario=scenario)
    if not results:
        fail(f"{run_dir}: no ITBench runs found" + (f" for scenario {scenario!r}" if scenario else ""))
    if as_json:
        print_json([result.as_dict() for result in results])
    else:
        console.print(_table(results))
    for result in results:
        for doubt in result.doubts:
            warn(f"{result.label}: {doubt}")
    unscored = [result for result in results if result.score is None]
    for result in unscored:
        err_console.print(f"[red]error:[/red] {escape(result.label)}: {escape(result.problem or '')}", highlight=False)
    if unscored or errors:
        raise typer.Exit(exit_codes.BAD_INPUT)


def _table(results: list[RunScore]) -> Table:
    table = Table("recall", "precision", "matched groups", "missed groups", "note")
    table.columns.insert(0, Column("run", no_wrap=True))
    for result in results:
        score = result.score
        if score is None:
            table.add_row(result.label, "-", "-", "", "", result.problem or "")
            continue
        precision = "-" if score.precision is None else f"{score.precision:.2f}"
        table.add_row(
            result.label, f"{score.recall:.2f}", precision, ", ".join(sorted(score.matched)),
            ", ".join(score.missed), score.problem or "",
        )  # fmt: skip
    return table
