"""`agentmortem traces list|show`."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.cells import cell_len
from rich.markup import escape
from rich.segment import Segments
from rich.table import Table

from agentmortem.cli.app import app, console, fail, open_store, print_json

if TYPE_CHECKING:
    from agentmortem.model import Trace
    from agentmortem.store import TraceSummary

traces_app = typer.Typer(help="List and show stored traces.", no_args_is_help=True)
app.add_typer(traces_app, name="traces")

PREVIEW_CHARS = 160


class OutcomeChoice(StrEnum):
    """Which traces `--outcome` keeps."""

    success = "success"
    failure = "failure"
    unknown = "unknown"


@traces_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", help="Show at most this many.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only traces of this model.")] = None,
    outcome: Annotated[
        OutcomeChoice | None,
        typer.Option("--outcome", help="Only traces that succeeded, failed, or whose outcome is unknown."),
    ] = None,
    annotator: Annotated[
        str | None, typer.Option("--annotator", "-a", help="Only traces this annotator annotated (or failed on).")
    ] = None,
) -> None:
    """List stored traces with model, steps, outcome and annotators (ids in full: `traces show` takes them)."""
    with open_store(read_only=True) as store:
        rows = store.list_traces(
            limit=limit, model=model, outcome=outcome.value if outcome else None, annotator=annotator
        )
    if as_json:
        print_json(
            [
                {
                    "id": r.id, "format": r.source_format, "model": r.model, "agent_system": r.agent_system,
                    "benchmark": r.benchmark, "steps": r.n_steps, "success": r.success, "score": r.score,
                    "annotators": list(r.annotators),
                }
                for r in rows
            ]
        )  # fmt: skip
        return
    cells = [_list_cells(r) for r in rows]
    shown = _columns_that_fit(cells, console.width)
    table = Table(*shown)
    for column in table.columns:
        column.no_wrap = True  # every cell whole: a cut id is no use to `traces show`
    for row in cells:
        table.add_row(*(escape(row[name]) for name in shown))
    _print_whole(table, _table_width(cells, shown))
    hidden = [name for name in _LIST_COLUMNS if name not in shown]
    note = f" ({', '.join(hidden)} left out at this terminal width; --json has every field)" if hidden else ""
    console.print(f"{len(rows)} traces{note}", highlight=False, soft_wrap=True)


_LIST_COLUMNS = ("id", "format", "model", "system", "steps", "success", "score", "annotators")
"""Columns of `traces list`, in the order shown."""

_KEPT_FIRST = ("id", "model", "success", "steps", "score", "annotators", "system", "format")
"""The same columns in the order they are kept when the terminal is too narrow for all of them."""


def _print_whole(table: Table, width: int) -> None:
    """Print `table` at least `width` wide, never cut: a terminal narrower than the ids wraps the lines instead."""
    if width <= console.width:
        console.print(table)
        return
    for line in console.render_lines(table, console.options.update_width(width), new_lines=True):
        console.print(Segments(line), soft_wrap=True, end="")


def _list_cells(r: TraceSummary) -> dict[str, str]:
    return {
        "id": r.id, "format": r.source_format, "model": r.model or "-", "system": r.agent_system or "-",
        "steps": str(r.n_steps), "success": _yes_no(r.success), "score": "-" if r.score is None else f"{r.score:.3f}",
        "annotators": ", ".join(r.annotators) or "-",
    }  # fmt: skip


def _columns_that_fit(cells: list[dict[str, str]], width: int) -> list[str]:
    """The columns to show, whole, within `width`: the id always, then others by `_KEPT_FIRST` while they fit."""
    kept = ["id"]
    for name in _KEPT_FIRST[1:]:
        if _table_width(cells, [*kept, name]) <= width:
            kept.append(name)
    return [name for name in _LIST_COLUMNS if name in kept]


def _table_width(cells: list[dict[str, str]], names: list[str]) -> int:
    """Width of a default Rich table of these columns, unwrapped: each column, 2 of padding, 1 per rule."""
    widths = [max([cell_len(name), *(cell_len(row[name]) for row in cells)]) for name in names]
    return sum(widths) + 3 * len(widths) + 1


@traces_app.command("show")
def show_command(
    trace_id: Annotated[str, typer.Argument(help="Trace id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole trace as JSON.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Do not shorten step contents.")] = False,
) -> None:
    """Show one trace, step by step, with the step indices every other command refers to."""
    with open_store(read_only=True) as store:
        trace = store.get_trace(trace_id)
    if trace is None:
        fail(f"no trace {trace_id!r} in the store")
    if as_json:
        print_json(trace.model_dump(mode="json"))
        return
    _print_trace(trace, full=full)


def _print_trace(trace: Trace, *, full: bool) -> None:
    console.print(f"[bold]{escape(trace.id)}[/bold]  format={trace.source_format}  model={escape(trace.model or '-')}")
    console.print(
        f"outcome: success={_yes_no(trace.outcome.success)} score={trace.outcome.score} "
        f"source={trace.outcome.source}  steps={len(trace.steps)}"
    )
    for warning in trace.outcome.warnings:
        console.print(f"[yellow]outcome warning:[/yellow] {escape(warning)}")
    for step in trace.steps:
        who = "/".join(p for p in (step.kind, step.agent or step.role, step.tool_name) if p)
        text = step.content if full else _preview(step.content or step.tool_args or "")
        pair = f" <->{step.pair_index}" if step.pair_index is not None else ""
        error = " [red]ERROR[/red]" if step.is_error else ""
        console.print(f"[cyan]\\[step {step.index}][/cyan] {escape(who)}{pair}{error}: {escape(text)}")


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")
