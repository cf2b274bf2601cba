"""Parquet interchange: `Store.export_parquet`, `Store.from_parquet` and `agentmortem export`."""

import random
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from agentmortem.analysis import build_report
from agentmortem.cli.main import app
from agentmortem.model import Annotation, Evidence, ModeVerdict, Outcome, Trace, make_steps
from agentmortem.report import ReportSettings
from agentmortem.report.json import render_json
from agentmortem.store import Store, StoreError

# Model names that a naive hive layout would break: a slash, text that looks like a number, escapes, no model.
MODELS = ["openai/gpt-4o", "123", "x=y z%", None]


def _trace(i: int, model: str | None) -> Trace:
    steps = make_steps(
        [
            {"kind": "message", "role": "user", "content": f"task {i}", "timestamp": datetime(2025, 1, 2, tzinfo=UTC)},
            {"kind": "tool_call", "tool_name": "shell", "tool_args": '{"cmd": "ls"}', "call_id": "c1"},
            {"kind": "tool_result", "call_id": "c1", "content": "boom", "is_error": True, "input_tokens": 7},
        ]
    )
    outcome = Outcome(success=i % 2 == 0, score=i / 10, source="trace", metrics={"recall": i / 10})
    return Trace(id=f"t{i}", source_format="openai", model=model, steps=steps, outcome=outcome, metadata={"i": i})


def _annotation(i: int, annotator: str) -> Annotation:
    verdicts = [
        ModeVerdict(mode_id="FM-1.3", present=True, confidence=0.5, evidence=[Evidence(step=1, quote="ls")]),
        ModeVerdict(mode_id="FM-2.6", present=i % 3 == 0, flags=["no-evidence"]),
    ]
    return Annotation(
        trace_id=f"t{i}", annotator=annotator, annotator_kind="mock", taxonomy_version="v1", verdicts=verdicts,
        usage={"requests": 1}, created_at=datetime(2025, 3, 4, 5, 6, 7),
    )  # fmt: skip


@pytest.fixture
def filled(store: Store) -> Store:
    store.add_traces([_trace(i, MODELS[i % len(MODELS)]) for i in range(12)])
    store.put_annotations([_annotation(i, name) for i in range(12) for name in ("judge-a", "judge/b")])
    return store


def test_export_then_views_read_back_exactly_what_the_store_holds(filled: Store, tmp_path: Path):
    counts = filled.export_parquet(tmp_path / "pq")
    assert counts == {"traces": 12, "steps": 36, "outcomes": 12, "annotations": 24, "verdicts": 48}
    with Store.from_parquet(tmp_path / "pq") as parquet:
        assert list(parquet.iter_traces()) == list(filled.iter_traces())
        assert parquet.get_annotations() == filled.get_annotations()
        assert parquet.list_traces() == filled.list_traces()
        assert parquet.annotators() == filled.annotators()
        assert {t.model for t in parquet.iter_traces()} == set(MODELS)
        kinds = dict(parquet.con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall())
        assert kinds["traces"] == kinds["verdicts"] == "VIEW"  # read in place, not imported


def test_layout_is_one_folder_per_table_partitioned_by_model_or_annotator(filled: Store, tmp_path: Path):
    filled.export_parquet(tmp_path / "pq")
    tmp_path = tmp_path / "pq"
    folders = {p.name for p in tmp_path.iterdir()}
    assert folders == {"traces", "steps", "outcomes", "annotations", "verdicts"}
    assert {p.name for p in (tmp_path / "steps").iterdir()} == {
        "model=openai%2Fgpt-4o", "model=123", "model=x%3Dy%20z%25", "model=__HIVE_DEFAULT_PARTITION__",
    }  # fmt: skip
    assert {p.name for p in (tmp_path / "verdicts").iterdir()} == {"annotator=judge-a", "annotator=judge%2Fb"}


def test_existing_export_is_refused_unless_overwritten_and_stale_tables_go(filled: Store, tmp_path: Path):
    filled.export_parquet(tmp_path)
    with pytest.raises(StoreError, match="already holds an export"):
        filled.export_parquet(tmp_path)
    filled.con.execute("DELETE FROM verdicts")
    filled.con.execute("DELETE FROM annotations")
    assert filled.export_parquet(tmp_path, overwrite=True)["annotations"] == 0
    assert not (tmp_path / "annotations").exists()  # no older files left to resurrect old annotations
    with Store.from_parquet(tmp_path) as parquet:
        assert parquet.get_annotations() == []
        assert parquet.count_traces() == 12


def test_a_folder_that_is_no_export_gives_one_line_error(tmp_path: Path):
    (tmp_path / "other").mkdir()
    with pytest.raises(StoreError, match=r"not a Parquet export") as caught:
        Store.from_parquet(tmp_path)
    assert str(tmp_path) in str(caught.value) and "\n" not in str(caught.value)


