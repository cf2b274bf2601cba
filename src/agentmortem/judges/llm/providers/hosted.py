"""Hosted OpenAI-compatible endpoints of other providers and routers."""

from __future__ import annotations

from agentmortem.judges.llm.providers.profile import Profile

GEMINI = Profile(
    name="gemini",
    title="Google Gemini, OpenAI-compatible endpoint",
    source="https://ai.google.dev/gemini-api/docs/openai",
    token_param="max_tokens",
    sampling=frozenset({"temperature", "top_p"}),
    structured=("json_schema", "json_object", "text"),
    reasoning_usage="usage.completion_tokens_details.reasoning_tokens when reported (thinking is billed as output)",
    context_error=("exceeds the maximum number of tokens", "input token count"),
    rate_limit_error="HTTP 429 RESOURCE_EXHAUSTED",
    key_env="GEMINI_API_KEY",
    default_base_url="https://generativelanguage.googleapis.com/v1beta/openai/",
    hosts=("generativelanguage.googleapis.com",),
    models=("gemini-",),
    notes=("errors come as a JSON list of {error: {code, message, status}}",),
)

ANTHROPIC = Profile(
    name="anthropic",
    title="Anthropic Claude, OpenAI SDK compatibility layer",
    source="https://docs.anthropic.com/en/api/openai-sdk",
    token_param="max_tokens",
    sampling=frozenset({"temperature", "top_p"}),
    # response_format is listed as ignored: the answer's shape comes from the prompt alone.
    structured=("text",),
    max_temperature=1.0,
    reasoning_usage="not reported by the compatibility layer",
    cached_usage="not reported (prompt caching is not available through the compatibility layer)",
    context_error=("prompt is too long", "context window"),
    rate_limit_error="HTTP 429 rate_limit_error, retry-after header",
    # Its GET /v1/models is the native API's (x-api-key header); the compatibility layer's chat route is checked.
    probe="completion",
    key_env="ANTHROPIC_API_KEY",
    default_base_url="https://api.anthropic.com/v1/",
    hosts=("api.anthropic.com",),
    models=("claude-",),
    notes=("system messages are hoisted and joined into one system prompt", "temperature is capped at 1"),
)

OPENROUTER = Profile(
    name="openrouter",
    title="OpenRouter",
    source="https://openrouter.ai/docs/api-reference/parameters",
    token_param="max_tokens",
    sampling=frozenset({"temperature", "top_p"}),
    structured=("json_schema", "json_object", "text"),
    reasoning_usage="usage.completion_tokens_details.reasoning_tokens, charged as output tokens",
    # GET /models is public and would accept any key; a one-token request checks the key too.
    probe="completion",
    key_env="OPENROUTER_API_KEY",
    default_base_url="https://openrouter.ai/api/v1",
    hosts=("openrouter.ai",),
    notes=("structured outputs only on models that list them; others refuse and the judge steps down",),
)

LITELLM = Profile(
    name="litellm",
    title="LiteLLM proxy",
    source="https://docs.litellm.ai/docs/completion/drop_params",
    token_param="max_tokens",
    sampling=frozenset({"temperature", "top_p"}),
    structured=("json_schema", "json_object", "text"),
    # Without drop_params the proxy refuses a parameter the routed model lacks: "litellm.UnsupportedParamsError".
    key_env="LITELLM_API_KEY",
    hosted=False,
    ports=(4000,),
    hosts=("litellm",),
    notes=("refuses parameters its upstream model lacks (UnsupportedParamsError); the judge drops them",),
)
