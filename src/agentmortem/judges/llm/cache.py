"""Request cache: answers keyed by a hash of everything that can change them, kept wherever the caller says.

The judge never touches files or the store; it is handed an object with the `AnswerCache` methods (the Store has
them, `MemoryCache` is the in-process one) and writes each answer the moment it arrives, so nothing answered is lost
when a run is interrupted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import orjson

KEY_ALGORITHM = "sha256"


@runtime_checkable
class AnswerCache(Protocol):
    """Where raw answers live between runs."""

    def get_cached_answer(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """The raw answer text and its usage for `key`, or None."""
        ...

    def put_cached_answer(self, key: str, answer: str, usage: dict[str, Any], *, model: str) -> None:
        """Keep an answer (replacing any under the same key)."""
        ...


@runtime_checkable
class RequestLog(Protocol):
    """Where every request sent (or served from the cache) is recorded."""

    def log_llm_request(self, record: dict[str, Any]) -> None:
        """Append one request record."""
        ...


@dataclass(frozen=True)
class KeyParts:
    """Everything besides the messages that can change an answer."""

    base_url: str
    model: str
    params: dict[str, Any]
    prompt_version: str
    taxonomy: str


def cache_key(parts: KeyParts, messages: list[dict[str, str]]) -> str:
    """`sha256:<hex>` over the endpoint, model, parameters, prompt and taxonomy versions and the exact prompt."""
    payload = {
        "base_url": parts.base_url.rstrip("/"), "model": parts.model, "params": parts.params,
        "prompt_version": parts.prompt_version, "taxonomy": parts.taxonomy, "messages": messages,
    }  # fmt: skip
    digest = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"{KEY_ALGORITHM}:{digest}"


class MemoryCache:
    """An in-process cache and log, for library use without a store and for tests."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[str, dict[str, Any]]] = {}
        self.log: list[dict[str, Any]] = []

    def get_cached_answer(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """The stored answer for `key`, or None."""
        return self.answers.get(key)

    def put_cached_answer(self, key: str, answer: str, usage: dict[str, Any], *, model: str) -> None:
        """Keep an answer."""
        self.answers[key] = (answer, usage)

    def log_llm_request(self, record: dict[str, Any]) -> None:
        """Append a request record."""
        self.log.append(record)
