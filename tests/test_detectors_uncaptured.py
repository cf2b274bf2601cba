"""Detectors read a model call whose content the telemetry did not capture as an unknown answer."""

from __future__ import annotations

from typing import Any

from agentmortem.judges.detectors import premature, termination
from agentmortem.model import CONTENT_NOT_CAPTURED
from detector_builders import call, msg, run, trace


def uncaptured() -> list[dict[str, Any]]:
    return [{"kind": "event", "role": "assistant", "content": "model call to m (chat): answer not captured",
             "input_tokens": 10, "output_tokens": 3, "source_type": f"span:chat:{CONTENT_NOT_CAPTURED}"}]  # fmt: skip


def test_an_unanswered_call_then_an_uncaptured_model_call_is_unknown_not_premature() -> None:
    tr = trace(msg("user", "check the pods"), call("kubectl", {"args": "get pods"}, None), uncaptured())
    assert run(premature.detect, tr) is None


def test_the_same_run_without_the_uncaptured_call_is_premature() -> None:
    tr = trace(msg("user", "check the pods"), call("kubectl", {"args": "get pods"}, None))
    finding = run(premature.detect, tr)
    assert finding is not None and finding.present


def test_an_uncaptured_call_before_the_end_does_not_hide_a_later_cut() -> None:
    tr = trace(msg("user", "check the pods"), uncaptured(), call("kubectl", {"args": "get pods"}, None))
    finding = run(premature.detect, tr)
    assert finding is not None and finding.present


def test_a_loop_followed_by_an_uncaptured_model_call_is_not_a_loop_at_the_end() -> None:
    loop = [step for _ in range(4) for step in call("kubectl", {"args": "get pods"}, "pending")]
    assert run(termination.detect, trace(msg("user", "wait for the pods"), loop)).present  # type: ignore[union-attr]
    finding = run(termination.detect, trace(msg("user", "wait for the pods"), loop, uncaptured()))
    assert finding is not None and not finding.present
