"""Nothing hidden: failed judgements make `annotate`/`analyze` exit 3, and every form of the report names them.

Also: `analyze` takes every judge option `annotate` takes, and `--dry-run` counts requests, tokens and cost while
sending nothing (the loopback server's request log stays empty).
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from agentmortem.analysis import build_report
from agentmortem.cli import exit_codes
from agentmortem.cli.judge_options import JUDGE_OPTIONS
from agentmortem.cli.main import app
from agentmortem.report.html import render_html
from agentmortem.report.json import render_json
from agentmortem.report.markdown import render_markdown
from agentmortem.report.terminal import render_terminal
from agentmortem.taxonomy import mast
from conftest import shared_data
from fake_openai import FakeOpenAI, Fault
from report_builders import Row, fill

FIXTURE = "tests/fixtures/judge/three_runs.jsonl"
LINE = "3 traces not analysed: their annotation failed (rerun to retry)"


@pytest.fixture(autouse=True)
def no_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agentmortem.judges.llm.client.backoff", lambda *_args: 0.0)


def test_analyze_against_an_endpoint_that_always_errs_exits_3_and_names_the_traces(
    runner: CliRunner, db_path: str, fake_server: FakeOpenAI, tmp_path: Path
) -> None:
    fake_server.fault_rule = lambda _number: Fault("status", 500)
    md, html, out = tmp_path / "r.md", tmp_path / "r.html", tmp_path / "r.json"
    result = runner.invoke(app, [
        "--db", db_path, "analyze", "--format", "openai", FIXTURE, "-m", "gpt-4o-mini",
        "--base-url", fake_server.base_url, "--json", str(out), "--md", str(md), "--html", str(html),
    ])  # fmt: skip
    assert result.exit_code == exit_codes.FAILED_JUDGEMENTS, result.output
    assert fake_server.completions()  # it did try
    assert "annotated 0 with 'gpt-4o-mini' (0 already done, 3 failed)" in result.output
    assert f"warning: {LINE}" in result.output and "Traceback" not in result.output
    data = json.loads(out.read_text())
    assert [t["id"] for t in data["failed_traces"]] == ["run-a", "run-b", "run-c"]
    assert all("HTTP 500" in t["error"] for t in data["failed_traces"])
    assert f"{LINE}." in data["notes"] and not any("outcome" in n.lower() for n in data["notes"])
    for text in (md.read_text(), html.read_text(), result.stdout):
        assert LINE in text and all(name in text for name in ("run-a", "run-b", "run-c"))
        assert "no outcome" not in text.lower()


def test_annotate_exits_3_and_says_how_many_failed(runner: CliRunner, db_path: str, fake_server: FakeOpenAI) -> None:
    runner.invoke(app, ["--db", db_path, "ingest", "--format", "openai", FIXTURE])
    fake_server.fault_rule = lambda number: Fault("status", 500) if number < 6 else None  # one trace, all attempts
    result = runner.invoke(app, ["--db", db_path, "annotate", "--model", "gpt-4o-mini", "--base-url",
                                 fake_server.base_url, "--concurrency", "1"])  # fmt: skip
    assert result.exit_code == exit_codes.FAILED_JUDGEMENTS, result.output
    assert "traces: 2 annotated, 1 failed" in result.output
    assert "1 trace not analysed: their annotation failed (rerun to retry)" in result.output


def test_every_renderer_names_failed_traces_and_counts_those_not_listed(store, monkeypatch) -> None:
    monkeypatch.setattr("agentmortem.report.terminal.MAX_FAILED_SHOWN", 2)
    monkeypatch.setattr("agentmortem.analysis.build.MAX_FAILED_LISTED", 3)
    rows = [Row(f"ok{i}", "g", i % 2 == 0, {}) for i in range(4)]
    rows += [Row(f"bad{i}", "g", True, failed_annotation=True) for i in range(5)]
    fill(store, rows, all_modes=mast().ids)
    report = build_report(store)
    assert [t.id for t in report.failed_traces] == ["bad0", "bad1", "bad2"]
    console = Console(record=True, width=120)
    for part in render_terminal(report, width=120):
        console.print(part)
    terminal = console.export_text()
    assert "5 traces not analysed: their annotation failed (rerun to retry):" in terminal
    assert "• bad1: judge broke" in terminal and "bad2" not in terminal and "… and 3 more" in terminal
    markdown = render_markdown(report)
    assert "## Not analysed" in markdown and "- `bad2`: judge broke" in markdown and "- … and 2 more" in markdown
    html = render_html(report)
    assert 'id="not-analysed"' in html and "bad2" in html and "… and 2 more" in html
    assert [t["id"] for t in orjson.loads(render_json(report))["failed_traces"]] == ["bad0", "bad1", "bad2"]


def _option_names(command_name: str) -> set[str]:
    command = typer.main.get_command(app).commands[command_name]  # type: ignore[attr-defined]
    return {param.name for param in command.params}


def test_analyze_takes_every_judge_option_annotate_takes() -> None:
    annotate, analyze = _option_names("annotate"), _option_names("analyze")
    for name in JUDGE_OPTIONS:
        assert name in annotate and name in analyze, name
    for flag in ("max_cost", "concurrency", "samples", "context_tokens", "timeout"):
        assert flag in analyze


def test_analyze_passes_judge_options_to_the_judge(runner: CliRunner, db_path: str, fake_server: FakeOpenAI) -> None:
    result = runner.invoke(app, [
        "--db", db_path, "analyze", "--format", "openai", FIXTURE, "-m", "gpt-4o-mini", "--base-url",
        fake_server.base_url, "--samples", "2", "--context-tokens", "20000", "--timeout", "30", "-q",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    sent = fake_server.completions()
    assert len(sent) == 6  # two samples of each of three one-chunk traces
    assert {r.body["temperature"] for r in sent} == {0.7}  # the --samples default temperature


def test_dry_run_on_the_shared_data_counts_and_sends_nothing(
    runner: CliRunner, db_path: str, fake_server: FakeOpenAI
) -> None:
    data = shared_data("mad-openai", "metagpt_gpt4o.jsonl")
    ingested = runner.invoke(app, ["--db", db_path, "ingest", str(data)])
    assert ingested.exit_code == 0, ingested.output
    args = ["--db", db_path, "annotate", "-m", "gpt-4o-mini", "--base-url", fake_server.base_url, "--dry-run"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    plan = orjson.loads(result.stdout)
    assert plan["traces"] == 130 and plan["requests"] >= 130 and plan["sent"] == 0
    assert plan["prompt_tokens"] > 100_000 and plan["completion_tokens"] > 0 and plan["cost_usd"] > 0
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    assert f"{plan['requests']} requests" in text.stdout and f"${plan['cost_usd']:.4f}" in text.stdout
    assert "nothing was sent" in text.stdout
    smaller = orjson.loads(runner.invoke(app, [*args, "--json", "--context-tokens", "16000"]).stdout)
    assert (plan["requests"], smaller["requests"]) == (_parts(db_path, 128_000), _parts(db_path, 16_000))
    assert fake_server.requests == []


def _parts(db_path: str, context_tokens: int) -> int:
    """The requests a real run sends: the judge's own chunks of each redacted trace (one sample each)."""
    from agentmortem.judges.llm import LLMJudge
    from agentmortem.judges.redact import redact_trace
    from agentmortem.store import Store

    judge = LLMJudge("gpt-4o-mini", base_url="http://127.0.0.1:9/v1", context_tokens=context_tokens)
    with Store(db_path, read_only=True) as store:
        return sum(len(judge.chunks(redact_trace(t)[0], mast())) for t in store.iter_traces())


