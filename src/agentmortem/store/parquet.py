"""Parquet interchange: export the store as hive-partitioned Parquet (reading it back is `Store.from_parquet`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from agentmortem.store.base import ExportExistsError, StoreBase, StoreError

PARQUET_LAYOUT: dict[str, tuple[str, str]] = {
    "traces": ("SELECT * FROM traces", "model"),
    "steps": (
        "SELECT s.*, t.model FROM steps s JOIN traces t ON t.id = s.trace_id ORDER BY s.trace_id, s.idx",
        "model",
    ),
    "outcomes": ("SELECT o.*, t.model FROM outcomes o JOIN traces t ON t.id = o.trace_id", "model"),
    "annotations": ("SELECT * FROM annotations", "annotator"),
    "verdicts": ("SELECT * FROM verdicts", "annotator"),
}
"""Parquet export layout: table folder -> (rows, hive partition key). Steps and outcomes carry their trace's model
as the partition key so one model's folder of every trace-side table is a self-contained slice."""


class ParquetExport(StoreBase):
    """Writes the store's tables as Parquet, one folder per table (see PARQUET_LAYOUT)."""

    def export_parquet(self, directory: str | Path, *, overwrite: bool = False) -> dict[str, int]:
        """Write the stored tables as hive-partitioned Parquet, one folder per table (see PARQUET_LAYOUT).

        Returns the rows written per table. All tables are copied inside one transaction, so the export is one
        consistent snapshot. Refuses a table folder that already holds files unless `overwrite` is set.
        """
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        self._clear_export(root, overwrite=overwrite)
        counts: dict[str, int] = {}
        with self._transaction():
            for table, (select, partition) in PARQUET_LAYOUT.items():
                counts[table] = self._copy_parquet(root / table, select, partition)
        return counts

    @staticmethod
    def _clear_export(root: Path, *, overwrite: bool) -> None:
        taken = [root / t for t in PARQUET_LAYOUT if (root / t).is_dir() and any((root / t).iterdir())]
        if taken and not overwrite:
            raise ExportExistsError(f"{root}: already holds an export ({taken[0].name}/ has files)")
        for folder in taken:
            shutil.rmtree(folder)  # a table that is empty now must not keep the files of an older export

    def _copy_parquet(self, target: Path, select: str, partition: str) -> int:
        rows = int(self.con.execute(f"SELECT count(*) FROM ({select})").fetchone()[0])  # type: ignore[index]
        if rows:
            path = str(target).replace("'", "''")
            try:
                self.con.execute(f"COPY ({select}) TO '{path}' (FORMAT PARQUET, PARTITION_BY ({partition}))")
            except duckdb.Error as exc:
                raise StoreError(f"{target}: cannot write Parquet: {str(exc).splitlines()[0]}") from exc
        return rows

    def _view_over_parquet(self, table: str, files: list[Path], partition: str) -> None:
        # The view keeps the table's own columns and types, so queries cannot tell it from the table; the
        # partition key comes back from the folder names, read as text whatever it looks like ("123" stays text).
        # A column the export predates (added by a later migration) reads as NULL rather than failing the view.
        listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        options = f"hive_partitioning = true, union_by_name = true, hive_types = {{'{partition}': VARCHAR}}"
        source = f"read_parquet([{listing}], {options})"
        present = {row[0] for row in self.con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        columns = self.con.execute(f"DESCRIBE {table}").fetchall()
        select = ", ".join(_view_column(name, type_, present) for name, type_, *_ in columns)
        with self._transaction():
            self.con.execute(f"DROP TABLE {table}")
            self.con.execute(f"CREATE VIEW {table} AS SELECT {select} FROM {source}")


def _view_column(name: str, type_: str, present: set[str]) -> str:
    value = f'"{name}"' if name in present else "NULL"
    return f'CAST({value} AS {type_}) AS "{name}"'
