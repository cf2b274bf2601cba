"""`agentmortem traces list|show`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from agentmortem.cli.app import app, console, fail, open_store, print_json
from agentmortem.model import Trace

traces_app = typer.Typer(help="List and show stored traces.", no_args_is_help=True)
app.add_typer(traces_app, name="traces")

PREVIEW_CHARS = 160


@traces_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", help="Show at most this many.")] = None,
) -> None:
    """List stored traces with model, steps, outcome and annotators."""
    with open_store(read_only=True) as store:
        rows = store.list_traces(limit=limit)
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
    table = Table("id", "format", "model", "system", "steps", "success", "score", "annotators")
    for r in rows:
        table.add_row(
            escape(r.id), r.source_format, escape(r.model or "-"), escape(r.agent_system or "-"), str(r.n_steps),
            _yes_no(r.success), "-" if r.score is None else f"{r.score:.3f}", ", ".join(r.annotators) or "-",
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(rows)} traces")


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
