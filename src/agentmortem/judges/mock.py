"""A scripted judge that registers like any real one: tests run the whole pipeline offline with it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from agentmortem.model import Annotation, AnnotatorKind, ModeVerdict, Trace
from agentmortem.taxonomy import Taxonomy

Script = Callable[[Trace], Sequence[ModeVerdict]] | Sequence[Sequence[ModeVerdict]]


class MockJudge:
    """Answers from a script: a callable `trace -> verdicts`, or a list of verdict lists served in turn."""

    kind: AnnotatorKind = "mock"

    def __init__(self, script: Script | None = None, *, name: str = "mock", version: str = "1") -> None:
        self.name = name
        self.version = version
        self._script = script if script is not None else (lambda _trace: [])
        self._served = 0

    async def judge(self, trace: Trace, taxonomy: Taxonomy) -> Annotation:
        """Annotate `trace` with the next scripted verdicts."""
        return Annotation(
            trace_id=trace.id, annotator=self.name, annotator_kind="mock", annotator_version=self.version,
            taxonomy=taxonomy.name, taxonomy_version=taxonomy.version, verdicts=list(self._next(trace)),
            created_at=datetime.now(UTC),
        )  # fmt: skip

    def _next(self, trace: Trace) -> Sequence[ModeVerdict]:
        if callable(self._script):
            return self._script(trace)
        verdicts = self._script[self._served % len(self._script)]
        self._served += 1
        return verdicts