def test_analyze_dry_run_on_the_shared_data_sends_nothing(
    runner: CliRunner, db_path: str, fake_server: FakeOpenAI
) -> None:
    data = shared_data("mad-openai", "metagpt_gpt4o.jsonl")
    result = runner.invoke(app, ["--db", db_path, "analyze", str(data), "-m", "gpt-4o-mini", "--base-url",
                                 fake_server.base_url, "--dry-run", "--samples", "3"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "dry run: 130 traces to judge" in result.stdout and "estimated cost $" in result.stdout
    assert fake_server.requests == []


def test_dry_run_counts_cached_answers_apart(runner: CliRunner, db_path: str, fake_server: FakeOpenAI) -> None:
    runner.invoke(app, ["--db", db_path, "ingest", "--format", "openai", FIXTURE])
    args = ["--db", db_path, "annotate", "-m", "gpt-4o-mini", "--base-url", fake_server.base_url]
    assert runner.invoke(app, args).exit_code == 0
    sent = len(fake_server.completions())
    plan = orjson.loads(runner.invoke(app, [*args, "--redo", "--dry-run", "--json"]).stdout)
    assert (plan["traces"], plan["requests"], plan["requests_cached"]) == (3, 0, 3)
    assert len(fake_server.completions()) == sent


def test_dry_run_needs_an_llm_judge(runner: CliRunner, db_path: str) -> None:
    result = runner.invoke(app, ["--db", db_path, "annotate", "--dry-run"])
    assert result.exit_code == exit_codes.USAGE and "sends none" in result.output
    analyzed = runner.invoke(app, ["--db", db_path, "analyze", "--format", "openai", FIXTURE, "--dry-run"])
    assert analyzed.exit_code == exit_codes.USAGE and "sends none" in analyzed.output
    assert "read 3 traces" not in analyzed.output  # refused before anything was read


def test_analyze_honours_the_cost_cap(runner: CliRunner, db_path: str, fake_server: FakeOpenAI) -> None:
    result = runner.invoke(app, [
        "--db", db_path, "analyze", "--format", "openai", FIXTURE, "-m", "local-llama", "--base-url",
        fake_server.base_url, "--max-cost", "0.05", "--price-input", "5", "--price-output", "5", "--concurrency", "1",
        "-q",
    ])  # fmt: skip
    assert "cost cap $0.05 reached" in result.output
    assert len(fake_server.completions()) < 3
    assert result.exit_code == exit_codes.FAILED_JUDGEMENTS, result.output  # the refused trace failed, named
    assert "cost cap of $0.05 reached; request not sent" in result.output
