"""Endpoint families as data: one profile per family, found from the base URL and the model name.

`resolve` picks the profile: an explicit `provider` first, then the base URL's host (or a local server's default
port), then the model name; an endpoint that says nothing gets the generic OpenAI-compatible profile, whose rules
the client learns from its errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlparse

from agentmortem.judges.llm.providers.hosted import ANTHROPIC, GEMINI, LITELLM, OPENROUTER
from agentmortem.judges.llm.providers.local import GENERIC, LLAMA_CPP, LM_STUDIO, OLLAMA, VLLM
from agentmortem.judges.llm.providers.openai import AZURE_OPENAI, OPENAI_CHAT, OPENAI_REASONING
from agentmortem.judges.llm.providers.profile import Profile, StructuredForm, TokenParam

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        OPENAI_CHAT, OPENAI_REASONING, AZURE_OPENAI, GEMINI, ANTHROPIC, OPENROUTER, LITELLM,
        VLLM, OLLAMA, LLAMA_CPP, LM_STUDIO, GENERIC,
    )
}  # fmt: skip
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}  # noqa: S104 (a host name compared, nothing bound)
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")

Found = Literal["provider", "base URL", "model name", "default"]


class UnknownProvider(ValueError):
    """A `provider` name that is not one of `names()`."""


@dataclass(frozen=True)
class Resolved:
    """The profile chosen for an endpoint and model, and what chose it."""

    profile: Profile
    found_by: Found

    @property
    def key_required(self) -> bool:
        """A hosted family named or recognised by its URL needs a key; a model name alone on an unknown host not."""
        return self.profile.hosted and self.profile.key_env is not None and self.found_by != "model name"


def names() -> list[str]:
    """Names `provider` accepts, in documentation order."""
    return list(PROFILES)


def get(name: str) -> Profile:
    """The profile called `name`."""
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownProvider(f"unknown provider {name!r}; known: {', '.join(PROFILES)}") from None


def resolve(model: str, base_url: str | None, provider: str | None = None) -> Resolved:
    """The family of `model` behind `base_url` (None: OpenAI's own API)."""
    if provider is not None:
        chosen = get(provider)
        if chosen in (OPENAI_CHAT, OPENAI_REASONING):  # "openai" names the vendor; the model names the family
            chosen = _openai_family(model)
        return Resolved(chosen, "provider")
    if base_url is None:
        return Resolved(_openai_family(model), "base URL")
    parsed = urlparse(base_url if "//" in base_url else f"http://{base_url}")
    host = (parsed.hostname or "").lower()
    for profile in PROFILES.values():
        if any(host == h or host.endswith(h) for h in profile.hosts):
            return Resolved(_openai_family(model) if profile is OPENAI_CHAT else profile, "base URL")
    if host in _LOOPBACK:
        for profile in PROFILES.values():
            if parsed.port is not None and parsed.port in profile.ports:
                return Resolved(profile, "base URL")
    by_model = _by_model(model)
    return Resolved(by_model, "model name") if by_model is not None else Resolved(GENERIC, "default")


def _openai_family(model: str) -> Profile:
    return OPENAI_REASONING if _REASONING_MODEL.match(_bare(model)) else OPENAI_CHAT


def _by_model(model: str) -> Profile | None:
    bare = _bare(model)
    if _REASONING_MODEL.match(bare):
        return OPENAI_REASONING
    for profile in (OPENAI_CHAT, GEMINI, ANTHROPIC):
        if any(bare.startswith(prefix) for prefix in profile.models):
            return profile
    return None


def _bare(model: str) -> str:
    """The model name without a router's `vendor/` prefix (`openai/gpt-5-mini` → `gpt-5-mini`)."""
    return model.rsplit("/", 1)[-1].lower()


__all__ = ["PROFILES", "Profile", "Resolved", "StructuredForm", "TokenParam", "UnknownProvider", "get", "names",
           "resolve"]  # fmt: skip
