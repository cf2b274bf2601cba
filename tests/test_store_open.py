"""How stores open: read-only commands never create or write one, and a store in use says so.

CI runs as root, whom file permissions do not stop, so "nothing was written" is checked on the bytes and the
modification time of the store (and on the absence of a WAL file), and a real read-only file system is made with a
bind mount in a private mount namespace (`unshare -rm`) where the machine allows it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from agentmortem.cli.main import app
from agentmortem.ingest import ingest
from agentmortem.judges import get_judge
from agentmortem.store import Store, StoreError, StoreInUseError
from agentmortem.taxonomy import mast
from conftest import FIXTURES

CLI = [sys.executable, "-m", "agentmortem.cli.main"]
READ_COMMANDS = [
    ["traces", "list"],
    ["traces", "show", "conv-1"],
    ["annotations", "list"],
    ["report", "--quiet", "-a", "detectors"],
    ["agree", "-a", "detectors", "-r", "reviewer", "--bootstrap", "50"],
]


def _fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.fixture
def filled_store(tmp_path: Path) -> Path:
    path = tmp_path / "store" / "filled.duckdb"
    path.parent.mkdir()
    detectors = get_judge("detectors")
    with Store(path) as store:
        report = ingest(
            [FIXTURES / "openai" / "conversation.jsonl"],
            store,
            annotate=lambda trace: detectors.annotate(trace, mast()),
        )
        assert report.errors == [] and report.annotated == 3
        reviewed = [
            a.model_copy(update={"annotator": "reviewer"}) for a in store.get_annotations(annotator="detectors")
        ]
        store.put_annotations(reviewed)
    return path


@pytest.fixture
def read_only_store(filled_store: Path) -> Iterator[Path]:
    """The store with read-only permissions, and held by another process's read-only connection.

    Root ignores the permissions, but not DuckDB's file lock: while another process reads the store, only a
    read-only open succeeds, so a command that works here opened the store read-only.
    """
    filled_store.chmod(0o444)
    filled_store.parent.chmod(0o555)
    with _holder(filled_store, read_only=True):
        yield filled_store
    filled_store.parent.chmod(0o755)
    filled_store.chmod(0o644)


@pytest.mark.parametrize("command", [*READ_COMMANDS, ["export", "--parquet", "out"]], ids=lambda c: " ".join(c))
def test_read_only_commands_never_create_a_store(command: list[str], tmp_path: Path, runner: CliRunner) -> None:
    missing = tmp_path / "missing.duckdb"
    command = [str(tmp_path / "out") if part == "out" else part for part in command]
    result = runner.invoke(app, ["--db", str(missing), *command])
    assert result.exit_code == 1
    assert f"error: {missing}: no store: the path does not exist" in result.stderr
    assert not missing.exists() and not (tmp_path / "missing.duckdb.wal").exists()


def test_a_folder_given_as_store_is_named(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store: the path is not a file"):
        Store(tmp_path, read_only=True)


def test_a_duckdb_file_of_something_else_is_not_taken_for_a_store(tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    before = _fingerprint(other)
    with pytest.raises(StoreError, match="not an agentmortem store"):
        Store(other, read_only=True)
    assert _fingerprint(other) == before


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c))
def test_read_only_store_is_read_and_left_untouched(
    command: list[str], read_only_store: Path, runner: CliRunner
) -> None:
    before = _fingerprint(read_only_store)
    result = runner.invoke(app, ["--db", str(read_only_store), *command])
    assert result.exit_code == 0, result.output
    assert _fingerprint(read_only_store) == before
    assert sorted(p.name for p in read_only_store.parent.iterdir()) == [read_only_store.name]


def _as_before_006(path: Path) -> None:
    """Make the store look like one written before migration 006."""
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE outcomes DROP COLUMN warnings")
    con.execute("DELETE FROM _migrations WHERE name = '006_outcome_warnings'")
    con.close()


def test_store_from_an_older_version_is_upgraded_before_reading(filled_store: Path) -> None:
    _as_before_006(filled_store)
    with Store(filled_store, read_only=True) as store:
        assert "006_outcome_warnings" in store.applied_migrations()
        assert store.get_trace("conv-1") is not None


def _unshare_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _unshare_available(), reason="no private mount namespace here (unshare -rm fails)")
def test_store_on_a_read_only_file_system(filled_store: Path, tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    mount.mkdir()
    store = mount / filled_store.name
    before = _fingerprint(filled_store)
    script = (
        f'mount --bind -o ro "{filled_store.parent}" "{mount}" && '
        f'{" ".join(CLI)} --db "{store}" traces list --json > "{tmp_path / "list.json"}" && '
        f'{{ {" ".join(CLI)} --db "{store}" ingest "{FIXTURES / "openai" / "who_when.json"}"; echo "ingest=$?"; }}'
    )
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert '"id": "conv-1"' in (tmp_path / "list.json").read_text()
    assert "ingest=1" in result.stdout
    assert f"error: {store}: cannot open the store for writing: read-only file system" in result.stderr
    assert _fingerprint(filled_store) == before


@pytest.mark.skipif(not _unshare_available(), reason="no private mount namespace here (unshare -rm fails)")
def test_an_older_store_on_a_read_only_file_system_is_refused_in_one_line(filled_store: Path, tmp_path: Path) -> None:
    _as_before_006(filled_store)
    mount = tmp_path / "ro"
    mount.mkdir()
    store = mount / filled_store.name
    script = f'mount --bind -o ro "{filled_store.parent}" "{mount}" && {" ".join(CLI)} --db "{store}" report'
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {store}: store written by an older agentmortem lacks 006_outcome_warnings and "
        "cannot be upgraded here (cannot open the store for writing: read-only file system); copy it somewhere "
        "writable and open the copy"
    )


# --- two processes ---------------------------------------------------------------------------------------------

HOLD = """
import sys
from agentmortem.store import Store
store = Store(sys.argv[1], read_only=sys.argv[2] == "read-only")
print("open", flush=True)
sys.stdin.read()
store.close()
"""


@contextmanager
def _holder(path: Path, *, read_only: bool) -> Iterator[int]:
    """Another process holding the store open (for writing, as a running ingest does, or for reading)."""
    mode = "read-only" if read_only else "write"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "open\n"
    yield holder.pid
    holder.communicate("", timeout=30)
    assert holder.returncode == 0


@pytest.fixture
def held_store(filled_store: Path) -> Iterator[tuple[Path, int]]:
    """The store held open for writing by another process."""
    with _holder(filled_store, read_only=False) as pid:
        yield filled_store, pid


@pytest.mark.parametrize("command", [["ingest", "who_when.json"], ["traces", "list"]], ids=lambda c: c[0])
def test_a_store_in_use_by_another_process_is_named_with_its_pid(
    command: list[str], held_store: tuple[Path, int]
) -> None:
    path, pid = held_store
    command = [str(FIXTURES / "openai" / part) if part.endswith(".json") else part for part in command]
    result = subprocess.run([*CLI, "--db", str(path), *command], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {path}: store is in use by another agentmortem process (pid {pid}); "
        "wait for it to finish or give another --db"
    )


def test_store_in_use_is_its_own_error(held_store: tuple[Path, int]) -> None:
    path, pid = held_store
    with pytest.raises(StoreInUseError, match=f"pid {pid}"):
        Store(path)


@pytest.mark.parametrize("db_args", [["--db", "missing.duckdb"], ["--db=missing.duckdb"]])
def test_db_after_the_command_is_the_same_option(tmp_path: Path, db_args: list[str]) -> None:
    """`traces list --db missing.duckdb` (the option after the command, as users type it) names the missing store."""
    done = subprocess.run([*CLI, "traces", "list", *db_args], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert "missing.duckdb: no store" in done.stderr
    assert "No such option" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_moving_global_options_keeps_everything_else_in_order() -> None:
    from agentmortem.cli.main import global_options_first

    args = ["report", "-a", "x", "--db", "s.duckdb", "--json", "--", "--db", "literal"]
    assert global_options_first(args) == ["--db", "s.duckdb", "report", "-a", "x", "--json", "--", "--db", "literal"]
