"""What one endpoint family's chat-completions API accepts and how it answers, as data.

A profile is read, never executed: the client builds its first request from it and the judge reads usage and
errors by it. Every rule names the page it was taken from (`source`), so a changed rule is a changed line here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

StructuredForm = Literal["json_schema", "json_object", "text"]
"""How the answer's shape is asked for: a JSON schema, JSON mode, or only the prompt's instructions."""
TokenParam = Literal["max_tokens", "max_completion_tokens"]
ProbeKind = Literal["models", "completion"]
"""The cheap request made before the first trace: GET /models, or a one-token chat completion."""


@dataclass(frozen=True)
class Profile:
    """One endpoint family: the request shape it accepts, how it reports usage and errors, where its key is."""

    name: str
    title: str
    source: str
    """The provider's own documentation page the rules below were read from."""
    token_param: TokenParam
    sampling: frozenset[str]
    """Sampling parameters it accepts with any value; `temperature` absent means: leave it at the default."""
    structured: tuple[StructuredForm, ...]
    """Forms it honours, best first; the client sends the first and steps down on a refusal."""
    system_messages: bool = True
    max_temperature: float = 2.0
    reasoning_usage: str = "usage.completion_tokens_details.reasoning_tokens (part of completion_tokens)"
    cached_usage: str = "usage.prompt_tokens_details.cached_tokens (part of prompt_tokens)"
    context_error: tuple[str, ...] = ("context_length_exceeded", "maximum context length")
    """Markers (error code or message text, lower case) of a request too long for the model's context."""
    rate_limit_error: str = "HTTP 429 rate_limit_exceeded, Retry-After header"
    probe: ProbeKind = "models"
    key_env: str | None = "OPENAI_API_KEY"
    """Environment variable its key is read from; None for servers that need none."""
    hosted: bool = True
    """A hosted service needs a key; a local server does not (a placeholder is sent, the client wants one)."""
    default_base_url: str | None = None
    hosts: tuple[str, ...] = ()
    """Host names (suffixes) of its base URLs, for detection."""
    ports: tuple[int, ...] = ()
    """Default ports of a local server on localhost, for detection."""
    models: tuple[str, ...] = ()
    """Model-name prefixes that pick this family when the base URL says nothing."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def temperature_allowed(self) -> bool:
        """Whether a temperature other than the default may be sent."""
        return "temperature" in self.sampling
