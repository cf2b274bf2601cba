"""Entry point: importing each command module registers its commands on the shared app."""

from __future__ import annotations

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


def main() -> None:
    """Run the agentmortem command line."""
    app()


if __name__ == "__main__":
    main()
