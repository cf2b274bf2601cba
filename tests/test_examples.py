"""The bundled examples/ are well-formed Codex rollouts laid out as ITBench run folders, each with a known outcome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import REPO

EXAMPLES = REPO / "examples"
RUNS = sorted(p for p in (EXAMPLES / "agent_outputs").glob("*/*") if p.is_dir())
ROW_TYPES = {"session_meta", "turn_context", "response_item", "event_msg", "compacted"}
ITEM_TYPES = {"message", "function_call", "function_call_output", "reasoning"}
HARNESS_NUDGE = "I don't see agent_output.json file. Please resume the investigation"


def _session(run: Path) -> Path:
    sessions = list((run / "sessions").glob("rollout-*-diagnosis.jsonl"))
    assert len(sessions) == 1, f"{run}: expected one rollout file, found {sessions}"
    return sessions[0]


def _rows(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            pytest.fail(f"{path}:{number}: not JSON: {exc}")
    return rows


def _models(rows: list[dict]) -> set[str]:
    return {r["payload"]["model"] for r in rows if r["type"] == "turn_context"}


def test_there_are_enough_runs_for_verdicts_over_three_models_and_scenarios() -> None:
    per_model: dict[str, set[str]] = {}
    for run in RUNS:
        for model in _models(_rows(_session(run))):
            per_model.setdefault(model, set()).add(run.parent.name)
    counts = {m: sum(1 for run in RUNS if m in _models(_rows(_session(run)))) for m in per_model}
    assert len(per_model) == 3 and all(n >= 12 for n in counts.values()), counts
    assert all(len(scenarios) >= 3 for scenarios in per_model.values())


@pytest.mark.parametrize("run", RUNS, ids=lambda p: "/".join(p.parts[-2:]))
def test_session_rows_are_codex_rollout_rows(run: Path) -> None:
    path = _session(run)
    assert path.stat().st_size < 100_000
    rows = _rows(path)
    assert rows[0]["type"] == "session_meta" and rows[0]["payload"]["cwd"].endswith("/".join(run.parts[-2:]))
    for number, row in enumerate(rows, start=1):
        assert set(row) == {"timestamp", "type", "payload"}, f"{path}:{number}"
        assert row["type"] in ROW_TYPES, f"{path}:{number}: row type {row['type']!r}"
        if row["type"] == "response_item":
            assert row["payload"]["type"] in ITEM_TYPES, f"{path}:{number}"
    stamps = [r["timestamp"] for r in rows]
    assert stamps == sorted(stamps), f"{path}: timestamps go backwards"
    assert len(_models(rows)) == 1


@pytest.mark.parametrize("run", RUNS, ids=lambda p: "/".join(p.parts[-2:]))
def test_every_call_has_exactly_one_output(run: Path) -> None:
    items = [r["payload"] for r in _rows(_session(run)) if r["type"] == "response_item"]
    calls = [i["call_id"] for i in items if i["type"] == "function_call"]
    outputs = [i["call_id"] for i in items if i["type"] == "function_call_output"]
    assert calls and sorted(calls) == sorted(outputs)
    assert len(set(calls)) == len(calls)


@pytest.mark.parametrize("run", RUNS, ids=lambda p: "/".join(p.parts[-2:]))
def test_every_run_folder_has_its_deliverable_and_a_score(run: Path) -> None:
    assert (run / "AGENTS.md").is_file()
    assert (run / "agent_output.json").read_text().strip()
    judged = json.loads((run / "judge_output.json").read_text())
    assert judged["scores"]["root_cause_entity"] in (0, 100)
    assert (EXAMPLES / "ground_truth" / f"scenario_{run.parent.name}_groundtruth_v1.yaml").is_file()


def test_ground_truths_name_one_root_cause_each() -> None:
    for path in sorted((EXAMPLES / "ground_truth").glob("*.yaml")):
        truth = yaml.safe_load(path.read_text())
        roots = [g for g in truth["groups"] if g.get("root_cause")]
        assert len(roots) == 1, path
        ids = {g["id"] for g in truth["groups"]}
        assert all(p["source"] in ids and p["target"] in ids for p in truth["propagations"]), path


def _root_cause(run: Path) -> str:
    truth = yaml.safe_load((EXAMPLES / "ground_truth" / f"scenario_{run.parent.name}_groundtruth_v1.yaml").read_text())
    root = next(g for g in truth["groups"] if g.get("root_cause"))
    return f"{root['namespace']}/{root['kind']}/{root['name']}"


@pytest.mark.parametrize("run", RUNS, ids=lambda p: "/".join(p.parts[-2:]))
def test_scores_agree_with_the_ground_truth(run: Path) -> None:
    """root_cause_entity is 100 exactly when the deliverable marks the true root cause as contributing."""
    try:
        deliverable = json.loads((run / "agent_output.json").read_text())
    except json.JSONDecodeError:
        deliverable = {"entities": []}
    named = {e["name"] for e in deliverable["entities"] if e.get("contributing_factor") is True}
    score = json.loads((run / "judge_output.json").read_text())["scores"]["root_cause_entity"]
    assert (score == 100) == (_root_cause(run) in named)


def test_examples_cover_success_isolated_and_cascading_failures() -> None:
    scores = {run: json.loads((run / "judge_output.json").read_text())["scores"]["root_cause_entity"] for run in RUNS}
    assert 0 < sum(1 for s in scores.values() if s == 100) < len(RUNS)
    rows = {run: _rows(_session(run)) for run in RUNS}
    nudged = [run for run, rs in rows.items() if sum(_is_nudge(r) for r in rs) >= 2]
    compacted = [run for run, rs in rows.items() if any(r["type"] == "compacted" for r in rs)]
    assert nudged and compacted
    assert all(scores[run] == 0 for run in nudged + compacted)


def _is_nudge(row: dict) -> bool:
    payload = row["payload"]
    return row["type"] == "event_msg" and payload.get("type") == "user_message" and HARNESS_NUDGE in payload["message"]
