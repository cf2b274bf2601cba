"""The detectors judge: every offline detector over one trace, answered as one Annotation.

Modes a detector covers are answered present (with evidence) or absent; modes no detector covers, and modes a
detector cannot judge on this trace (it returned None), are left out of the annotation, i.e. unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from agentmortem.judges.detectors import (
    derailment,
    history,
    mismatch,
    premature,
    repetition,
    reset,
    specification,
    termination,
    verification,
)
from agentmortem.judges.detectors.config import DetectorConfig, load_config
from agentmortem.judges.detectors.view import Finding, TraceView
from agentmortem.model import Annotation, ModeVerdict, Trace, trusted
from agentmortem.taxonomy import Taxonomy

DETECTORS_VERSION = "1"
"""Bumped whenever a detector's logic changes; the configuration's fingerprint is appended to it."""

Section = Literal[
    "repetition", "termination", "premature", "reset", "history", "verification", "specification", "derailment",
    "mismatch",
]  # fmt: skip
Detect = Callable[[TraceView], Finding | None]

DETECTORS: list[tuple[str, Section, Detect]] = [
    ("FM-1.1", "specification", specification.detect),
    ("FM-1.3", "repetition", repetition.detect),
    ("FM-1.4", "history", history.detect),
    ("FM-1.5", "termination", termination.detect),
    ("FM-2.1", "reset", reset.detect),
    ("FM-2.3", "derailment", derailment.detect),
    ("FM-2.6", "mismatch", mismatch.detect),
    ("FM-3.1", "premature", premature.detect),
    ("FM-3.2", "verification", verification.detect),
]
"""(mode, configuration section, detector) for every detector, in taxonomy order."""


def covered_modes(config: DetectorConfig | None = None) -> list[str]:
    """Modes the enabled detectors can answer."""
    config = config or DetectorConfig()
    return [mode for mode, section, _ in DETECTORS if _enabled(config, section)]


def _enabled(config: DetectorConfig, section: Section) -> bool:
    # The FM-1.1 rules live in the task families; the others have an `enabled` switch of their own.
    return section == "specification" or bool(getattr(config, section).enabled)


class DetectorsJudge:
    """Offline, zero-cost judge: program-visible failure symptoms with evidence steps, no model, no network."""

    kind: Literal["detectors"] = "detectors"

    def __init__(
        self, config: DetectorConfig | None = None, *, config_path: str | Path | None = None, name: str = "detectors"
    ) -> None:
        self.config = config if config is not None else (load_config(config_path) if config_path else DetectorConfig())
        self.name = name
        self.version = f"{DETECTORS_VERSION}+{self.config.fingerprint()}"

    async def judge(self, trace: Trace, taxonomy: Taxonomy) -> Annotation:
        """Annotate one trace (the work is synchronous and quick; async to fit the Judge protocol)."""
        return self.annotate(trace, taxonomy)

    def annotate(self, trace: Trace, taxonomy: Taxonomy) -> Annotation:
        """The synchronous form of `judge`, for callers outside an event loop."""
        known = self._known_modes(taxonomy)
        verdicts = [_verdict(f) for f in self.findings(trace) if f.mode_id in known]
        # Built with `trusted`: every value here has its declared type, and validating ~10 models a trace was a
        # quarter of the detectors' cost.
        return trusted(Annotation, {
            "trace_id": trace.id, "annotator": self.name, "annotator_kind": "detectors",
            "annotator_version": self.version, "taxonomy": taxonomy.name, "taxonomy_version": taxonomy.version,
            "verdicts": verdicts, "summary": _summary(verdicts), "created_at": datetime.now(UTC),
        })  # fmt: skip

    def _known_modes(self, taxonomy: Taxonomy) -> frozenset[str]:
        """The taxonomy's mode ids, built once per taxonomy (`ids` makes a new list on every access)."""
        cached = self.__dict__.get("_known")
        if cached is None or cached[0] is not taxonomy:
            cached = self.__dict__["_known"] = (taxonomy, frozenset(taxonomy.ids))
        known: frozenset[str] = cached[1]
        return known

    def findings(self, trace: Trace) -> list[Finding]:
        """What every enabled detector says about `trace` (detectors that cannot tell are left out)."""
        view = TraceView(trace, self.config)
        findings = []
        for _mode, section, detect in DETECTORS:
            if _enabled(self.config, section):
                finding = detect(view)
                if finding is not None:
                    findings.append(finding)
        return findings


def _verdict(finding: Finding) -> ModeVerdict:
    return trusted(ModeVerdict, {
        "mode_id": finding.mode_id, "present": finding.present,
        "evidence": list(finding.evidence) if finding.present else [], "explanation": finding.explanation,
        "confidence": None,
    })  # fmt: skip


def _summary(verdicts: list[ModeVerdict]) -> str:
    present = [v.mode_id for v in verdicts if v.present]
    if not present:
        return f"detectors: no symptom found among {len(verdicts)} modes checked"
    return f"detectors: {', '.join(present)} present; {len(verdicts) - len(present)} other modes checked and absent"
