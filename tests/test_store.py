from pathlib import Path

import duckdb
import pytest

from agentmortem.model import Annotation, Evidence, ModeVerdict, Outcome, Trace, make_steps
from agentmortem.store import Store, StoreError
from agentmortem.store.migrations import MIGRATIONS


def _trace(trace_id: str = "t1", text: str = "hello", outcome: Outcome | None = None) -> Trace:
    steps = make_steps(
        [
            {"kind": "message", "role": "user", "content": text},
            {"kind": "tool_call", "tool_name": "shell", "tool_args": '{"cmd": "ls"}', "call_id": "c1"},
            {"kind": "tool_result", "call_id": "c1", "content": "a.txt", "is_error": True},
        ]
    )
    return Trace(id=trace_id, source_format="openai", model="m", steps=steps, outcome=outcome or Outcome())


def _annotation(trace_id: str = "t1", annotator: str = "judge", present: bool | None = True) -> Annotation:
    verdict = ModeVerdict(mode_id="FM-1.3", present=present, evidence=[Evidence(step=1, quote="ls")])
    return Annotation(
        trace_id=trace_id, annotator=annotator, annotator_kind="mock", taxonomy_version="v", verdicts=[verdict]
    )


def test_round_trip_keeps_every_field(store: Store):
    trace = _trace(outcome=Outcome(success=False, score=0.25, source="trace", metrics={"recall": 0.25}))
    store.add_traces([trace])
    loaded = store.get_trace("t1")
    assert loaded is not None
    assert loaded.model_dump(exclude={"fingerprint"}) == trace.model_dump(exclude={"fingerprint"})
    assert loaded.fingerprint == trace.fingerprint
    assert [s.pair_index for s in loaded.steps] == [None, 2, 1]


def test_ingest_is_idempotent_and_replaces_changed_content(store: Store):
    assert store.add_traces([_trace()]).added == 1
    assert store.add_traces([_trace()]).unchanged == 1
    store.put_annotations([_annotation()])
    stats = store.add_traces([_trace(text="changed")])
    assert (stats.added, stats.replaced) == (0, 1)
    assert store.count_traces() == 1
    assert store.get_trace("t1").steps[0].content == "changed"  # type: ignore[union-attr]
    # Annotations of the old content may cite steps that no longer say the same thing: they go.
    assert store.get_annotations() == []
    assert store.con.execute("SELECT count(*) FROM steps").fetchone() == (3,)


def test_unchanged_trace_still_takes_a_newly_known_outcome(store: Store):
    store.add_traces([_trace()])
    store.add_traces([_trace(outcome=Outcome(success=True, score=1.0, source="file:x.csv"))])
    assert store.get_trace("t1").outcome.success is True  # type: ignore[union-attr]


def test_failed_batch_leaves_nothing_half_written(store: Store, monkeypatch: pytest.MonkeyPatch):
    def broken_steps(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("agentmortem.store.store._steps_table", broken_steps)
    with pytest.raises(RuntimeError):
        store.add_traces([_trace("a"), _trace("b")])
    assert store.count_traces() == 0
    assert store.con.execute("SELECT count(*) FROM outcomes").fetchone() == (0,)


def test_annotations_side_by_side_and_replaced_per_annotator(store: Store):
    store.add_traces([_trace()])
    store.put_annotations([_annotation(annotator="a"), _annotation(annotator="b", present=False)])
    store.put_annotations([_annotation(annotator="a", present=None)])
    by_annotator = {a.annotator: a for a in store.get_annotations()}
    assert set(by_annotator) == {"a", "b"}
    assert by_annotator["a"].verdicts[0].present is None
    assert by_annotator["b"].verdicts[0].present is False
    assert by_annotator["b"].verdicts[0].evidence == [Evidence(step=1, quote="ls")]
    assert [s.annotator for s in store.annotators()] == ["a", "b"]
    assert store.annotated_trace_ids("a") == {"t1"}


def test_migrations_recorded_and_applied_once(tmp_path: Path):
    path = tmp_path / "m.duckdb"
    Store(path).close()
    with Store(path) as store:
        assert store.applied_migrations() == sorted(name for name, _ in MIGRATIONS)


def test_unopenable_store_is_one_line_error(tmp_path: Path):
    bad = tmp_path / "not-a-db.duckdb"
    bad.write_bytes(b"this is not a duckdb file at all" * 100)
    with pytest.raises(StoreError) as info:
        Store(bad)
    assert str(bad) in str(info.value)
    assert "\n" not in str(info.value)


def test_list_traces_summary(store: Store):
    store.add_traces([_trace("b"), _trace("a", outcome=Outcome(success=True, score=0.9))])
    store.put_annotations([_annotation("a")])
    rows = store.list_traces()
    assert [r.id for r in rows] == ["a", "b"]
    assert rows[0].success is True and rows[0].annotators == ("judge",)
    assert rows[1].n_steps == 3


def test_store_file_is_plain_duckdb(tmp_path: Path):
    path = tmp_path / "plain.duckdb"
    with Store(path) as store:
        store.add_traces([_trace()])
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT id, n_steps FROM traces").fetchall() == [("t1", 3)]


def test_traces_and_their_annotations_are_written_together(store: Store, monkeypatch: pytest.MonkeyPatch):
    stats = store.add_traces([_trace("a")], annotations=[_annotation("a")])
    assert stats.added == 1 and [a.annotator for a in store.get_annotations()] == ["judge"]
    # Re-ingesting the unchanged trace with a new verdict replaces the annotation, not duplicates it.
    store.add_traces([_trace("a")], annotations=[_annotation("a", present=False)])
    assert [v.present for a in store.get_annotations() for v in a.verdicts] == [False]

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("agentmortem.store.store._verdicts_table", broken)
    with pytest.raises(RuntimeError):
        store.add_traces([_trace("b")], annotations=[_annotation("b")])
    assert store.trace_ids() == ["a"]  # the trace went with its failed annotation
