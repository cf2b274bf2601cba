"""Outcomes: whether a run succeeded, from trace fields, outcome files, ITBench judge files or the ITBench scorer."""

from agentmortem.outcomes.files import load_outcomes_file
from agentmortem.outcomes.itbench import GroundTruth, ItbenchScore, load_ground_truths, score_agent_output
from agentmortem.outcomes.resolve import DEFAULT_SUCCESS_THRESHOLD, finalize_outcome, pick_outcome

__all__ = [
    "DEFAULT_SUCCESS_THRESHOLD",
    "GroundTruth",
    "ItbenchScore",
    "finalize_outcome",
    "load_ground_truths",
    "load_outcomes_file",
    "pick_outcome",
    "score_agent_output",
]
