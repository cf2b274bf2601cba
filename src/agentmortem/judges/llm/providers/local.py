"""Local inference servers: no key, structured output as each server documents it."""

from __future__ import annotations

from agentmortem.judges.llm.providers.profile import Profile

VLLM = Profile(
    name="vllm",
    title="vLLM OpenAI-compatible server",
    source="https://docs.vllm.ai/en/latest/features/structured_outputs/",
    token_param="max_tokens",
    sampling=frozenset({"temperature", "top_p"}),
    structured=("json_schema", "json_object", "text"),
    reasoning_usage="text in choices[].message.reasoning_content (with --reasoning-parser); no token count",
    cached_usage="not reported",
    context_error=("maximum context length",),
    key_env="VLLM_API_KEY",
    ports=(8000,),
    hosted=False,
)

OLLAMA = Profile(
    name="ollama",
    title="Ollama OpenAI compatibility",
    source="https://docs.ollama.com/api/openai-compatibility",
    token_param="max_tokens",
    sampling=frozenset({"temperature", "top_p"}),
    structured=("json_schema", "json_object", "text"),
    reasoning_usage="not reported",
    cached_usage="not reported",
    context_error=("context length",),
    key_env=None,
    ports=(11434,),
    hosted=False,
    notes=("an over-long prompt is truncated by the server rather than refused",),
)

LLAMA_CPP = Profile(
    name="llamacpp",
    title="llama.cpp server (llama-server)",
    source="https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md",
    token_param="max_tokens",
    sampling=frozenset({"temperature", "top_p"}),
    structured=("json_schema", "json_object", "text"),
    reasoning_usage="text in choices[].message.reasoning_content (--reasoning-format); no token count",
    cached_usage="not reported in usage",
    context_error=("exceed_context_size_error", "exceeds the available context size"),
    key_env=None,
    ports=(8080,),
    hosted=False,
)

LM_STUDIO = Profile(
    name="lmstudio",
    title="LM Studio local server",
    source="https://lmstudio.ai/docs/app/api/structured-output",
    token_param="max_tokens",
    sampling=frozenset({"temperature", "top_p"}),
    # Structured output is documented for response_format type json_schema only.
    structured=("json_schema", "text"),
    reasoning_usage="not reported",
    cached_usage="not reported",
    key_env=None,
    ports=(1234,),
    hosted=False,
)

GENERIC = Profile(
    name="openai-compatible",
    title="Any other OpenAI-compatible endpoint",
    source="https://platform.openai.com/docs/api-reference/chat/create",
    token_param="max_tokens",
    sampling=frozenset({"temperature", "top_p"}),
    structured=("json_schema", "json_object", "text"),
    key_env="OPENAI_API_KEY",
    hosted=False,
    notes=("what it refuses is learnt from its errors, once per run",),
)
