"""Chat completions over any OpenAI-compatible endpoint with the official `openai` client, with classified retries.

The client's own retries are switched off so that one policy governs all of them: 429 waits as the server's
Retry-After says (else backs off), 5xx, timeouts and dropped connections back off exponentially with full jitter,
and everything else (auth, not found) fails at once. A 400 is read: a refused parameter or response_format changes
the run's request shape (`adapt.Shape`) and the request is sent again; a request too long for the model raises
`ContextTooLong`; any other 400 is a real error.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import openai

from agentmortem.judges.llm import providers
from agentmortem.judges.llm.adapt import Shape, context_limit, read_refusal
from agentmortem.judges.llm.cost import Usage
from agentmortem.judges.llm.providers import Profile

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
    refusal: str | None = None
    """The model's refusal message (OpenAI's `message.refusal`), when it declined to answer."""
    from_reasoning: bool = False
    """The text came from `reasoning_content` because `content` was empty."""


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


class ContextTooLong(RequestFailed):
    """The endpoint refused a request as longer than the model's context; `limit` is the size it named, if any."""

    def __init__(self, message: str, *, limit: int | None) -> None:
        super().__init__(message, attempts=1)
        self.limit = limit


class ChatClient:
    """One endpoint and model; `complete` sends messages and returns the answer, retrying as the policy says.

    Requests are built from the endpoint family's profile and a run-wide `Shape` that adapts to the endpoint's
    refusals. The run's first request goes alone, so an adaptation is learnt once rather than by every request
    already in flight.
    """

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
        profile: Profile | None = None,
        api_version: str | None = None,
    ) -> None:
        self.model = model
        self.retry = retry or RetryPolicy()
        self.profile = profile or providers.get("openai-compatible")
        self.shape = Shape.start(self.profile, model, response_format)
        self.concurrency = max(1, concurrency)
        self._settings: dict[str, Any] = {"api_key": api_key or LOCAL_API_KEY, "timeout": timeout, "max_retries": 0}
        if self.profile.name == "azure":
            self._settings.update(azure_endpoint=base_url, api_version=api_version)
        else:
            self._settings["base_url"] = base_url or self.profile.default_base_url
        self.base_url = str(self._new_client().base_url)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: openai.AsyncOpenAI | None = None
        self._slots: asyncio.Semaphore | None = None
        self._pilot: asyncio.Lock | None = None
        self._settled = False

    @property
    def response_format(self) -> ResponseFormat:
        """The structured-output form requests are sent with now."""
        return self.shape.form

    def _new_client(self) -> openai.AsyncOpenAI:
        if "azure_endpoint" in self._settings:
            return openai.AsyncAzureOpenAI(**self._settings)
        return openai.AsyncOpenAI(**self._settings)

    def _bind(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore, asyncio.Lock]:
        """Connections, the request semaphore and the first-request gate belong to one event loop."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._slots is None or self._pilot is None or self._loop is not loop:
            self._loop, self._client = loop, self._new_client()
            self._slots, self._pilot = asyncio.Semaphore(self.concurrency), asyncio.Lock()
        return self._client, self._slots, self._pilot

    async def aclose(self) -> None:
        """Close the connections of the current event loop's client (before that loop ends)."""
        if self._client is not None:
            await self._client.close()
        self._client, self._slots, self._loop, self._pilot = None, None, None, None

    async def model_ids(self) -> list[str]:
        """GET /models: the model ids the endpoint lists (one attempt, no retries)."""
        client, _, _ = self._bind()
        page = await client.models.list()
        return [str(m.id) for m in page.data]

    async def complete(
        self,
        messages: list[dict[str, str]],
        *,
        schema: dict[str, Any] | None,
        temperature: float,
        max_tokens: int | None,
        retry: RetryPolicy | None = None,
        first_of_run: bool = True,
    ) -> Reply:
        """The answer to `messages`; raises RequestFailed after the last allowed attempt.

        `first_of_run=False` (the probe) neither waits for nor stands in for the run's first request: the probe asks
        no structured output, so what the run's requests may be refused for is still to be learnt by one of them.
        """
        _, _, pilot = self._bind()
        if first_of_run and not self._settled:
            async with pilot:
                if not self._settled:
                    try:
                        return await self._complete(messages, schema, temperature, max_tokens, retry or self.retry)
                    finally:
                        self._settled = True
        return await self._complete(messages, schema, temperature, max_tokens, retry or self.retry)

    async def _complete(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any] | None,
        temperature: float,
        max_tokens: int | None,
        policy: RetryPolicy,
    ) -> Reply:
        attempt = 0
        while True:
            attempt += 1
            body, version = self.shape.body(messages, schema, temperature, max_tokens), self.shape.version
            try:
                reply = await self._once(body)
                reply.attempts = attempt
                return reply
            except openai.APIStatusError as exc:
                if not _refusal_status(exc):
                    if await self._wait_or_give_up(exc, attempt, policy):
                        continue
                    raise RequestFailed(_describe(exc, attempt), attempts=attempt) from exc
                refusal = read_refusal(exc)
                limit = context_limit(refusal, self.profile)
                if limit is not False:
                    raise ContextTooLong(_describe(exc, attempt), limit=limit) from exc
                # A request built before another one adapted the shape is simply sent again in the new shape.
                if self.shape.version != version or self.shape.adapt(refusal, body):
                    attempt -= 1
                    continue
                raise RequestFailed(_describe(exc, attempt), attempts=attempt) from exc
            except openai.OpenAIError as exc:
                if await self._wait_or_give_up(exc, attempt, policy):
                    continue
                raise RequestFailed(_describe(exc, attempt), attempts=attempt) from exc

    async def _wait_or_give_up(self, exc: openai.OpenAIError, attempt: int, policy: RetryPolicy) -> bool:
        """Wait before the next attempt and return True, or False when the error is final."""
        decision = classify(exc)
        if decision == "no" or attempt >= policy.max_attempts:
            return False
        await asyncio.sleep(backoff(attempt, policy, retry_after(exc) if decision == "rate-limit" else None))
        return True

    async def _once(self, body: dict[str, Any]) -> Reply:
        # Parameters go in `extra_body`, which the client sends as given: its typed-parameter transform walks the
        # whole verdict schema and the messages on every request, which costs more CPU than the request itself.
        client, slots, _ = self._bind()
        async with slots:
            completion = await client.chat.completions.create(model=self.model, messages=[], extra_body=body)
        return _reply(completion)


