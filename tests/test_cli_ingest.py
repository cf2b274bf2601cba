"""The ingest/traces/formats commands end to end: one-line errors, truthful exit codes, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from typer.testing import CliRunner

from agentmortem.cli.main import app
from agentmortem.store import Store


def _chat_line(trace_id: str, text: str = "hello") -> str:
    messages = [
        {"role": "user", "content": text},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "ls", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "a.txt"},
        {"role": "assistant", "content": "done"},
    ]  # fmt: skip
    return json.dumps({"id": trace_id, "model": "gpt-x", "messages": messages, "reward": 1.0})


def _invoke(runner: CliRunner, db: str, *args: str):
    return runner.invoke(app, ["--db", db, *args])


def test_good_and_bad_files_exit_code_and_one_line_errors(runner: CliRunner, db_path: str, tmp_path: Path):
    good = tmp_path / "good.jsonl"
    good.write_text(_chat_line("a") + "\n" + _chat_line("b") + "\n" + _chat_line("c")[:40] + "\n")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    unknown = tmp_path / "notes.log"
    unknown.write_text("just some words without any structure\nmore words\n")
    result = _invoke(runner, db_path, "ingest", str(good), str(empty), str(unknown))
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3
    assert any(f"{good}:3" in line for line in errors)  # truncated last line: file and line number
    assert any(str(empty) in line and "empty" in line for line in errors)
    assert any(str(unknown) in line and "no reader" in line for line in errors)
    with Store(db_path) as store:
        assert store.trace_ids() == ["a", "b"]  # the good records still went in


def test_ingest_twice_is_one_trace_each(runner: CliRunner, db_path: str, tmp_path: Path):
    path = tmp_path / "t.jsonl"
    path.write_text(_chat_line("a") + "\n")
    assert _invoke(runner, db_path, "ingest", str(path)).exit_code == 0
    second = _invoke(runner, db_path, "ingest", "--json", str(path))
    assert second.exit_code == 0
    summary = orjson.loads(second.stdout)
    assert (summary["read"], summary["added"], summary["unchanged"]) == (1, 0, 1)
    with Store(db_path) as store:
        assert store.count_traces() == 1


def test_non_utf8_and_huge_tool_output(runner: CliRunner, db_path: str, tmp_path: Path):
    big = "x" * 10_000_000
    line = json.loads(_chat_line("big"))
    line["messages"][2]["content"] = big
    path = tmp_path / "big.jsonl"
    path.write_bytes(orjson.dumps(line) + b"\n" + _chat_line("latin").encode().replace(b"hello", b"caf\xe9") + b"\n")
    result = _invoke(runner, db_path, "ingest", str(path))
    assert result.exit_code == 0, result.output
    with Store(db_path) as store:
        assert len(store.get_trace("big").steps[2].content) == 10_000_000  # type: ignore[union-attr]
        assert "caf" in store.get_trace("latin").steps[0].content  # type: ignore[union-attr]


def test_traces_list_and_show_json(runner: CliRunner, db_path: str, tmp_path: Path):
    path = tmp_path / "t.jsonl"
    path.write_text(_chat_line("a") + "\n")
    _invoke(runner, db_path, "ingest", str(path))
    listed = orjson.loads(_invoke(runner, db_path, "traces", "list", "--json").stdout)
    assert listed == [
        {"id": "a", "format": "openai", "model": "gpt-x", "agent_system": None, "benchmark": None, "steps": 4,
         "success": True, "score": 1.0, "annotators": []}
    ]  # fmt: skip
    shown = orjson.loads(_invoke(runner, db_path, "traces", "show", "a", "--json").stdout)
    assert [s["index"] for s in shown["steps"]] == [0, 1, 2, 3]
    assert [s["kind"] for s in shown["steps"]] == ["message", "tool_call", "tool_result", "message"]
    assert shown["steps"][1]["pair_index"] == 2
    text = _invoke(runner, db_path, "traces", "show", "a").stdout
    assert "[step 2]" in text and "a.txt" in text
    missing = _invoke(runner, db_path, "traces", "show", "nope")
    assert missing.exit_code == 1 and "nope" in missing.stderr


def test_unknown_format_flag_is_usage_error(runner: CliRunner, db_path: str, tmp_path: Path):
    path = tmp_path / "t.jsonl"
    path.write_text(_chat_line("a") + "\n")
    result = _invoke(runner, db_path, "ingest", "--format", "nope", str(path))
    assert result.exit_code == 2
    assert "nope" in result.stderr


def test_formats_lists_every_reader(runner: CliRunner, db_path: str):
    names = [f["name"] for f in orjson.loads(_invoke(runner, db_path, "formats", "--json").stdout)]
    assert names == ["codex", "mad", "otel", "claude", "openai", "text"]


def test_every_command_has_help(runner: CliRunner):
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    for command in ["ingest", "formats", "traces", "import-labels", "score-itbench", "annotate", "annotations",
                    "agree", "report", "analyze", "export"]:  # fmt: skip
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage" in result.stdout
