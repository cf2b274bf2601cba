"""Entry point: importing each command module registers its commands on the shared app."""

from __future__ import annotations

import sys

from agentmortem.cli import (  # noqa: F401  (imported for the commands they register)
    agree_cmd,
    annotate_cmd,
    export_cmd,
    ingest_cmd,
    itbench_cmd,
    labels_cmd,
    report_cmd,
    sample_cmd,
    traces_cmd,
)
from agentmortem.cli.app import app

GLOBAL_VALUE_OPTIONS = ("--db",)
"""Options of agentmortem itself that take a value; users also type them after the command."""


def global_options_first(args: list[str]) -> list[str]:
    """Move global options written after the command (`traces list --db x.duckdb`) in front of it.

    No command has an option of the same name, so the move never changes what a command receives; `--` ends it.
    """
    moved: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in GLOBAL_VALUE_OPTIONS and i + 1 < len(args):
            moved.extend(args[i : i + 2])
            i += 2
            continue
        if arg.startswith(tuple(f"{name}=" for name in GLOBAL_VALUE_OPTIONS)):
            moved.append(arg)
        else:
            rest.append(arg)
        i += 1
    return moved + rest


def main() -> None:
    """Run the agentmortem command line."""
    app(args=global_options_first(sys.argv[1:]), prog_name="agentmortem")


if __name__ == "__main__":
    main()
