"""Endpoint profiles: which family a base URL and model name pick, and how refusals in each error shape are read."""

from __future__ import annotations

import httpx2 as httpx
import openai
import pytest

from agentmortem.judges.llm import providers
from agentmortem.judges.llm.adapt import Shape, context_limit, read_refusal


@pytest.mark.parametrize(
    ("model", "base_url", "family", "found_by"),
    [
        ("gpt-4o", None, "openai-chat", "base URL"),
        ("gpt-4.1-mini", "https://api.openai.com/v1", "openai-chat", "base URL"),
        ("gpt-5-mini", None, "openai-reasoning", "base URL"),
        ("o3", None, "openai-reasoning", "base URL"),
        ("o4-mini", "https://api.openai.com/v1", "openai-reasoning", "base URL"),
        ("my-deployment", "https://contoso.openai.azure.com", "azure", "base URL"),
        ("gemini-2.5-flash", "https://generativelanguage.googleapis.com/v1beta/openai/", "gemini", "base URL"),
        ("claude-sonnet-4-5", "https://api.anthropic.com/v1/", "anthropic", "base URL"),
        ("openai/gpt-5-mini", "https://openrouter.ai/api/v1", "openrouter", "base URL"),
        ("judge", "http://localhost:4000", "litellm", "base URL"),
        ("Qwen/Qwen3-8B", "http://localhost:8000/v1", "vllm", "base URL"),
        ("llama3.1", "http://127.0.0.1:11434/v1", "ollama", "base URL"),
        ("any", "http://localhost:8080/v1", "llamacpp", "base URL"),
        ("qwen2.5-7b-instruct", "http://localhost:1234/v1", "lmstudio", "base URL"),
        ("gpt-5-nano", "http://127.0.0.1:9/v1", "openai-reasoning", "model name"),
        ("openai/o3-mini", "http://gateway.internal/v1", "openai-reasoning", "model name"),
        ("gemini-2.0-flash", "http://gateway.internal/v1", "gemini", "model name"),
        ("mistral-small", "http://gateway.internal/v1", "openai-compatible", "default"),
    ],
)
def test_the_family_is_found_from_the_url_then_the_model(model: str, base_url: str | None, family: str,
                                                         found_by: str) -> None:  # fmt: skip
    resolved = providers.resolve(model, base_url)
    assert (resolved.profile.name, resolved.found_by) == (family, found_by)


def test_a_provider_overrides_detection_and_an_unknown_one_is_refused() -> None:
    assert providers.resolve("anything", "http://localhost:8000/v1", "ollama").profile.name == "ollama"
    assert providers.resolve("gpt-5", "http://x", "openai-chat").profile.name == "openai-reasoning"
    with pytest.raises(providers.UnknownProvider, match="known: openai-chat"):
        providers.resolve("m", None, "bedrock")


def test_hosted_families_need_a_key_unless_only_the_model_name_pointed_there() -> None:
    assert providers.resolve("gpt-4o", None).key_required
    assert providers.resolve("gemini-2.5-pro", None, "gemini").key_required
    assert not providers.resolve("gpt-4o", "http://127.0.0.1:5000/v1").key_required
    assert not providers.resolve("llama3.1", "http://localhost:11434/v1").key_required


def test_every_profile_names_its_source_and_a_usable_first_form() -> None:
    for name in providers.names():
        profile = providers.get(name)
        assert profile.source.startswith("https://") and profile.structured and profile.structured[-1] == "text"


def _error(status: int, body: object) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://x/v1/chat/completions")
    response = httpx.Response(status, request=request, json=body)
    return openai.APIStatusError("refused", response=response, body=body)


def test_refusals_are_read_in_every_documented_error_shape() -> None:
    gemini = read_refusal(
        _error(400, [{"error": {"code": 400, "message": "bad temperature", "status": "INVALID_ARGUMENT"}}])
    )
    assert gemini.message == "bad temperature" and gemini.code == "INVALID_ARGUMENT"
    anthropic = read_refusal(_error(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "m"}}))
    assert anthropic.type == "invalid_request_error" and anthropic.message == "m"
    lmstudio = read_refusal(_error(400, {"error": "'response_format.type' must be 'json_schema'"}))
    assert "response_format" in lmstudio.text
    llama = read_refusal(_error(400, {"error": {"code": 400, "message": "the request exceeds the available context "
                                                "size, try increasing it", "type": "exceed_context_size_error",
                                                "n_ctx": 4096}}))  # fmt: skip
    assert context_limit(llama, providers.get("llamacpp")) == 4096
    openai_ctx = read_refusal(_error(400, {"error": {"message": "This model's maximum context length is 8192 tokens.",
                                                     "code": "context_length_exceeded"}}))  # fmt: skip
    assert context_limit(openai_ctx, providers.get("openai-chat")) == 8192
    assert context_limit(gemini, providers.get("gemini")) is False


def test_a_refused_parameter_is_renamed_or_dropped_and_other_400s_are_not_adapted() -> None:
    shape = Shape.start(providers.get("openai-compatible"), "m", "auto")
    sent = shape.body([{"role": "user", "content": "x"}], {"type": "object"}, 0.0, 100)
    assert sent["max_tokens"] == 100 and sent["temperature"] == 0.0
    message = (
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
    )
    error = {"message": message, "param": "max_tokens", "code": "unsupported_parameter"}
    renamed = read_refusal(_error(400, {"error": error}))
    assert shape.adapt(renamed, sent) and shape.token_param == "max_completion_tokens"
    unrelated = read_refusal(_error(400, {"error": {"message": "messages[1].content must be a string"}}))
    assert not shape.adapt(unrelated, shape.body([{"role": "user", "content": "x"}], None, 0.0, 100))
    assert shape.changes == ["sent max_completion_tokens instead of max_tokens"]


def test_without_system_messages_the_instructions_lead_the_user_message() -> None:
    import dataclasses

    profile = dataclasses.replace(providers.get("openai-compatible"), system_messages=False)
    body = Shape.start(profile, "m", "text").body(
        [{"role": "system", "content": "rules"}, {"role": "user", "content": "trace"}], None, 0.0, None
    )
    assert body["messages"] == [{"role": "user", "content": "rules\n\ntrace"}]


def test_reasoning_and_cached_tokens_are_priced_at_their_own_rates() -> None:
    from agentmortem.judges.llm import Price, Usage, price_for

    usage = Usage(prompt_tokens=1_000_000, cached_tokens=400_000, completion_tokens=300_000, reasoning_tokens=200_000)
    price = Price(input=1.0, cached_input=0.1, output=4.0)
    assert price.parts(usage) == pytest.approx({"input": 0.6, "cached_input": 0.04, "output": 0.4, "reasoning": 0.8})
    assert Price(input=1.0, output=4.0, reasoning=2.0).parts(usage)["reasoning"] == pytest.approx(0.4)
    gpt5 = price_for("gpt-5-mini")
    assert gpt5 is not None and gpt5.cost(usage) == pytest.approx(sum(gpt5.parts(usage).values()))
