"""Chat completions over any OpenAI-compatible endpoint with the official `openai` client, with classified retries.

The client's own retries are switched off so that one policy governs all of them: 429 waits as the server's
Retry-After says (else backs off), 5xx, timeouts and dropped connections back off exponentially with full jitter,
and everything else (bad request, auth, not found) fails at once.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import openai

from agentmortem.judges.llm.cost import Usage

RetryDecision = Literal["no", "transient", "rate-limit"]
ResponseFormat = Literal["auto", "json_schema", "json_object", "text"]
LOCAL_API_KEY = "not-needed"
"""Sent when no key is configured: local servers (vLLM, Ollama, llama.cpp) ignore it, the client requires one."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; `wait_scale=0` removes every wait (tests)."""

    max_attempts: int = 6
    base_wait: float = 1.0
    max_wait: float = 60.0
    wait_scale: float = 1.0


@dataclass
class Reply:
    """One answer: its text, what it cost in tokens, and why generation stopped."""

    text: str
    usage: Usage
    finish_reason: str | None = None
    attempts: int = 1


class RequestFailed(Exception):
    """A request that did not succeed within the retry policy; the message names the last error."""

    def __init__(self, message: str, *, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


def classify(exc: BaseException) -> RetryDecision:
    """Whether an error is worth retrying, and how."""
    if isinstance(exc, openai.RateLimitError):
        return "rate-limit"
    if isinstance(exc, openai.APIConnectionError):  # includes timeouts and dropped or cut-off responses
        return "transient"
    if isinstance(exc, openai.APIStatusError):
        return "transient" if exc.status_code >= 500 or exc.status_code in (408, 409) else "no"
    if isinstance(exc, openai.APIResponseValidationError):
        return "transient"
    return "no"


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (Retry-After in seconds or as an HTTP date; retry-after-ms)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        return _float(ms, scale=1000)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _float(value)
    if seconds is None:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - _now()
        except (TypeError, ValueError):
            return None
    return max(seconds, 0.0)


def _float(text: str, *, scale: float = 1.0) -> float | None:
    try:
        return float(text) / scale
    except ValueError:
        return None


def _now() -> float:
    return time.time()


def backoff(attempt: int, policy: RetryPolicy, hint: float | None) -> float:
    """Seconds to wait before retry number `attempt` (1-based): the server's hint, else jittered exponential."""
    if hint is not None:
        wait = min(hint, policy.max_wait)
    else:
        wait = random.uniform(0, min(policy.base_wait * 2 ** (attempt - 1), policy.max_wait))  # noqa: S311
    return wait * policy.wait_scale


class ChatClient:
    """One endpoint and model; `complete` sends messages and returns the answer, retrying as the policy says."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 300.0,
        retry: RetryPolicy | None = None,
        response_format: ResponseFormat = "auto",
        concurrency: int = 16,
    ) -> None:
        self.model = model
        self.retry = retry or RetryPolicy()
        self.response_format: ResponseFormat = response_format
        self.concurrency = max(1, concurrency)
        self._settings: dict[str, Any] = {
            "base_url": base_url, "api_key": api_key or LOCAL_API_KEY, "timeout": timeout, "max_retries": 0,
        }  # fmt: skip
        self.base_url = str(openai.AsyncOpenAI(**self._settings).base_url)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: openai.AsyncOpenAI | None = None
        self._slots: asyncio.Semaphore | None = None

    def _bind(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore]:
        """Connections and the request semaphore belong to one event loop; a new loop gets fresh ones."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._slots is None or self._loop is not loop:
            self._loop, self._client = loop, openai.AsyncOpenAI(**self._settings)
            self._slots = asyncio.Semaphore(self.concurrency)
        return self._client, self._slots

    async def aclose(self) -> None:
        """Close the connections of the current event loop's client (before that loop ends)."""
        if self._client is not None:
            await self._client.close()
        self._client, self._slots, self._loop = None, None, None

    async def complete(
        self, messages: list[dict[str, str]], *, schema: dict[str, Any], temperature: float, max_tokens: int | None
    ) -> Reply:
        """The answer to `messages`; raises RequestFailed after the last allowed attempt."""
        attempt = 0
        while True:
            attempt += 1
            try:
                reply = await self._once(messages, schema, temperature, max_tokens)
                reply.attempts = attempt
                return reply
            except openai.OpenAIError as exc:
                if self._fall_back_to_text(exc):
                    attempt -= 1
                    continue
                decision = classify(exc)
                if decision == "no" or attempt >= self.retry.max_attempts:
                    raise RequestFailed(_describe(exc, attempt), attempts=attempt) from exc
                await asyncio.sleep(
                    backoff(attempt, self.retry, retry_after(exc) if decision == "rate-limit" else None)
                )

    def _fall_back_to_text(self, exc: openai.OpenAIError) -> bool:
        """An endpoint that rejects structured output gets plain JSON instructions for the rest of the run."""
        rejected = isinstance(exc, openai.BadRequestError | openai.UnprocessableEntityError)
        if rejected and self.response_format == "auto":
            self.response_format = "text"
            return True
        return False

    async def _once(
        self, messages: list[dict[str, str]], schema: dict[str, Any], temperature: float, max_tokens: int | None
    ) -> Reply:
        # Parameters go in `extra_body`, which the client sends as given: its typed-parameter transform walks the
        # whole verdict schema and the messages on every request, which costs more CPU than the request itself.
        body: dict[str, Any] = {"messages": messages, "temperature": temperature}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if self.response_format in ("auto", "json_schema"):
            body["response_format"] = {
                "type": "json_schema", "json_schema": {"name": "mast_verdict", "schema": schema, "strict": False},
            }  # fmt: skip
        elif self.response_format == "json_object":
            body["response_format"] = {"type": "json_object"}
        client, slots = self._bind()
        async with slots:
            completion = await client.chat.completions.create(model=self.model, messages=[], extra_body=body)
        return _reply(completion)


def _reply(completion: Any) -> Reply:
    choice = completion.choices[0] if completion.choices else None
    text = (choice.message.content or "") if choice is not None else ""
    usage = completion.usage
    details = getattr(usage, "prompt_tokens_details", None) if usage is not None else None
    return Reply(
        text=text,
        usage=Usage(
            requests=1,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            cached_tokens=int(getattr(details, "cached_tokens", 0) or 0) if details is not None else 0,
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        ),
        finish_reason=getattr(choice, "finish_reason", None),
    )


def _describe(exc: openai.OpenAIError, attempts: int) -> str:
    status = getattr(exc, "status_code", None)
    what = f"HTTP {status}" if status is not None else type(exc).__name__
    detail = str(exc).splitlines()[0] if str(exc) else ""
    return f"{what} after {attempts} attempt{'s' if attempts != 1 else ''}: {detail}"[:300]