def _refusal_status(exc: openai.APIStatusError) -> bool:
    """A 400/413/422: the request itself was refused (a parameter, its length), as opposed to auth or the server."""
    return exc.status_code in (400, 413, 422)


def _reply(completion: Any) -> Reply:
    choice = completion.choices[0] if completion.choices else None
    message = choice.message if choice is not None else None
    text = (message.content or "") if message is not None else ""
    # vLLM, llama.cpp and DeepSeek put a reasoning model's text in `reasoning_content` (OpenRouter: `reasoning`);
    # when `content` is empty the answer may be there.
    thought = (getattr(message, "reasoning_content", None) or getattr(message, "reasoning", None)) if message else None
    from_reasoning = not text.strip() and isinstance(thought, str) and bool(thought.strip())
    usage = completion.usage
    prompt_details = getattr(usage, "prompt_tokens_details", None) if usage is not None else None
    output_details = getattr(usage, "completion_tokens_details", None) if usage is not None else None
    return Reply(
        text=thought if from_reasoning and isinstance(thought, str) else text,
        usage=Usage(
            requests=1,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            cached_tokens=int(getattr(prompt_details, "cached_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            reasoning_tokens=int(getattr(output_details, "reasoning_tokens", 0) or 0),
        ),
        finish_reason=getattr(choice, "finish_reason", None),
        refusal=(getattr(message, "refusal", None) or None) if message is not None else None,
        from_reasoning=from_reasoning,
    )


def _describe(exc: openai.OpenAIError, attempts: int) -> str:
    status = getattr(exc, "status_code", None)
    what = f"HTTP {status}" if status is not None else type(exc).__name__
    detail = str(exc).splitlines()[0] if str(exc) else ""
    return f"{what} after {attempts} attempt{'s' if attempts != 1 else ''}: {detail}"[:300]
