"""Codex tool-output forms and token-count folding.

`fixtures/codex/failure_forms.jsonl` is written here in the shape of a Codex CLI rollout (0.60-era rows), with one
call per output form the CLI writes. The forms and their sources in github.com/openai/codex:
`format_exec_output_for_model_structured` / `_freeform` (codex-rs/core/src/tools/mod.rs @ 019402a8d07d),
`format_response` of the unified exec handler (codex-rs/core/src/tools/handlers/unified_exec.rs @ 010d3e6290ba),
`apply_patch verification failed` (codex-rs/core/src/tools/handlers/apply_patch.rs @ 001cb8e233f2), and the
`exec_command_end` / `patch_apply_end` / `mcp_tool_call_end` events (codex-rs/protocol/src/protocol.rs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentmortem.model import Trace
from agentmortem.readers import ReadError, read_traces
from agentmortem.readers.codex import OUTPUT_FORMS, read_tool_output
from conftest import FIXTURES

FORMS = FIXTURES / "codex" / "failure_forms.jsonl"
CALL_ITEMS = ("function_call", "custom_tool_call", "local_shell_call")
FAILED_CALLS = {
    "call_01": "exec-text, Exit code: 1",
    "call_03": "apply_patch verification failed",
    "call_04": "unified exec, Process exited with code 2",
    "call_06": "exec JSON wrapper, exit_code 127",
    "call_08": "MCP result with isError",
    "call_09": "MCP content list, failure told by mcp_tool_call_end",
    "call_10": "err: (MCP client error)",
    "call_11": "failed to parse function arguments",
    "call_12": "{content, success: false}",
    "call_13": "plain text, exit code told by exec_command_end",
    "call_14": "plain text, failure told by patch_apply_end",
}


def read(path: Path) -> Trace:
    errors: list[ReadError] = []
    (trace,) = list(read_traces([path], errors, format="codex"))
    assert errors == []
    return trace


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_failed_call_is_marked_and_no_other() -> None:
    trace = read(FORMS)
    results = [s for s in trace.steps if s.kind == "tool_result"]
    assert len(results) == 15 and all(r.pair_index is not None for r in results)
    assert {r.call_id for r in results if r.is_error} == set(FAILED_CALLS)


def test_the_fixture_holds_every_form_of_the_table() -> None:
    forms = read(FORMS).metadata["codex"]["output_forms"]
    assert set(forms) == set(OUTPUT_FORMS)
    assert sum(forms.values()) == 15


@pytest.mark.parametrize(
    ("output", "form", "failed"),
    [
        ("Exit code: 1\nWall time: 0.8 seconds\nOutput:\nboom\n", "exec-text", True),
        ("Exit code: 0\nWall time: 0.1 seconds\nTotal output lines: 2\nOutput:\na\nb\n", "exec-text", False),
        (
            "Exit code: -1\nWall time: 10 seconds\nOutput:\ncommand timed out after 10000 milliseconds\n",
            "exec-text",
            True,
        ),
        ("Chunk ID: a1\nWall time: 0.5000 seconds\nProcess exited with code 1\nOutput:\nno\n", "unified-exec", True),
        ("Wall time: 0.5000 seconds\nProcess exited with code 0\nOutput:\nyes\n", "unified-exec", False),
        (
            "Chunk ID: a1\nWall time: 2.0 seconds\nProcess running with session ID 7\nOutput:\n...\n",
            "unified-exec",
            False,
        ),
        # a code inside the command's own output is not the process's
        ("Chunk ID: a1\nWall time: 1.0 seconds\nOutput:\nProcess exited with code 3\n", "unified-exec", False),
        ("apply_patch verification failed: invalid hunk at line 3", "refusal", True),
        ("failed to parse function arguments: missing field `command`", "refusal", True),
        ('err: "connection closed"', "refusal", True),
        ('exec_command failed: CreateProcess { message: "denied" }', "refusal", True),
        ('{"output":"x","metadata":{"exit_code":2,"duration_seconds":0.1}}', "exec-json", True),
        ('{"output":"x","metadata":{"exit_code":0,"duration_seconds":0.1}}', "exec-json", False),
        ('{"content":[{"type":"text","text":"nope"}],"isError":true}', "mcp-result", True),
        ('{"content":[{"type":"text","text":"ok"}],"isError":false}', "mcp-result", False),
        ('{"content":"no image","success":false}', "success-flag", True),
        ('[{"type":"text","text":"ok"}]', "content-list", False),
        ("the word Exit code: 1 in the middle is not a head", "text", False),
    ],
)
def test_each_form_is_read_as_the_table_says(output: str, form: str, failed: bool) -> None:
    reading = read_tool_output(output)
    assert (reading.form, reading.failed) == (form, failed)
    assert form in OUTPUT_FORMS


def test_exec_json_and_mcp_outputs_are_unwrapped_to_their_text() -> None:
    assert read_tool_output('{"output":"a.txt\\n","metadata":{"exit_code":0}}').text == "a.txt\n"
    assert read_tool_output('{"content":[{"type":"text","text":"nope"}],"isError":true}').text == "nope"
    assert read_tool_output('[{"type":"text","text":"a"},{"type":"text","text":"b"}]').text == "a\nb"


# --- token counts ------------------------------------------------------------------------------------------------


def test_token_counts_are_not_steps_and_land_on_the_call_before_them() -> None:
    trace = read(FORMS)
    assert "event_msg/token_count" not in {s.source_type for s in trace.steps}
    by_call = {s.call_id: s for s in trace.steps if s.kind == "tool_call"}
    seen_totals: list[Any] = []
    last_model: str | None = None
    expected: dict[str, tuple[int, int]] = {}
    for row in rows(FORMS):  # worked out from the raw rows: the last model row before each new count
        payload = row["payload"]
        if row["type"] == "response_item" and payload["type"] in CALL_ITEMS:
            last_model = payload["call_id"]
        elif row["type"] == "response_item" and payload["type"] == "message" and payload["role"] == "assistant":
            last_model = "answer"
        elif payload.get("type") == "token_count" and payload["info"] is not None:
            if payload["info"]["total_token_usage"] in seen_totals:
                continue
            seen_totals.append(payload["info"]["total_token_usage"])
            last = payload["info"]["last_token_usage"]
            assert last_model is not None and last_model not in expected
            expected[last_model] = (last["input_tokens"], last["output_tokens"])
    answer = next(s for s in trace.steps if s.kind == "message" and s.role == "assistant" and "Fixed" in s.content)
    got = {cid: (s.input_tokens, s.output_tokens) for cid, s in by_call.items() if s.input_tokens is not None}
    got["answer"] = (answer.input_tokens, answer.output_tokens)  # type: ignore[assignment]
    assert got == expected and len(expected) == 16
    codex = trace.metadata["codex"]
    assert codex["token_counts"] == {"folded": 16, "merged": 0, "kept_as_steps": 0}
    assert codex["skipped"]["event_msg/token_count(repeat)"] == 1
    assert codex["skipped"]["event_msg/token_count(null)"] == 1
    total = sum(s.input_tokens or 0 for s in trace.steps)
    assert total == codex["token_usage"]["input_tokens"]  # every count survives, none twice


def test_events_that_carry_meaning_stay_steps() -> None:
    sources = [s.source_type for s in read(FORMS).steps if s.kind == "event"]
    assert sources == ["event_msg/task_complete", "event_msg/context_compacted", "compacted", "event_msg/turn_aborted"]


def _usage(inp: int, out: int, total: int) -> dict[str, Any]:
    last = {"input_tokens": inp, "output_tokens": out, "total_tokens": inp + out}
    return {"type": "token_count", "info": {"last_token_usage": last, "total_token_usage": {"total_tokens": total}}}


def test_token_count_edge_cases(tmp_path: Path) -> None:
    ts = "2026-01-01T00:00:00Z"
    items = [
        ("session_meta", {"id": "edges"}),
        ("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]}),
        ("event_msg", _usage(10, 1, 11)),  # no model step before it: kept as an event step
        ("response_item", {"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "c1"}),
        ("event_msg", _usage(20, 2, 33)),
        ("response_item", {"type": "function_call_output", "call_id": "c1", "output": "ok"}),
        ("response_item", {"type": "reasoning", "summary": [], "encrypted_content": "gAAA"}),  # writes no step
        ("event_msg", _usage(30, 3, 66)),  # its call wrote no step: added to the call before
    ]
    path = tmp_path / "edges.jsonl"
    path.write_text("".join(json.dumps({"timestamp": ts, "type": k, "payload": p}) + "\n" for k, p in items))
    trace = read(path)
    assert [(s.kind, s.input_tokens, s.output_tokens) for s in trace.steps] == [
        ("message", None, None), ("event", 10, 1), ("tool_call", 50, 5), ("tool_result", None, None),
    ]  # fmt: skip
    assert trace.steps[1].source_type == "event_msg/token_count"
    assert trace.metadata["codex"]["token_counts"] == {"folded": 2, "merged": 1, "kept_as_steps": 1}


def test_docs_name_every_form_and_its_source() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "formats.md").read_text()
    codex = docs.split("## Codex CLI", 1)[1].split("\n## ", 1)[0]
    for form in OUTPUT_FORMS:
        assert f"| `{form}` |" in codex, form
    for commit in ("019402a8d07daba2eae1deaee6c5721be4c4761f", "010d3e6290ba820300d5d173051df405d3df7e1a"):
        assert commit in codex
