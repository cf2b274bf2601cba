"""Builders shared by the LLM-judge tests: traces, judges wired to the fake server, scripted verdicts."""

from __future__ import annotations

import asyncio
from typing import Any

from agentmortem.judges.llm import LLMJudge, MemoryCache, RetryPolicy
from agentmortem.model import Annotation, Trace, make_steps
from agentmortem.taxonomy import mast
from fake_openai import FakeOpenAI, Received, all_absent, steps_in

NO_WAIT = RetryPolicy(max_attempts=6, wait_scale=0.0)


def make_trace(trace_id: str, contents: list[str], *, kinds: list[str] | None = None) -> Trace:
    """A trace whose step i has content contents[i] (alternating user/assistant messages unless kinds say)."""
    raw: list[dict[str, Any]] = []
    for i, content in enumerate(contents):
        kind = kinds[i] if kinds else "message"
        role = "tool" if kind == "tool_result" else ("user" if i % 2 == 0 else "assistant")
        raw.append({"kind": kind, "role": role, "content": content})
    return Trace(id=trace_id, source_format="openai", model="agent-model", steps=make_steps(raw)).with_fingerprint()


def make_judge(server: FakeOpenAI, **options: Any) -> LLMJudge:
    """An LLM judge talking to the fake server, with an in-memory cache and no retry waits."""
    options.setdefault("cache", MemoryCache())
    options.setdefault("retry", NO_WAIT)
    options.setdefault("timeout", 5.0)
    return LLMJudge("gpt-4o-mini", base_url=server.base_url, **options)


def judge_one(judge: LLMJudge, trace: Trace) -> Annotation:
    """Run the judge on one trace with the built-in MAST taxonomy."""
    return asyncio.run(judge.judge(trace, mast()))


def citing(marker: str, mode_id: str = "FM-1.3") -> Any:
    """A verdict function: `mode_id` present, citing (with a verbatim quote) every step whose text has `marker`."""

    def verdict(request: Received) -> dict[str, Any]:
        answer = all_absent(request)
        hits = [(i, text) for i, text in steps_in(request).items() if marker in text]
        for item in answer["failure_modes"]:
            if item["id"] == mode_id and hits:
                item.update(present=True, evidence=[{"step": i, "quote": text[:60]} for i, text in hits])
        return answer

    return verdict
