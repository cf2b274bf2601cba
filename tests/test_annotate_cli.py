from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from agentmortem.cli.main import app
from fake_openai import FakeOpenAI
from judge_helpers import citing

FIXTURE = "tests/fixtures/judge/three_runs.jsonl"


@pytest.fixture(autouse=True)
def no_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agentmortem.judges.llm.client.backoff", lambda *_args: 0.0)


def annotate(runner: CliRunner, db: str, server: FakeOpenAI, *extra: str, code: int = 0) -> dict:
    args = ["--db", db, "annotate", "--model", "gpt-4o-mini", "--base-url", server.base_url, "--json", *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    return orjson.loads(result.stdout)


def test_ingest_annotate_show_end_to_end(runner: CliRunner, db_path: str, fake_server: FakeOpenAI) -> None:
    fake_server.verdict = citing("kubectl get pods -n shop")
    ingested = runner.invoke(app, ["--db", db_path, "ingest", "--format", "openai", FIXTURE])
    assert ingested.exit_code == 0, ingested.output
    summary = annotate(runner, db_path, fake_server)
    assert summary["annotated"] == 3 and summary["failed"] == 0 and summary["requests_sent"] == 3
    assert summary["redactions"] >= 2 and summary["cost_usd"] > 0
    sent = "\n".join(r.text for r in fake_server.completions())
    assert "AKIAIOSFODNN7EXAMPLE" not in sent and "Tr0ub4dor" not in sent
    shown = runner.invoke(app, ["--db", db_path, "annotations", "show", "run-a", "--json"])
    annotation = orjson.loads(shown.stdout)[0]
    repetition = next(v for v in annotation["verdicts"] if v["mode_id"] == "FM-1.3")
    assert repetition["present"] and [e["step"] for e in repetition["evidence"]] == [1, 3]
    text = runner.invoke(app, ["--db", db_path, "annotations", "show", "run-a"]).stdout
    assert "FM-1.3" in text and "[step 1]" in text
    listing = orjson.loads(runner.invoke(app, ["--db", db_path, "annotations", "list", "--json"]).stdout)
    assert {"annotator": "gpt-4o-mini", "kind": "llm", "traces": 3, "failed": 0, "present_verdicts": 1} in listing


def test_a_second_annotate_sends_zero_requests(runner: CliRunner, db_path: str, fake_server: FakeOpenAI) -> None:
    runner.invoke(app, ["--db", db_path, "ingest", "--format", "openai", FIXTURE])
    annotate(runner, db_path, fake_server)
    before = len(fake_server.completions())
    again = annotate(runner, db_path, fake_server)
    assert again["skipped"] == 3 and again["requests_sent"] == 0
    redo = annotate(runner, db_path, fake_server, "--redo")
    assert redo["annotated"] == 3 and redo["requests_sent"] == 0 and redo["requests_cached"] == 3
    assert len(fake_server.completions()) == before


def test_failed_traces_are_retried_on_the_next_run(runner: CliRunner, db_path: str, fake_server: FakeOpenAI) -> None:
    from fake_openai import Fault

    runner.invoke(app, ["--db", db_path, "ingest", "--format", "openai", FIXTURE])
    fake_server.faults = [Fault("prose"), Fault("prose")]
    first = annotate(runner, db_path, fake_server, "--concurrency", "1", "--annotator", "judge", code=3)
    assert first["annotated"] == 2 and first["failed"] == 1 and "unusable answer" in first["failures"][0]["error"]
    second = annotate(runner, db_path, fake_server, "--annotator", "judge")
    assert second["annotated"] == 1 and second["skipped"] == 2 and second["requests_sent"] == 1


def test_cost_cap_needs_a_price_and_reports_the_stop(runner: CliRunner, db_path: str, fake_server: FakeOpenAI) -> None:
    runner.invoke(app, ["--db", db_path, "ingest", "--format", "openai", FIXTURE])
    args = ["--db", db_path, "annotate", "--model", "local-llama", "--base-url", fake_server.base_url]
    refused = runner.invoke(app, [*args, "--max-cost", "1"])
    assert refused.exit_code == 1 and "no price known" in refused.output
    capped = runner.invoke(app, [*args, "--max-cost", "0.05", "--price-input", "5", "--price-output", "5"])
    assert capped.exit_code == 3, capped.output  # the traces the cap refused are failed annotations, retried later
    assert "cost cap $0.05 reached" in capped.output and len(fake_server.completions()) < 3


def test_unknown_trace_is_a_one_line_error(runner: CliRunner, db_path: str, fake_server: FakeOpenAI) -> None:
    result = runner.invoke(app, ["--db", db_path, "annotate", "--model", "m", "--base-url", fake_server.base_url,
                                 "--trace", "nope"])  # fmt: skip
    assert result.exit_code == 1 and "no trace 'nope'" in result.output and "Traceback" not in result.output
