"""Judges: anything that turns a trace into an Annotation (LLM, offline detectors, scripted mock)."""

from __future__ import annotations

from typing import Any

from agentmortem.judges.base import Judge
from agentmortem.judges.mock import MockJudge


def get_judge(spec: str | None = None, **options: Any) -> Judge:
    """Resolve a judge by name: None or 'detectors' (offline), 'mock', or an LLM model name for the LLM judge.

    Optional dependencies are imported here, lazily, so a missing one only matters when that judge is used.
    """
    if spec is None or spec == "detectors":
        from agentmortem.judges.detectors import DetectorsJudge

        return DetectorsJudge(**options)
    if spec == "mock":
        return MockJudge(**options)
    from agentmortem.judges.llm import LLMJudge

    return LLMJudge(model=spec, **options)


__all__ = ["Judge", "MockJudge", "get_judge"]
