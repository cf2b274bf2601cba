"""The deterministic ITBench scorer: hand-worked cases on the real run and on a fixture, and `score-itbench`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import agentmortem.cli.itbench_cmd  # noqa: F401  (registers score-itbench)
from agentmortem.cli.app import app
from agentmortem.outcomes.itbench import (
    GroundTruth,
    entity_matches,
    load_ground_truths,
    parse_entity,
    score_agent_output,
)
from agentmortem.readers import ReadError
from conftest import FIXTURES, shared_data

FIXTURE_GT = FIXTURES / "outcomes" / "gt_aliases.yaml"


def real_agent_output() -> dict[str, Any]:
    return json.loads(shared_data("itbench", "agent_outputs", "2", "1", "agent_output.json").read_text())


def fixture_truth() -> GroundTruth:
    return load_ground_truths(FIXTURE_GT)["*"]  # the file names no scenario


def contributing(*names: str, other: tuple[str, ...] = ()) -> dict[str, Any]:
    entities = [{"name": n, "contributing_factor": True} for n in names]
    return {"entities": entities + [{"name": n, "contributing_factor": False} for n in other]}


# --- the real run, worked by hand ------------------------------------------------------------------------------
# agent_output.json marks two entities as contributing:
#   otel-demo/ConfigMap/flagd-config -> group `flagd-config` (ConfigMap, exact name, root_cause: true): a match;
#   otel-demo/Deployment/flagd       -> Deployment is a workload kind, so it is compared with the Service groups,
#                                       whose filters cart\b, frontend\b, frontend-proxy\b (and checkout\b in the
#                                       YAML) do not match the whole name "flagd"; the ConfigMap group has another
#                                       kind. It matches no group: a false positive.
# The other four entities (cart, checkout, frontend, frontend-proxy) say contributing_factor: false and are not
# scored. One root-cause group, found: recall 1/1 = 1.0. Two contributing entities, one correct: precision 0.5.
# ground_truths.json's scenario 2 has the same groups minus checkout-service, so the answer is the same.


@pytest.mark.parametrize("source", ["scenario_2_groundtruth_v1.yaml", "ground_truths.json"])
def test_real_run_against_scenario_2(source: str) -> None:
    truths = load_ground_truths(shared_data("itbench", "ground_truth", source))
    result = score_agent_output(real_agent_output(), truths["2"])
    assert (result.recall, result.precision) == (1.0, 0.5)
    assert result.matched == {"flagd-config": ["otel-demo/ConfigMap/flagd-config"]}
    assert result.missed == []
    assert result.contributing == ["otel-demo/ConfigMap/flagd-config", "otel-demo/Deployment/flagd"]
    assert result.correct == ["otel-demo/ConfigMap/flagd-config"]


def test_consolidated_file_has_44_scenarios_and_v2_reads_too() -> None:
    truths = load_ground_truths(shared_data("itbench", "ground_truth", "ground_truths.json"))
    assert len(truths) == 44 and [g.id for g in truths["2"].groups] == [
        "flagd-config", "cart-service-1", "frontend-service-1", "frontend-proxy-service-1",
    ]  # fmt: skip
    v2 = load_ground_truths(shared_data("itbench", "ground_truth", "scenario_2_groundtruth_v2.yaml"))["2"]
    result = score_agent_output(real_agent_output(), v2)
    assert (result.recall, result.precision, list(result.matched)) == (1.0, 0.5, ["ConfigMap/flagd-config"])


def test_spec_wrapped_v1_with_aliases() -> None:
    # Scenario 1's root cause is the load-generator pod; its alias list also holds the load-generator service and
    # the frontend-proxy service and pod, so naming the frontend-proxy service counts as finding it.
    truth = load_ground_truths(shared_data("itbench", "ground_truth", "scenario_1_groundtruth_v1.yaml"))["1"]
    assert [g.id for g in truth.root_causes] == ["load-generator-pod-1"]
    result = score_agent_output(contributing("otel-demo/Service/frontend-proxy"), truth)
    assert (result.recall, result.precision) == (1.0, 1.0)
    assert score_agent_output(contributing("otel-demo/Service/accounting"), truth).recall == 0.0


# --- fixture ground truth --------------------------------------------------------------------------------------


def test_aliases_chain_and_workload_kinds() -> None:
    truth = fixture_truth()
    assert truth.equivalents("db-pod-1") == {"db-pod-1", "db-service-1", "db-statefulset-1"}
    # Deployment/db: a workload, whole-name match of the StatefulSet group's filter "db", which is aliased (through
    # db-service-1) to the root-cause pod group. cache-config is not named: recall 1/2, precision 1/1.
    result = score_agent_output(contributing("shop/Deployment/db"), truth)
    assert (result.recall, result.precision, result.missed) == (0.5, 1.0, ["cache-config"])
    assert result.matched == {"db-pod-1": ["shop/Deployment/db"]}


def test_precision_filters_and_infrastructure() -> None:
    # web-proxy matches web-proxy-service-1 only (fullmatch keeps `web\b` off it) and is not a root cause;
    # cache-config is; kube-system's coredns matches nothing and is left out of precision; the monitoring
    # entity is not contributing. Recall 1/2 (db missed), precision 1/2, one ignored.
    agent = contributing(
        "shop/Service/web-proxy", "shop/ConfigMap/cache-config", "kube-system/Pod/coredns-5d78",
        other=("monitoring/Service/prometheus",),
    )  # fmt: skip
    result = score_agent_output(agent, fixture_truth())
    assert (result.recall, result.precision) == (0.5, 0.5)
    assert result.ignored == ["kube-system/Pod/coredns-5d78"]
    assert result.correct == ["shop/ConfigMap/cache-config"]


@pytest.mark.parametrize(
    ("entity", "group_id", "expected"),
    [
        ("shop/Pod/db-0", "db-pod-1", True),
        ("shop/ConfigMap/db", "db-statefulset-1", False),  # kinds differ and ConfigMap is no workload
        ("other/Pod/db-0", "db-pod-1", False),  # namespace differs
        ("shop/Service/web-proxy", "web-service-1", False),  # `web\b` must match the whole name
        ("shop/HorizontalPodAutoscaler/web", "any-hpa", True),  # invalid regex "*.*" read as a wildcard
        ("ConfigMap/cache-config", "cache-config", True),  # no namespace given: not held against it
        ("shop/configmap/CACHE-CONFIG", "cache-config", True),  # case does not matter
    ],
)
def test_entity_matching(entity: str, group_id: str, expected: bool) -> None:
    group = next(g for g in fixture_truth().groups if g.id == group_id)
    assert entity_matches(parse_entity(entity), group) is expected


def test_missing_or_malformed_agent_output() -> None:
    truth = fixture_truth()
    missing = score_agent_output(None, truth)
    assert (missing.recall, missing.precision, missing.problem) == (0.0, None, "no agent_output.json")
    assert score_agent_output({"entities": "none"}, truth).problem == "agent_output.json has no 'entities' list"
    textual = score_agent_output({"entities": [{"name": "shop/Pod/db-1", "contributing_factor": "true"}, 7]}, truth)
    assert (textual.recall, textual.precision) == (0.5, 1.0)


def test_ground_truth_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("groups: [unclosed\n")
    with pytest.raises(ReadError, match="cannot read ground truth"):
        load_ground_truths(bad)
    empty = tmp_path / "scenario_9.yaml"
    empty.write_text("metadata: {version: v1}\n")
    with pytest.raises(ReadError, match="scenario '9' has no groups"):
        load_ground_truths(empty)
    assert list(load_ground_truths(FIXTURE_GT, scenario="7")) == ["7"]


# --- score-itbench ---------------------------------------------------------------------------------------------


def test_cli_scores_the_real_run(runner: CliRunner) -> None:
    run_dir = shared_data("itbench", "agent_outputs")
    gt = shared_data("itbench", "ground_truth", "scenario_2_groundtruth_v1.yaml")
    result = runner.invoke(app, ["score-itbench", str(run_dir), "--ground-truth", str(gt), "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["run"], row["recall"], row["precision"]) == ("scenario-2/run-1", 1.0, 0.5)
    assert row["matched"] == {"flagd-config": ["otel-demo/ConfigMap/flagd-config"]}
    table = runner.invoke(app, ["score-itbench", str(run_dir), "--ground-truth", str(gt)])
    assert table.exit_code == 0 and "scenario-2/run-1" in table.stdout and "0.50" in table.stdout


def test_cli_on_dataset_layout_with_scenario_filter(runner: CliRunner) -> None:
    tree = FIXTURES / "codex" / "trajectories"
    gt = FIXTURES / "outcomes" / "scenarios.json"
    result = runner.invoke(app, ["score-itbench", str(tree), "--ground-truth", str(gt), "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["run"]: (r["recall"], r["precision"], r.get("problem")) for r in json.loads(result.stdout)}
    assert rows == {
        "Model-A/scenario-2/run-1": (1.0, 1.0, None),
        "Model-A/scenario-2/run-2": (0.0, None, "agent_output.json invalid JSON: unexpected end of data (line 1, "
                                                "column 54)"),
        "Model-B/scenario-3/run-1": (1.0, 1.0, None),
    }  # fmt: skip
    only = runner.invoke(app, ["score-itbench", str(tree), "--ground-truth", str(gt), "--scenario", "3", "--json"])
    assert [r["run"] for r in json.loads(only.stdout)] == ["Model-B/scenario-3/run-1"]


def test_cli_errors_are_one_line(runner: CliRunner, tmp_path: Path) -> None:
    tree = FIXTURES / "codex" / "trajectories"
    missing = runner.invoke(app, ["score-itbench", str(tree), "--ground-truth", str(tmp_path / "gt.yaml")])
    assert missing.exit_code == 1 and "cannot read ground truth" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    empty = runner.invoke(app, ["score-itbench", str(tmp_path), "--ground-truth", str(FIXTURE_GT)])
    assert empty.exit_code == 1 and "no ITBench runs found" in empty.stderr
