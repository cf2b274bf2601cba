"""OpenAI's own families: chat models, reasoning models, and the same models deployed on Azure."""

from __future__ import annotations

from agentmortem.judges.llm.providers.profile import Profile

OPENAI_CHAT = Profile(
    name="openai-chat",
    title="OpenAI chat models (gpt-4o, gpt-4.1 families)",
    source="https://platform.openai.com/docs/api-reference/chat/create",
    # `max_tokens` is deprecated for `max_completion_tokens`, which the chat models accept too.
    token_param="max_completion_tokens",
    sampling=frozenset({"temperature", "top_p"}),
    structured=("json_schema", "json_object", "text"),
    default_base_url="https://api.openai.com/v1",
    hosts=("api.openai.com",),
    models=("gpt-4o", "gpt-4.1", "gpt-4", "gpt-3.5", "chatgpt-"),
)

OPENAI_REASONING = Profile(
    name="openai-reasoning",
    title="OpenAI reasoning models (o1, o3, o4-mini, gpt-5 family)",
    source="https://platform.openai.com/docs/guides/reasoning",
    token_param="max_completion_tokens",
    # temperature, top_p, presence/frequency penalties are refused ("Only the default (1) value is supported").
    sampling=frozenset({"reasoning_effort"}),
    structured=("json_schema", "json_object", "text"),
    reasoning_usage="usage.completion_tokens_details.reasoning_tokens, billed as output, part of completion_tokens",
    default_base_url="https://api.openai.com/v1",
    hosts=("api.openai.com",),
    models=("o1", "o3", "o4", "gpt-5"),
    notes=("`max_tokens` is refused with unsupported_parameter: use `max_completion_tokens`",),
)

AZURE_OPENAI = Profile(
    name="azure",
    title="Azure OpenAI (deployments, api-version)",
    source="https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference",
    token_param="max_completion_tokens",
    sampling=frozenset({"temperature", "top_p"}),
    structured=("json_schema", "json_object", "text"),
    # GET /openai/models lists base models, not the deployments a request names, so it cannot say "unknown model".
    probe="completion",
    key_env="AZURE_OPENAI_API_KEY",
    hosts=(".openai.azure.com", ".cognitiveservices.azure.com"),
    notes=(
        "the model name is the deployment name; requests go to /openai/deployments/{name}/chat/completions",
        "endpoint from --base-url or AZURE_OPENAI_ENDPOINT, api-version from --api-version or OPENAI_API_VERSION",
        "a deployment of a reasoning model refuses temperature like OpenAI's; the judge adapts from the error",
    ),
)

AZURE_ENDPOINT_ENV = "AZURE_OPENAI_ENDPOINT"
AZURE_VERSION_ENV = "OPENAI_API_VERSION"
AZURE_DEFAULT_VERSION = "2024-10-21"
"""The latest generally available data-plane api-version named on the reference page above."""
