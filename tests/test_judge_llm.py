from __future__ import annotations

import asyncio
import random
from typing import Any

import openai
import pytest

from agentmortem.engines.local import annotate_store
from agentmortem.judges import get_judge
from agentmortem.judges.llm import LLMJudge, MemoryCache, Price
from agentmortem.judges.llm.client import RetryPolicy, backoff, classify, retry_after
from agentmortem.store import Store
from fake_openai import FakeOpenAI, Fault, Received, all_absent
from judge_helpers import citing, judge_one, make_judge, make_trace

AWS = "AKIAIOSFODNN7EXAMPLE"
OPENAI_KEY = "sk-proj-ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210"


def test_get_judge_returns_the_llm_judge_for_a_model_name(fake_server: FakeOpenAI) -> None:
    judge = get_judge("gpt-4o", base_url=fake_server.base_url)
    assert isinstance(judge, LLMJudge) and judge.name == "gpt-4o" and judge.kind == "llm"


def test_evidence_points_at_the_step_quoted(fake_server: FakeOpenAI) -> None:
    fake_server.verdict = citing("kubectl get pods -n shop")
    trace = make_trace("loop", ["find the fault", "kubectl get pods -n shop", "ok", "kubectl get pods -n shop", "x"])
    annotation = judge_one(make_judge(fake_server), trace)
    verdict = annotation.verdict("FM-1.3")
    assert verdict is not None and verdict.present and [e.step for e in verdict.evidence] == [1, 3]
    for evidence in verdict.evidence:
        assert evidence.quote in trace.steps[evidence.step].content
    assert len(annotation.verdicts) == 14 and annotation.status == "ok"


def test_an_off_by_one_citation_is_moved_to_the_quoted_step(fake_server: FakeOpenAI) -> None:
    def off_by_one(request: Received) -> dict[str, Any]:
        answer = all_absent(request)
        answer["failure_modes"][2].update(present=True, evidence=[{"step": 2, "quote": "rm -rf /data/cache"}])
        return answer

    fake_server.verdict = off_by_one
    trace = make_trace("t", ["clean up", "rm -rf /data/cache", "done", "bye"])
    verdict = judge_one(make_judge(fake_server), trace).verdict("FM-1.3")
    assert verdict is not None and verdict.evidence[0].step == 1 and "evidence-relocated" in verdict.flags


def test_secrets_never_reach_the_server_and_are_counted(fake_server: FakeOpenAI) -> None:
    trace = make_trace("s", [f"export AWS_ACCESS_KEY_ID={AWS}", f"using {OPENAI_KEY}", "password=hunter22!"])
    annotation = judge_one(make_judge(fake_server), trace)
    sent = fake_server.completions()[0].text
    for secret in (AWS, OPENAI_KEY, "hunter22"):
        assert secret not in sent
    assert "[REDACTED:aws-key]" in sent and annotation.usage["redactions"] == 3
    judge_one(make_judge(fake_server, redact=False), trace)
    assert AWS in fake_server.completions()[1].text


def test_retries_recover_from_429_500_timeouts_drops_and_cut_bodies(fake_server: FakeOpenAI) -> None:
    fake_server.faults = [
        Fault("status", 429, {"Retry-After": "7"}), Fault("status", 500), Fault("hang", seconds=2.0),
        Fault("drop"), Fault("truncated-body"),
    ]  # fmt: skip
    annotation = judge_one(make_judge(fake_server, timeout=0.5), make_trace("r", ["a", "b"]))
    assert annotation.status == "ok" and len(fake_server.completions()) == 6


def test_non_retryable_errors_fail_at_once_and_the_trace_is_marked_failed(fake_server: FakeOpenAI) -> None:
    fake_server.faults = [Fault("status", 401)]
    annotation = judge_one(make_judge(fake_server, response_format="json_schema"), make_trace("u", ["a"]))
    assert annotation.status == "failed" and "HTTP 401 after 1 attempt" in (annotation.error or "")
    assert annotation.verdicts == [] and len(fake_server.completions()) == 1


def test_retries_give_up_after_the_policy_and_say_why(fake_server: FakeOpenAI) -> None:
    fake_server.fault_rule = lambda _n: Fault("status", 503)
    judge = make_judge(fake_server, retry=RetryPolicy(max_attempts=3, wait_scale=0))
    annotation = judge_one(judge, make_trace("g", ["a"]))
    assert annotation.status == "failed" and "HTTP 503 after 3 attempts" in (annotation.error or "")
    assert judge.stats.failed_requests == 1


