"""Offline detectors: a zero-cost judge for the failure symptoms a program can see in a trace.

One module per detector (each answers one MAST mode with evidence steps, or stays silent, or says it cannot
tell); `config` holds their documented thresholds, loadable from YAML/JSON; `judge` runs them all as a `Judge`.
"""

from agentmortem.judges.detectors.config import (
    DetectorConfig,
    DetectorConfigError,
    FamilyRules,
    ForbiddenPattern,
    itbench_preset,
    load_config,
)
from agentmortem.judges.detectors.judge import DETECTORS, DETECTORS_VERSION, DetectorsJudge, covered_modes
from agentmortem.judges.detectors.view import Finding, TraceView

__all__ = [
    "DETECTORS",
    "DETECTORS_VERSION",
    "DetectorConfig",
    "DetectorConfigError",
    "DetectorsJudge",
    "FamilyRules",
    "Finding",
    "ForbiddenPattern",
    "TraceView",
    "covered_modes",
    "itbench_preset",
    "load_config",
]
