"""Files that sit beside traces in a data folder but are not traces: labels, ground truths, outcomes.

A data folder often holds, next to its traces, the files other commands take: label rows (`import-labels`), ITBench
ground truths (`--ground-truth`) and outcome rows (`--outcomes`), or an ITBench run's `agent_output.json` and
`judge_output.json` given apart from their run folder (which is where they are read). The walk recognises them by
their content, not their name, and skips each with one note saying what it is and which command takes it, so they
are neither read as traces nor reported as unreadable. Recognition looks at the head of the file only (the same
bytes sniffing reads) and is strict enough that no trace format matches: a file that holds a message list, a Codex
row or an OTel export is never taken for a side file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentmortem.readers.jsonio import first_json_value

_GROUND_TRUTH = re.compile(
    r"^\s*-?\s*root_cause\s*:|^kind\s*:\s*[\"']?GroundTruth\b|\"root_cause\"\s*:|\"kind\"\s*:\s*\"GroundTruth\"", re.M
)
"""An ITBench ground truth, v1 (groups with `root_cause`) or v2 (`kind: GroundTruth`), as YAML or JSON."""
_TRACE_KEYS = frozenset({"messages", "history", "traj", "conversation", "trace", "payload", "resourceSpans"})
_OUTCOME_KEYS = frozenset({"success", "score"})
_CSV_HEADER = re.compile(r"[,\t]")


@dataclass(frozen=True)
class SideFile:
    """A file skipped because it is not a trace, with what it is and which command takes it."""

    path: Path
    what: str
    use: str

    def __str__(self) -> str:
        return f"{self.path}: skipped, {self.what}; {self.use}"


def recognise(path: Path, head: str) -> SideFile | None:
    """The side file `path` is (judged from its head), or None when it is none of them."""
    if _GROUND_TRUTH.search(head):
        return SideFile(path, "an ITBench ground truth", "score runs with it: --ground-truth FILE (or its folder)")
    if path.suffix.lower() in (".csv", ".tsv"):
        return _csv_outcomes(path, head)
    first = first_json_value(path, head.lstrip())
    record = first[0] if isinstance(first, list) and first else first
    if not isinstance(record, dict) or _TRACE_KEYS & record.keys():
        return None
    if "trace_id" not in record:
        return _claude_code_file(path, record) or _itbench_run_file(path, record)
    if isinstance(record.get("labels"), dict):
        by = f" by {record['annotator']!r}" if isinstance(record.get("annotator"), str) else ""
        return SideFile(path, f"failure label rows{by}", "import them: agentmortem import-labels FILE")
    if _OUTCOME_KEYS & record.keys():
        return _outcomes(path)
    return None


def _claude_code_file(path: Path, record: dict[str, Any]) -> SideFile | None:
    """A Claude Code file beside transcripts that holds none: session titles only, or a sub-agent's sidecar."""
    if record.get("type") == "summary" and "leafUuid" in record:
        return SideFile(path, "Claude Code session titles only (summary rows, no conversation)", "nothing to read")
    if path.name.endswith(".meta.json") and "agentType" in record:
        return SideFile(path, "a Claude Code sub-agent's metadata", "read with the transcript beside it")
    return None


def _itbench_run_file(path: Path, record: dict[str, Any]) -> SideFile | None:
    """An ITBench run's deliverable or judge verdict met outside its run folder (inside one, codex reads it)."""
    if isinstance(record.get("entities"), list) and ("propagations" in record or "alerts_explained" in record):
        what = "an ITBench agent_output.json (a run's diagnosis)"
    elif isinstance(record.get("scores"), dict) and "justification" in record:
        what = "an ITBench judge_output.json (a run's verdict)"
    else:
        return None
    return SideFile(path, what, "ingest the run folder that holds it, where it is read with the run's session")


def _csv_outcomes(path: Path, head: str) -> SideFile | None:
    header = {name.strip().strip('"').lower() for name in _CSV_HEADER.split(head.partition("\n")[0])}
    return _outcomes(path) if "trace_id" in header and _OUTCOME_KEYS & header else None


def _outcomes(path: Path) -> SideFile:
    return SideFile(path, "outcome rows (trace_id + success/score)", "give them to ingest or analyze: --outcomes FILE")
