"""FM-3.1 premature termination, FM-2.1 conversation reset, FM-1.4 loss of history: planted and clean."""

from __future__ import annotations

from agentmortem.judges.detectors import DetectorConfig, history, premature, reset
from detector_builders import call, msg, run, shell, steps_of, system, trace

NUDGE = "I don't see agent_output.json file. Please resume the investigation and make sure to create it."
TASK = msg("user", "Investigate the incident in /data and write agent_output.json with the diagnosis.")
ITBENCH = {"benchmark": "itbench-sre"}


def test_itbench_nudges_fire_with_each_nudge_as_evidence() -> None:
    tr = trace(TASK, shell("ls /data", "a"), msg("user", NUDGE), shell("cat /data/a", "1"), msg("user", NUDGE),
               **ITBENCH)  # fmt: skip
    assert steps_of(run(premature.detect, tr)) == [3, 6]


def test_the_nudge_needs_the_family_rules_or_a_generic_resume_pattern() -> None:
    tr = trace(TASK, shell("ls /data", "a"), msg("user", "I don't see agent_output.json file."))
    assert not run(premature.detect, tr).present  # type: ignore[union-attr]
    generic = trace(TASK, shell("ls /data", "a"), msg("user", "Please continue the investigation."))
    assert steps_of(run(premature.detect, generic)) == [3]


def test_clean_run_is_silent() -> None:
    tr = trace(TASK, shell("ls /data", "a"), shell("cat /data/a", "1"), msg("assistant", "Diagnosis written."),
               **ITBENCH)  # fmt: skip
    assert not run(premature.detect, tr).present  # type: ignore[union-attr]


def test_aborted_turn_and_cut_call_fire() -> None:
    aborted = trace(TASK, shell("ls", "a"), system("turn aborted", kind="event", source_type="event_msg/turn_aborted"))
    assert steps_of(run(premature.detect, aborted)) == [3]
    cut = trace(TASK, shell("ls", "a"), call("shell", {"command": ["bash", "-lc", "cat big"]}, None))
    assert steps_of(run(premature.detect, cut)) == [3]


def test_missing_deliverable_in_metadata_fires_and_a_present_one_does_not() -> None:
    missing = trace(TASK, shell("ls", "a"), itbench={"agent_output": None})
    finding = run(premature.detect, missing)
    assert finding is not None and finding.present and "deliverable" in finding.explanation
    present = trace(TASK, shell("ls", "a"), itbench={"agent_output": {"entities": []}})
    assert not run(premature.detect, present).present  # type: ignore[union-attr]


def test_reissued_task_fires_at_both_statements() -> None:
    tr = trace(TASK, shell("ls /data", "a"), shell("cat /data/a", "1"), TASK, shell("ls /data", "a"))
    assert steps_of(run(reset.detect, tr)) == [0, 5]


def test_task_repeated_before_any_action_is_not_a_reset() -> None:
    tr = trace(TASK, TASK, shell("ls /data", "a"), msg("user", "Thanks, that is all for today, good work."))
    assert not run(reset.detect, tr).present  # type: ignore[union-attr]


def test_history_cleared_event_fires() -> None:
    tr = trace(TASK, shell("ls", "a"), system("The conversation history was cleared by the operator."))
    assert steps_of(run(reset.detect, tr)) == [3]


def test_compaction_event_fires_by_source_type_and_by_text() -> None:
    by_type = trace(TASK, shell("ls", "a"), system("summary of earlier turns", kind="event",
                                                   source_type="event_msg/context_compacted"))  # fmt: skip
    assert steps_of(run(history.detect, by_type)) == [3]
    by_text = trace(TASK, shell("ls", "a"), system("Note: context was truncated to fit the window."))
    assert steps_of(run(history.detect, by_text)) == [3]


def test_identical_reread_far_apart_fires_and_close_together_does_not() -> None:
    filler = [shell(f"echo {i}", str(i)) for i in range(4)]
    tr = trace(TASK, shell("cat /data/a", "1"), *filler, shell("cat /data/a", "1"))
    assert not run(history.detect, tr).present  # type: ignore[union-attr]
    close_config = DetectorConfig.model_validate({"history": {"reread_min_gap": 8}})
    assert steps_of(run(history.detect, tr, close_config)) == [1, 11]
