"""Files beside the traces (labels, ground truths, outcomes): recognised by content, noted, never errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentmortem.cli.main import app
from agentmortem.ingest import ingest
from agentmortem.outcomes.itbench import load_ground_truths
from agentmortem.readers import read_head
from agentmortem.readers.side_files import recognise
from agentmortem.store import Store
from conftest import FIXTURES, shared_data

CHAT = json.dumps({"id": "t1", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]})


def _side(path: Path, text: str) -> str | None:
    path.write_text(text)
    side = recognise(path, read_head(path))
    return None if side is None else side.use


@pytest.mark.parametrize(
    ("name", "text", "command"),
    [
        ("l.jsonl", '{"trace_id": "a", "annotator": "me", "labels": {"1.1": 1}}\n', "import-labels"),
        ("whatever.json", '[{"trace_id": "a", "labels": {"FM-1.1": 0}}]', "import-labels"),
        ("o.jsonl", '{"trace_id": "a", "success": true}\n{"trace_id": "b", "score": 0.5}\n', "--outcomes"),
        ("o.csv", "trace_id,success,score\na,1,0.9\n", "--outcomes"),
        ("o.tsv", "Trace_ID\tScore\na\t0.2\n", "--outcomes"),
        ("gt.yaml", "groups:\n  - id: g1\n    kind: Service\n    root_cause: true\n", "--ground-truth"),
        ("gt2.yml", "apiVersion: itbench.io/v2\nkind: GroundTruth\nspec:\n  entities: []\n", "--ground-truth"),
        ("all.json", '[{"id": "1", "groups": [{"id": "g", "root_cause": true}]}]', "--ground-truth"),
        ("agent_output.json", '{"entities": [], "propagations": [], "alerts_explained": []}', "run folder"),
        ("judge_output.json", '{"scores": {"root_cause_entity": 100}, "justification": "ok"}', "run folder"),
    ],
)
def test_side_files_are_recognised_by_content(tmp_path: Path, name: str, text: str, command: str) -> None:
    use = _side(tmp_path / name, text)
    assert use is not None and command in use


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("chat.jsonl", CHAT + "\n"),  # a trace, even with a trace_id key beside its messages
        ("chat2.json", json.dumps({"trace_id": "x", "success": True, "messages": [{"role": "user", "content": "q"}]})),
        ("table.csv", "name,value\na,1\n"),
        ("config.yaml", "model: gpt-4o\ntemperature: 0\n"),
        ("rows.jsonl", '{"trace_id": "a", "comment": "fine"}\n'),
    ],
)
def test_other_files_are_not_taken_for_side_files(tmp_path: Path, name: str, text: str) -> None:
    assert _side(tmp_path / name, text) is None


def test_a_data_folder_with_side_files_ingests_cleanly(tmp_path: Path, store: Store) -> None:
    (tmp_path / "traces.jsonl").write_text(CHAT + "\n")
    (tmp_path / "labels.jsonl").write_text('{"trace_id": "t1", "annotator": "me", "labels": {"1.1": 1}}\n')
    (tmp_path / "outcomes.csv").write_text("trace_id,success\nt1,yes\n")
    shutil.copy(FIXTURES / "outcomes" / "gt_aliases.yaml", tmp_path / "scenario_4_groundtruth_v1.yaml")
    (tmp_path / "notes.md").write_text("# not a trace, not a side file: skipped silently\n")
    report = ingest([tmp_path], store)
    assert (report.errors, report.read, report.added) == ([], 1, 1)
    skipped = {side.path.name: side.use for side in report.skipped}
    assert set(skipped) == {"labels.jsonl", "outcomes.csv", "scenario_4_groundtruth_v1.yaml"}
    assert "import-labels" in skipped["labels.jsonl"] and "--outcomes" in skipped["outcomes.csv"]


def test_a_side_file_named_explicitly_is_noted_not_an_error(tmp_path: Path, db_path: str, runner: CliRunner) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"trace_id": "t1", "annotator": "me", "labels": {"1.1": 1}}\n')
    result = runner.invoke(app, ["--db", db_path, "ingest", str(labels)])
    assert result.exit_code == 0, result.output
    assert f"note: {labels}: skipped, failure label rows by 'me'; import them: agentmortem import-labels" in (
        result.stderr
    )
    assert "1 non-trace files skipped; 0 errors" in result.stdout


def test_analyze_the_shared_data_exits_0_and_names_what_it_skipped(db_path: str, runner: CliRunner) -> None:
    data = shared_data()
    result = runner.invoke(app, ["--db", db_path, "analyze", str(data), "--quiet"])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert any("mad-openai/labels.jsonl: skipped, failure label rows by 'mad-o1'" in line for line in notes)
    ground_truths = [line for line in notes if "ITBench ground truth" in line]
    assert len(ground_truths) == len(list((data / "itbench" / "ground_truth").iterdir())) == 7
    assert not [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "8 non-trace files skipped; 0 errors" in result.stderr


# --- --ground-truth with a folder --------------------------------------------------------------------------------


def test_a_ground_truth_folder_prefers_the_newest_file_per_scenario() -> None:
    folder = shared_data("itbench", "ground_truth")
    truths = load_ground_truths(folder)
    assert len(truths) == 44  # ground_truths.json's scenarios, with the per-scenario files over them
    v2 = load_ground_truths(folder / "scenario_2_groundtruth_v2.yaml")["2"]
    assert truths["2"] == v2
    listed = load_ground_truths(folder / "ground_truths.json")
    assert truths["10"] == listed["10"]


def test_a_bad_file_in_a_ground_truth_folder_is_named_and_the_rest_used(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "outcomes" / "gt_aliases.yaml", tmp_path / "scenario_4_groundtruth_v1.yaml")
    (tmp_path / "scenario_5_groundtruth_v1.yaml").write_text("groups: [unclosed\n")
    errors: list = []
    truths = load_ground_truths(tmp_path, errors=errors)
    assert list(truths) == ["4"]
    assert len(errors) == 1 and "scenario_5_groundtruth_v1.yaml" in str(errors[0])


def test_ingest_scores_itbench_runs_with_a_ground_truth_folder(store: Store) -> None:
    run = shared_data("itbench", "agent_outputs")
    report = ingest([run], store, ground_truth=shared_data("itbench", "ground_truth"))
    assert report.errors == []
    (trace,) = store.iter_traces()
    assert (trace.outcome.source, trace.outcome.score) == ("itbench-scorer", 1.0)


def test_score_itbench_without_the_runs_scenario_exits_non_zero(runner: CliRunner) -> None:
    run = shared_data("itbench", "agent_outputs")
    other = shared_data("itbench", "ground_truth", "scenario_1_groundtruth_v1.yaml")
    result = runner.invoke(app, ["score-itbench", str(run), "--ground-truth", str(other)])
    assert result.exit_code == 1
    assert "error: scenario-2/run-1: no ground truth for scenario '2'" in result.stderr
    folder = runner.invoke(app, ["score-itbench", str(run), "--ground-truth", str(other.parent), "--json"])
    assert folder.exit_code == 0, folder.output
    (row,) = json.loads(folder.stdout)
    assert row["recall"] == 1.0 and "differs from what the session wrote" in row["warnings"][0]
    assert "warning: scenario-2/run-1: agent_output.json differs from what the session wrote" in folder.stderr
