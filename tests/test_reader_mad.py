"""The MAD reader: fixture goldens, log splitting that keeps every byte, real MAD records, and bad input."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from agentmortem.cli.main import app
from agentmortem.ingest import ingest
from agentmortem.label_formats.embedded import (
    HUMAN_MAJORITY,
    LABEL_WARNINGS_KEY,
    embedded_annotations,
    resolve_mode_name,
)
from agentmortem.model import Step, Trace
from agentmortem.readers import MIN_CONFIDENCE, ReadError, detect_format, read_head, read_traces
from agentmortem.readers.mad import MadReader
from agentmortem.readers.openai_chat import OpenAIChatReader
from agentmortem.store import Store
from conftest import FIXTURES, shared_data
from reader_goldens import check_golden

MAD = FIXTURES / "mad"

# A log record's marker as the test sees it: one line, starting with a bracketed timestamp header, optionally
# followed by "Speaker: " (before a bold ChatDev header). Written independently of the reader's patterns.
MARKER = re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: [A-Z]+)?\] (?:[A-Za-z][A-Za-z ]*: )?")
# MetaGPT's communication log: the header, then "FROM: <sender> " or "NEW MESSAGES:" and "<sender>: ".
MESSAGES_MARKER = re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] (?:FROM: \w+ |NEW MESSAGES:\n\n\w+: )")


def read(path: Path) -> tuple[list[Trace], list[ReadError]]:
    errors: list[ReadError] = []
    return list(MadReader().read(path, errors)), errors


def assert_covers(steps: list[Step], text: str, marker: re.Pattern[str] = MARKER) -> None:
    """The steps' contents, in order, are the whole text apart from record markers (each a full MARKER match)."""
    position = 0
    for step in steps:
        found = text.find(step.content, position)
        assert found >= 0, f"step {step.index} content not found after offset {position}"
        gap = text[position:found]
        assert gap == "" or marker.fullmatch(gap), f"unexpected text before step {step.index}: {gap[:80]!r}"
        position = found + len(step.content)
    assert position == len(text)


@pytest.mark.parametrize("name", ["chatdev_record.json", "human_records.json"])
def test_fixture_matches_golden(name: str) -> None:
    traces, errors = read(MAD / name)
    assert errors == []
    check_golden(MAD / name, traces)


def test_chatdev_fixture_turns_agents_and_kinds() -> None:
    (trace,), _ = read(MAD / "chatdev_record.json")
    assert trace.id == "mad/ChatDev_ProgramDev_GPT4o/3"
    assert (trace.model, trace.agent_system, trace.benchmark) == ("GPT-4o", "ChatDev", "ProgramDev")
    assert trace.task == "build a tiny to-do list app"
    assert [(s.kind, s.agent) for s in trace.steps] == [
        ("event", None), ("event", None), ("system", "System"), ("message", "Chief Product Officer"),
        ("message", "Chief Executive Officer"), ("event", None), ("event", None), ("message", "Programmer"),
    ]  # fmt: skip
    assert trace.steps[0].timestamp == datetime(2025, 4, 2, 10, 0, 0)  # ChatDev writes year-day-month
    raw = orjson.loads((MAD / "chatdev_record.json").read_bytes())
    assert_covers(trace.steps, raw["trace"]["trajectory"])


def test_human_fixture_styles() -> None:
    traces, _ = read(MAD / "human_records.json")
    assert [t.id for t in traces] == [
        "mad-human/AG2_GSM-Plus/11",
        "mad-human/MetaGPT_MMLU/12",
        "mad-human/MetaGPT_ProgramDev/13",
    ]
    ag2, messages, loguru = traces
    assert [s.agent for s in ag2.steps] == ["mathproxyagent", "assistant"]
    assert ag2.outcome.success is False and ag2.task.startswith("A shop sells pens")
    assert "note" not in " ".join(s.content for s in ag2.steps)  # annotator notes stay out of step content
    assert [(s.kind, s.agent) for s in messages.steps] == [
        ("event", None), ("message", "Human"), ("message", "SimpleCoder"), ("message", "SimpleReviewer"),
    ]  # fmt: skip
    raw = orjson.loads((MAD / "human_records.json").read_bytes())
    assert_covers(messages.steps, raw[1]["trace"], MESSAGES_MARKER)
    assert [s.agent for s in loguru.steps] == ["SimpleCoder", "SimpleTester"]
    assert loguru.task == "write a palindrome checker"


