"""On the real MAD traces with their o1 labels, grouped by metadata.mas_name, the report's prevalences equal those
computed here with plain Python from the raw files."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from agentmortem.analysis import build_report
from agentmortem.model import Annotation, ModeVerdict, Trace, make_steps
from agentmortem.report import ReportSettings
from conftest import shared_data

TRACE_FILES = ("ag2_gpt4o.jsonl", "metagpt_gpt4o.jsonl")


def _occurrences(ids: list[str]) -> list[str]:
    # MAD numbers traces per benchmark, so ids repeat; the n-th repeat is the n-th trace of that id: "<id>~<n>".
    seen: dict[str, int] = defaultdict(int)
    out = []
    for trace_id in ids:
        seen[trace_id] += 1
        out.append(trace_id if seen[trace_id] == 1 else f"{trace_id}~{seen[trace_id]}")
    return out


def _raw(folder: Path) -> tuple[list[dict], list[dict]]:
    records = [json.loads(line) for name in TRACE_FILES for line in (folder / name).open() if line.strip()]
    labels = [json.loads(line) for line in (folder / "labels.jsonl").open() if line.strip()]
    for record, unique in zip(records, _occurrences([r["id"] for r in records]), strict=True):
        record["id"] = unique
    for row, unique in zip(labels, _occurrences([r["trace_id"] for r in labels]), strict=True):
        row["trace_id"] = unique
    return records, labels


def _expected(records: list[dict], labels: list[dict]) -> dict[tuple[str, str], float]:
    """Prevalence per (mas_name, mode) straight from the files: labelled 1 over labelled at all."""
    group = {r["id"]: r["metadata"]["mas_name"] for r in records}
    present: dict[tuple[str, str], int] = defaultdict(int)
    known: dict[tuple[str, str], int] = defaultdict(int)
    for row in labels:
        for code, value in row["labels"].items():
            key = (group[row["trace_id"]], "FM-" + code)
            known[key] += 1
            present[key] += int(value)
    return {key: present[key] / known[key] for key in known}


def _observed(store) -> dict[tuple[str, str], float | None]:
    report = build_report(store, annotator="mad-o1", settings=ReportSettings(group_by="metadata.mas_name"))
    assert not report.outcomes_known and any("No outcome is known" in n for n in report.notes)
    assert all(m.verdict == "inconclusive" for g in report.groups for m in g.modes)
    return {(g.group, m.id): m.prevalence for g in report.groups for m in g.modes}


def _store_from_raw(store, records: list[dict], labels: list[dict]) -> None:
    traces = [
        Trace(
            id=r["id"],
            source_format="openai",
            model=r.get("model"),
            metadata=r["metadata"],
            steps=make_steps(
                [
                    {
                        "kind": "message",
                        "role": m.get("role"),
                        "agent": m.get("name"),
                        "content": m.get("content") or "",
                    }
                    for m in r["messages"]
                ]
            ),
        )  # fmt: skip
        for r in records
    ]
    store.add_traces(traces)
    store.put_annotations(
        [
            Annotation(
                trace_id=row["trace_id"],
                annotator=row["annotator"],
                annotator_kind="imported",
                taxonomy_version="1",
                verdicts=[ModeVerdict(mode_id="FM-" + code, present=bool(v)) for code, v in row["labels"].items()],
            )  # fmt: skip
            for row in labels
        ]
    )


def test_prevalences_match_the_raw_labels(store):
    records, labels = _raw(shared_data("mad-openai"))
    _store_from_raw(store, records, labels)
    expected = _expected(records, labels)
    assert len(expected) == 2 * 14
    assert _observed(store) == pytest.approx(expected)


def test_prevalences_match_through_the_reader_and_label_import(store):
    from agentmortem.ingest import ingest
    from agentmortem.labels import import_labels

    folder = shared_data("mad-openai")
    ingested = ingest([folder / name for name in TRACE_FILES], store, format="openai")
    assert ingested.ok and ingested.read == 534
    imported = import_labels(folder / "labels.jsonl", store)
    assert imported.imported == 534
    records, labels = _raw(folder)
    assert _observed(store) == pytest.approx(_expected(records, labels))
