"""Outcomes: whether a run succeeded, from trace fields, outcome files, ITBench judge files or the ITBench scorer."""

from agentmortem.outcomes.files import load_outcomes_file
from agentmortem.outcomes.resolve import DEFAULT_SUCCESS_THRESHOLD, finalize_outcome

__all__ = ["DEFAULT_SUCCESS_THRESHOLD", "finalize_outcome", "load_outcomes_file"]
