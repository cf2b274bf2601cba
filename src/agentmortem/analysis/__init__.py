"""Analysis: failure signatures, fatality, cascades, comparisons and interventions, assembled into a Report."""

from agentmortem.analysis.agreement import AgreementError, AgreementReport, agreement, agreement_in_store
from agentmortem.analysis.build import AnalysisError, build_report, parse_group_by, resolve_annotator
from agentmortem.analysis.decisive import decisive_step
from agentmortem.analysis.playbook import Playbook, PlaybookError, default_playbook, load_playbook

__all__ = [
    "AgreementError",
    "AgreementReport",
    "agreement",
    "agreement_in_store",
    "AnalysisError",
    "Playbook",
    "PlaybookError",
    "build_report",
    "decisive_step",
    "default_playbook",
    "load_playbook",
    "parse_group_by",
    "resolve_annotator",
]
