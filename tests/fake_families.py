"""What each endpoint family's chat-completions API refuses, restated for the loopback fake from the providers' pages.

These rules are written independently of `agentmortem.judges.llm.providers` on purpose: the fake must refuse what
the real endpoint refuses, in the real endpoint's error shape, so a test passes only when the judge sends what the
provider documents. Each rule set names the page it follows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ErrorShape = Literal["openai", "gemini", "anthropic", "litellm", "llamacpp", "lmstudio"]


@dataclass(frozen=True)
class Rules:
    """One family's documented behaviour, as the fake enforces it."""

    name: str
    source: str
    refused_params: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Parameter -> (error code, message) it is refused with."""
    temperature: Literal["any", "default-only", "clamped-to-1"] = "any"
    forms: frozenset[str] = frozenset({"json_schema", "json_object"})
    """response_format types honoured; others are refused (unless `ignores_response_format`)."""
    form_refusal: str = "response_format {type} is not supported by this model"
    ignores_response_format: bool = False
    error_shape: ErrorShape = "openai"
    key_header: Literal["authorization", "api-key"] = "authorization"
    key: str | None = None
    models: frozenset[str] | None = None
    """Known model (or deployment) names; None: any name is served."""
    listed: tuple[str, ...] = ()
    """What GET /models lists (defaults to `models`)."""
    models_route: bool = True
    azure: bool = False
    context_limit: int | None = None
    context_message: str = (
        "This model's maximum context length is {limit} tokens. However, your messages resulted in {tokens} tokens."
    )
    context_code: str = "context_length_exceeded"
    reasoning_tokens: int = 0
    reasoning_content: bool = False
    """Answers with empty `content` and the text in `reasoning_content` (vLLM/llama.cpp reasoning parsers)."""
    cached_usage: bool = True

    def error(self, status: int, message: str, *, code: str = "", param: str | None = None) -> Any:
        """An error body in this family's documented shape."""
        if self.error_shape == "gemini":  # https://ai.google.dev/gemini-api/docs/troubleshooting
            return [{"error": {"code": status, "message": message, "status": _GOOGLE_STATUS.get(status, "UNKNOWN")}}]
        if self.error_shape == "anthropic":  # https://docs.anthropic.com/en/api/errors
            kind = {401: "authentication_error", 404: "not_found_error", 429: "rate_limit_error"}
            return {"type": "error", "error": {"type": kind.get(status, "invalid_request_error"), "message": message}}
        if self.error_shape == "litellm":  # https://docs.litellm.ai/docs/proxy/debugging (error response)
            return {"error": {"message": f"litellm.BadRequestError: {message}", "type": None, "param": param,
                              "code": str(status)}}  # fmt: skip
        if self.error_shape == "llamacpp":  # tools/server/README.md, error format
            return {"error": {"code": status, "message": message, "type": code or "invalid_request_error"}}
        if self.error_shape == "lmstudio":
            return {"error": message}
        return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code or None}}


_GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                  429: "RESOURCE_EXHAUSTED"}  # fmt: skip

_REASONING_MAX_TOKENS = (
    "unsupported_parameter",
    "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
)

FAMILIES: dict[str, Rules] = {
    r.name: r
    for r in (
        # https://platform.openai.com/docs/api-reference/chat/create
        Rules(
            "openai-chat",
            "https://platform.openai.com/docs/api-reference/chat/create",
            key="sk-test-chat",
            models=frozenset({"gpt-4o", "gpt-4o-mini", "gpt-4.1"}),
            context_limit=128_000,
        ),
        # https://platform.openai.com/docs/guides/reasoning : max_completion_tokens only, default temperature only
        Rules(
            "openai-reasoning",
            "https://platform.openai.com/docs/guides/reasoning",
            refused_params={
                "max_tokens": _REASONING_MAX_TOKENS,
                "top_p": ("unsupported_parameter", "Unsupported parameter: 'top_p' is not supported with this model."),
            },
            temperature="default-only",
            key="sk-test-reasoning",
            models=frozenset({"o3", "o4-mini", "gpt-5", "gpt-5-mini"}),
            reasoning_tokens=192,
        ),
        # https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference : deployments, api-version, api-key
        Rules(
            "azure",
            "https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference",
            key_header="api-key",
            key="azure-test-key",
            models=frozenset({"judge-gpt4o"}),
            models_route=False,
            azure=True,
        ),
        # https://ai.google.dev/gemini-api/docs/openai
        Rules(
            "gemini",
            "https://ai.google.dev/gemini-api/docs/openai",
            error_shape="gemini",
            key="gemini-test-key",
            models=frozenset({"gemini-2.5-flash", "gemini-2.5-pro"}),
            listed=("models/gemini-2.5-flash", "models/gemini-2.5-pro"),
            reasoning_tokens=96,
            context_limit=1_048_576,
            context_message="The input token count ({tokens}) exceeds the maximum number of tokens allowed ({limit}).",
            context_code="INVALID_ARGUMENT",
        ),
        # https://docs.anthropic.com/en/api/openai-sdk : response_format ignored, temperature capped at 1
        Rules(
            "anthropic",
            "https://docs.anthropic.com/en/api/openai-sdk",
            temperature="clamped-to-1",
            ignores_response_format=True,
            error_shape="anthropic",
            key="anthropic-test-key",
            models=frozenset({"claude-sonnet-4-5", "claude-opus-4-1"}),
            models_route=False,
            cached_usage=False,
        ),
        # https://openrouter.ai/docs/api-reference/parameters
        Rules(
            "openrouter",
            "https://openrouter.ai/docs/api-reference/parameters",
            key="sk-or-test",
            models=frozenset({"openai/gpt-4o-mini", "meta-llama/llama-3.3-70b-instruct"}),
        ),
        # https://docs.litellm.ai/docs/completion/drop_params : without drop_params, unsupported params are refused
        Rules(
            "litellm",
            "https://docs.litellm.ai/docs/completion/drop_params",
            forms=frozenset({"json_object"}),
            form_refusal="litellm.UnsupportedParamsError: bedrock does not support parameters: "
            "['response_format'], for model=judge. To drop these, set `litellm.drop_params=True`.",
            error_shape="litellm",
            key="sk-litellm-master",
            models=frozenset({"judge"}),
        ),
        # https://docs.vllm.ai/en/latest/features/structured_outputs/ ; reasoning_outputs (reasoning_content)
        Rules(
            "vllm",
            "https://docs.vllm.ai/en/latest/features/structured_outputs/",
            models=frozenset({"Qwen/Qwen3-8B"}),
            reasoning_content=True,
            cached_usage=False,
            context_limit=32_768,
        ),
        # https://docs.ollama.com/api/openai-compatibility
        Rules(
            "ollama",
            "https://docs.ollama.com/api/openai-compatibility",
            models=frozenset({"llama3.1"}),
            listed=("llama3.1:latest",),
            cached_usage=False,
        ),
        # https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md
        Rules(
            "llamacpp",
            "https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md",
            error_shape="llamacpp",
            context_limit=4_096,
            context_message="the request exceeds the available context size, try increasing it",
            context_code="exceed_context_size_error",
            cached_usage=False,
        ),
        # https://lmstudio.ai/docs/app/api/structured-output : json_schema only
        Rules(
            "lmstudio",
            "https://lmstudio.ai/docs/app/api/structured-output",
            forms=frozenset({"json_schema"}),
            form_refusal="'response_format.type' must be 'json_schema'",
            error_shape="lmstudio",
            models=frozenset({"qwen2.5-7b-instruct"}),
            cached_usage=False,
        ),
    )
}
