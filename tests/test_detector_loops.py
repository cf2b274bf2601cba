"""FM-1.3 step repetition and FM-1.5 unaware of termination: planted symptoms fire, clean twins stay silent."""

from __future__ import annotations

from agentmortem.judges.detectors import DetectorConfig, repetition, termination
from detector_builders import msg, patch, run, shell, steps_of, trace

TASK = msg("user", "Investigate the incident and write agent_output.json with your diagnosis, please.")


def test_repeated_identical_command_fires_with_every_call_as_evidence() -> None:
    tr = trace(TASK, shell("ls /data", "a b"), shell("cat x", "x1"), shell("cat x", "x1"), shell("cat x", "x1"),
               shell("grep y z", "y"))  # fmt: skip
    finding = run(repetition.detect, tr)
    assert steps_of(finding) == [3, 5, 7]


def test_same_command_with_changing_output_is_polling_not_repetition() -> None:
    tr = trace(TASK, shell("cat x", "x1"), shell("cat x", "x2"), shell("cat x", "x3"))
    finding = run(repetition.detect, tr)
    assert finding is not None and not finding.present


def test_two_repeats_stay_below_the_default_threshold_but_a_lower_one_fires() -> None:
    tr = trace(TASK, shell("cat x", "x1"), shell("cat x", "x1"), shell("echo done", "done"))
    assert not run(repetition.detect, tr).present  # type: ignore[union-attr]
    config = DetectorConfig.model_validate({"repetition": {"min_repeats": 2}})
    assert steps_of(run(repetition.detect, tr, config)) == [1, 3]


def test_near_identical_failing_patches_fire() -> None:
    body = '{"entities": [{"name": "otel-demo/Service/ad", "contributing_factor": true, "reasoning": "%s"}]}'
    attempts = [patch("agent_output.json", body % words, ok=False) for words in ("fires", "fired", "firing")]
    tr = trace(TASK, *attempts, shell("jq . agent_output.json", "{}"))
    assert steps_of(run(repetition.detect, tr)) == [1, 3, 5]


def test_different_commands_are_silent() -> None:
    tr = trace(TASK, shell("ls /data", "a"), shell("cat /data/a", "1"), shell("head /data/b", "2"))
    assert not run(repetition.detect, tr).present  # type: ignore[union-attr]


def test_repeated_consecutive_agent_message_fires() -> None:
    same = "SUGGESTED NEXT SPEAKER: Agent Code Executor, who should run the code now."
    tr = trace(msg("user", "What is six times seven?"), msg("assistant", "Let me think about it.", agent="solver"),
               msg("assistant", same, agent="verifier"), msg("assistant", same, agent="verifier"),
               msg("assistant", same + "!", agent="verifier"))  # fmt: skip
    assert steps_of(run(repetition.detect, tr)) == [2, 3, 4]


def test_same_message_answering_different_turns_is_the_dialogue_rhythm() -> None:
    canned = "Continue. Please keep solving the problem until you need to query, then stop."
    tr = trace(msg("user", "What is six times seven?"), msg("assistant", canned, agent="proxy"),
               msg("assistant", "Six times seven: I will compute it step by step.", agent="solver"),
               msg("assistant", canned, agent="proxy"))  # fmt: skip
    assert not run(repetition.detect, tr).present  # type: ignore[union-attr]


def test_tool_calls_after_declaring_done_fire() -> None:
    tr = trace(TASK, shell("ls", "a"), msg("assistant", "The task is complete."), shell("ls", "b"), shell("pwd", "/"))
    assert steps_of(run(termination.detect, tr)) == [3, 4, 6]
    twin = trace(TASK, shell("ls", "a"), shell("pwd", "/"), msg("assistant", "The task is complete."))
    assert not run(termination.detect, twin).present  # type: ignore[union-attr]


def test_turn_limit_and_stop_messages_fire() -> None:
    limit = trace(TASK, shell("ls", "a"), msg("system", "Maximum number of turns (50) reached; ending the session."))
    assert steps_of(run(termination.detect, limit)) == [3]
    stop = trace(TASK, shell("ls", "a"), msg("user", "You are done, please stop calling tools."))
    assert steps_of(run(termination.detect, stop)) == [3]


def test_loop_at_the_end_fires_and_the_same_loop_mid_run_does_not() -> None:
    loop = [shell("kubectl get pods", "p1 Running") for _ in range(3)]
    tr = trace(TASK, shell("ls", "a"), *loop)
    assert steps_of(run(termination.detect, tr)) == [3, 5, 7]
    twin = trace(TASK, shell("ls", "a"), *loop, shell("cat report.md", "done"), msg("assistant", "Diagnosis written."))
    assert not run(termination.detect, twin).present  # type: ignore[union-attr]
