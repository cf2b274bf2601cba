"""Fail fast, before spending: an endpoint that cannot serve the run ends `annotate` at once with one line.

The line names the URL, the model, where the key came from (never the key) and the fix; the exit code is
ENDPOINT_UNUSABLE. "At once" is asserted on what the fake received (no per-trace retries); the elapsed time is only
a generous guard.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from agentmortem.cli import exit_codes
from agentmortem.cli.main import app
from agentmortem.judges.llm import LLMJudge
from agentmortem.judges.llm.probe import EndpointUnusable, _connection_reason
from fake_openai import FakeOpenAI, family_server

FIXTURE = "tests/fixtures/judge/three_runs.jsonl"
GUARD_SECONDS = 5.0
WRONG_KEY = "sk-wrong-0123456789abcdef"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "GEMINI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def chat_server() -> Iterator[FakeOpenAI]:
    fake = family_server("openai-chat")
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def ingested(runner: CliRunner, db_path: str) -> str:
    assert runner.invoke(app, ["--db", db_path, "ingest", "--format", "openai", FIXTURE]).exit_code == 0
    return db_path


def annotate(runner: CliRunner, db: str, *args: str) -> tuple[Any, float]:
    start = time.monotonic()
    result = runner.invoke(app, ["--db", db, "annotate", *args])
    return result, time.monotonic() - start


def one_line(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert result.exit_code == exit_codes.ENDPOINT_UNUSABLE and "Traceback" not in result.output
    return lines[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_ends_the_run_at_once(runner: CliRunner, ingested: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    result, elapsed = annotate(runner, ingested, "--model", "gpt-4o-mini", "--base-url", url)
    line = one_line(result)
    assert "connection refused" in line and url in line and "'gpt-4o-mini'" in line and "fix:" in line
    assert "not-needed" not in line  # the placeholder sent to keyless servers is never shown as a key
    assert elapsed < GUARD_SECONDS


def test_a_refused_key_ends_the_run_after_one_request(
    runner: CliRunner, ingested: str, chat_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", WRONG_KEY)
    args = ["--model", "gpt-4o-mini", "--base-url", chat_server.base_url, "--provider", "openai-chat"]
    result, elapsed = annotate(runner, ingested, *args)
    line = one_line(result)
    assert "key was refused (HTTP 401)" in line and "key from $OPENAI_API_KEY" in line and WRONG_KEY not in line
    assert len(chat_server.requests) == 1 and chat_server.completions() == []
    assert elapsed < GUARD_SECONDS


def test_an_unknown_model_ends_the_run_after_one_request(
    runner: CliRunner, ingested: str, chat_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-chat")
    args = ["--model", "gpt-4o-mini-typo", "--base-url", chat_server.base_url, "--provider", "openai-chat"]
    result, _ = annotate(runner, ingested, *args)
    line = one_line(result)
    assert "lists no such model" in line and "gpt-4.1, gpt-4o, gpt-4o-mini" in line
    assert len(chat_server.requests) == 1 and chat_server.completions() == []


def test_a_missing_key_for_a_hosted_endpoint_is_caught_before_any_request(
    runner: CliRunner, ingested: str, chat_server: FakeOpenAI
) -> None:
    args = ["--model", "gpt-4o-mini", "--base-url", chat_server.base_url, "--provider", "openai-chat"]
    result, _ = annotate(runner, ingested, *args)
    line = one_line(result)
    assert "no API key ($OPENAI_API_KEY is not set)" in line and "export OPENAI_API_KEY" in line
    assert chat_server.requests == []


def test_missing_key_for_openai_itself_needs_no_network(runner: CliRunner, ingested: str) -> None:
    result, _ = annotate(runner, ingested, "--model", "gpt-5-mini")
    assert "https://api.openai.com/v1" in one_line(result)


def test_an_unknown_deployment_on_azure_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = family_server("azure")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-test-key")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", fake.base_url.removesuffix("/v1"))
    try:
        judge = LLMJudge("no-such-deployment", provider="azure")
        with pytest.raises(EndpointUnusable, match=r"no such model or deployment \(HTTP 404\)"):
            asyncio.run(judge.probe())
        assert len(fake.requests) == 1
    finally:
        fake.stop()


def test_a_working_endpoint_passes_the_probe_with_one_cheap_request(
    chat_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-chat")
    asyncio.run(LLMJudge("gpt-4o", base_url=chat_server.base_url, provider="openai-chat").probe())
    assert [(r.method, r.path) for r in chat_server.requests] == [("GET", "/v1/models")]


def test_connection_failures_are_named_from_the_cause() -> None:
    assert _connection_reason(socket.gaierror(-2, "Name or service not known"))[0] == "host name not found (DNS)"
    import ssl

    assert _connection_reason(ssl.SSLError(1, "WRONG_VERSION_NUMBER"))[0].startswith("TLS error")
    assert _connection_reason(ConnectionRefusedError(111, "refused"))[0] == "connection refused"


def test_https_to_a_plain_http_server_is_a_tls_error(runner: CliRunner, ingested: str, chat_server: FakeOpenAI) -> None:
    url = chat_server.base_url.replace("http://", "https://")
    result, _ = annotate(runner, ingested, "--model", "gpt-4o-mini", "--base-url", url)
    line = one_line(result)
    assert "TLS error" in line and url in line


def test_analyze_checks_the_endpoint_before_reading_anything(runner: CliRunner, db_path: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    result = runner.invoke(app, ["--db", db_path, "analyze", FIXTURE, "--model", "gpt-4o-mini", "--base-url", url])
    assert result.exit_code == exit_codes.ENDPOINT_UNUSABLE and "connection refused" in result.stderr
    assert "ingested" not in result.stderr
