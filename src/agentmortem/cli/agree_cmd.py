"""`agentmortem agree`: how far one annotator agrees with a reference, per failure mode and overall."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from agentmortem.cli.app import app, console, fail, open_store, print_json
from agentmortem.defaults import DEFAULT_BOOTSTRAP, DEFAULT_SEED, DEFAULT_TOLERANCE

if TYPE_CHECKING:  # numpy and the analysis package load only when `agree` runs
    from agentmortem.analysis.agreement import AgreementReport, Figures, Location, Rate


@app.command("agree")
def agree_command(
    annotator: Annotated[str, typer.Option("--annotator", "-a", help="The annotator being checked.")],
    reference: Annotated[str, typer.Option("--reference", "-r", help="The annotator taken as reference.")],
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples of traces for the kappa intervals.")
    ] = DEFAULT_BOOTSTRAP,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the bootstrap.")] = DEFAULT_SEED,
    tolerance: Annotated[
        int, typer.Option("--tolerance", "-k", min=0, help="Steps either side that still hit, for the ±k figures.")
    ] = DEFAULT_TOLERANCE,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Whether and where ANNOTATOR agrees with REFERENCE, per failure mode and overall.

    Whether: Cohen's kappa (95% bootstrap interval), precision, recall, F1 and prevalences. Where: step-hit rate,
    decisive-step accuracy (the Who&When metric) and agent accuracy, exact and within ±k steps. Only traces both
    annotated successfully are compared; a mode either side left unknown is excluded from that mode's figures.
    """
    from agentmortem.analysis.agreement import AgreementError, agreement_in_store

    with open_store(read_only=True) as store:
        try:
            report = agreement_in_store(
                store, annotator, reference, bootstrap=bootstrap, seed=seed, tolerance=tolerance
            )
        except AgreementError as exc:
            fail(str(exc))
    if as_json:
        print_json(report.to_dict())
    else:
        _print(report)
        _print_location(report)


def _print(report: AgreementReport) -> None:
    console.print(
        f"[bold]{report.annotator}[/bold] vs reference [bold]{report.reference}[/bold]: "
        f"{report.traces_compared} traces compared, {report.traces_only_annotator} only in {report.annotator}, "
        f"{report.traces_only_reference} only in {report.reference}, "
        f"{report.failed_annotator + report.failed_reference} failed annotations left out",
        highlight=False,
    )
    table = Table(box=None, padding=(0, 1), header_style="bold")
    for column in ("mode", "n", "κ", "95% CI", "P", "R", "F1", "prevA", "prevR", "sup", "unk"):
        table.add_column(column, justify="left" if column == "mode" else "right", no_wrap=True)
    for mode in report.modes:
        unknown = f"{mode.unknown_annotator}/{mode.unknown_reference}"
        table.add_row(mode.mode_id, *_cells(mode.figures), unknown)
    table.add_section()
    table.add_row("micro", *_cells(report.micro), "")
    macro = report.macro
    table.add_row(
        "macro", str(macro.modes), *_kappa(macro.kappa, macro.kappa_low, macro.kappa_high),
        *map(_num, (macro.precision, macro.recall, macro.f1)),
    )  # fmt: skip
    console.print(table)
    console.print(
        "n: pairs compared (macro: modes averaged); prevA/prevR: prevalence under annotator/reference; "
        "sup: reference positives; unk: traces left unknown by annotator/reference.",
        style="dim",
        highlight=False,
    )


def _cells(f: Figures) -> list[str]:
    return [
        str(f.n), *_kappa(f.kappa, f.kappa_low, f.kappa_high), _num(f.precision), _num(f.recall), _num(f.f1),
        _num(f.prevalence_annotator), _num(f.prevalence_reference), str(f.support),
    ]  # fmt: skip


def _kappa(value: float | None, low: float | None, high: float | None) -> tuple[str, str]:
    interval = f"[{low:.2f},{high:.2f}]" if low is not None and high is not None else "–"
    return _num(value), interval


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _print_location(report: AgreementReport) -> None:
    k = report.tolerance
    console.print(
        f"[bold]Where[/bold] ({report.decisive_traces} failed traces with a reference decisive step; ±{k} steps)",
        highlight=False,
    )
    table = Table(box=None, padding=(0, 1), header_style="bold")
    for column in ("mode", "step hit", f"±{k}", "decisive", f"±{k} ", "agent"):
        table.add_column(column, justify="left" if column == "mode" else "right", no_wrap=True)
    rows = [(m.mode_id, m.location) for m in report.modes if _located(m.location)]
    for mode_id, location in rows:
        table.add_row(mode_id, *_location_cells(location))
    if rows:
        table.add_section()
    table.add_row("overall", *_location_cells(report.location))
    console.print(table)
    console.print(
        "step hit: present on both sides and an evidence step in common; decisive: the annotator's earliest "
        "evidence step is the reference's decisive step (per mode: that mode's); agent: the same agent named. "
        "Each cell: rate (hits/chances); --json adds 95% bootstrap intervals.",
        style="dim",
        highlight=False,
    )


def _located(location: Location) -> bool:
    return any(rate.n for rate in (location.step_hit, location.decisive_step, location.agent))


def _location_cells(location: Location) -> list[str]:
    rates = (location.step_hit, location.step_hit_within, location.decisive_step, location.decisive_step_within)
    return [_rate(r) for r in (*rates, location.agent)]


def _rate(rate: Rate) -> str:
    return "–" if rate.rate is None else f"{rate.rate:.2f} ({rate.hits}/{rate.n})"
