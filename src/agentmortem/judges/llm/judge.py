"""The MAST LLM judge: redact, compact, chunk, ask (cached, cost-capped, re-asked once), parse, merge.

One trace becomes one or more requests (one per chunk and sample). Chunks of a trace are asked in order, each
carrying a short summary of the earlier ones; samples of a chunk are asked concurrently. Requests of all traces share
one bounded pool per endpoint (`concurrency`). Answers are cached the moment they prove usable.
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentmortem.judges.llm import providers
from agentmortem.judges.llm.cache import AnswerCache, KeyParts, RequestLog, cache_key
from agentmortem.judges.llm.chunk import DEFAULT_OVERLAP, Chunk, split
from agentmortem.judges.llm.client import ChatClient, ContextTooLong, Reply, RequestFailed, ResponseFormat, RetryPolicy
from agentmortem.judges.llm.compact import DEFAULT_STEP_CHARS, compact
from agentmortem.judges.llm.cost import Budget, Price, Usage, price_for
from agentmortem.judges.llm.merge import merge_chunks, merge_samples
from agentmortem.judges.llm.parse import AnswerError, ParsedAnswer, StepTexts, parse_answer
from agentmortem.judges.llm.probe import KeySource, probe
from agentmortem.judges.llm.prompt import PROMPT_VERSION, reask_prompt, system_prompt, user_prompt, verdict_schema
from agentmortem.judges.llm.providers.openai import AZURE_DEFAULT_VERSION, AZURE_ENDPOINT_ENV, AZURE_VERSION_ENV
from agentmortem.judges.llm.render import delimiter_for, neutralise, step_body, step_text
from agentmortem.judges.llm.tokens import estimate_messages, estimate_tokens
from agentmortem.judges.redact import Redactions, redact_trace
from agentmortem.model import Annotation, AnnotatorKind, ModeVerdict, Step, Trace
from agentmortem.taxonomy import Taxonomy

DEFAULT_CONTEXT_TOKENS = 128_000
DEFAULT_ANSWER_TOKENS = 8_192
HEADER_ALLOWANCE = 1_500
"""Tokens kept for the user message's lines around the trace block and the earlier parts' summary."""
SUMMARY_CHARS = 2_400
ANSWER_TOKENS_PER_MODE = 160
"""Expected answer size per mode, used only to reserve cost before a request is sent."""
MIN_ANSWER_TOKENS = 1_024
LONGER_ANSWER = 2
"""An answer cut at the token limit is asked again once with this many times the budget."""
CONTEXT_SHRINKS = 3
"""Times a trace is re-split after the endpoint refused a part as too long for the model's context."""
CONTEXT_MARGIN = 0.9
"""Share of a context limit named by the endpoint that is used: our token estimate is not its tokenizer."""


class BudgetExceeded(Exception):
    """The cost cap does not allow another request."""


class AnswerFailed(Exception):
    """No usable answer even after asking again; carries the attempts and the last raw answer."""


@dataclass
class _Got:
    """One raw answer as the judge uses it: text, cache key, and how generation ended."""

    text: str
    key: str
    finish_reason: str | None = None
    refusal: str | None = None
    budget: int | None = None


@dataclass
class _TraceRun:
    """What one trace's requests have used so far."""

    trace: Trace
    taxonomy: Taxonomy
    steps: StepTexts
    usage: Usage = field(default_factory=Usage)
    warnings: list[str] = field(default_factory=list)