def test_retry_after_is_honoured_and_backoff_is_jittered() -> None:
    policy = RetryPolicy(base_wait=1.0, max_wait=30.0)
    assert backoff(1, policy, 7.0) == 7.0 and backoff(1, policy, 99.0) == 30.0
    random.seed(1)
    waits = [backoff(4, policy, None) for _ in range(50)]
    assert all(0 <= w <= 8.0 for w in waits) and len(set(waits)) > 40
    assert backoff(3, RetryPolicy(wait_scale=0), 5.0) == 0.0


def test_retry_classification(fake_server: FakeOpenAI) -> None:
    import asyncio

    async def error_for(fault: Fault) -> BaseException:
        fake_server.faults.append(fault)
        client = openai.AsyncOpenAI(base_url=fake_server.base_url, api_key="x", max_retries=0, timeout=0.3)
        try:
            await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        except openai.OpenAIError as exc:
            return exc
        raise AssertionError("no error")

    rate = asyncio.run(error_for(Fault("status", 429, {"Retry-After": "3"})))
    assert classify(rate) == "rate-limit" and retry_after(rate) == 3.0
    assert classify(asyncio.run(error_for(Fault("status", 502)))) == "transient"
    assert classify(asyncio.run(error_for(Fault("hang", seconds=1.0)))) == "transient"
    assert classify(asyncio.run(error_for(Fault("status", 400)))) == "no"


def test_prose_is_reasked_once_with_the_reason(fake_server: FakeOpenAI) -> None:
    fake_server.faults = [Fault("prose")]
    annotation = judge_one(make_judge(fake_server), make_trace("p", ["a", "b"]))
    first, second = fake_server.completions()
    assert annotation.status == "ok" and len(second.body["messages"]) == 4
    assert second.body["messages"][2]["role"] == "assistant"
    assert "could not be used" in second.body["messages"][3]["content"]


def test_two_unusable_answers_fail_the_trace_never_silently(fake_server: FakeOpenAI) -> None:
    fake_server.faults = [Fault("prose"), Fault("prose")]
    annotation = judge_one(make_judge(fake_server), make_trace("p2", ["a"]))
    assert annotation.status == "failed" and "unusable answer after 2 attempts" in (annotation.error or "")
    assert annotation.verdicts == []


def test_endpoints_without_structured_output_get_plain_json_instructions(fake_server: FakeOpenAI) -> None:
    fake_server.reject_response_format = True
    judge = make_judge(fake_server)
    assert judge_one(judge, make_trace("f", ["a"])).status == "ok"
    assert judge_one(judge, make_trace("g", ["b"])).status == "ok"
    forms = [r.body.get("response_format", {}).get("type") for r in fake_server.completions()]
    assert forms == ["json_schema", "json_object", None, None]  # stepped down once each, then kept for the run
    assert judge.adaptations == [
        "gpt-4o-mini: response_format json_schema refused; sent json_object",
        "gpt-4o-mini: response_format json_object refused; the answer's shape asked for in the prompt only",
    ]


def test_a_400_that_names_no_parameter_is_a_real_error_not_a_fallback(fake_server: FakeOpenAI) -> None:
    fake_server.faults = [Fault("status", 400)]
    judge = make_judge(fake_server)
    annotation = judge_one(judge, make_trace("b", ["a"]))
    assert annotation.status == "failed" and "HTTP 400 after 1 attempt" in (annotation.error or "")
    assert len(fake_server.completions()) == 1 and judge.adaptations == []
    assert judge.client.response_format == "json_schema"  # nothing was given up for an unrelated error


def test_json_in_a_fence_after_prose_is_read(fake_server: FakeOpenAI) -> None:
    fake_server.faults = [Fault("fenced")]
    annotation = judge_one(make_judge(fake_server), make_trace("fence", ["a", "b"]))
    assert annotation.status == "ok" and len(fake_server.completions()) == 1


