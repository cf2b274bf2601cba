"""Hand-made traces and annotations with known answers, for the analysis and report tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from agentmortem.model import Annotation, Evidence, ModeVerdict, Outcome, Trace, make_steps
from agentmortem.store import Store

Verdicts = dict[str, bool | int | None]
"""mode id -> False (absent), True (present, no evidence), an int (present, evidence at that step), None (unknown)."""


@dataclass
class Row:
    """One trace and its annotation."""

    id: str
    group: str = "g"
    success: bool | None = None
    verdicts: Verdicts = field(default_factory=dict)
    n_steps: int = 5
    failed_annotation: bool = False
    metadata: dict[str, object] = field(default_factory=dict)
    content: str = "step"


def fill(store: Store, rows: list[Row], *, annotator: str = "judge", all_modes: list[str] | None = None) -> None:
    """Store the rows' traces and one annotation each; modes in `all_modes` missing from a row are absent."""
    traces = [
        Trace(
            id=r.id,
            source_format="test",
            model=r.group,
            metadata=r.metadata,
            outcome=Outcome(success=r.success, score=None if r.success is None else float(r.success)),
            steps=make_steps(
                [{"kind": "message", "role": "assistant", "content": f"{r.content} {i}"} for i in range(r.n_steps)]
            ),
        )  # fmt: skip
        for r in rows
    ]
    store.add_traces(traces)
    store.put_annotations([_annotation(r, annotator, all_modes or []) for r in rows])


def _annotation(row: Row, annotator: str, all_modes: list[str]) -> Annotation:
    if row.failed_annotation:
        return Annotation(trace_id=row.id, annotator=annotator, annotator_kind="mock", taxonomy_version="1",
                          status="failed", error="judge broke")  # fmt: skip
    verdicts = {m: False for m in all_modes} | row.verdicts
    return Annotation(
        trace_id=row.id, annotator=annotator, annotator_kind="mock", taxonomy_version="1",
        verdicts=[_verdict(m, v) for m, v in verdicts.items() if v is not None],
    )  # fmt: skip


def _verdict(mode: str, value: bool | int) -> ModeVerdict:
    if value is False:
        return ModeVerdict(mode_id=mode, present=False)
    evidence = [] if value is True else [Evidence(step=int(value), quote=f"quote of {mode}")]
    return ModeVerdict(mode_id=mode, present=True, evidence=evidence, explanation=f"{mode} because", confidence=0.9)