def test_sniff_claims_mad_and_not_chat() -> None:
    for name in ["chatdev_record.json", "human_records.json"]:
        path = MAD / name
        assert MadReader().sniff(path, read_head(path)) >= 0.9
        assert OpenAIChatReader().sniff(path, read_head(path)) < MIN_CONFIDENCE
        assert detect_format(path, [MadReader(), OpenAIChatReader()]).name == "mad"


# -- real MAD records ---------------------------------------------------------------------------------------

CHATDEV_ROLES = {
    "Chief Executive Officer", "Chief Product Officer", "Chief Technology Officer", "Programmer", "Code Reviewer",
    "Counselor",
}  # fmt: skip


@pytest.mark.parametrize("name", ["trace_0_ChatDev.json", "trace_1_ChatDev.json"])
def test_real_chatdev_record(name: str) -> None:
    path = shared_data("mad-original", name)
    raw = orjson.loads(path.read_bytes())
    assert MadReader().sniff(path, read_head(path)) >= 0.9
    assert OpenAIChatReader().sniff(path, read_head(path)) < MIN_CONFIDENCE
    (trace,), errors = read(path)
    assert errors == []
    assert trace.id == f"mad/{raw['trace']['key']}/{raw['trace_id']}"
    assert (trace.model, trace.agent_system, trace.benchmark) == ("GPT-4o", "ChatDev", "ProgramDev")
    text = raw["trace"]["trajectory"]
    assert_covers(trace.steps, text)
    speakers = re.findall(r"^\[[^\]\n]+\] ([A-Z][A-Za-z ]+): \*\*", text, re.M)
    assert [s.agent for s in trace.steps if s.agent] == speakers
    assert {s.agent for s in trace.steps if s.kind == "message"} == CHATDEV_ROLES
    (labels,) = embedded_annotations(trace)
    assert labels.annotator == "mad-o1" and len(labels.verdicts) == 14
    assert labels.present_modes() == [f"FM-{code}" for code, value in raw["mast_annotation"].items() if value]


def test_real_human_sample() -> None:
    path = shared_data("mad-original", "human_sample.json")
    raw = orjson.loads(path.read_bytes())
    traces, errors = read(path)
    assert errors == []
    assert [(t.agent_system, t.benchmark) for t in traces] == [(r["mas_name"], r["benchmark_name"]) for r in raw]
    assert all(t.model is None for t in traces)  # the human-labelled records do not name the LLM
    assert all(len(t.steps) >= 4 for t in traces)
    for trace, record in zip(traces, raw, strict=True):
        annotators = sorted(k for k in record["annotations"][0] if k.startswith("annotator"))
        expected = [f"human-{k}" for k in annotators] + [HUMAN_MAJORITY]
        assert [a.annotator for a in embedded_annotations(trace)] == expected
    assert_covers(traces[3].steps, raw[3]["trace"], MESSAGES_MARKER)
    # The last record uses the final taxonomy, so its codes are final-paper ids: every entry maps.
    final = embedded_annotations(traces[3])
    assert traces[3].metadata[LABEL_WARNINGS_KEY] == []
    for annotation in final[:-1]:  # the annotators; the last is their majority
        column = annotation.annotator.removeprefix("human-")
        expected = [f"FM-{e['failure mode'].split()[0]}" for e in raw[3]["annotations"] if e[column]]
        assert annotation.present_modes() == expected and len(annotation.verdicts) == 14
    # Round 1 MetaGPT: a draft taxonomy with other codes; its names map to today's modes through the taxonomy's
    # former names (2.2 Step repetition -> FM-1.3, 4.2 Lack of result verification -> FM-3.3, ...); the four draft
    # modes the final taxonomy dropped are reported, and "Waiting for known information" was marked by everyone.
    round1 = embedded_annotations(traces[2])[0]
    assert round1.present_modes() == ["FM-1.2", "FM-1.3", "FM-1.5", "FM-2.1", "FM-2.3", "FM-2.6", "FM-3.2", "FM-3.3"]
    warnings = traces[2].metadata[LABEL_WARNINGS_KEY]
    assert len(warnings) == 4 and all("earlier MAST draft that the final taxonomy dropped" in w for w in warnings)
    assert any("'2.1 Unbatched repetitive execution'" in w for w in warnings)


