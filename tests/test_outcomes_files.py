"""Generic outcome files (CSV and JSONL): good rows kept, bad rows reported with their line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentmortem.outcomes import load_outcomes_file
from agentmortem.outcomes.files import parse_score, parse_success
from agentmortem.readers import ReadError
from conftest import FIXTURES

OUTCOMES = FIXTURES / "outcomes"


def test_csv_rows_good_and_bad() -> None:
    errors: list[ReadError] = []
    outcomes = load_outcomes_file(OUTCOMES / "outcomes.csv", errors=errors)
    got = {tid: (o.success, o.score) for tid, o in outcomes.items()}
    assert got == {
        "run-a": (True, 0.9), "run-b": (False, None), "run-c": (None, 0.25), "run-d": (True, 1.0),
        "run-h": (True, 0.75),
    }  # fmt: skip
    assert outcomes["run-a"].metrics == {"steps_budget": 40.0}
    assert outcomes["run-a"].source == f"file:{OUTCOMES / 'outcomes.csv'}"
    assert [e.line for e in errors] == [6, 7, 8, 9, 10]
    reasons = [e.reason for e in errors]
    assert reasons[0] == "success 'maybe' is not true/false/1/0/yes/no"
    assert reasons[1] == "trace 'run-f' has neither success nor score"
    assert reasons[2] == "score 'abc' is not a finite number"
    assert reasons[3] == "trace_id 'run-a' repeated (first on line 2)"
    assert reasons[4] == "missing trace_id"
    assert str(errors[0]) == f"{OUTCOMES / 'outcomes.csv'}:6: success 'maybe' is not true/false/1/0/yes/no"


def test_jsonl_rows_good_and_bad() -> None:
    errors: list[ReadError] = []
    outcomes = load_outcomes_file(OUTCOMES / "outcomes.jsonl", errors=errors)
    got = {tid: (o.success, o.score) for tid, o in outcomes.items()}
    assert got == {"run-a": (True, 0.9), "run-b": (False, None), "run-c": (None, 0.25), "run-d": (True, None)}
    assert outcomes["run-c"].metrics == {"cost_usd": 0.04}
    assert [e.line for e in errors] == [6, 7, 8, 9]
    assert errors[1].reason == "row is not a JSON object"
    assert errors[2].reason.startswith("invalid JSON")


def test_without_an_error_list_the_first_bad_row_raises() -> None:
    with pytest.raises(ReadError, match=r"outcomes.csv:6: success 'maybe'"):
        load_outcomes_file(OUTCOMES / "outcomes.csv")


def test_whole_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="cannot read outcomes file"):
        load_outcomes_file(tmp_path / "absent.csv", errors=[])
    headerless = tmp_path / "no_header.csv"
    headerless.write_text("run-a,true,0.9\n")
    with pytest.raises(ReadError, match="needs a header with trace_id"):
        load_outcomes_file(headerless, errors=[])
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"trace_id,success\nr\xe9,true\n")
    with pytest.raises(ReadError, match="not UTF-8"):
        load_outcomes_file(latin, errors=[])


def test_format_follows_content_when_suffix_says_nothing(tmp_path: Path) -> None:
    lines = tmp_path / "outcomes.txt"
    lines.write_text('{"trace_id": "x", "success": false}\n')
    table = tmp_path / "outcomes.dat"
    table.write_text("TRACE_ID,Score\ny,0.4\n")
    assert load_outcomes_file(lines, errors=[])["x"].success is False
    assert load_outcomes_file(table, errors=[])["y"].score == 0.4


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("FALSE", False), ("1", True), ("0", False), ("Yes", True), ("no", False), ("", None),
     (None, None), (True, True), (0, False)],
)  # fmt: skip
def test_parse_success(value: object, expected: bool | None) -> None:
    assert parse_success(value) is expected


@pytest.mark.parametrize("value", ["nan", "inf", "high", [1]])
def test_parse_score_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_score(value)
