"""Step-level label rows (the agreed format), AgentRx ground truths, and their round trip through the store."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from agentmortem.ingest import ingest
from agentmortem.label_formats.rows import LabelError, annotation_from_row
from agentmortem.labels import import_labels
from agentmortem.store import Store

AGENTRX = Path(__file__).parent / "fixtures" / "agentrx"
OPENAI = Path(__file__).parent / "fixtures" / "openai"


def test_row_with_evidence_agents_and_decisive_step() -> None:
    row = {
        "labels": {
            "FM-1.3": {
                "present": True, "evidence": [{"step": 12, "quote": "ls again"}, {"step": "14"}], "agent": "Coder",
            },
            "Derailment from task": {"present": False},  # a draft name of FM-2.3
            "3.2": {"present": None, "evidence": [{"step": 3}]},  # unknown: left out, evidence and all
        },
        "decisive_step": 14, "decisive_agent": "Planner", "decisive_mode": "Step Repetition", "annotator_kind": "human",
    }  # fmt: skip
    annotation, unmapped = annotation_from_row("t", row, annotator="alice")
    assert unmapped == [] and annotation.annotator_kind == "human"
    repetition = annotation.verdict("FM-1.3")
    assert repetition is not None and [e.step for e in repetition.evidence] == [12, 14]
    assert (repetition.agent, repetition.evidence[0].quote, repetition.first_step) == ("Coder", "ls again", 12)
    assert annotation.verdict("FM-2.3") is not None and annotation.verdict("FM-3.2") is None
    assert (annotation.decisive_step, annotation.decisive_agent, annotation.decisive_mode) == (14, "Planner", "FM-1.3")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"labels": {"1.3": {"present": True, "evidence": [{"step": -1}]}}}, "step -1 is not a step index"),
        ({"labels": {"1.3": {"present": True, "evidence": 4}}}, "'evidence' must be a list"),
        ({"labels": {}, "decisive_step": "late"}, "decisive_step: step 'late'"),
        ({"labels": {}, "taxonomy": "TRAIL"}, "no built-in taxonomy 'TRAIL'"),
        ({"labels": {}, "annotator_kind": "robot"}, "annotator_kind 'robot'"),
        ({"labels": {"1.3": {"present": "perhaps"}}}, "label value 'perhaps'"),
    ],
)
def test_bad_rows_say_which_field(row: dict[str, object], message: str) -> None:
    with pytest.raises(LabelError, match=message.replace("[", r"\[")):
        annotation_from_row("t", row, annotator="alice")


def test_step_rows_round_trip_through_import_and_parquet(store: Store, tmp_path: Path) -> None:
    ingest([OPENAI / "conversation.jsonl"], store)
    repetition = {"present": True, "evidence": [{"step": 1}], "agent": "assistant"}
    row = {"trace_id": "conv-1", "annotator": "alice", "decisive_step": 1, "decisive_agent": "assistant",
           "labels": {"FM-1.3": repetition, "FM-3.1": 0}}  # fmt: skip
    path = tmp_path / "labels.jsonl"
    path.write_bytes(orjson.dumps(row) + b"\n")
    report = import_labels(path, store, kind="human")
    assert (report.imported, report.errors, report.warnings) == (1, [], [])
    (stored,) = store.get_annotations(annotator="alice")
    assert (stored.annotator_kind, stored.decisive_step, stored.decisive_agent) == ("human", 1, "assistant")
    assert stored.verdict("FM-1.3").agent == "assistant"  # type: ignore[union-attr]
    store.export_parquet(tmp_path / "export")
    with Store.from_parquet(tmp_path / "export") as copy:
        (again,) = copy.get_annotations(annotator="alice")
    assert again == stored


def test_agentrx_ground_truth_imports_against_its_taxonomy(store: Store) -> None:
    ingest([AGENTRX / "traj-tools.json", AGENTRX / "magentic-run.json"], store)
    report = import_labels(AGENTRX / "ground_truth.json", store)
    assert (report.rows, report.imported, report.missing_ids, report.errors) == (3, 2, ["not-ingested"], [])
    # The Magentic-One run has no id of its own: it is named after its file, "magentic-run", as the label names it.
    assert report.by_file_name == 0 and store.has_trace("magentic-run")
    assert any("failure_id 9 matches no listed failure" in w for w in report.warnings)
    by_trace = {a.trace_id: a for a in store.get_annotations(annotator="agentrx")}
    tau = by_trace["31"]
    assert (tau.taxonomy, len(tau.verdicts), tau.present_modes()) == ("AgentRx", 10, ["ARX-1", "ARX-4"])
    # step_number counts messages from 1; message 2 (0-based) is step 2, message 4 is step 5 (a tool call split
    # message 2 into two steps).
    assert [e.step for e in tau.verdict("ARX-1").evidence] == [2]  # type: ignore[union-attr]
    assert [e.step for e in tau.verdict("ARX-4").evidence] == [5]  # type: ignore[union-attr]
    assert (tau.decisive_step, tau.decisive_agent, tau.decisive_mode) == (5, "Assistant", "ARX-4")
    magentic = next(a for trace_id, a in by_trace.items() if trace_id != "31")
    assert (magentic.decisive_step, magentic.decisive_mode) == (3, "ARX-2")  # root cause id "1" as a string
    assert magentic.verdict("ARX-2").agent == "Websurfer"  # type: ignore[union-attr]