def test_an_answer_cut_at_the_limit_is_asked_again_with_a_larger_budget(fake_server: FakeOpenAI) -> None:
    fake_server.faults = [Fault("length")]
    annotation = judge_one(make_judge(fake_server, answer_tokens=1000), make_trace("cut", ["a", "b"]))
    first, second = fake_server.completions()
    assert annotation.status == "ok" and first.body["max_completion_tokens"] == 1000
    assert second.body["max_completion_tokens"] == 2000 and second.body["messages"] == first.body["messages"]


def test_an_answer_cut_twice_fails_saying_where(fake_server: FakeOpenAI) -> None:
    fake_server.faults = [Fault("length"), Fault("length")]
    annotation = judge_one(make_judge(fake_server, answer_tokens=1000), make_trace("cut2", ["a"]))
    assert annotation.status == "failed" and "answer cut at 2000 tokens" in (annotation.error or "")
    assert len(fake_server.completions()) == 2


def test_a_refusal_fails_the_trace_and_names_the_refusal(fake_server: FakeOpenAI) -> None:
    fake_server.faults = [Fault("refusal")]
    annotation = judge_one(make_judge(fake_server), make_trace("no", ["a"]))
    assert annotation.status == "failed" and "refused to answer: I'm sorry" in (annotation.error or "")
    assert len(fake_server.completions()) == 1


def test_an_answer_in_reasoning_content_is_used_when_content_is_empty(fake_server: FakeOpenAI) -> None:
    fake_server.faults = [Fault("reasoning-only")]
    annotation = judge_one(make_judge(fake_server), make_trace("think", ["a", "b"]))
    assert annotation.status == "ok" and len(fake_server.completions()) == 1
    assert "answer read from reasoning_content (content was empty)" in annotation.usage["warnings"]


def test_answers_are_cached_and_a_second_pass_sends_nothing(fake_server: FakeOpenAI) -> None:
    cache = MemoryCache()
    traces = [make_trace(f"c{i}", ["task", f"step {i}"]) for i in range(5)]
    for trace in traces:
        judge_one(make_judge(fake_server, cache=cache), trace)
    assert len(fake_server.completions()) == 5 and len(cache.answers) == 5
    again = make_judge(fake_server, cache=cache)
    annotations = [judge_one(again, trace) for trace in traces]
    assert len(fake_server.completions()) == 5 and again.stats.cached_requests == 5
    assert all(a.status == "ok" and a.usage["requests"] == 0 for a in annotations)
    other_model = LLMJudge("gpt-4o", base_url=fake_server.base_url, cache=cache)
    judge_one(other_model, traces[0])
    assert len(fake_server.completions()) == 6  # the model is part of the key


def test_unusable_answers_are_not_cached(fake_server: FakeOpenAI) -> None:
    cache = MemoryCache()
    fake_server.faults = [Fault("prose"), Fault("prose")]
    assert judge_one(make_judge(fake_server, cache=cache), make_trace("n", ["a"])).status == "failed"
    assert cache.answers == {}
    assert judge_one(make_judge(fake_server, cache=cache), make_trace("n", ["a"])).status == "ok"


def test_samples_vote_by_majority_and_agreement_is_the_confidence(fake_server: FakeOpenAI) -> None:
    votes = iter([True, True, False])

    def noisy(request: Received) -> dict[str, Any]:
        answer = citing("loop")(request)
        if not next(votes):
            answer["failure_modes"][2].update(present=False, evidence=[])
        return answer

    fake_server.verdict = noisy
    annotation = judge_one(make_judge(fake_server, samples=3), make_trace("k", ["go", "loop again", "loop again"]))
    verdict = annotation.verdict("FM-1.3")
    assert verdict is not None and verdict.present and verdict.confidence == pytest.approx(2 / 3, abs=1e-3)
    assert annotation.verdict("FM-2.1").confidence == 1.0  # type: ignore[union-attr]
    temps = {r.body["temperature"] for r in fake_server.completions()}
    assert temps == {0.7} and len(fake_server.completions()) == 3


