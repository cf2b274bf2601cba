"""Outcome precedence (file > ITBench judge > ITBench scorer > trace), thresholds, judge files, and ingest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import agentmortem.cli.ingest_cmd  # noqa: F401  (registers the ingest command)
from agentmortem.cli.app import app
from agentmortem.ingest import ingest
from agentmortem.model import Outcome, Trace
from agentmortem.outcomes import finalize_outcome, load_ground_truths
from agentmortem.outcomes.itbench import judge_outcome
from agentmortem.store import Store
from conftest import FIXTURES

TRUTHS = load_ground_truths(FIXTURES / "outcomes" / "scenarios.json")
FOUND = {"entities": [{"name": "otel-demo/ConfigMap/flagd-config", "contributing_factor": True}]}
JUDGED_MISS = {"scores": {"root_cause_entity": 0, "root_cause_reasoning": 0}, "judge_model": "j", "error": None}


def make_trace(*, judge: Any = None, primary: bool = True, trace_fields: Outcome | None = None) -> Trace:
    itbench: dict[str, Any] = {"scenario": "2", "run": "1", "primary": primary, "agent_output": FOUND}
    if judge is not None:
        itbench["judge_output"] = judge
    return Trace(
        id="m/scenario-2/run-1", source_format="codex", metadata={"itbench": itbench},
        outcome=trace_fields or Outcome(score=0.3),
    )  # fmt: skip


def settle(trace: Trace, external: dict[str, Outcome] | None = None, **kw: Any) -> Outcome:
    finalize_outcome(trace, external=external or {}, success_threshold=0.5, **kw)
    return trace.outcome


def test_file_beats_everything() -> None:
    external = {"m/scenario-2/run-1": Outcome(success=True, source="file:x.csv")}
    outcome = settle(make_trace(judge=JUDGED_MISS), external, ground_truths=TRUTHS)
    assert (outcome.source, outcome.success, outcome.score) == ("file:x.csv", True, None)
    assert external["m/scenario-2/run-1"].metrics == {}  # the shared table is not mutated


def test_judge_beats_scorer_and_trace() -> None:
    outcome = settle(make_trace(judge=JUDGED_MISS), ground_truths=TRUTHS)
    assert (outcome.source, outcome.score, outcome.success) == ("itbench-judge", 0.0, False)
    assert outcome.metrics == {"root_cause_entity": 0, "root_cause_reasoning": 0, "judge_model": "j"}


def test_scorer_beats_trace_fields() -> None:
    outcome = settle(make_trace(), ground_truths=TRUTHS)
    assert (outcome.source, outcome.score, outcome.success) == ("itbench-scorer", 1.0, True)
    assert outcome.metrics["matched_groups"] == ["flagd-config"]


def test_trace_fields_last() -> None:
    outcome = settle(make_trace())  # no ground truth given, no judge file
    assert (outcome.source, outcome.score, outcome.success) == ("trace", 0.3, False)
    assert settle(Trace(id="t", source_format="x")).source is None  # nothing known: no source claimed


def test_failed_judge_falls_back_to_scorer() -> None:
    failed = {"scores": {"root_cause_entity": 0}, "error": "Evaluation failed: rate limited"}
    assert settle(make_trace(judge=failed), ground_truths=TRUTHS).source == "itbench-scorer"


def test_secondary_session_is_not_scored() -> None:
    assert settle(make_trace(primary=False), ground_truths=TRUTHS).source == "trace"


@pytest.mark.parametrize(("score", "success"), [(0.5, True), (0.49, False), (1.0, True), (0.0, False)])
def test_threshold_applies_only_without_success(score: float, success: bool) -> None:
    assert settle(make_trace(trace_fields=Outcome(score=score))).success is success
    explicit = make_trace(trace_fields=Outcome(score=score, success=not success))
    assert settle(explicit).success is (not success)


def test_judge_output_shapes() -> None:
    nested = judge_outcome({"scores": {"root_cause_entity": {"precision": 0.5, "recall": 0.8, "f1": 0.6}}})
    assert nested is not None and nested.score == 0.8
    assert nested.metrics == {"root_cause_entity.precision": 0.5, "root_cause_entity.recall": 0.8,
                              "root_cause_entity.f1": 0.6}  # fmt: skip
    percent = judge_outcome({"scores": {"recall": 75, "precision": 50}})
    assert percent is not None and percent.score == 0.75
    raw = judge_outcome({"scores": {"root_cause_entity": {"score": 100, "justification": "found it"}}})
    assert raw is not None and (raw.score, raw.metrics) == (1.0, {"root_cause_entity": 100})
    no_output = judge_outcome({"scores": {"root_cause_entity": 0}, "error": "No agent output file"})
    assert no_output is not None and no_output.score == 0.0
    assert judge_outcome({"justification": "no scores"}) is None
    assert judge_outcome({"scores": {"propagation_chain": 40}}) is None  # nothing that measures the root cause
    assert judge_outcome(None) is None


def test_ingest_settles_each_run_from_its_best_source(tmp_path: Path) -> None:
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("trace_id,success,score\nModel-A/scenario-2/run-2,true,\nnot-a-run,maybe,\n")
    with Store(tmp_path / "s.duckdb") as store:
        report = ingest(
            [FIXTURES / "codex" / "trajectories"], store, format="codex", outcomes_file=outcomes,
            ground_truth=FIXTURES / "outcomes" / "scenarios.json",
        )  # fmt: skip
        got = {t.id: (t.outcome.source, t.outcome.success, t.outcome.score) for t in store.iter_traces()}
    assert report.read == 3
    # two reported problems: the bad outcome row and Model-B's broken judge_output.json
    assert sorted((Path(e.path).name, e.line) for e in report.errors) == [("judge_output.json", None),
                                                                           ("outcomes.csv", 3)]  # fmt: skip
    assert got == {
        "Model-A/scenario-2/run-1": ("itbench-judge", True, 1.0),
        "Model-A/scenario-2/run-2": (f"file:{outcomes}", True, None),
        "Model-B/scenario-3/run-1": ("itbench-scorer", True, 1.0),  # ad Service matches the ad pod by alias
    }


def test_ingest_reports_unreadable_ground_truth(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        report = ingest([FIXTURES / "codex" / "agent_outputs"], store, format="codex",
                        ground_truth=tmp_path / "missing.yaml")  # fmt: skip
    assert report.read == 2 and len(report.errors) == 1
    assert "cannot read ground truth" in str(report.errors[0])


def test_ingest_command_takes_a_ground_truth(runner: CliRunner, db_path: str) -> None:
    tree = FIXTURES / "codex" / "agent_outputs"
    gt = FIXTURES / "outcomes" / "scenarios.json"
    result = runner.invoke(app, ["--db", db_path, "ingest", "-f", "codex", str(tree), "--ground-truth", str(gt),
                                 "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["read"] == 2
    with Store(db_path) as store:
        trace = store.get_trace("model-c/scenario-5/run-1")
    assert trace is not None and trace.outcome.source is None  # scenario 5 is not in this ground truth
