"""The one interface every judge implements: LLM judges, the offline detectors, scripted mocks."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agentmortem.model import Annotation, AnnotatorKind, Trace
from agentmortem.taxonomy import Taxonomy


@runtime_checkable
class Judge(Protocol):
    """Reads a trace and answers, per failure mode of the taxonomy, whether it occurs and where.

    A judge knows traces and the taxonomy, never files or the store. Modes it cannot see are left out of the
    annotation (unknown), never reported absent. A judge that cannot produce a usable verdict returns an
    annotation with status 'failed' and the reason, never a silent "no failures".
    """

    # Read-only members, so a judge class may narrow them (e.g. kind: Literal["detectors"]).
    @property
    def name(self) -> str:
        """Annotator name the annotations are stored under."""
        ...

    @property
    def kind(self) -> AnnotatorKind:
        """What sort of annotator this is."""
        ...

    @property
    def version(self) -> str:
        """Changes whenever the judge could answer differently (prompt version, detector thresholds…)."""
        ...

    async def judge(self, trace: Trace, taxonomy: Taxonomy) -> Annotation:
        """Annotate one trace."""
        ...
