"""Trace identity at ingest: no trace lost, every trace read accounted for, on every path into the store.

The two-folder layout is Who&When's (github.com/ag2ai/Agents_Failure_Attribution: `Algorithm-Generated/<n>.json`
and `Hand-Crafted/<n>.json`, each an object with a `history` message list and the mistake labels), built here small.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from agentmortem.cli.main import app
from agentmortem.identity import TraceIds
from agentmortem.ingest import IngestReport, ingest
from agentmortem.model import Annotation, ModeVerdict, Trace, make_steps
from agentmortem.readers import read_traces
from agentmortem.readers.openai_chat import OpenAIChatReader
from agentmortem.store import Store
from conftest import FIXTURES, shared_data

FOLDERS = {"Algorithm-Generated": 4, "Hand-Crafted": 3}


def _history(folder: str, number: int) -> list[dict[str, Any]]:
    return [
        {"role": "user", "name": "human", "content": f"{folder} question {number}"},
        {"role": "assistant", "name": "Orchestrator", "content": f"plan for {folder} {number}"},
        {"role": "assistant", "name": "WebSurfer", "content": "I could not find it."},
    ]


def who_and_when(root: Path, *, own_id: str | None = None) -> Path:
    """A Who&When-like tree: each folder holds 1.json … N.json; `own_id` gives every record that id."""
    for folder, count in FOLDERS.items():
        (root / folder).mkdir(parents=True)
        for number in range(1, count + 1):
            record: dict[str, Any] = {
                "is_correct": False, "question": f"q{number}", "history": _history(folder, number),
                "mistake_agent": "WebSurfer", "mistake_step": "2", "mistake_reason": "gave up",
            }  # fmt: skip
            if own_id is not None:
                record["task_id"] = own_id if number == 1 else f"{own_id}-{number}"
            (root / folder / f"{number}.json").write_text(json.dumps(record))
    return root


def check_accounted(report: IngestReport, *, errors: int = 0) -> None:
    assert len(report.errors) == errors, report.errors
    assert report.read == report.added + report.replaced + report.unchanged + len(report.duplicates)
    assert report.accounted


def _ingest(store: Store, *paths: Path, errors: int = 0, **options: Any) -> IngestReport:
    report = ingest(list(paths), store, **options)
    check_accounted(report, errors=errors)
    return report


# --- the two-folder layout -------------------------------------------------------------------------------------


def test_two_folders_with_equal_file_names_store_every_trace(tmp_path: Path, store: Store) -> None:
    root = who_and_when(tmp_path / "Who&When")
    report = _ingest(store, root)
    total = sum(FOLDERS.values())
    assert (report.read, report.added, report.collisions) == (total, total, [])
    expected = sorted(f"{folder}/{n}" for folder, count in FOLDERS.items() for n in range(1, count + 1))
    assert store.trace_ids() == expected
    hand = store.get_trace("Hand-Crafted/1")
    assert hand is not None and hand.steps[0].content == "Hand-Crafted question 1"


def test_reingesting_the_same_input_changes_nothing(tmp_path: Path, store: Store) -> None:
    root = who_and_when(tmp_path / "Who&When")
    first = _ingest(store, root)
    ids = store.trace_ids()
    again = _ingest(store, root)
    assert (again.read, again.unchanged, again.added, again.replaced) == (first.read, first.read, 0, 0)
    assert store.trace_ids() == ids


def test_two_folders_whose_records_claim_one_id_keep_both_and_warn(
    tmp_path: Path, db_path: str, runner: CliRunner
) -> None:
    root = who_and_when(tmp_path / "Who&When", own_id="task-7")
    result = runner.invoke(app, ["--db", db_path, "ingest", str(root)])
    assert result.exit_code == 0, result.output
    total = sum(FOLDERS.values())
    assert f"read {total} traces" in result.stdout and f"{total} added" in result.stdout
    assert "0 duplicates" in result.stdout and "stored under suffixed ids" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 3  # task-7, task-7-2, task-7-3 are each in both folders
    first = str(root / "Algorithm-Generated" / "1.json")
    second = str(root / "Hand-Crafted" / "1.json")
    assert any(first in line and second in line and "'task-7~2'" in line for line in warnings)
    with Store(db_path, read_only=True) as store:
        assert store.count_traces() == total
        kept = store.get_trace("task-7~2")
        assert kept is not None and kept.steps[0].content == "Hand-Crafted question 1"


def test_the_summary_line_of_analyze_says_all_of_it(tmp_path: Path, db_path: str, runner: CliRunner) -> None:
    root = who_and_when(tmp_path / "Who&When", own_id="task-7")
    result = runner.invoke(app, ["--db", db_path, "analyze", str(root), "--quiet"])
    assert result.exit_code == 0, result.output
    total = sum(FOLDERS.values())
    summary = next(line for line in result.stderr.splitlines() if line.startswith("read "))
    assert f"read {total} traces" in summary and f"{total} added, 0 replaced, 0 unchanged, 0 duplicates" in summary
    assert "3 stored under suffixed ids" in summary and f"annotated {total}" in summary


# --- every other path into the store ------------------------------------------------------------------------------


def test_single_file_and_the_same_file_given_again(tmp_path: Path, store: Store) -> None:
    root = who_and_when(tmp_path / "ww")
    one = root / "Hand-Crafted" / "2.json"
    report = _ingest(store, one)
    assert (report.read, report.added, store.trace_ids()) == (1, 1, ["2"])  # a file given alone: its stem
    twice = _ingest(store, one, one)
    assert (twice.read, twice.unchanged, len(twice.duplicates)) == (2, 1, 1)
    assert "read twice" in str(twice.duplicates[0])


def test_a_file_given_beside_its_folder_is_one_trace(tmp_path: Path, store: Store) -> None:
    root = who_and_when(tmp_path / "ww")
    report = _ingest(store, root, root / "Hand-Crafted" / "1.json", root / "Hand-Crafted")
    assert len(report.duplicates) == FOLDERS["Hand-Crafted"] + 1
    assert store.count_traces() == sum(FOLDERS.values())


def test_jsonl_with_repeated_ids_keeps_every_record(tmp_path: Path, store: Store, db_path: str) -> None:
    path = tmp_path / "runs.jsonl"
    rows = [("x", "one"), ("y", "two"), ("x", "three"), ("x", "four"), ("x", "one")]  # the last repeats line 1
    path.write_text("\n".join(json.dumps({"id": i, "messages": [{"role": "user", "content": c}]}) for i, c in rows))
    report = _ingest(store, path)
    assert (report.read, report.added, len(report.duplicates), len(report.collisions)) == (5, 4, 1, 2)
    assert store.trace_ids() == ["x", "x~2", "x~3", "y"]
    assert [str(c) for c in report.collisions] == [
        f"trace id 'x' is claimed by two different traces, {path}:1 and {path}:3; both are kept, the second as 'x~2'",
        f"trace id 'x' is claimed by two different traces, {path}:1 and {path}:4; both are kept, the second as 'x~3'",
    ]
    assert str(report.duplicates[0]) == f"{path}:5: the same trace as {path}:1 (id 'x', same steps); stored once"
    again = _ingest(store, path)
    assert (again.unchanged, again.added, store.trace_ids()) == (4, 0, ["x", "x~2", "x~3", "y"])


@pytest.mark.parametrize(
    ("layout", "run"),
    [("agent_outputs", "agent_outputs/5/1"), ("trajectories", "trajectories/Model-A/sre/Scenario-2/1")],
)
def test_itbench_layouts_are_accounted_for(layout: str, run: str, store: Store) -> None:
    tree = FIXTURES / "codex" / layout
    broken = int(layout == "trajectories")  # that fixture holds one judge_output.json cut short
    report = _ingest(store, tree, format="codex", errors=broken)
    assert report.read == report.added == store.count_traces() > 0
    again = _ingest(store, tree, FIXTURES / "codex" / run, format="codex", errors=broken)  # a run beside its tree
    assert again.duplicates and again.unchanged == report.read


def test_the_real_data_folder_is_accounted_for(store: Store) -> None:
    report = ingest([shared_data()], store)
    check_accounted(report)
    assert report.read == store.count_traces() + len(report.duplicates)
    # MAD-as-chat numbers each benchmark from 0: every repeat is kept, under the ids earlier versions gave it.
    assert len(report.collisions) == 228 and store.has_trace("mad-ag2-gpt4o-0~3")


# --- embedded labels follow the final id ------------------------------------------------------------------------


def test_embedded_labels_follow_a_suffixed_id(tmp_path: Path, store: Store) -> None:
    record = orjson.loads((FIXTURES / "mad" / "chatdev_record.json").read_bytes())
    other = json.loads(json.dumps(record))
    other["trace"]["trajectory"] += "\n[2025-02-04 10:05:00 INFO] one more line of the run"
    other["mast_annotation"] = {key: 1 - value for key, value in record["mast_annotation"].items()}
    for folder, value in (("a", record), ("b", other)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "record.json").write_bytes(orjson.dumps(value))
    report = _ingest(store, tmp_path)
    (collision,) = report.collisions
    base = collision.id
    labels = {a.trace_id: a.present_modes() for a in store.get_annotations(annotator="mad-o1")}
    assert set(labels) == {base, f"{base}~2"}
    assert "FM-1.2" in labels[base] and "FM-1.2" not in labels[f"{base}~2"]
    assert "FM-1.1" in labels[f"{base}~2"] and "FM-1.1" not in labels[base]


# --- ids stored by agentmortem 0.1 -----------------------------------------------------------------------------


def _stored_the_old_way(store: Store, path: Path) -> Trace:
    """What agentmortem 0.1 stored for a one-trace file: the id '<stem>-0', with an annotation."""
    (trace,) = OpenAIChatReader().read(path, [])
    trace.id = f"{path.stem}-0"
    trace.with_fingerprint()
    note = Annotation(
        trace_id=trace.id, annotator="reviewer", annotator_kind="human", taxonomy_version="1",
        verdicts=[ModeVerdict(mode_id="FM-1.3", present=True)],
    )  # fmt: skip
    store.add_traces([trace], annotations=[note])
    return trace


def test_a_trace_stored_under_its_old_id_is_renamed_with_its_annotations(tmp_path: Path, store: Store) -> None:
    root = who_and_when(tmp_path / "Who&When")
    _stored_the_old_way(store, root / "Hand-Crafted" / "1.json")  # Algorithm-Generated/1 also was '1-0'
    report = _ingest(store, root)
    assert report.renamed == [("1-0", "Hand-Crafted/1")]
    assert (report.unchanged, report.added) == (1, sum(FOLDERS.values()) - 1)
    assert not store.has_trace("1-0")
    (annotation,) = store.get_annotations(annotator="reviewer")
    assert annotation.trace_id == "Hand-Crafted/1" and annotation.present_modes() == ["FM-1.3"]


def test_an_old_id_not_ingested_again_stays_readable(tmp_path: Path, store: Store) -> None:
    root = who_and_when(tmp_path / "Who&When")
    old = _stored_the_old_way(store, root / "Hand-Crafted" / "1.json")
    shutil.rmtree(root / "Hand-Crafted")
    report = _ingest(store, root)
    assert report.renamed == []  # Algorithm-Generated/1 had the same old id, but other content
    kept = store.get_trace("1-0")
    assert kept is not None and kept.steps == old.steps


# --- the ledger on its own ------------------------------------------------------------------------------------


def _made(trace_id: str, text: str) -> Trace:
    steps = make_steps([{"kind": "message", "role": "user", "content": text}])
    return Trace(id=trace_id, source_format="text", source_path=f"/{text}.txt", steps=steps)


def test_suffixes_skip_ids_already_taken() -> None:
    ledger = TraceIds()
    claims = [_made("x~2", "a"), _made("x", "b"), _made("x", "c"), _made("x", "d")]
    assert [t.id for t in claims if ledger.settle(t)] == ["x~2", "x", "x~3", "x~4"]
    assert not ledger.settle(_made("x", "c"))  # the same as the trace now stored as x~3
    assert (ledger.duplicates[0].id, len(ledger.collisions)) == ("x~3", 2)


def test_read_traces_alone_gives_unique_ids() -> None:
    ids = [t.id for t in read_traces([FIXTURES / "openai" / "conversation.jsonl"] * 2, [])]
    assert ids == ["conv-1", "conversation-1", "conv-1~2"]


def _without_session_id(source: Path, target: Path) -> None:
    rows = [orjson.loads(line) for line in source.read_bytes().splitlines() if line.strip()]
    rows[0]["payload"].pop("id")
    target.write_bytes(b"\n".join(orjson.dumps(row) for row in rows) + b"\n")


@pytest.mark.parametrize(
    ("fixture", "prefix"),
    [
        (FIXTURES / "text" / "colon_transcript.txt", ""),
        (FIXTURES / "claude" / "messages_request.json", ""),  # an Anthropic Messages request carries no id
        (FIXTURES / "codex" / "session_basic.jsonl", "codex/"),  # here with its session id removed
    ],
    ids=lambda value: getattr(value, "name", value),
)
def test_every_reader_names_id_less_traces_by_their_path(fixture: Path, prefix: str, tmp_path: Path) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        target = tmp_path / folder / fixture.name
        if fixture.suffix == ".jsonl":
            _without_session_id(fixture, target)
        else:
            shutil.copy(fixture, target)
    ids = [t.id for t in read_traces([tmp_path], [])]
    assert ids == [f"{prefix}{folder}/{fixture.stem}" for folder in ("one", "two")]
    (alone,) = read_traces([tmp_path / "one" / fixture.name], [])
    assert alone.id == f"{prefix}{fixture.stem}"
