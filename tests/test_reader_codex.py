"""The Codex CLI reader: golden step lists, ITBench run layouts, the real ITBench run, and bad input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from agentmortem.ingest import ingest
from agentmortem.model import Trace
from agentmortem.readers import ReadError, detect_format, read_head, read_traces
from agentmortem.readers.codex import CodexReader
from agentmortem.store import Store
from conftest import FIXTURES, shared_data

CODEX = FIXTURES / "codex"
REGEN = os.environ.get("AGENTMORTEM_REGEN_GOLDENS") == "1"  # set to rewrite the goldens after a deliberate change
NUDGE = "I don't see agent_output.json file. Please resume the investigation"


def read(path: Path) -> tuple[list[Trace], list[ReadError]]:
    errors: list[ReadError] = []
    traces = list(read_traces([path], errors, format="codex"))
    return traces, errors


def step_rows(trace: Trace) -> list[dict[str, Any]]:
    return [step.model_dump(mode="json") for step in trace.steps]


def trace_summary(trace: Trace) -> dict[str, Any]:
    itbench = dict(trace.metadata.get("itbench", {}))
    itbench.pop("run_dir", None)
    for key in ("agent_output", "judge_output"):
        if key in itbench:
            itbench[key] = "present" if itbench[key] is not None else None
    return {
        "id": trace.id, "model": trace.model, "task": trace.task, "benchmark": trace.benchmark, "itbench": itbench,
        "steps": [
            [s.index, s.kind, s.role, s.tool_name, s.call_id, s.pair_index, s.is_error, s.source_type, s.content]
            for s in trace.steps
        ],
    }  # fmt: skip


def dump_golden(value: Any, indent: str = "") -> str:
    """Readable JSON: containers open one level per line, but a list of scalars stays on one line."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {dump_golden(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return "[\n" + ",\n".join(inner + dump_golden(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def check_golden(name: str, value: Any) -> None:
    path = CODEX / name
    if REGEN:
        path.write_text(dump_golden(value) + "\n")
    assert value == json.loads(path.read_text()), f"differs from golden {name}"


# --- golden fixtures -------------------------------------------------------------------------------------------


def test_basic_session_matches_golden_steps() -> None:
    traces, errors = read(CODEX / "session_basic.jsonl")
    assert errors == []
    (trace,) = traces
    assert (trace.id, trace.model, trace.agent_system) == ("codex/0000-basic", "gpt-test-1", "codex-cli")
    assert trace.task == "Find why the checkout service fails and write report.md."
    check_golden("session_basic.golden.json", step_rows(trace))


def test_basic_session_mapping_decisions() -> None:
    (trace,), _ = read(CODEX / "session_basic.jsonl")
    kinds = [s.kind for s in trace.steps]
    # Messages are kept once (response_item form); the event_msg mirrors are dropped.
    assert [s.content for s in trace.steps if s.role == "user" and s.kind == "message"] == ["Why does checkout fail?"]
    assert sum(1 for s in trace.steps if "OOMKilled: its memory" in s.content) == 1
    assert kinds[:2] == ["system", "system"]  # developer prompt and environment context are harness context
    # The one token_count with info is folded into the MCP call before it (step 8), not a step of its own.
    assert (trace.steps[8].kind, trace.steps[8].input_tokens, trace.steps[8].output_tokens) == ("tool_call", 900, 60)
    assert "event_msg/token_count" not in {s.source_type for s in trace.steps}
    assert [s.index for s in trace.steps if s.is_error] == [5, 13, 15]
    assert trace.metadata["codex"]["turns"] == 2
    assert trace.metadata["codex"]["skipped"]["event_msg/token_count(null)"] == 1


def test_trajectories_tree_matches_golden() -> None:
    traces, errors = read(CODEX / "trajectories")
    # The one reported problem is the deliberately broken judge_output.json of Model-B's run.
    assert [(Path(e.path).parts[-5:], e.line) for e in errors] == [
        (("Model-B", "sre", "Scenario-3", "1", "judge_output.json"), None)
    ]
    check_golden("trajectories.golden.json", [trace_summary(t) for t in traces])


def test_agent_outputs_tree_with_two_sessions_matches_golden() -> None:
    traces, errors = read(CODEX / "agent_outputs")
    assert errors == []  # AGENTS.md, config.toml and agent_remediation.json are not reported as unknown files
    assert [t.id for t in traces] == ["model-c/scenario-5/run-1", "model-c/scenario-5/run-1/remediation"]
    check_golden("agent_outputs.golden.json", [trace_summary(t) for t in traces])


@pytest.mark.parametrize("level", ["agent_outputs", "agent_outputs/5", "agent_outputs/5/1"])
def test_agent_layout_any_level_gives_same_ids(level: str) -> None:
    traces, errors = read(CODEX / level)
    assert errors == []
    assert [t.id for t in traces] == ["model-c/scenario-5/run-1", "model-c/scenario-5/run-1/remediation"]


@pytest.mark.parametrize(
    "level", ["trajectories", "trajectories/Model-A", "trajectories/Model-A/sre", "trajectories/Model-A/sre/Scenario-2"]
)
def test_trajectories_any_level_gives_same_ids(level: str) -> None:
    traces, _ = read(CODEX / level)
    model_a = [t.id for t in traces if t.id.startswith("Model-A")]
    assert model_a == ["Model-A/scenario-2/run-1", "Model-A/scenario-2/run-2"]


def test_sniff_directory_claims_layout_levels_only() -> None:
    reader = CodexReader()
    claimed = ["agent_outputs", "agent_outputs/5", "agent_outputs/5/1", "trajectories", "trajectories/Model-A",
               "trajectories/Model-A/sre", "trajectories/Model-A/sre/Scenario-2",
               "trajectories/Model-A/sre/Scenario-2/1"]  # fmt: skip
    for level in claimed:
        assert reader.sniff_directory(CODEX / level) == pytest.approx(0.9), level
    for level in [".", "agent_outputs/5/1/sessions"]:
        assert reader.sniff_directory(CODEX / level) == 0.0, level


def test_run_without_session_is_reported(tmp_path: Path) -> None:
    trial = tmp_path / "agent_outputs" / "7" / "1"
    trial.mkdir(parents=True)
    (trial / "agent_output.json").write_text('{"entities": []}')
    traces, errors = read(tmp_path / "agent_outputs")
    assert traces == []
    assert len(errors) == 1 and "without a Codex session" in str(errors[0]) and errors[0].path.endswith("7/1")


# --- the real ITBench run --------------------------------------------------------------------------------------

REAL_ROLLOUT = "rollout-2026-01-15T12-15-06-diagnosis.jsonl"


def expected_from_raw(path: Path) -> list[tuple[Any, ...]]:
    """The step list worked out independently from the raw rows (a simpler rule set that fits this file)."""
    expected = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        payload, kind = row["payload"], row["type"]
        ptype = payload.get("type")
        if kind == "response_item" and ptype == "message":
            text = "\n".join(part["text"] for part in payload["content"])
            context = text.startswith(("# AGENTS.md instructions", "<environment_context>"))
            expected.append(("system" if context else "message", payload["role"], None, None, text))
        elif kind == "response_item" and ptype == "function_call":
            expected.append(("tool_call", "assistant", payload["name"], payload["call_id"], payload["arguments"]))
        elif kind == "response_item" and ptype == "function_call_output":
            expected.append(("tool_result", "tool", None, payload["call_id"], None))
    return expected  # token_count rows are folded into model steps, never steps of their own


@pytest.fixture(scope="module")
def real_trace(tmp_path_factory: pytest.TempPathFactory) -> Trace:
    run_dir = shared_data("itbench", "agent_outputs", "2", "1")
    ground_truth = shared_data("itbench", "ground_truth", "scenario_2_groundtruth_v1.yaml")
    with Store(tmp_path_factory.mktemp("real") / "real.duckdb") as store:
        report = ingest([run_dir], store, format="codex", ground_truth=ground_truth)
        assert report.errors == [] and report.read == 1
        trace = store.get_trace("gpt-oss-120b-custom/scenario-2/run-1")
    assert trace is not None
    return trace


def test_real_run_identity(real_trace: Trace) -> None:
    assert real_trace.id == "gpt-oss-120b-custom/scenario-2/run-1"
    assert real_trace.model == "gpt-oss-120b-custom"
    assert (real_trace.benchmark, real_trace.agent_system, real_trace.source_format) == (
        "itbench-sre", "codex-cli", "codex",
    )  # fmt: skip
    assert real_trace.source_path is not None and real_trace.source_path.endswith(REAL_ROLLOUT)
    assert real_trace.task is not None and real_trace.task.startswith("**Task**")
    itbench = real_trace.metadata["itbench"]
    assert (itbench["scenario"], itbench["run"], itbench["layout"]) == ("2", "1", "agent-outputs")
    assert len(itbench["agent_output"]["entities"]) == 6


def test_real_run_exact_counts(real_trace: Trace) -> None:
    # 119 rows: 1 session_meta + 29 turn_context (not steps) + 6 messages + 25 calls + 25 outputs
    # + 4 event_msg user_message (mirrors, dropped) + 29 token_count of which 28 carry info=null (dropped) and
    # the last (row 119, all-zero last-call usage) is folded into the last tool call: before folding it was step 56.
    counts: dict[str, int] = {}
    for step in real_trace.steps:
        counts[step.kind] = counts.get(step.kind, 0) + 1
    assert len(real_trace.steps) == 56
    assert counts == {"system": 2, "message": 4, "tool_call": 25, "tool_result": 25}
    assert (real_trace.steps[54].kind, real_trace.steps[54].input_tokens, real_trace.steps[54].output_tokens) == (
        "tool_call", 0, 0,
    )  # fmt: skip
    codex = real_trace.metadata["codex"]
    assert codex["token_counts"] == {"folded": 1, "merged": 0, "kept_as_steps": 0}
    assert codex["skipped"]["event_msg/token_count(null)"] == 28
    assert codex["output_forms"] == {"content-list": 2, "exec-json": 19, "refusal": 4}
    assert real_trace.metadata["codex"]["turns"] == 29


def test_real_run_steps_follow_the_raw_rows(real_trace: Trace) -> None:
    path = shared_data("itbench", "agent_outputs", "2", "1", "sessions", REAL_ROLLOUT)
    expected = expected_from_raw(path)
    got = [(s.kind, s.role, s.tool_name if s.kind == "tool_call" else None, s.call_id) for s in real_trace.steps]
    assert got == [e[:4] for e in expected]  # any dropped, added or reordered step breaks this
    for step, exp in zip(real_trace.steps, expected, strict=True):
        if step.kind in ("message", "system"):
            assert step.content == exp[4]
        if step.kind == "tool_call":
            assert step.tool_args == exp[4]


def test_real_run_nudges_and_pairing(real_trace: Trace) -> None:
    nudges = [s.index for s in real_trace.steps if s.role == "user" and s.content.startswith(NUDGE)]
    assert nudges == [5, 34, 43]  # rows 12, 72 and 92 of the file
    assert [s.index for s in real_trace.steps if s.kind == "message" and s.role == "user"] == [2, 5, 34, 43]
    calls = [s for s in real_trace.steps if s.kind == "tool_call"]
    for call in calls:
        result = real_trace.step(call.pair_index or -1)
        assert (result.kind, result.call_id, result.pair_index, result.tool_name) == (
            "tool_result", call.call_id, call.index, call.tool_name,
        )  # fmt: skip
    # errors: `head` exit code 1 (row 17) and four apply_patch calls whose arguments did not parse (rows 89-105)
    assert [s.index for s in real_trace.steps if s.is_error] == [7, 42, 45, 47, 49]
    assert {c.tool_name for c in calls} == {
        "shell", "apply_patch", "mcp__offline_incident_analysis__event_analysis",
        "mcp__offline_incident_analysis__get_trace_error_tree",
    }  # fmt: skip


def test_real_run_outcome_from_scorer(real_trace: Trace) -> None:
    outcome = real_trace.outcome
    assert outcome.source == "itbench-scorer"
    assert (outcome.score, outcome.success, outcome.metrics["precision"]) == (1.0, True, 0.5)


def test_real_file_sniffs_as_codex() -> None:
    path = shared_data("itbench", "agent_outputs", "2", "1", "sessions", REAL_ROLLOUT)
    assert CodexReader().sniff(path, read_head(path)) == pytest.approx(0.95)
    assert CodexReader().sniff_directory(path.parent.parent) == pytest.approx(0.9)


# --- sniffing and bad input ------------------------------------------------------------------------------------


def test_sniff_long_first_row_and_other_formats(tmp_path: Path) -> None:
    reader = CodexReader()
    cut = '{"timestamp":"2026-01-01T00:00:00Z","type":"session_meta","payload":{"instructions":"' + "x" * 500
    assert reader.sniff(tmp_path / "a.jsonl", cut) == pytest.approx(0.8)
    chat = '{"id": "t1", "messages": [{"role": "user", "content": "hi"}]}\n'
    assert reader.sniff(tmp_path / "b.jsonl", chat) == 0.0
    assert reader.sniff(tmp_path / "c.txt", "plain text log\n") == 0.0


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    traces, errors = read(path)
    assert traces == [] and [e.reason for e in errors] == ["empty file"]
    with pytest.raises(ReadError, match="empty file"):
        detect_format(path, [CodexReader()])


def test_truncated_last_line_keeps_the_rest(tmp_path: Path) -> None:
    data = (CODEX / "session_basic.jsonl").read_bytes()
    path = tmp_path / "truncated.jsonl"
    path.write_bytes(data[: len(data) - 40])  # cut inside row 30 (task_complete)
    traces, errors = read(path)
    assert [(e.line, e.reason.split(":")[0]) for e in errors] == [(30, "invalid JSON (truncated or corrupt row)")]
    assert len(traces[0].steps) == 17 and traces[0].steps[-1].source_type == "compacted"


def test_bad_row_in_the_middle(tmp_path: Path) -> None:
    lines = (CODEX / "session_basic.jsonl").read_text().splitlines()
    lines[3] = '{"not": "codex"}'
    lines[5] = "[1, 2"
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    traces, errors = read(path)
    assert [e.line for e in errors] == [4, 6]
    assert str(errors[0]).startswith(f"{path}:4: not a Codex rollout row")
    assert len(traces[0].steps) == 17  # the user message on line 4 is gone, nothing else


def test_non_utf8_bytes_are_replaced(tmp_path: Path) -> None:
    data = (CODEX / "session_basic.jsonl").read_bytes().replace(b"Why does checkout fail?", b"Why does \xff\xfe fail?")
    path = tmp_path / "latin.jsonl"
    path.write_bytes(data)
    traces, errors = read(path)
    assert errors == []
    assert traces[0].steps[2].content == "Why does \ufffd\ufffd fail?"
    assert traces[0].metadata["codex"]["invalid_utf8_lines"] == [4, 5]


def test_ten_megabyte_tool_output(tmp_path: Path) -> None:
    big = "x" * (10 * 1024 * 1024)
    rows = [
        {"timestamp": "2026-01-01T00:00:00Z", "type": "session_meta", "payload": {"id": "big"}},
        {"timestamp": "2026-01-01T00:00:01Z", "type": "response_item",
         "payload": {"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "c1"}},
        {"timestamp": "2026-01-01T00:00:02Z", "type": "response_item",
         "payload": {"type": "function_call_output", "call_id": "c1",
                     "output": json.dumps({"output": big, "metadata": {"exit_code": 0}})}},
    ]  # fmt: skip
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    traces, errors = read(path)
    assert errors == []
    result = traces[0].steps[1]
    assert (result.kind, len(result.content), result.pair_index, result.is_error) == ("tool_result", len(big), 0, False)


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "other.jsonl"
    path.write_text('{"role": "user", "content": "hi"}\n{"role": "assistant", "content": "hello"}\n')
    with pytest.raises(ReadError, match="no reader recognises"):
        detect_format(path, [CodexReader()])
    traces, errors = read(path)  # forced: every row is reported, then the file as a whole
    assert traces == []
    assert [e.line for e in errors] == [1, 2, None]
    assert errors[-1].reason == "no Codex rollout rows in this file"


def test_copy_of_real_run_elsewhere_keeps_its_id(tmp_path: Path) -> None:
    source = shared_data("itbench", "agent_outputs", "2", "1")
    target = tmp_path / "runs" / "2" / "1"
    shutil.copytree(source, target)
    traces, errors = read(tmp_path / "runs")
    assert errors == [] and [t.id for t in traces] == ["gpt-oss-120b-custom/scenario-2/run-1"]


def test_legacy_rollout_without_payload_envelope(tmp_path: Path) -> None:
    rows = [
        {"id": "legacy-1", "timestamp": "2025-05-01T10:00:00Z", "instructions": None},
        {"record_type": "state"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]},
        {"type": "function_call", "name": "shell", "arguments": '{"command": ["ls"]}', "call_id": "c1"},
        {"type": "function_call_output", "call_id": "c1",
         "output": '{"output": "a.txt", "metadata": {"exit_code": 0}}'},
    ]  # fmt: skip
    path = tmp_path / "rollout-2025-05-01T10-00-00-legacy.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert CodexReader().sniff(path, read_head(path)) == pytest.approx(0.7)
    traces, errors = read(path)
    assert errors == []
    assert traces[0].id == "codex/legacy-1" and traces[0].task == "list files"
    assert [(s.kind, s.pair_index, s.content) for s in traces[0].steps] == [
        ("message", None, "list files"), ("tool_call", 2, ""), ("tool_result", 1, "a.txt"),
    ]  # fmt: skip


def test_event_messages_are_kept_when_no_item_messages(tmp_path: Path) -> None:
    ts = "2026-01-01T00:00:00Z"
    rows = [
        {"timestamp": ts, "type": "session_meta", "payload": {"id": "ev"}},
        {"timestamp": ts, "type": "event_msg", "payload": {"type": "user_message", "message": "hi"}},
        {"timestamp": ts, "type": "event_msg", "payload": {"type": "agent_message", "message": "yo"}},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (trace,), _ = read(path)
    assert [(s.kind, s.role, s.content, s.source_type) for s in trace.steps] == [
        ("message", "user", "hi", "event_msg/user_message"),
        ("message", "assistant", "yo", "event_msg/agent_message"),
    ]
