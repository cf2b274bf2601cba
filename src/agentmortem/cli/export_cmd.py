"""`agentmortem export --parquet DIR`: the store as partitioned Parquet, for analysis anywhere.

Layout under DIR, one folder per table, hive-partitioned (folder names `key=value`, URL-escaped):
  traces/model=…/       steps/model=…/       outcomes/model=…/       (steps and outcomes take their trace's model)
  annotations/annotator=…/                   verdicts/annotator=…/
A trace without a model lands in `model=__HIVE_DEFAULT_PARTITION__`. `report --from-parquet DIR` reads it in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentmortem.cli.app import app, console, fail, open_store, print_json


@app.command("export")
def export_command(
    parquet: Annotated[
        Path, typer.Option("--parquet", help="Folder to write partitioned Parquet into (one folder per table).")
    ],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier export in that folder.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print rows written per table as JSON.")] = False,
) -> None:
    """Export traces, steps, outcomes, annotations and verdicts as hive-partitioned Parquet."""
    from agentmortem.store import ExportExistsError, StoreError

    if parquet.exists() and not parquet.is_dir():
        fail(f"{parquet}: exists and is not a folder")
    with open_store(read_only=True) as store:
        try:
            counts = store.export_parquet(parquet, overwrite=overwrite)
        except ExportExistsError as exc:
            fail(f"{exc}; pass --overwrite to replace it")
        except StoreError as exc:
            fail(str(exc))
    if as_json:
        print_json({"directory": str(parquet), "rows": counts})
        return
    written = ", ".join(f"{rows} {table}" for table, rows in counts.items())
    console.print(f"exported to {parquet}: {written}", highlight=False, soft_wrap=True)