def test_export_predating_a_column_reads_it_as_null(filled: Store, tmp_path: Path):
    filled.export_parquet(tmp_path)
    # Rewrite one partition without `summary`, as an export written before that column existed would be.
    part = next((tmp_path / "annotations").glob("annotator=judge-a/*.parquet"))
    filled.con.execute(
        f"COPY (SELECT * EXCLUDE (summary) FROM read_parquet('{part}')) TO '{part}.new' (FORMAT PARQUET)"
    )
    Path(f"{part}.new").replace(part)
    with Store.from_parquet(tmp_path) as parquet:
        summaries = {a.annotator: a.summary for a in parquet.get_annotations(trace_ids=["t0"])}
    assert summaries == {"judge-a": "", "judge/b": ""}


def test_export_command_writes_and_reports_counts(filled: Store, runner, tmp_path: Path):
    db = filled.path
    filled.close()
    result = runner.invoke(app, ["--db", db, "export", "--parquet", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["rows"]["steps"] == 36
    again = runner.invoke(app, ["--db", db, "export", "--parquet", str(tmp_path / "out")])
    assert again.exit_code == 1
    assert "already holds an export" in again.stderr and "--overwrite" in again.stderr


def _study(store: Store) -> None:
    """300 traces over three models (one unnamed) with outcomes, scores and a scenario, judged on five modes."""
    rng = random.Random(7)
    traces = []
    for i in range(300):
        steps = make_steps([{"kind": "message", "role": "user", "content": f"incident {i}"}] * 4)
        outcome = Outcome(success=rng.random() < 0.4, score=rng.random(), source="itbench-scorer")
        traces.append(
            Trace(id=f"r{i:03d}", source_format="codex", model=rng.choice(["gemini-3-flash", "kimi/k2", None]),
                  steps=steps, outcome=outcome, metadata={"itbench": {"scenario": str(i % 7)}})
        )  # fmt: skip
    store.add_traces(traces)
    modes = ["FM-1.1", "FM-1.3", "FM-1.4", "FM-2.6", "FM-3.3"]
    store.put_annotations(
        [
            Annotation(
                trace_id=t.id,
                annotator="judge",
                annotator_kind="llm",
                taxonomy_version="1",
                status="failed" if i % 50 == 0 else "ok",
                verdicts=[
                    ModeVerdict(
                        mode_id=m,
                        present=rng.random() < 0.35,
                        evidence=[Evidence(step=rng.randrange(4), quote="incident")],
                    )
                    for m in modes
                ],
            )  # fmt: skip
            for i, t in enumerate(traces)
        ]
    )


@pytest.mark.parametrize("group_by", ["model", "metadata.itbench.scenario"])
def test_report_from_parquet_equals_report_from_store(store: Store, runner, tmp_path: Path, group_by: str):
    _study(store)
    db = store.path
    store.close()
    exported = runner.invoke(app, ["--db", db, "export", "--parquet", str(tmp_path / "pq")])
    assert exported.exit_code == 0, exported.output
    from_store = runner.invoke(app, ["--db", db, "report", "-g", group_by, "-q", "--json", str(tmp_path / "a.json")])
    assert from_store.exit_code == 0, from_store.output
    # No --db store exists for this one: the report must come from the Parquet files alone.
    from_parquet = runner.invoke(
        app, ["--db", str(tmp_path / "absent.duckdb"), "report", "--from-parquet", str(tmp_path / "pq"), "-g",
              group_by, "-q", "--json", str(tmp_path / "b.json")],
    )  # fmt: skip
    assert from_parquet.exit_code == 0, from_parquet.output
    assert not (tmp_path / "absent.duckdb").exists()
    a, b = (orjson.loads((tmp_path / name).read_bytes()) for name in ("a.json", "b.json"))
    assert a.pop("generated_at") and b.pop("generated_at")
    assert a == b
    assert a["totals"]["traces_in_store"] == 300 and a["totals"]["failed_annotations"] == 6


def test_report_from_a_folder_that_is_no_export_fails_in_one_line(runner, tmp_path: Path):
    result = runner.invoke(app, ["report", "--from-parquet", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a Parquet export" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def _report_json(store: Store) -> dict:
    report = orjson.loads(
        render_json(build_report(store, annotator="judge", settings=ReportSettings(max_drilldown=20)))
    )
    assert report.pop("generated_at")
    return report


def test_export_predating_trace_keys_reads_back_and_reports_the_same(store: Store, tmp_path: Path):
    # An export written before migration 012 has no trace_key column: the views number its traces by id.
    _study(store)
    store.export_parquet(tmp_path / "pq")
    for part in (tmp_path / "pq").rglob("*.parquet"):
        store.con.execute(
            f"COPY (SELECT * EXCLUDE (trace_key) FROM read_parquet('{part}')) TO '{part}.new' (FORMAT PARQUET)"
        )
        Path(f"{part}.new").replace(part)
    with Store.from_parquet(tmp_path / "pq") as parquet:
        assert "trace_key" not in {r[0] for r in parquet.con.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{next((tmp_path / 'pq' / 'steps').rglob('*.parquet'))}')"
        ).fetchall()}  # fmt: skip
        assert parquet.con.execute("SELECT count(*) FROM steps WHERE trace_key IS NULL").fetchall() == [(0,)]
        assert list(parquet.iter_traces(["r007", "r123"])) == list(store.iter_traces(["r007", "r123"]))
        assert parquet.get_annotations(trace_ids=["r042"]) == store.get_annotations(trace_ids=["r042"])
        assert _report_json(parquet) == _report_json(store)
