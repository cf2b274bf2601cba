"""The JSON form of a Report: documented and stable (see report.py for every field).

Top level: {"schema_version", "generated_at", "annotator", "taxonomy", "taxonomy_version", "settings", "modes",
"categories", "totals", "outcomes_known", "notes", "groups": [{"group", "traces", "failed", "succeeded",
"success_rate", "mean_score", "modes_per_failed_trace", "modes_per_successful_trace", "cascading_share", "modes":
[{"id", "prevalence_failed", "prevalence_succeeded", "relative_increase", "odds_ratio", "ci95", "p_value",
"q_value", "verdict", …}], "interventions": […], …}], "comparisons": […], "drilldown": […]}.
Shares are in [0, 1]; absent numbers are null (JSON has no infinity: see `relative_increase_kind`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from agentmortem.report.report import Report


def report_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data, keys in model order."""
    return report.model_dump(mode="json")


def render_json(report: Report, *, indent: bool = True) -> str:
    """The report as JSON text."""
    option = orjson.OPT_INDENT_2 if indent else 0
    return orjson.dumps(report_dict(report), option=option).decode()


def write_json(report: Report, path: str | Path) -> None:
    """Write the report's JSON to `path`."""
    Path(path).write_text(render_json(report) + "\n", encoding="utf-8")


def load_report(path: str | Path) -> Report:
    """Read a report written by `write_json` back into the typed model."""
    return Report.model_validate_json(Path(path).read_bytes())
