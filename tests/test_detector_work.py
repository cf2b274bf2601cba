"""FM-3.2 verification, FM-1.1 task specification, FM-2.3 derailment, FM-2.6 mismatch: planted and clean."""

from __future__ import annotations

from agentmortem.judges.detectors import DetectorConfig, derailment, mismatch, specification, verification
from agentmortem.judges.detectors.deliverable import schema_problems
from detector_builders import call, msg, patch, run, shell, steps_of, trace

TASK = msg("user", "Investigate the incident in /data and write agent_output.json with the diagnosis.")
GOOD = {
    "entities": [{"name": "otel-demo/Service/ad", "contributing_factor": True, "reasoning": "r", "evidence": "e"}],
    "propagations": [{"source": "otel-demo/Service/ad", "target": "otel-demo/Service/frontend"}],
    "alerts_explained": [{"alert": "RequestErrorRate", "explanation": "x", "explained": True}],
}


def test_deliverable_never_read_back_fires_at_the_write() -> None:
    tr = trace(TASK, shell("ls /data", "a"), patch("agent_output.json", "{}"), shell("ls /data", "a"))
    assert steps_of(run(verification.detect, tr)) == [3]


def test_deliverable_read_back_is_silent_and_a_later_rewrite_needs_its_own_check() -> None:
    checked = trace(TASK, patch("agent_output.json", "{}"), shell("jq . agent_output.json", "{}"))
    assert not run(verification.detect, checked).present  # type: ignore[union-attr]
    rewritten = trace(TASK, patch("agent_output.json", "{}"), shell("jq . agent_output.json", "{}"),
                      shell("cat > agent_output.json <<EOF\n{}\nEOF", ""))  # fmt: skip
    assert steps_of(run(verification.detect, rewritten)) == [5]


def test_failed_writes_and_runs_without_writes_leave_verification_unknown() -> None:
    assert run(verification.detect, trace(TASK, shell("ls", "a"))) is None
    assert run(verification.detect, trace(TASK, patch("agent_output.json", "{", ok=False))) is None


def test_unchecked_cluster_change_fires_and_a_checked_one_does_not() -> None:
    tr = trace(TASK, shell("kubectl scale deploy/ad --replicas=2", "scaled"), msg("assistant", "Done."))
    assert steps_of(run(verification.detect, tr)) == [1]
    twin = trace(TASK, shell("kubectl scale deploy/ad --replicas=2", "scaled"), shell("kubectl get pods", "ad-1"))
    assert not run(verification.detect, twin).present  # type: ignore[union-attr]


def test_reading_ground_truth_is_forbidden_for_itbench_only() -> None:
    steps = (TASK, shell("ls /data", "a"), shell("cat /data/ground_truth.yaml", "fault: x"))
    assert steps_of(run(specification.detect, trace(*steps, benchmark="ITBench-SRE"))) == [3]
    assert run(specification.detect, trace(*steps)) is None  # no family: cannot know what was forbidden
    clean = trace(TASK, shell("ls /data", "a"), itbench={"agent_output": GOOD})
    assert not run(specification.detect, clean).present  # type: ignore[union-attr]


def test_deliverable_off_schema_fires_at_its_write() -> None:
    bad = {**GOOD, "entities": [{"name": "ad", "contributing_factor": "yes"}]}
    tr = trace(TASK, shell("ls", "a"), patch("agent_output.json", "{}"), itbench={"agent_output": bad})
    finding = run(specification.detect, tr)
    assert steps_of(finding) == [3]
    assert finding is not None and "namespace/Kind/name" in finding.explanation


def test_schema_problems_lists_each_breach() -> None:
    assert schema_problems(GOOD) == []
    problems = schema_problems({"entities": [{"name": "a/b"}], "propagations": "x"})
    assert "'propagations' is missing or not an array" in problems
    assert "'alerts_explained' is missing or not an array" in problems
    assert "entities[0].name 'a/b' is not namespace/Kind/name" in problems
    assert schema_problems([1]) == ["the deliverable is a list, not an object"]


def test_meta_loop_after_an_error_fires() -> None:
    missing = "ModuleNotFoundError: No module named 'pandas'"
    tr = trace(TASK, patch("analyze.py", "import pandas"), shell("python analyze.py", missing, exit_code=1),
               shell("pip install pandas", "no network", exit_code=1), shell("which python3", "/usr/bin/python3"),
               shell("python3 --version", "3.12"), patch("analyze.py", "import csv"),
               shell("python3 analyze.py", "Traceback (most recent call last):", exit_code=1),
               shell("cat /data/alerts.json", "[]"))  # fmt: skip
    assert steps_of(run(derailment.detect, tr)) == [3, 5, 7, 9, 11, 13]


def test_error_then_back_to_the_task_is_not_derailment() -> None:
    tr = trace(TASK, shell("cat /data/missing", "No such file", exit_code=1), shell("ls /data", "a b"),
               shell("cat /data/a", "1"), shell("cat /data/b", "2"), shell("grep x /data/a", "x"),
               shell("head /data/b", "2"))  # fmt: skip
    assert not run(derailment.detect, tr).present  # type: ignore[union-attr]
    assert run(derailment.detect, trace(TASK, msg("assistant", "no tools here"))) is None


def test_announced_command_not_run_fires_when_enabled() -> None:
    config = DetectorConfig.model_validate({"mismatch": {"enabled": True}})
    tr = trace(TASK, msg("assistant", "Let me run `kubectl get events` to see warnings."), shell("ls /data", "a"))
    assert steps_of(run(mismatch.detect, tr, config)) == [1, 2]
    twin = trace(TASK, msg("assistant", "Let me run `kubectl get events` to see warnings."),
                 shell("kubectl get events -A", "none"))  # fmt: skip
    assert not run(mismatch.detect, twin, config).present  # type: ignore[union-attr]


def test_announced_tool_that_is_called_matches() -> None:
    tr = trace(TASK, msg("assistant", "I will use `event_analysis` next."), call("event_analysis", {"f": 1}, "[]"))
    assert not run(mismatch.detect, tr).present  # type: ignore[union-attr]
