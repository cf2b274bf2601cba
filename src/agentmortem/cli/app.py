"""The Typer application, global options and the helpers every command module shares."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import orjson
import typer
from rich.console import Console
from rich.markup import escape

from agentmortem.cli import exit_codes
from agentmortem.defaults import DB_ENV_VAR, DEFAULT_SUCCESS_THRESHOLD, default_db_path
from agentmortem.readers import format_names

if TYPE_CHECKING:
    from agentmortem.store import Store

# Every module imported by `agentmortem --help` keeps its machinery (DuckDB, scipy, the OpenAI client, pydantic
# models, jinja2, matplotlib, Ray) inside the function that runs; tests/test_cli_startup.py holds the line.

app = typer.Typer(
    name="agentmortem",
    help="Explain why LLM agents fail: MAST failure signatures from agent execution traces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: Rich's help panels load Markdown, syntax and traceback rendering, about 0.2 s
    # of every `--help` (measured by benchmarks/startup.py), and the CLI must start at once.
    rich_markup_mode=None,
)
console = Console()
err_console = Console(stderr=True)


class State:
    """Options given before the command name."""

    db: str = default_db_path()


state = State()


def _print_version(value: bool) -> None:
    if value:
        from agentmortem import __version__

        console.print(f"agentmortem {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _global_options(
    db: Annotated[
        str | None,
        typer.Option("--db", help=f"Store file (DuckDB). Default: ${DB_ENV_VAR} or ./agentmortem.duckdb."),
    ] = None,
    _version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """agentmortem: read agent traces, label MAST failure modes, and report failure signatures."""
    state.db = db or default_db_path()


def open_store(*, read_only: bool = False) -> Store:
    """Open the store named by --db, or exit with a one-line error.

    Commands that only read pass `read_only`: they never create a store (a missing --db is an error naming it),
    and they read a store they cannot write (read-only file, permissions or file system).
    """
    from agentmortem.store import Store, StoreError

    try:
        return Store(state.db, read_only=read_only)
    except StoreError as exc:
        fail(str(exc))


def fail(message: str, code: int = exit_codes.BAD_INPUT) -> NoReturn:
    """Print a one-line error to stderr and exit with `code`."""
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """Print a one-line warning to stderr."""
    err_console.print(f"[yellow]warning:[/yellow] {escape(message)}", highlight=False, soft_wrap=True)


def note(message: str) -> None:
    """Print a one-line note to stderr: something the user should know that is not a problem."""
    err_console.print(f"[cyan]note:[/cyan] {escape(message)}", highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Write `data` as indented JSON to stdout (stable key order as given)."""
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str).decode())
    sys.stdout.write("\n")


# Options shared by the commands that read trace files (`ingest`, `analyze`).
PathsArgument = Annotated[list[Path], typer.Argument(help="Trace files or directories (walked recursively).")]
FormatOption = Annotated[
    str | None, typer.Option("--format", "-f", help=f"Force a trace format: {', '.join(format_names())}.")
]
OutcomesOption = Annotated[Path | None, typer.Option("--outcomes", help="CSV or JSONL with trace_id, success, score.")]
GroundTruthOption = Annotated[
    Path | None,
    typer.Option(
        "--ground-truth",
        help="ITBench ground truth to score runs with: a YAML, ground_truths.json, or a folder of them.",
    ),
]
ThresholdOption = Annotated[
    float, typer.Option("--success-threshold", help="A run succeeds when its score is at least this.")
]
DEFAULT_THRESHOLD = DEFAULT_SUCCESS_THRESHOLD


def check_format(format: str | None) -> None:
    """Exit with a usage error (code 2) naming the known formats when `format` is not one of them."""
    if format is not None and format not in format_names():
        fail(f"unknown format {format!r}; known: {', '.join(format_names())}", code=exit_codes.USAGE)
