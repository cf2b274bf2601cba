"""Every endpoint family, end to end: ingest -> annotate -> report against a loopback fake enforcing its rules.

Each family's fake refuses what the provider's documentation says it refuses (fake_families.py), in the
provider's error shape. A family passes when every trace is annotated and the fake refused at most one request
(the one adaptation a run may need), asserted on the fake's own request log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from agentmortem.cli.main import app
from agentmortem.judges.llm import providers
from fake_openai import FakeOpenAI, family_server

FIXTURE = "tests/fixtures/judge/three_runs.jsonl"


@dataclasses.dataclass(frozen=True)
class Case:
    family: str
    model: str
    key_env: str | None = None
    adaptations: int = 0
    root_url: bool = False  # Azure's endpoint is the resource root; the client adds /openai/deployments/...


CASES = [
    Case("openai-chat", "gpt-4o-mini", "OPENAI_API_KEY"),
    Case("openai-reasoning", "gpt-5-mini", "OPENAI_API_KEY"),
    Case("azure", "judge-gpt4o", "AZURE_OPENAI_API_KEY", root_url=True),
    Case("gemini", "gemini-2.5-flash", "GEMINI_API_KEY"),
    Case("anthropic", "claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
    Case("openrouter", "openai/gpt-4o-mini", "OPENROUTER_API_KEY"),
    Case("litellm", "judge", "LITELLM_API_KEY", adaptations=1),  # its upstream refuses json_schema
    Case("vllm", "Qwen/Qwen3-8B"),
    Case("ollama", "llama3.1"),
    Case("llamacpp", "local-gguf"),
    Case("lmstudio", "qwen2.5-7b-instruct"),
]


@pytest.fixture(autouse=True)
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "OPENAI_API_VERSION",
                 "GEMINI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "LITELLM_API_KEY"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("agentmortem.judges.llm.client.backoff", lambda *_args: 0.0)


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[FakeOpenAI]:
    fake = family_server(request.param)
    try:
        yield fake
    finally:
        fake.stop()


def run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, list(args))


def annotate(runner: CliRunner, db: str, fake: FakeOpenAI, case: Case, *extra: str) -> Any:
    url = fake.base_url.removesuffix("/v1") if case.root_url else fake.base_url
    return run(runner, "--db", db, "annotate", "--model", case.model, "--base-url", url, "--provider", case.family,
               "--concurrency", "4", "--json", *extra)  # fmt: skip


def test_every_documented_family_has_a_case_and_a_fake() -> None:
    assert {c.family for c in CASES} == set(providers.names()) - {"openai-compatible"}


@pytest.mark.parametrize(
    ("server", "case"), [(c.family, c) for c in CASES], indirect=["server"], ids=[c.family for c in CASES]
)
def test_ingest_annotate_report_succeeds_on_every_family(
    server: FakeOpenAI, case: Case, runner: CliRunner, db_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert server.rules is not None
    if case.key_env is not None:
        monkeypatch.setenv(case.key_env, server.rules.key or "")
    assert run(runner, "--db", db_path, "ingest", "--format", "openai", FIXTURE).exit_code == 0
    result = annotate(runner, db_path, server, case)
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert summary["annotated"] == 3 and summary["failed"] == 0 and summary["requests_failed"] == 0
    assert summary["provider"] == case.family and len(summary["adaptations"]) == case.adaptations
    completions = server.completions()
    refused = server.refused()
    assert len(refused) == case.adaptations, [(r.status, r.path) for r in refused]
    assert len([r for r in completions if r.status == 200]) == 3 + _probe_requests(case.family)
    report = run(runner, "--db", db_path, "report", "--annotator", case.model, "--json")
    assert report.exit_code == 0, report.output
    assert orjson.loads(report.stdout)["annotator"] == case.model
    _check_what_was_sent(case, completions)


def _probe_requests(family: str) -> int:
    """Families without a usable GET /models are probed with one one-token completion."""
    return 1 if providers.get(family).probe == "completion" else 0


def _check_what_was_sent(case: Case, completions: list[Any]) -> None:
    judged = [r for r in completions if "response_format" in r.body or r.body.get("max_tokens", 0) > 1
              or r.body.get("max_completion_tokens", 0) > 1]  # fmt: skip
    last = (judged or completions)[-1].body
    if case.family == "openai-reasoning":
        assert "temperature" not in last and "max_tokens" not in last and last["max_completion_tokens"] > 1
    if case.family == "anthropic":
        assert "response_format" not in last  # documented as ignored: the prompt carries the shape
    if case.family == "azure":
        assert all(r.path.startswith("/openai/deployments/judge-gpt4o/chat/completions?api-version=")
                   for r in completions)  # fmt: skip
        assert all(r.headers.get("api-key") == "azure-test-key" for r in completions)
    if case.family == "lmstudio":
        assert last["response_format"]["type"] == "json_schema"
    if case.family == "litellm":
        assert last["response_format"]["type"] == "json_object"


def test_a_reasoning_model_on_an_unknown_endpoint_works_first_time(runner: CliRunner, db_path: str) -> None:
    """The issue's case: `--model gpt-5-mini` against a loopback server with OpenAI's reasoning-model rules."""
    fake = FakeOpenAI(family="openai-reasoning").start()
    assert fake.rules is not None
    fake.rules = dataclasses.replace(fake.rules, key=None)
    try:
        run(runner, "--db", db_path, "ingest", "--format", "openai", FIXTURE)
        result = run(
            runner, "--db", db_path, "annotate", "--model", "gpt-5-mini", "--base-url", fake.base_url, "--json"
        )
        assert result.exit_code == 0, result.output
        summary = orjson.loads(result.stdout)
        assert summary["annotated"] == 3 and fake.refused() == [] and summary["adaptations"] == []
        assert summary["reasoning_tokens"] == 3 * 192 and summary["cost_parts_usd"]["reasoning"] > 0
    finally:
        fake.stop()


def test_an_unrecognised_endpoint_learns_the_rules_once_and_says_so(runner: CliRunner, db_path: str) -> None:
    fake = FakeOpenAI(family="openai-reasoning").start()
    assert fake.rules is not None
    fake.rules = dataclasses.replace(fake.rules, key=None, models=None)
    try:
        run(runner, "--db", db_path, "ingest", "--format", "openai", FIXTURE)
        args = ["--db", db_path, "annotate", "--model", "house-reasoner", "--base-url", fake.base_url]
        result = run(runner, *args, "--concurrency", "8", "--json")
        assert result.exit_code == 0, result.output
        summary = orjson.loads(result.stdout)
        assert summary["annotated"] == 3 and summary["provider"] == "openai-compatible"
        assert summary["adaptations"] == [
            "house-reasoner: sent max_completion_tokens instead of max_tokens",
            "house-reasoner: temperature left at the default",
        ]
        refused = fake.refused()
        assert len(refused) == 2  # one extra request per adaptation for the whole run, not per trace
        assert [r.body.get("temperature") for r in fake.completions()][-1] is None
        text = run(runner, *args, "--redo").output
        assert "annotated" in text
    finally:
        fake.stop()
