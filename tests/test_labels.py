"""External labels: value and key resolution, human-record names, label files, and `import-labels`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from agentmortem.cli import labels_cmd  # noqa: F401  (registers import-labels)
from agentmortem.cli.app import app
from agentmortem.ingest import ingest
from agentmortem.label_formats.embedded import resolve_mode_name
from agentmortem.label_formats.rows import LabelError, label_value, verdicts_from_labels
from agentmortem.labels import import_labels
from agentmortem.store import Store
from conftest import FIXTURES, shared_data

LABELS = FIXTURES / "labels"
CHAT = FIXTURES / "openai"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(1, True), (0, False), (True, True), (False, False), ("yes", True), ("No", False), ("1", True), (None, None)],
)
def test_label_value(raw: object, expected: bool | None) -> None:
    assert label_value(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", 2, 0.5, [1]])
def test_unreadable_label_value(raw: object) -> None:
    with pytest.raises(LabelError):
        label_value(raw)


def test_keys_in_every_spelling_and_null_as_unknown() -> None:
    labels = {"1.3": 1, "FM-2.6": 0, "Premature Termination": True, "3.2": None, "9.9": 1, "fm 1.1": "no"}
    verdicts, unmapped = verdicts_from_labels(labels)
    assert [(v.mode_id, v.present) for v in verdicts] == [
        ("FM-1.1", False), ("FM-1.3", True), ("FM-2.6", False), ("FM-3.1", True),
    ]  # fmt: skip
    assert unmapped == ["9.9"]


def test_legacy_numbering_swaps_3_2_and_3_3() -> None:
    labels = {"3.2": 1, "3.3": 0}
    paper, _ = verdicts_from_labels(labels)
    legacy, _ = verdicts_from_labels(labels, numbering="legacy")
    assert [(v.mode_id, v.present) for v in paper] == [("FM-3.2", True), ("FM-3.3", False)]
    assert [(v.mode_id, v.present) for v in legacy] == [("FM-3.2", False), ("FM-3.3", True)]


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("2.2 Step repetition\n\nUnnecessary reiteration…", "FM-1.3"),  # the code (2.2) must not decide
        ("2.6 Disobey role specification", "FM-1.2"),
        ("1.5 Unaware of stopping conditions", "FM-1.5"),
        ("2.4 Information Witholding", "FM-2.4"),  # misspelt in the source data
        ("4.2 Lack of result verification", "FM-3.3"),  # a draft's name: mast.yaml former_names
        ("3.2 Lack of critical verification", "FM-3.2"),
        ("2.5 Derailment from task", "FM-2.3"),
        ("1.4 Fail to elicit clarification", "FM-2.2"),
        ("2.1 Unbatched repetitive execution", None),  # a draft's mode the final taxonomy dropped
        ("", None),
    ],
)
def test_human_headings_resolve_by_name(heading: str, expected: str | None) -> None:
    assert resolve_mode_name(heading) == expected


# -- label files --------------------------------------------------------------------------------------------


def ingest_chat_fixtures(store: Store) -> None:
    report = ingest(
        [CHAT / "conversation.jsonl", CHAT / "who_when.json", CHAT / "tau_results.json"], store, format="openai"
    )
    assert report.errors == []


def test_import_rows_reports_bad_rows_missing_traces_and_unmapped_keys(store: Store) -> None:
    ingest_chat_fixtures(store)
    path = LABELS / "rows.jsonl"
    report = import_labels(path, store)
    assert report.rows == 7
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "no 'annotator' in the row and none given (--annotator)"),
        (4, "label value 'maybe' is not 0/1, true/false or null"),
        (6, "expected a JSON object, got list"),
        (7, "invalid JSON (truncated or malformed line)"),
    ]
    assert (report.missing, report.missing_ids) == (1, ["no-such-trace"])
    assert report.warnings == [f"{path}:2: label '9.9' names no MAST mode; ignored"]
    assert report.imported == 2 and not report.ok
    first, second = store.get_annotations(annotator="reviewer-a")
    assert (first.trace_id, first.annotator_kind) == ("conv-1", "imported")
    assert [(v.mode_id, v.present) for v in first.verdicts] == [
        ("FM-1.3", True), ("FM-2.6", False), ("FM-3.1", True), ("FM-3.3", True),
    ]  # fmt: skip
    assert (second.trace_id, [(v.mode_id, v.present) for v in second.verdicts]) == ("conv-1~2", [("FM-1.1", False)])


def test_cli_import_clean_file_with_legacy_numbering(store: Store, db_path: str, runner: CliRunner) -> None:
    with Store(db_path) as cli_store:
        ingest_chat_fixtures(cli_store)
    result = runner.invoke(
        app, ["--db", db_path, "import-labels", str(LABELS / "clean.jsonl"), "--numbering", "legacy"]
    )
    assert result.exit_code == 0, result.output
    assert "2 annotations imported, 0 traces missing, 0 errors" in result.output
    with Store(db_path, read_only=True) as cli_store:
        conv = cli_store.get_annotations(annotator="reviewer-b", trace_ids=["conv-1"])[0]
    assert [(v.mode_id, v.present) for v in conv.verdicts] == [("FM-1.3", True), ("FM-3.2", False), ("FM-3.3", True)]


def test_cli_exit_code_and_messages_on_failures(db_path: str, runner: CliRunner) -> None:
    with Store(db_path) as cli_store:
        ingest_chat_fixtures(cli_store)
    result = runner.invoke(
        app, ["--db", db_path, "import-labels", str(LABELS / "rows.jsonl"), "--annotator", "me", "--json"]
    )
    assert result.exit_code == 1
    summary = orjson.loads(result.stdout)
    assert (summary["rows"], summary["imported"], summary["missing"]) == (7, 3, 1)
    assert len(summary["errors"]) == 3  # the annotator error is gone now that --annotator names one
    assert "1 traces are not in the store (ingest them first): no-such-trace" in result.stderr
    assert f"{LABELS / 'rows.jsonl'}:4: label value 'maybe'" in result.stderr


def test_cli_rejects_unknown_numbering(db_path: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["--db", db_path, "import-labels", str(LABELS / "clean.jsonl"), "--numbering", "new"])
    assert result.exit_code == 2


# -- real data ----------------------------------------------------------------------------------------------


def test_real_mad_labels_match_raw_counts(store: Store) -> None:
    traces = [shared_data("mad-openai", "ag2_gpt4o.jsonl"), shared_data("mad-openai", "metagpt_gpt4o.jsonl")]
    labels = shared_data("mad-openai", "labels.jsonl")
    ingest(traces, store, format="openai")
    report = import_labels(labels, store)
    assert report.ok and (report.rows, report.imported) == (534, 534)
    expected: Counter[str] = Counter()
    for line in labels.read_bytes().splitlines():
        expected.update(f"FM-{code}" for code, value in orjson.loads(line)["labels"].items() if value == 1)
    stored = store.get_annotations(annotator="mad-o1")
    assert len(stored) == 534 and {a.annotator_kind for a in stored} == {"imported"}
    assert Counter(mode for a in stored for mode in a.present_modes()) == expected
    assert all(len(a.verdicts) == 14 for a in stored)


def test_real_human_sample_through_import_labels(store: Store) -> None:
    path = shared_data("mad-original", "human_sample.json")
    ingest([path], store, format="mad")
    report = import_labels(path, store)
    # 4 records x (3 annotators + their majority)
    assert (report.rows, report.imported, report.missing, report.errors) == (4, 16, 0, [])
    assert any("'1.3 Undetected conversation ambiguities and contradictions' is a mode of an earlier" in w
               for w in report.warnings)  # fmt: skip
    assert not any("Poor task constraint compliance" in w for w in report.warnings)  # a former name of FM-1.1
    kinds = {(a.annotator, a.annotator_kind) for a in store.get_annotations()}
    assert kinds == {(f"human-annotator_{i}", "human") for i in (1, 2, 3)} | {("human-majority", "human")}


def test_import_labels_into_empty_store_counts_missing(store: Store, tmp_path: Path) -> None:
    report = import_labels(LABELS / "clean.jsonl", store)
    assert (report.imported, report.missing, report.missing_ids) == (0, 2, ["conv-1", "who_when"])
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert [str(e) for e in import_labels(empty, store).errors] == [f"{empty}: empty file"]
