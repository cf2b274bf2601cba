"""Reports: the typed Report model (report.py) and its renderers (terminal, JSON, Markdown, HTML)."""

from __future__ import annotations

from typing import Any

from agentmortem.report.report import (
    REPORT_SCHEMA_VERSION,
    CascadeView,
    CategoryStat,
    Comparison,
    Distribution,
    GroupReport,
    Intervention,
    ModeInfo,
    ModeStat,
    Report,
    ReportSettings,
    StepView,
    TraceDetail,
    TraceMode,
)


def __getattr__(name: str) -> Any:
    # build_report lives with the analysis that computes it; imported on first use so that the analysis modules,
    # which import the Report model from here, do not import themselves in a cycle.
    if name == "build_report":
        from agentmortem.analysis.build import build_report

        return build_report
    raise AttributeError(name)


__all__ = [
    "REPORT_SCHEMA_VERSION",
    "CascadeView",
    "CategoryStat",
    "Comparison",
    "Distribution",
    "GroupReport",
    "Intervention",
    "ModeInfo",
    "ModeStat",
    "Report",
    "ReportSettings",
    "StepView",
    "TraceDetail",
    "TraceMode",
    "build_report",
]
