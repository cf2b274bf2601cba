"""Parquet interchange: export the store as hive-partitioned Parquet (reading it back is `Store.from_parquet`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from agentmortem.store.base import ExportExistsError, StoreBase, StoreError

PARQUET_LAYOUT: dict[str, tuple[str, str]] = {
    "traces": ("SELECT * FROM traces", "model"),
    "steps": (
        "SELECT s.*, t.model FROM steps s JOIN traces t ON t.trace_key = s.trace_key ORDER BY s.trace_key, s.idx",
        "model",
    ),
    "outcomes": ("SELECT o.*, t.model FROM outcomes o JOIN traces t ON t.trace_key = o.trace_key", "model"),
    "annotations": ("SELECT * FROM annotations", "annotator"),
    "verdicts": ("SELECT * FROM verdicts", "annotator"),
}
"""Parquet export layout: table folder -> (rows, hive partition key). Steps and outcomes carry their trace's model
as the partition key so one model's folder of every trace-side table is a self-contained slice. Every table keeps
its `trace_key` (migration 012), so reports over the files join on integers as they do over the store; steps are
written in key order."""

KEY_MAP = "_am_trace_keys"
"""In-memory (id, trace_key) table standing in for the keys of an export written before migration 012."""


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
        # A column the export predates (added by a later migration) reads as NULL rather than failing the view,
        # except `trace_key`, which an older export gets from KEY_MAP (numbered by trace id) through a join.
        source = _parquet_source(files, partition)
        present = {row[0] for row in self.con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        columns = self.con.execute(f"DESCRIBE {table}").fetchall()
        select = ", ".join(_view_column(name, type_, present) for name, type_, *_ in columns)
        if "trace_key" not in present:
            if not self._has_key_map():
                self._key_map(files if table == "traces" else [])
            id_column = "id" if table == "traces" else "trace_id"
            select = select.replace('CAST(NULL AS BIGINT) AS "trace_key"', 'k.map_key AS "trace_key"')
            source = f"{source} src LEFT JOIN {KEY_MAP} k ON k.map_id = src.{id_column}"
        with self._transaction():
            self.con.execute(f"DROP TABLE {table}")
            self.con.execute(f"CREATE VIEW {table} AS SELECT {select} FROM {source}")

    def _has_key_map(self) -> bool:
        return bool(
            self.con.execute(f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{KEY_MAP}'").fetchall()[0][0]
        )

    def _key_map(self, trace_files: list[Path]) -> None:
        """KEY_MAP from the export's traces (their files; none: no traces, so no key matches)."""
        traces = (
            f"(SELECT id FROM {_parquet_source(trace_files, 'model')})"
            if trace_files
            else "(SELECT ''::VARCHAR AS id LIMIT 0)"
        )
        self.con.execute(
            f"CREATE TABLE {KEY_MAP} AS SELECT id AS map_id, row_number() OVER (ORDER BY id) AS map_key FROM {traces}"
        )


def _parquet_source(files: list[Path], partition: str) -> str:
    listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    options = f"hive_partitioning = true, union_by_name = true, hive_types = {{'{partition}': VARCHAR}}"
    return f"read_parquet([{listing}], {options})"


def _view_column(name: str, type_: str, present: set[str]) -> str:
    value = f'"{name}"' if name in present else "NULL"
    return f'CAST({value} AS {type_}) AS "{name}"'