class LLMJudge:
    """Judges traces with an LLM behind any OpenAI-compatible chat-completions endpoint."""

    kind: AnnotatorKind = "llm"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str | None = None,
        provider: str | None = None,
        api_version: str | None = None,
        name: str | None = None,
        concurrency: int = 16,
        context_tokens: int = DEFAULT_CONTEXT_TOKENS,
        answer_tokens: int = DEFAULT_ANSWER_TOKENS,
        step_chars: int = DEFAULT_STEP_CHARS,
        overlap: int = DEFAULT_OVERLAP,
        samples: int = 1,
        temperature: float | None = None,
        timeout: float = 300.0,
        retry: RetryPolicy | None = None,
        response_format: ResponseFormat = "auto",
        redact: bool = True,
        cache: AnswerCache | None = None,
        log: RequestLog | None = None,
        price: Price | None = None,
        prices: dict[str, Price] | None = None,
        max_cost: float | None = None,
    ) -> None:
        if samples < 1:
            raise ValueError(f"samples must be at least 1, got {samples!r}")
        if samples > 1 and temperature is not None and temperature <= 0:
            raise ValueError("several samples need a temperature above 0 to be independent")
        self.model = model
        self.name = name or model
        self.samples = samples
        self.temperature = temperature if temperature is not None else (0.7 if samples > 1 else 0.0)
        self.version = f"{PROMPT_VERSION}" + (f"+samples{samples}" if samples > 1 else "")
        self.context_tokens, self.answer_tokens = context_tokens, answer_tokens
        self.step_chars, self.overlap, self.redact = step_chars, overlap, redact
        self.cache, self.log = cache, log
        self.price = price if price is not None else price_for(model, prices)
        self.budget = Budget(max_cost)
        self.resolved = providers.resolve(model, base_url, provider)
        profile = self.resolved.profile
        env = api_key_env or profile.key_env
        key = api_key or (os.environ.get(env) if env else None)
        self.key_source = KeySource(env, found=bool(key), from_argument=api_key is not None)
        if profile.name == "azure":
            base_url = base_url or os.environ.get(AZURE_ENDPOINT_ENV)
            api_version = api_version or os.environ.get(AZURE_VERSION_ENV) or AZURE_DEFAULT_VERSION
            if not base_url:
                raise ValueError(f"Azure OpenAI needs an endpoint: give --base-url or set ${AZURE_ENDPOINT_ENV}")
        self.client = ChatClient(
            model=model, base_url=base_url, api_key=key, timeout=timeout, retry=retry,
            response_format=response_format, concurrency=concurrency, profile=profile, api_version=api_version,
        )  # fmt: skip
        self._context_notes: list[str] = []
        self.stats = Usage()
        self.redactions = Redactions()
        self._pending: dict[str, Usage] = {}
        # Cache entries and request-log rows are written behind, on one thread: a trace's request slot is free
        # as soon as its answer is parsed, instead of waiting on database commits queued behind other traces'.
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentmortem-judge-writes")
        self._system: dict[tuple[str, str, int], str] = {}

    # -- the endpoint -----------------------------------------------------------------------------------------

    @property
    def provider(self) -> str:
        """The endpoint family requests are shaped for (see `providers.names()`)."""
        return self.resolved.profile.name

    @property
    def adaptations(self) -> list[str]:
        """What the run changed after the endpoint refused something, one line each, in the order learnt."""
        return [f"{self.model}: {change}" for change in self.client.shape.changes] + self._context_notes

    async def probe(self) -> None:
        """One cheap request before the first trace; raises probe.EndpointUnusable when the run cannot work."""
        await probe(self.client, self.resolved, self.key_source)

    # -- the Judge protocol ---------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Finish the written-behind cache/log writes and release the HTTP connections; engines call this."""
        await asyncio.to_thread(self._writes.shutdown, wait=True)
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentmortem-judge-writes")
        await self.client.aclose()

    def _write_behind(self, write: Any, *args: Any, **kwargs: Any) -> None:
        self._writes.submit(write, *args, **kwargs).add_done_callback(_report_write_failure)

    async def judge(self, trace: Trace, taxonomy: Taxonomy) -> Annotation:
        """Annotate one trace; a trace that cannot be judged gets a 'failed' annotation saying why."""
        sent, tally = redact_trace(trace) if self.redact else (trace, Redactions())
        self.redactions.add(tally)
        run = _TraceRun(sent, taxonomy, StepTexts({s.index: _quotable(s) for s in sent.steps}))
        try:
            answer = await self._judge_fitting(run)
        except (RequestFailed, AnswerFailed, BudgetExceeded, ValueError) as exc:
            return self._annotation(run, tally, error=str(exc) or type(exc).__name__)
        return self._annotation(run, tally, answer=answer)

    async def _judge_fitting(self, run: _TraceRun) -> ParsedAnswer:
        """Judge the trace, splitting it finer when the endpoint says a part is longer than the model's context."""
        for _ in range(CONTEXT_SHRINKS):
            used = self.context_tokens
            try:
                return await self._judge_chunks(run)
            except ContextTooLong as exc:
                self._shrink_context(used, exc.limit)
        return await self._judge_chunks(run)

    def _shrink_context(self, used: int, limit: int | None) -> None:
        """Fit later requests of every trace to the context the endpoint named (or half, when it named none)."""
        if self.context_tokens < used:
            return  # another trace already shrank it while this one's request was on its way
        target = int(limit * CONTEXT_MARGIN) if limit is not None and limit < used else used // 2
        self.context_tokens = target
        note = f"{self.model}: context is {limit} tokens" if limit is not None else f"{self.model}: context too long"
        self._context_notes.append(f"{note}; traces split into parts of at most {target} tokens")

    # -- chunks and samples ---------------------------------------------------------------------------------

    @property
    def _answer_budget(self) -> int:
        """Tokens reserved for the answer: `answer_tokens`, but at most a quarter of a context the endpoint shrank."""
        return min(self.answer_tokens, max(self.context_tokens // 4, MIN_ANSWER_TOKENS))

    def chunks(self, trace: Trace, taxonomy: Taxonomy) -> list[Chunk]:
        """The chunks a (redacted) trace is sent in, within this judge's token budget."""
        texts = compact([step_text(s) for s in trace.steps], limit=self.step_chars)
        budget = self.context_tokens - self._answer_budget - estimate_tokens(self._system_prompt(taxonomy))
        budget -= HEADER_ALLOWANCE
        if budget < 1_000:
            raise ValueError(f"a context of {self.context_tokens} tokens leaves no room for the trace")
        return split(texts, budget, overlap=self.overlap)

    async def _judge_chunks(self, run: _TraceRun) -> ParsedAnswer:
        chunks = self.chunks(run.trace, run.taxonomy)
        answers: list[ParsedAnswer] = []
        earlier = ""
        for chunk in chunks:
            messages = self._messages(run, chunk, len(chunks), earlier)
            try:
                samples = await asyncio.gather(*(self._ask(run, messages, k) for k in range(self.samples)))
            except ContextTooLong:
                raise
            except (RequestFailed, AnswerFailed) as exc:
                where = f"part {chunk.number + 1} of {len(chunks)} (steps {chunk.first}-{chunk.last}): "
                raise type(exc)(where + str(exc), **_extra(exc)) from exc
            answers.append(merge_samples(list(samples), run.taxonomy.ids))
            earlier = _running_summary(answers, chunks)
        return merge_chunks(answers, run.taxonomy.ids)

    def _system_prompt(self, taxonomy: Taxonomy) -> str:
        """The system prompt, rendered once per taxonomy rather than once per request."""
        key = (taxonomy.name, taxonomy.version, id(taxonomy))
        if key not in self._system:
            self._system[key] = system_prompt(taxonomy)
        return self._system[key]

    def _messages(self, run: _TraceRun, chunk: Chunk, n_chunks: int, earlier: str) -> list[dict[str, str]]:
        delimiter = delimiter_for(run.trace.fingerprint or run.trace.id, str(chunk.number), PROMPT_VERSION)
        return [
            {"role": "system", "content": self._system_prompt(run.taxonomy)},
            {"role": "user", "content": user_prompt(run.trace, chunk, n_chunks, delimiter, earlier=earlier)},
        ]

    # -- one request, re-asked once -------------------------------------------------------------------------

    async def _ask(self, run: _TraceRun, messages: list[dict[str, str]], sample: int) -> ParsedAnswer:
        """A usable answer to `messages`, asking once more with the validation error when the first is not."""
        got = await self._whole(run, messages, sample, await self._request(run, messages, sample))
        text, key = got.text, got.key
        try:
            answer = parse_answer(text, run.taxonomy, run.steps)
            if not answer.missing:
                await self._remember(key, text)
                return answer
            problem = "no answer for " + ", ".join(answer.missing)
        except AnswerError as exc:
            problem = str(exc)
        retry = [*messages, {"role": "assistant", "content": text}, {"role": "user", "content": reask_prompt(problem)}]
        got2 = await self._whole(run, retry, sample, await self._request(run, retry, sample))
        text2, key2 = got2.text, got2.key
        try:
            answer = parse_answer(text2, run.taxonomy, run.steps)
        except AnswerError as exc:
            raise AnswerFailed(f"unusable answer after 2 attempts: {exc}; last answer began {text2[:120]!r}") from exc
        run.warnings.extend(answer.warnings)
        if answer.missing:  # left unknown rather than absent: the judge never said
            run.warnings.append(f"still no answer for {', '.join(answer.missing)}")
        await self._remember(key2, text2)
        return answer

    async def _whole(self, run: _TraceRun, messages: list[dict[str, str]], sample: int, got: _Got) -> _Got:
        """An answer that was neither refused nor cut off: a cut one is asked again once with a larger budget."""
        if got.finish_reason == "length" and got.refusal is None:
            budget = (got.budget or self._answer_budget) * LONGER_ANSWER
            got = await self._request(run, messages, sample, max_tokens=budget)
            if got.finish_reason == "length" and got.refusal is None:
                raise AnswerFailed(f"answer cut at {budget} tokens (finish_reason 'length' twice)")
        if got.refusal is not None:
            raise AnswerFailed(f"the model refused to answer: {got.refusal[:200]}")
        return got

    async def _request(
        self, run: _TraceRun, messages: list[dict[str, str]], sample: int, *, max_tokens: int | None = None
    ) -> _Got:
        """The raw answer (from the cache when there is one) and its cache key."""
        budget = max_tokens or self._answer_budget
        key = cache_key(self._key_parts(run.taxonomy, sample, budget), messages)
        # A lookup is a database query; off the event loop it does not hold up requests in flight.
        cached = await asyncio.to_thread(self.cache.get_cached_answer, key) if self.cache is not None else None
        if cached is not None:
            await self._count(run, Usage(cached_requests=1), key, cached=True)
            return _Got(cached[0], key, budget=budget)
        estimate = self._estimate_cost(messages, run.taxonomy)
        if not self.budget.reserve(estimate):
            raise BudgetExceeded(f"cost cap of ${self.budget.max_cost} reached; request not sent")
        try:
            reply = await self.client.complete(
                messages, schema=verdict_schema(run.taxonomy), temperature=self.temperature, max_tokens=budget,
            )  # fmt: skip
        except ContextTooLong:
            self.budget.settle(estimate, 0.0)
            raise  # not a failure: the trace is split finer and asked again
        except RequestFailed as exc:
            self.budget.settle(estimate, 0.0)
            await self._count(run, Usage(failed_requests=1), key, cached=False, error=str(exc))
            raise
        reply.usage.cost_usd = self.price.cost(reply.usage) if self.price is not None else 0.0
        self.budget.settle(estimate, reply.usage.cost_usd)
        self._pending[key] = reply.usage
        await self._count(run, reply.usage, key, cached=False)
        if reply.from_reasoning:
            run.warnings.append("answer read from reasoning_content (content was empty)")
        return _got(reply, key, budget)

    def _key_parts(self, taxonomy: Taxonomy, sample: int, max_tokens: int) -> KeyParts:
        params: dict[str, Any] = {
            "temperature": self.temperature, "max_tokens": max_tokens,
            "response_format": self.client.response_format, "sample": sample,
        }  # fmt: skip
        return KeyParts(self.client.base_url, self.model, params, PROMPT_VERSION, f"{taxonomy.name}@{taxonomy.version}")

    def _estimate_cost(self, messages: list[dict[str, str]], taxonomy: Taxonomy) -> float:
        if self.price is None:
            return 0.0
        expected = Usage(
            prompt_tokens=estimate_messages(messages),
            completion_tokens=min(self.answer_tokens, 200 + ANSWER_TOKENS_PER_MODE * len(taxonomy.ids)),
        )
        return self.price.cost(expected)

    async def _remember(self, key: str, text: str) -> None:
        """Keep an answer that proved usable; unusable ones are asked again on the next run."""
        usage = self._pending.pop(key, None)
        if self.cache is not None and usage is not None:
            # A database commit takes milliseconds; off the event loop it overlaps with requests in flight.
            self._write_behind(self.cache.put_cached_answer, key, text, usage.as_dict(), model=self.model)

    async def _count(self, run: _TraceRun, usage: Usage, key: str, *, cached: bool, error: str | None = None) -> None:
        run.usage = run.usage + usage
        self.stats = self.stats + usage
        if self.log is not None:
            record = _log_record(run, usage, key, self, cached=cached, error=error)
            self._write_behind(self.log.log_llm_request, record)

    # -- the result -----------------------------------------------------------------------------------------

    def _annotation(
        self, run: _TraceRun, tally: Redactions, *, answer: ParsedAnswer | None = None, error: str | None = None
    ) -> Annotation:
        usage: dict[str, Any] = {**run.usage.as_dict(), "redactions": tally.total, "samples": self.samples}
        if tally.total:
            usage["redactions_by_kind"] = dict(tally.counts)
        if answer is not None and (answer.warnings or run.warnings):
            usage["warnings"] = list(dict.fromkeys(answer.warnings + run.warnings))
        return Annotation(
            trace_id=run.trace.id, annotator=self.name, annotator_kind="llm", annotator_version=self.version,
            taxonomy=run.taxonomy.name, taxonomy_version=run.taxonomy.version,
            status="ok" if answer is not None else "failed", error=error,
            summary=answer.summary if answer is not None else "",
            task_completed=answer.task_completed if answer is not None else None,
            verdicts=_ordered(answer, run.taxonomy) if answer is not None else [],
            created_at=datetime.now(UTC), usage=usage,
        )  # fmt: skip


def _got(reply: Reply, key: str, budget: int) -> _Got:
    return _Got(reply.text, key, finish_reason=reply.finish_reason, refusal=reply.refusal, budget=budget)


def _quotable(step: Step) -> str:
    """Text a quote from this step may come from: the step as recorded and as the judge saw it."""
    body = step_body(step)
    shown = neutralise(body)
    return body if shown == body else f"{body}\n{shown}"


def _ordered(answer: ParsedAnswer, taxonomy: Taxonomy) -> list[ModeVerdict]:
    return [answer.verdicts[m] for m in taxonomy.ids if m in answer.verdicts]


def _extra(exc: Exception) -> dict[str, Any]:
    return {"attempts": exc.attempts} if isinstance(exc, RequestFailed) else {}


def _running_summary(answers: list[ParsedAnswer], chunks: list[Chunk]) -> str:
    """What the next part is told about the earlier ones: their summaries and the modes found so far, capped."""
    parts = [f"Steps {chunks[i].first}-{chunks[i].last}: {a.summary}" for i, a in enumerate(answers) if a.summary]
    found: dict[str, list[int]] = {}
    for answer in answers:
        for verdict in answer.verdicts.values():
            if verdict.present and verdict.evidence:
                found.setdefault(verdict.mode_id, []).extend(e.step for e in verdict.evidence)
    lines = parts[-3:]
    if found:
        lines.append("Failure modes found so far: " + "; ".join(
            f"{mode} at steps {', '.join(str(s) for s in sorted(set(steps))[:8])}" for mode, steps in found.items()
        ))  # fmt: skip
    text = "\n".join(lines)
    return text if len(text) <= SUMMARY_CHARS else "..." + text[-SUMMARY_CHARS:]


def _log_record(
    run: _TraceRun, usage: Usage, key: str, judge: LLMJudge, *, cached: bool, error: str | None
) -> dict[str, Any]:
    return {
        "key": key, "trace_id": run.trace.id, "annotator": judge.name, "model": judge.model,
        "base_url": judge.client.base_url, "from_cache": cached, "error": error, **usage.as_dict(),
    }  # fmt: skip


def _report_write_failure(done: Future[None]) -> None:
    # A lost cache entry only costs a repeated request on the next run; say so, but do not stop this one.
    if done.exception() is not None:
        logging.getLogger(__name__).warning("could not store a judge answer or request log: %s", done.exception())
