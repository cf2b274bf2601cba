"""Generic outcome files. (Placeholder: the outcomes helper implements CSV/JSONL.)"""

from __future__ import annotations

from pathlib import Path

from agentmortem.model import Outcome


def load_outcomes_file(path: Path) -> dict[str, Outcome]:
    """Outcomes keyed by trace id from a CSV or JSONL file with trace_id, success, score."""
    raise NotImplementedError
