"""Integer trace keys (migration 012_trace_keys): written with every row, backfilled for an older store."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import orjson

from agentmortem.analysis import build_report
from agentmortem.model import Annotation, Evidence, ModeVerdict, Outcome, Trace, make_steps
from agentmortem.report import ReportSettings
from agentmortem.report.json import render_json
from agentmortem.store import Store
from agentmortem.store.migrations import KEYED_TABLES, MIGRATIONS

MODES = ["FM-1.1", "FM-1.3", "FM-2.6", "FM-3.3"]


def _fill(store: Store, n: int = 60) -> None:
    rng = random.Random(3)
    traces = [
        Trace(id=f"k{i:03d}", source_format="openai", model=rng.choice(["a", "b"]),
              steps=make_steps([{"kind": "message", "role": "user", "content": f"step of {i}"}] * (2 + i % 4)),
              outcome=Outcome(success=rng.random() < 0.5, score=rng.random()))
        for i in range(n)
    ]  # fmt: skip
    store.add_traces(traces)
    store.put_annotations(
        [
            Annotation(trace_id=t.id, annotator="judge", annotator_kind="mock", taxonomy_version="1",
                       status="failed" if i % 17 == 0 else "ok",
                       verdicts=[ModeVerdict(mode_id=m, present=rng.random() < 0.4,
                                             evidence=[Evidence(step=rng.randrange(2), quote="step")]) for m in MODES])
            for i, t in enumerate(traces)
        ]
    )  # fmt: skip


def _report(store: Store) -> dict:
    report = orjson.loads(render_json(build_report(store, annotator="judge", settings=ReportSettings())))
    assert report.pop("generated_at")
    return report


def _keys_agree(store: Store) -> None:
    for table in KEYED_TABLES:
        mismatched = store.con.execute(
            f"""SELECT count(*) FROM {table} x LEFT JOIN traces t ON t.id = x.trace_id
                WHERE x.trace_key IS DISTINCT FROM t.trace_key"""
        ).fetchall()
        assert mismatched == [(0,)], table
    distinct = store.con.execute("SELECT count(DISTINCT trace_key) = count(*) FROM traces").fetchall()
    assert distinct == [(True,)]


def test_every_written_row_carries_its_traces_key(store: Store):
    _fill(store)
    store.set_outcomes([("k001", Outcome(success=True))])
    _keys_agree(store)
    # A replaced trace gets a new key, and its new steps carry it.
    before = store.con.execute("SELECT trace_key FROM traces WHERE id = 'k002'").fetchall()
    changed = Trace(id="k002", source_format="openai", steps=make_steps([{"kind": "message", "content": "new"}]))
    assert store.add_traces([changed]).replaced == 1
    assert store.con.execute("SELECT trace_key FROM traces WHERE id = 'k002'").fetchall() != before
    _keys_agree(store)


def test_annotation_stored_before_its_trace_gets_the_key_when_the_trace_comes(store: Store):
    early = Annotation(trace_id="late", annotator="judge", annotator_kind="mock", taxonomy_version="1",
                       verdicts=[ModeVerdict(mode_id="FM-1.1", present=True)])  # fmt: skip
    store.put_annotations([early])
    assert store.con.execute("SELECT trace_key FROM annotations").fetchall() == [(None,)]
    store.add_traces([Trace(id="late", source_format="openai", steps=make_steps([{"kind": "message"}]))])
    _keys_agree(store)
    (found,) = store.get_annotations(trace_ids=["late"])
    assert found.verdicts == early.verdicts
    assert store.annotated_trace_ids("judge") == {"late"}
    assert store.signature_tables("judge", MODES).masks == [("(none)", "u", 1, 1, 1)]


def _older_store(path: Path, source: Store) -> None:
    """A store as an agentmortem before 012 left it, holding `source`'s rows (without keys)."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE _migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
    for name, step in MIGRATIONS:
        if name == "012_trace_keys":
            break
        assert isinstance(step, str)
        con.execute(step)
        con.execute("INSERT INTO _migrations VALUES (?, now())", [name])
    con.execute(f"ATTACH '{source.path}' AS src (READ_ONLY)")
    # Rows in an order unlike the keys', as an older store may hold them.
    con.execute("INSERT INTO traces SELECT * EXCLUDE (trace_key) FROM src.traces ORDER BY id DESC")
    for table in KEYED_TABLES:
        con.execute(f"INSERT INTO {table} SELECT * EXCLUDE (trace_key) FROM src.{table} ORDER BY random()")
    con.close()


def test_migration_keys_an_older_store_reporting_progress_and_the_report_is_unchanged(store: Store, tmp_path: Path):
    _fill(store)
    expected = _report(store)
    trace = store.get_trace("k010")
    store.close()
    old = tmp_path / "old.duckdb"
    with Store(store.path, read_only=True) as source:
        _older_store(old, source)
    lines: list[str] = []
    with Store(old, progress=lines.append) as migrated:
        assert "012_trace_keys" in migrated.applied_migrations()
        _keys_agree(migrated)
        # Steps are rewritten in key order, so one trace's steps sit together.
        order = migrated.con.execute("SELECT trace_key, idx FROM steps").fetchall()
        assert order == sorted(order)
        assert migrated.get_trace("k010") == trace
        assert _report(migrated) == expected
        # New traces draw keys after the backfilled ones.
        migrated.add_traces([Trace(id="new", source_format="openai", steps=make_steps([{"kind": "message"}]))])
        _keys_agree(migrated)
    assert [line.split(":")[1].strip() for line in lines] == ["traces", *KEYED_TABLES]
    assert all(line.startswith("012_trace_keys: ") and " in " in line for line in lines)


def test_interrupted_migration_leaves_the_older_store_as_it_was(store: Store, tmp_path: Path, monkeypatch):
    _fill(store, n=10)
    store.close()
    old = tmp_path / "old.duckdb"
    with Store(store.path, read_only=True) as source:
        _older_store(old, source)

    def interrupt_after_annotations(message: str) -> None:
        if "annotations:" in message:
            raise KeyboardInterrupt

    try:
        Store(old, progress=interrupt_after_annotations)
    except KeyboardInterrupt:
        pass
    con = duckdb.connect(str(old))
    assert "012_trace_keys" not in {r[0] for r in con.execute("SELECT name FROM _migrations").fetchall()}
    assert "trace_key" not in {r[0] for r in con.execute("DESCRIBE steps").fetchall()}
    assert con.execute("SELECT count(*) FROM steps").fetchall()[0][0] > 0
    con.close()
    with Store(old) as retried:
        _keys_agree(retried)
