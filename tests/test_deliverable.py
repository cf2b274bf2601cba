"""Outcomes that can be trusted: is an ITBench run's agent_output.json what its own session wrote?

The sessions built here follow the Codex rollout rows of the real ITBench SRE run in ../shared/data (session_meta,
turn_context, response_item function_call / function_call_output with `{"output", "metadata": {"exit_code"}}`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from agentmortem.ingest import ingest
from agentmortem.outcomes.deliverable import apply_hunks
from agentmortem.store import Store
from conftest import FIXTURES, shared_data

GROUND_TRUTH = FIXTURES / "outcomes" / "gt_aliases.yaml"
DOCUMENT = {"entities": [{"name": "otel-demo/ConfigMap/flagd-config", "contributing_factor": True}]}
SESSION_END = "2026-03-01T09:00:09.000Z"


def _row(second: int, kind: str, payload: dict[str, Any]) -> str:
    return json.dumps({"timestamp": f"2026-03-01T09:00:0{second}.000Z", "type": kind, "payload": payload})


def _call(second: int, call_id: str, name: str, arguments: dict[str, Any], *, exit_code: int = 0) -> list[str]:
    call = {"type": "function_call", "name": name, "arguments": json.dumps(arguments), "call_id": call_id}
    output = json.dumps({"output": "done" if exit_code == 0 else "failed", "metadata": {"exit_code": exit_code}})
    result = {"type": "function_call_output", "call_id": call_id, "output": output}
    return [_row(second, "response_item", call), _row(second + 1, "response_item", result)]


def run_folder(tmp_path: Path, calls: list[list[str]], on_disk: dict[str, Any] | None) -> Path:
    """agent_outputs/4/1 with a diagnosis session making `calls`, and `on_disk` as agent_output.json."""
    run = tmp_path / "agent_outputs" / "4" / "1"
    (run / "sessions").mkdir(parents=True)
    rows = [
        _row(0, "session_meta", {"id": "s-4-1", "cwd": "/runs", "originator": "codex_exec"}),
        _row(
            1, "response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]}
        ),
        _row(2, "turn_context", {"cwd": "/runs", "model": "model-d"}),
        *[row for call in calls for row in call],
        json.dumps({"timestamp": SESSION_END, "type": "event_msg", "payload": {"type": "task_complete"}}),
    ]
    (run / "sessions" / "rollout-2026-03-01T09-00-00-diagnosis.jsonl").write_text("\n".join(rows) + "\n")
    if on_disk is not None:
        (run / "agent_output.json").write_text(json.dumps(on_disk, indent=2))
    return run


def _heredoc(document: dict[str, Any], target: str = "agent_output.json") -> dict[str, Any]:
    script = f"cat > {target} <<'EOF'\n{json.dumps(document, indent=2)}\nEOF"
    return {"command": ["bash", "-lc", script], "workdir": "/runs/4/1"}


def _ingest(tmp_path: Path, run: Path, **options: Any) -> tuple[list[str], Any]:
    with Store(tmp_path / "s.duckdb") as store:
        report = ingest([run.parent.parent], store, ground_truth=GROUND_TRUTH, **options)
        assert report.errors == []
        (trace,) = store.iter_traces()
    assert trace.outcome.warnings == [w.split(": ", 1)[1] for w in report.warnings]
    return report.warnings, trace


def test_the_shared_run_grades_a_file_its_session_did_not_write(tmp_path: Path) -> None:
    run = shared_data("itbench", "agent_outputs", "2", "1")
    truth = shared_data("itbench", "ground_truth", "scenario_2_groundtruth_v1.yaml")
    with Store(tmp_path / "s.duckdb") as store:
        report = ingest([run], store, ground_truth=truth)
        (trace,) = store.iter_traces()
    (warning,) = report.warnings
    assert warning.startswith("gpt-oss-120b-custom/scenario-2/run-1: agent_output.json differs from what the session")
    assert "step 54" in warning
    assert trace.outcome.source == "itbench-scorer" and trace.outcome.warnings == [warning.split(": ", 1)[1]]
    check = trace.metadata["itbench"]["agent_output_check"]
    assert (check["session_writes"], check["last_write_step"], check["matches_session"]) == (2, 54, False)
    written = orjson.loads(check["session_output"])  # an Add File patch, then an Update File patch, replayed
    assert [e["name"] for e in written["entities"]][0] == "otel-demo/Service/fraud-detection"
    assert len(written["alerts_explained"]) == 8


def test_a_file_the_session_wrote_is_trusted_however_new_it_is(tmp_path: Path) -> None:
    run = run_folder(tmp_path, [_call(3, "c1", "shell", _heredoc(DOCUMENT))], DOCUMENT)
    warnings, trace = _ingest(tmp_path, run)
    assert warnings == []
    check = trace.metadata["itbench"]["agent_output_check"]
    assert (check["session_writes"], check["matches_session"]) == (1, True)


def test_a_file_changed_after_the_session_wrote_it_is_doubted(tmp_path: Path) -> None:
    other = {"entities": [{"name": "otel-demo/Service/cart", "contributing_factor": True}]}
    run = run_folder(tmp_path, [_call(3, "c1", "shell", _heredoc(DOCUMENT))], other)
    (warning,) = _ingest(tmp_path, run)[0]
    assert "agent_output.json differs from what the session wrote (the session's last write of it is step" in warning


def test_a_failed_write_is_not_replayed(tmp_path: Path) -> None:
    calls = [_call(3, "c1", "shell", _heredoc(DOCUMENT)), _call(5, "c2", "shell", _heredoc({}), exit_code=1)]
    run = run_folder(tmp_path, calls, DOCUMENT)
    assert _ingest(tmp_path, run)[0] == []


@pytest.mark.parametrize(
    "later",
    [
        {"command": ["bash", "-lc", "cat >> agent_output.json <<'EOF'\n{}\nEOF"]},
        {"command": ["bash", "-lc", 'python3 -c \'import json; json.dump({}, open("agent_output.json", "w"))\'']},
        {"cmd": "mv /tmp/out.json agent_output.json"},
    ],
    ids=["append", "python", "mv"],
)
def test_a_write_that_cannot_be_replayed_leaves_it_to_the_clock(tmp_path: Path, later: dict[str, Any]) -> None:
    other = {"entities": []}  # what the later write may well have made of the file
    calls = [_call(3, "c1", "shell", _heredoc(DOCUMENT)), _call(5, "c2", "shell", later)]
    (warning,) = _ingest(tmp_path, run_folder(tmp_path, calls, other))[0]
    assert "the session's writes of it could not be replayed" in warning


def test_reading_the_file_is_not_writing_it(tmp_path: Path) -> None:
    calls = [
        _call(3, "c1", "shell", _heredoc(DOCUMENT)),
        _call(5, "c2", "shell", {"command": ["jq", ".", "agent_output.json"]}),
    ]
    assert _ingest(tmp_path, run_folder(tmp_path, calls, DOCUMENT))[0] == []


def test_apply_patch_add_then_update_is_replayed(tmp_path: Path) -> None:
    text = json.dumps(DOCUMENT, indent=2).splitlines()
    add = (
        "*** Begin Patch\n*** Add File: agent_output.json\n"
        + "\n".join("+" + line for line in text)
        + "\n*** End Patch"
    )
    update = (
        "*** Begin Patch\n*** Update File: /runs/4/1/agent_output.json\n@@\n"
        '-      "contributing_factor": true\n+      "contributing_factor": false\n*** End Patch'
    )
    calls = [_call(3, "c1", "apply_patch", {"input": add}), _call(5, "c2", "apply_patch", {"input": update})]
    updated = {"entities": [{"name": "otel-demo/ConfigMap/flagd-config", "contributing_factor": False}]}
    warnings, trace = _ingest(tmp_path, run_folder(tmp_path, calls, updated))
    assert warnings == [] and trace.metadata["itbench"]["agent_output_check"]["session_writes"] == 2


def test_without_a_write_to_replay_the_modification_time_decides(tmp_path: Path) -> None:
    run = run_folder(tmp_path, [], DOCUMENT)  # the session never writes the file; it was just created: too new
    (warning,) = _ingest(tmp_path, run)[0]
    assert "modified after the session's last step" in warning and "the session never wrote it" in warning
    ended = 1772355609  # SESSION_END as seconds since the epoch
    os.utime(run / "agent_output.json", (ended - 60, ended - 60))
    (tmp_path / "s.duckdb").unlink()
    warnings, trace = _ingest(tmp_path, run)
    assert warnings == [] and trace.metadata["itbench"]["agent_output_check"]["newer_than_session"] is False


def test_the_users_outcomes_file_is_not_doubted(tmp_path: Path) -> None:
    run = run_folder(tmp_path, [], DOCUMENT)
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("trace_id,success\nmodel-d/scenario-4/run-1,no\n")
    warnings, trace = _ingest(tmp_path, run, outcomes_file=outcomes)
    assert warnings == [] and trace.outcome.source == f"file:{outcomes}"
    assert trace.metadata["itbench"]["agent_output_check"]["newer_than_session"] is True  # still recorded


@pytest.mark.parametrize(
    ("hunks", "expected"),
    [
        (["@@", " a", "-b", "+B", " c"], "a\nB\nc\n"),
        (["@@", "-b  ", "+B"], "a\nB\nc\n"),  # trailing spaces in the patch do not stop it
        (["@@", " a", "+a2", "@@", " c", "+d"], "a\na2\nb\nc\nd\n"),
        (["@@", "-x"], None),  # old lines not in the file: the replay stops
    ],
)
def test_update_hunks(hunks: list[str], expected: str | None) -> None:
    assert apply_hunks("a\nb\nc\n", hunks) == expected


NOT_JSON = '{"entities": [{"name": "gateway", "contributing_factor": "yes"}]}\nRoot cause: gateway.'


def _text_heredoc(text: str) -> dict[str, Any]:
    return {"command": ["bash", "-lc", f"cat > agent_output.json <<'EOF'\n{text}\nEOF"]}


def test_a_deliverable_that_is_not_json_is_compared_as_text(tmp_path: Path) -> None:
    run = run_folder(tmp_path, [_call(3, "c1", "shell", _text_heredoc(NOT_JSON))], None)
    (run / "agent_output.json").write_text(NOT_JSON + "\n")
    warnings, trace = _ingest(tmp_path, run)
    assert warnings == []  # the session's own broken file: no doubt, and never "missing"
    assert trace.metadata["itbench"]["agent_output_check"]["matches_session"] is True


def test_a_broken_file_the_session_did_not_write_is_not_called_missing(tmp_path: Path) -> None:
    run = run_folder(tmp_path, [_call(3, "c1", "shell", _text_heredoc(NOT_JSON))], None)
    (run / "agent_output.json").write_text("Root cause: something else entirely.\n")
    (warning,) = _ingest(tmp_path, run)[0]
    assert "agent_output.json differs from what the session wrote" in warning
