"""Score every ITBench run under a directory against its scenario's ground truth (`agentmortem score-itbench`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentmortem.outcomes.deliverable import check_deliverable
from agentmortem.outcomes.itbench import GroundTruth, ItbenchScore, ground_truth_for, score_agent_output
from agentmortem.readers.itbench_layout import ItbenchRun, find_runs, load_json_object, run_label


@dataclass
class RunScore:
    """One run's score, or why it has none."""

    run: ItbenchRun
    score: ItbenchScore | None
    problem: str | None = None
    doubts: list[str] = field(default_factory=list)
    """Reasons the scored agent_output.json may not be this run's (see `outcomes.deliverable`)."""

    @property
    def label(self) -> str:
        """`[<model>/]scenario-<N>/run-<R>`."""
        prefix = f"{self.run.model_dir}/" if self.run.model_dir else ""
        return f"{prefix}scenario-{self.run.scenario}/{run_label(self.run.run)}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        out: dict[str, Any] = {"run": self.label, "run_dir": str(self.run.run_dir), "scenario": self.run.scenario}
        if self.score is not None:
            out.update(self.score.metrics(), matched=self.score.matched, correct=self.score.correct)
            out["contributing"] = self.score.contributing
        if self.problem is not None:
            out["problem"] = self.problem
        out["warnings"] = self.doubts
        return out


def score_runs(root: Path, truths: dict[str, GroundTruth], *, scenario: str | None = None) -> list[RunScore]:
    """Every run under `root` (optionally only those of `scenario`), scored against its ground truth."""
    results = []
    for run in find_runs(root):
        if scenario is not None and run.scenario != scenario:
            continue
        truth = ground_truth_for(run.scenario, truths)
        if truth is None:
            results.append(RunScore(run, None, f"no ground truth for scenario {run.scenario!r}"))
            continue
        agent_output, problem = load_json_object(run.agent_output_path)
        problem = None if problem is None else f"agent_output.json {problem}"
        score = score_agent_output(agent_output, truth, problem=problem)
        results.append(RunScore(run, score, doubts=_doubts(run)))
    return results


def _doubts(run: ItbenchRun) -> list[str]:
    """What `check_deliverable` says of the run's diagnosis session (nothing when it cannot be read)."""
    from agentmortem.readers.codex import CodexReader  # parsing sessions is needed here only

    traces = CodexReader().read(run.run_dir, [])
    primary = next((t for t in traces if t.metadata.get("itbench", {}).get("primary")), None)
    return check_deliverable(primary) if primary is not None else []