def test_every_human_sample_label_maps_or_is_warned() -> None:
    """Issue 10: every label name of the MAD human sample maps to a MAST mode, or the reader warns about it."""
    path = shared_data("mad-original", "human_sample.json")
    raw = orjson.loads(path.read_bytes())
    traces, _ = read(path)
    names = 0
    for trace, record in zip(traces, raw, strict=True):
        warnings = trace.metadata[LABEL_WARNINGS_KEY]
        for entry in record["annotations"]:
            heading = entry["failure mode"].strip().splitlines()[0].strip()
            warned = [w for w in warnings if repr(heading) in w]
            assert (resolve_mode_name(heading) is None) == bool(warned), heading
            names += 1
        assert len(warnings) == sum(resolve_mode_name(e["failure mode"]) is None for e in record["annotations"])
    assert names == 67


def test_human_majority_follows_the_annotators() -> None:
    traces, _ = read(MAD / "human_records.json")
    by_name = {a.annotator: a for a in embedded_annotations(traces[1])}  # Final round, two annotators
    majority = by_name[HUMAN_MAJORITY]
    assert majority.annotator_kind == "human"
    # 3.2 both present -> present; 1.3 and 2.4 split one to one -> unknown (left out).
    assert [(v.mode_id, v.present) for v in majority.verdicts] == [("FM-3.2", True)]


def test_real_mad_original_ingest(store: Store) -> None:
    folder = shared_data("mad-original")
    report = ingest([folder], store, format="mad")
    assert (report.read, report.errors) == (6, [])
    summaries = {s.id: s for s in store.list_traces()}
    assert summaries["mad/ChatDev_ProgramDev_GPT4o/5"].model == "GPT-4o"
    assert summaries["mad/ChatDev_ProgramDev_GPT4o/5"].annotators == ("mad-o1",)
    expected = tuple(f"human-annotator_{i}" for i in (1, 2, 3)) + (HUMAN_MAJORITY,)
    assert summaries["mad-human/MetaGPT_MMLU/16"].annotators == expected


# -- bad input ----------------------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(b"  \n")
    errors: list[ReadError] = []
    assert list(read_traces([path], errors, format="mad")) == []
    assert [str(e) for e in errors] == [f"{path}: empty file"]


def test_records_of_another_shape_are_reported(tmp_path: Path) -> None:
    good = orjson.loads((MAD / "chatdev_record.json").read_bytes())
    path = tmp_path / "mixed.json"
    path.write_bytes(orjson.dumps([good, {"mas_name": "X"}, 7]))
    traces, errors = read(path)
    assert len(traces) == 1
    assert [str(e) for e in errors] == [
        f"{path}: item 1: not a MAD record (no 'mas_name' and 'trace')",
        f"{path}: item 2: not a MAD record (no 'mas_name' and 'trace')",
    ]


def test_jsonl_with_truncated_last_line_and_bad_bytes(tmp_path: Path) -> None:
    good = orjson.dumps(orjson.loads((MAD / "chatdev_record.json").read_bytes()))
    latin1 = good.replace(b"Agreed.", b"Agr\xe9ed.")
    path = tmp_path / "records.jsonl"
    path.write_bytes(latin1 + b"\n" + good[: len(good) // 2])
    traces, errors = read(path)
    assert len(traces) == 1 and "Agr\ufffded." in traces[0].steps[4].content
    assert [(e.line, e.reason) for e in errors] == [(2, "invalid JSON (truncated or malformed line)")]


def test_ingest_warns_about_every_label_it_cannot_map(runner: CliRunner, db_path: str) -> None:
    result = runner.invoke(app, ["--db", db_path, "ingest", str(MAD / "human_records.json")])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: mad-human/AG2_GSM-Plus/11: failure mode '3.4 Waiting for known information' is a mode of an "
        "earlier MAST draft that the final taxonomy dropped; its labels are left out"
    ]
