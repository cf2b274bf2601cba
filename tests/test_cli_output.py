"""What the light commands print: whole trace ids at any width, list filters, reader markers, report JSON on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from agentmortem.cli.main import app

LONG_ID = "gemini-3-flash-preview/scenario-101/run-1-with-a-rather-long-suffix"


def _chat(trace_id: str, *, model: str, success: bool | None) -> str:
    line: dict = {"id": trace_id, "model": model, "messages": [
        {"role": "user", "content": "fix it"}, {"role": "assistant", "content": "done"}]}  # fmt: skip
    if success is not None:
        line["success"] = success
    return json.dumps(line)


@pytest.fixture
def listed_db(runner: CliRunner, db_path: str, tmp_path: Path) -> str:
    """Four traces: two models, success / failure / unknown outcomes, one annotated by 'mock'."""
    traces = tmp_path / "traces.jsonl"
    rows = [(LONG_ID, "m1", True), ("short-fail", "m1", False), ("other-model", "m2", True), ("no-outcome", "m2", None)]
    traces.write_text("\n".join(_chat(i, model=m, success=s) for i, m, s in rows) + "\n")
    assert runner.invoke(app, ["--db", db_path, "ingest", str(traces)]).exit_code == 0
    annotate = runner.invoke(app, ["--db", db_path, "annotate", "--model", "mock", "--trace", "short-fail", "--json"])
    assert annotate.exit_code == 0, annotate.output
    return db_path


def _ids(runner: CliRunner, db: str, *args: str) -> list[str]:
    result = runner.invoke(app, ["--db", db, "traces", "list", "--json", *args])
    assert result.exit_code == 0, result.output
    return [row["id"] for row in orjson.loads(result.stdout)]


def test_traces_list_filters_by_model_outcome_and_annotator(runner: CliRunner, listed_db: str):
    assert _ids(runner, listed_db) == [LONG_ID, "no-outcome", "other-model", "short-fail"]
    assert _ids(runner, listed_db, "--model", "m2") == ["no-outcome", "other-model"]
    assert _ids(runner, listed_db, "--outcome", "success") == [LONG_ID, "other-model"]
    assert _ids(runner, listed_db, "--outcome", "failure") == ["short-fail"]
    assert _ids(runner, listed_db, "--outcome", "unknown") == ["no-outcome"]
    assert _ids(runner, listed_db, "--annotator", "mock") == ["short-fail"]
    assert _ids(runner, listed_db, "--annotator", "nobody") == []
    assert _ids(runner, listed_db, "--model", "m1", "--outcome", "success") == [LONG_ID]
    bad = runner.invoke(app, ["--db", listed_db, "traces", "list", "--outcome", "won"])
    assert bad.exit_code == 2 and "won" in bad.stderr


@pytest.mark.parametrize("columns", ["40", "60", "200"])
def test_traces_list_never_cuts_an_id(runner: CliRunner, listed_db: str, columns: str):
    result = runner.invoke(app, ["--db", listed_db, "traces", "list"], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    assert LONG_ID in result.stdout  # whole, on one line
    assert "…" not in result.stdout
    assert "4 traces" in result.stdout
    if columns == "200":
        assert "left out" not in result.stdout and "annotators" in result.stdout
    else:
        assert "left out at this terminal width" in result.stdout


def test_traces_list_leaves_out_whole_columns_only_when_needed(runner: CliRunner, listed_db: str):
    result = runner.invoke(app, ["--db", listed_db, "traces", "list"], env={"COLUMNS": "100"})
    header = next(line for line in result.stdout.splitlines() if " id " in line)
    assert "model" in header and "success" in header  # kept first
    left_out = result.stdout.split("(", 1)[1].split(" left out", 1)[0].replace("\n", " ").split(", ")
    assert all(name in {"format", "system", "steps", "score", "annotators"} for name in left_out)
    assert all(name not in header for name in left_out)


def test_formats_prints_its_markers(runner: CliRunner):
    result = runner.invoke(app, ["formats"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "[agent]" in result.stdout


def test_report_json_without_a_file_writes_stdout(runner: CliRunner, listed_db: str, tmp_path: Path):
    bare = runner.invoke(app, ["--db", listed_db, "report", "--annotator", "mock", "--json"])
    assert bare.exit_code == 0, bare.output
    data = json.loads(bare.stdout)  # the whole of stdout is the JSON: no tables around it
    assert data["annotator"] == "mock"
    dash = runner.invoke(app, ["--db", listed_db, "report", "--json", "-", "--annotator", "mock"])
    assert json.loads(dash.stdout)["groups"] == data["groups"]
    md = tmp_path / "r.md"
    before_other = runner.invoke(app, ["--db", listed_db, "report", "--json", "--md", str(md), "-a", "mock"])
    assert json.loads(before_other.stdout)["annotator"] == "mock" and md.read_text().strip()
    to_file = runner.invoke(app, ["--db", listed_db, "report", "-a", "mock", "--json", str(tmp_path / "r.json")])
    assert to_file.exit_code == 0 and not to_file.stdout.lstrip().startswith("{")
    assert json.loads((tmp_path / "r.json").read_text())["groups"] == data["groups"]
