from __future__ import annotations

from pathlib import Path

import pytest

from agentmortem.model import Trace
from agentmortem.readers import ReadError, read_head, read_traces
from agentmortem.readers.text import TextReader, parse_marker
from conftest import FIXTURES
from reader_goldens import check_golden

HERE = FIXTURES / "text"
CASES = ["colon_transcript.txt", "markdown_transcript.md", "bracket_prompt.log"]


def read(path: Path) -> list[Trace]:
    errors: list[ReadError] = []
    traces = list(TextReader().read(path, errors))
    assert errors == []
    return traces


@pytest.mark.parametrize("name", CASES)
def test_fixture_matches_golden(name: str) -> None:
    check_golden(HERE / name, read(HERE / name))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("User: hi", ("colon", "user", None, "hi")),
        ("agent (planner): go", ("colon", "agent", "planner", "go")),
        ("### Assistant", ("heading", "assistant", None, "")),
        ("## Tool (kubectl)", ("heading", "tool", "kubectl", "")),
        ("[agent] hello", ("bracket", "agent", None, "hello")),
        ("[Planner] plan", ("bracket", "agent", "Planner", "plan")),
        ("[tool: search] found", ("bracket", "tool", "search", "found")),
        (">>> tool ls -la", ("prompt", "tool", None, "ls -la")),
        ("[INFO] started", None),
        ("[2025-01-01 10:00] tick", None),
        ("Note: user said hi", None),
        ("  User: indented", None),
        ("# Usage", None),
    ],
)
def test_markers(line: str, expected: tuple[str, str, str | None, str] | None) -> None:
    marker = parse_marker(line)
    assert (marker and (marker.form, marker.word, marker.name, marker.rest)) == expected


def test_speakers_become_roles_and_agents() -> None:
    (trace,) = read(HERE / "colon_transcript.txt")
    assert trace.id == "colon_transcript" and trace.source_format == "text"
    roles = [(s.kind, s.role, s.agent) for s in trace.steps]
    assert roles[0] == ("message", None, None)  # the preamble
    assert roles[1:5] == [
        ("message", "user", None),
        ("message", "assistant", "planner"),
        ("message", "assistant", "investigator"),
        ("tool_result", "tool", None),
    ]
    assert trace.steps[4].tool_name == "prometheus"
    assert trace.steps[5].content.endswith("50/50 connections in use.")  # continuation lines stay in the turn
    assert trace.steps[6].kind == "system"


def test_prompt_tool_invocations_pair_with_their_output() -> None:
    (trace,) = read(HERE / "bracket_prompt.log")
    calls = [s for s in trace.steps if s.kind == "tool_call"]
    assert [(c.tool_name, c.tool_args) for c in calls] == [
        ("kubectl", "get pods -n staging"),
        ("kubectl", "apply -f checkout-1.4.2.yaml"),
    ]
    for call in calls:
        result = trace.steps[call.pair_index]  # type: ignore[index]
        assert result.kind == "tool_result" and result.call_id == call.call_id
    assert trace.steps[calls[1].pair_index].content == "deployment.apps/checkout configured"  # type: ignore[index]
    assert trace.steps[-1].agent == "Executor"


def test_sniff_is_low_and_needs_markers() -> None:
    reader = TextReader()
    for name in CASES:
        assert 0.2 <= reader.sniff(HERE / name, read_head(HERE / name)) <= 0.3
    assert reader.sniff(Path("a.txt"), "just prose\nno speakers\n") == 0.0
    assert reader.sniff(Path("a.json"), '{"role": "user"}\nUser: x\n') == 0.0


def test_unmarked_text_is_an_unknown_format_through_the_registry() -> None:
    errors: list[ReadError] = []
    assert list(read_traces([HERE / "bad" / "no_markers.txt"], errors)) == []
    assert [e.reason for e in errors] == ["no reader recognises this file"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.txt", r"empty\.txt: empty file"),
        ("no_markers.txt", r"no_markers\.txt: no turn markers"),
        ("non_utf8.txt", r"non_utf8\.txt:1: not valid UTF-8 \(byte 0xe9\)"),
        ("wrong.json", r"wrong\.json: no turn markers"),
    ],
)
def test_bad_input_is_one_line_error(name: str, message: str) -> None:
    with pytest.raises(ReadError, match=message) as info:
        read(HERE / "bad" / name)
    assert "\n" not in str(info.value)
