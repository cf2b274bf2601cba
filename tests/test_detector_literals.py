"""The detectors' literal prefilters: derived soundly, and never hiding a match of the regex they guard."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentmortem.judges.detectors import DetectorConfig, itbench_preset
from agentmortem.judges.detectors.view import TraceView, compile_all
from agentmortem.judges.literals import _CASE_TRAPS, _CASE_TWINS, guard_for, required_literals
from agentmortem.model import Trace
from agentmortem.readers import ReadError, read_traces
from conftest import shared_data

FIXTURES = Path(__file__).parent / "fixtures"


def _pattern_groups() -> list[list[str]]:
    """Every list of patterns the detectors search as one alternation, with the built-in settings."""
    c = DetectorConfig()
    return [
        c.termination.limit_patterns, c.termination.stop_patterns, c.termination.done_patterns,
        c.premature.nudge_patterns + itbench_preset().nudge_patterns, c.reset.reset_patterns,
        c.history.compaction_patterns, c.verification.change_patterns, c.verification.check_patterns,
        c.derailment.meta_patterns, c.error_markers,
    ]  # fmt: skip


def test_required_literals_of_simple_shapes() -> None:
    assert required_literals(r"\bTERMINATE\b") == {("TERMINATE", False)}
    assert required_literals(r"(?i)\bplease stop\b") == {("please stop", True)}
    assert required_literals(r"(?i)\b(?:Timed out|time limit)\b") == {("timed out", True), ("time limit", True)}
    assert required_literals(r"(?i:ABC)") == {("abc", True)}
    assert required_literals(r"(?i)x(?-i:YZ)") == {("YZ", False)}


def test_small_classes_and_literal_alternatives_are_multiplied_out() -> None:
    github = {("ghp_", False), ("gho_", False), ("github_pat_", False)}
    assert required_literals(r"\bgh[po]_\w+|github_pat_\w+") == github
    stripe = {(f"{a}k_{b}_", False) for a in "rs" for b in ("live", "test")}
    assert required_literals(r"[rs]k_(?:live|test)_\d") == stripe
    assert required_literals(r"api[_-]?key") == {("api_key", False), ("api-key", False), ("apikey", False)}
    assert required_literals(r"(?i)[ab]c") == {("ac", True), ("bc", True)}
    assert required_literals(r"[abc]+") == {("a", False), ("b", False), ("c", False)}
    assert required_literals(r"x(?:a|)y") == {("xay", False), ("xy", False)}


def test_no_literal_when_a_part_is_optional_or_unknown() -> None:
    assert required_literals(r"(?:abc)?\d+") is None
    assert required_literals(r"a|\w+") is None
    assert required_literals(r"[a-c]+") is None
    assert required_literals(r"(?:a|)+") is None  # one alternative matches nothing
    assert required_literals(r"(unbalanced") is None
    assert guard_for((r"\bkubectl\b", r"\d+")) is None  # one pattern without a literal disables the guard


def test_case_traps_are_every_ascii_letter_with_a_non_ascii_case_twin() -> None:
    # What `Guard` relies on: only these letters match non-ASCII text case-insensitively, and only these twins, so
    # a literal can be looked for in `text.lower()` unless it has such a letter and the text such a twin.
    everything = "".join(chr(i) for i in range(0x110000) if not 0xD800 <= i < 0xE000)
    others = {c: set(re.findall(f"(?i){c}", everything)) - {c, c.upper()} for c in string.ascii_lowercase}
    assert {c for c, twins in others.items() if twins} == set(_CASE_TRAPS)
    assert set().union(*others.values()) == set(_CASE_TWINS)


@pytest.mark.parametrize(
    "text",
    [
        "MAX STEPS reached", "Turn limit hit", "the session was RESET", "please resume the task",
        "TAS\u212a DONE", "TA\u017fK COMPLETE", "task is done \u00e9t\u00e9", "Error: boom", "x --version",
    ],
)  # fmt: skip
def test_guards_admit_tricky_texts_their_regex_matches(text: str) -> None:
    assert any(compile_all(group)[0].regex.search(text) for group in _pattern_groups())
    assert _hidden_matches([text]) == []


def test_guards_reject_texts_without_their_literals() -> None:
    guard = compile_all(DetectorConfig().termination.stop_patterns)[0].guard
    assert guard is not None
    assert not guard.admits("all good, nothing to see")
    assert guard.admits("PLEASE STOP")


def test_guards_never_hide_a_match_in_fixture_traces() -> None:
    errors: list[ReadError] = []
    traces = list(read_traces(sorted(p for p in FIXTURES.rglob("*") if p.is_file()), errors))
    assert traces
    assert _hidden_matches(_texts(traces)) == []


def test_guards_never_hide_a_match_in_real_traces() -> None:
    errors: list[ReadError] = []
    sources = [
        (shared_data("mad-openai", "ag2_gpt4o.jsonl"), "openai"),
        (shared_data("mad-openai", "metagpt_gpt4o.jsonl"), "openai"),
        (shared_data("itbench", "agent_outputs"), "codex"),
    ]
    traces = [t for source, fmt in sources for t in read_traces([source], errors, format=fmt)]
    assert len(traces) > 500
    assert _hidden_matches(_texts(traces)) == []


def _texts(traces: list[Trace]) -> Iterator[str]:
    config = DetectorConfig()
    for trace in traces:
        view = TraceView(trace, config)
        for step in trace.steps:
            yield step.content
            yield step.content[:2000]
            if step.kind == "tool_call":
                yield view.command(step)


def _hidden_matches(texts: Iterator[str] | list[str]) -> list[tuple[int, str]]:
    """(group, text) pairs where the guarded regex matches but the guard said it could not."""
    guarded = [compile_all(group)[0] for group in _pattern_groups()]
    return [
        (i, text[:80])
        for text in texts
        for i, pattern in enumerate(guarded)
        if pattern.regex.search(text) is not None and not (pattern.guard is None or pattern.guard.admits(text))
    ]
