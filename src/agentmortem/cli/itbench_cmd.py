"""`agentmortem score-itbench`: deterministic recall/precision of ITBench runs against a ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Column, Table

from agentmortem.cli.app import app, console, fail, print_json
from agentmortem.readers.base import ReadError

if TYPE_CHECKING:
    from agentmortem.outcomes.itbench_runs import RunScore


@app.command("score-itbench")
def score_itbench_command(
    run_dir: Annotated[Path, typer.Argument(help="An ITBench run, scenario, agent_outputs/ or dataset directory.")],
    ground_truth: Annotated[
        Path, typer.Option("--ground-truth", help="Ground truth: groundtruth_v1/v2 YAML or ground_truths.json.")
    ],
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="Score only this scenario's runs (and name an id-less file).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Score each run's agent_output.json: root-cause recall, precision, matched and missed groups."""
    from agentmortem.outcomes.itbench import load_ground_truths
    from agentmortem.outcomes.itbench_runs import score_runs

    if not run_dir.is_dir():
        fail(f"{run_dir}: not a directory")
    try:
        truths = load_ground_truths(ground_truth, scenario=scenario)
    except ReadError as exc:
        fail(str(exc))
    results = score_runs(run_dir, truths, scenario=scenario)
    if not results:
        fail(f"{run_dir}: no ITBench runs found" + (f" for scenario {scenario!r}" if scenario else ""))
    if as_json:
        print_json([result.as_dict() for result in results])
        return
    console.print(_table(results))


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