def test_usage_and_cost_are_recorded_per_request(fake_server: FakeOpenAI) -> None:
    fake_server.cached_tokens = 1000
    cache = MemoryCache()
    judge = make_judge(fake_server, cache=cache, log=cache, price=Price(input=1.0, cached_input=0.5, output=2.0))
    annotation = judge_one(judge, make_trace("u", ["a", "b"]))
    usage = annotation.usage
    assert usage["cached_tokens"] == 1000 and usage["prompt_tokens"] > 1000
    expected = ((usage["prompt_tokens"] - 1000) * 1.0 + 1000 * 0.5 + usage["completion_tokens"] * 2.0) / 1e6
    assert usage["cost_usd"] == pytest.approx(expected)
    assert cache.log[0]["cost_usd"] == pytest.approx(expected) and cache.log[0]["from_cache"] is False


def test_cost_cap_stops_new_requests(fake_server: FakeOpenAI, store: Store) -> None:
    store.add_traces([make_trace(f"m{i:02d}", ["task", f"step {i}"]) for i in range(20)])
    judge = make_judge(fake_server, cache=store, log=store, price=Price(input=10.0, output=10.0), max_cost=0.25)
    report = annotate_store(store, judge, concurrency=2, stop=lambda: judge.budget.exhausted)
    sent = len(fake_server.completions())
    assert 0 < sent < 20 and judge.budget.spent <= 0.25 and judge.budget.exhausted
    assert report.annotated == sent and report.annotated + report.failed + report.stopped == 20


def test_with_a_fifth_of_requests_failing_every_trace_ends_annotated(fake_server: FakeOpenAI, store: Store) -> None:
    rng = random.Random(7)
    fake_server.fault_rule = lambda _n: (
        Fault("status", rng.choice([429, 500]), {"Retry-After": "0"}) if rng.random() < 0.2 else None
    )
    store.add_traces([make_trace(f"t{i:02d}", ["task", f"work {i}", "done"]) for i in range(40)])
    judge = make_judge(fake_server, cache=store, log=store)
    report = annotate_store(store, judge, concurrency=8)
    assert report.annotated == 40 and report.failed == 0
    assert len(fake_server.completions()) > 40  # faults really happened
    again = annotate_store(store, make_judge(fake_server, cache=store, log=store), redo=True)
    assert again.annotated == 40 and again.usage["requests"] == 0 and again.usage["cached_requests"] == 40
    assert store.count_cached_answers() == 40 and len(store.llm_requests(trace_id="t00")) >= 2


def test_a_context_length_refusal_splits_the_trace_and_goes_on() -> None:
    from fake_openai import family_server

    fake = family_server("vllm")  # refuses prompts over 32,768 tokens with vLLM's context-length message
    try:
        words = " ".join(f"w{i}" for i in range(400))
        trace = make_trace("long", [f"step {i}: {words}" for i in range(120)])
        judge = LLMJudge("Qwen/Qwen3-8B", base_url=fake.base_url, cache=MemoryCache(), retry=RetryPolicy(wait_scale=0))
        annotation = judge_one(judge, trace)
        refused = fake.refused()
        assert annotation.status == "ok" and len(refused) == 1, annotation.error
        assert "maximum context length" not in (annotation.error or "")
        assert len(fake.completions()) > 2 and judge.stats.failed_requests == 0  # sent again in parts, none failed
        assert judge.context_tokens == int(32_768 * 0.9)
        assert judge.adaptations == [
            "Qwen/Qwen3-8B: context is 32768 tokens; traces split into parts of at most 29491 tokens"
        ]
    finally:
        fake.stop()


def test_concurrent_traces_learn_a_refused_parameter_once(store: Store) -> None:
    import dataclasses

    fake = FakeOpenAI(family="openai-reasoning").start()
    assert fake.rules is not None
    fake.rules = dataclasses.replace(fake.rules, key=None, models=None)
    try:
        store.add_traces([make_trace(f"p{i:02d}", ["task", f"step {i}"]) for i in range(24)])
        judge = LLMJudge("house-model", base_url=fake.base_url, cache=store, log=store, retry=RetryPolicy(wait_scale=0))
        report = annotate_store(store, judge, concurrency=8)
        assert report.annotated == 24 and report.failed == 0
        assert [r.status for r in fake.refused()] == [400, 400]  # max_tokens, then temperature: once each per run
        assert len(fake.completions()) == 26 and len(judge.adaptations) == 2
        asyncio.run(judge.aclose())  # the request log is written behind; wait for it
        assert {r["reasoning_tokens"] for r in store.llm_requests()} == {192}  # logged per request (migration 007)
    finally:
        fake.stop()
