"""Format detection across every reader: each fixture of each format, real data, and small inline samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentmortem.readers import MIN_CONFIDENCE, all_readers, detect_format, format_names, read_head
from conftest import FIXTURES, shared_data

_NOT_CASES = {"golden", "bad", "README.md"}


def fixture_cases() -> list[tuple[str, Path]]:
    """(format, path) for every trace fixture under tests/fixtures/<format>/ (goldens and bad inputs excluded)."""
    cases = []
    for name in format_names():
        folder = FIXTURES / name
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.name in _NOT_CASES or ".golden." in path.name or path.name.startswith("."):
                continue
            cases.append((name, path))
    return cases


CASES = fixture_cases()


def test_every_format_has_fixtures() -> None:
    assert {name for name, _ in CASES} == set(format_names())


@pytest.mark.parametrize(("expected", "path"), CASES, ids=[f"{n}/{p.name}" for n, p in CASES])
def test_fixture_is_detected_as_its_own_format(expected: str, path: Path) -> None:
    assert detect_format(path).name == expected


@pytest.mark.parametrize(
    ("expected", "parts"),
    [
        ("codex", ("itbench", "agent_outputs")),
        ("codex", ("itbench", "agent_outputs", "2", "1", "sessions")),
        ("openai", ("mad-openai", "ag2_gpt4o.jsonl")),
        ("openai", ("mad-openai", "metagpt_gpt4o.jsonl")),
        ("mad", ("mad-original", "trace_0_ChatDev.json")),
        ("mad", ("mad-original", "human_sample.json")),
    ],
)
def test_real_data_is_detected(expected: str, parts: tuple[str, ...]) -> None:
    path = shared_data(*parts)
    if path.name == "sessions":
        path = next(path.glob("rollout-*.jsonl"))
    assert detect_format(path).name == expected


# Minimal samples written here, so detection is checked even where an area has no fixture of this shape.
SAMPLES: dict[str, tuple[str, str]] = {
    "codex": (
        "rollout.jsonl",
        '{"timestamp":"2026-01-15T17:15:06.120Z","type":"session_meta","payload":{"id":"s1","cwd":"/w"}}\n'
        '{"timestamp":"2026-01-15T17:15:07.000Z","type":"response_item","payload":{"type":"message","role":"user",'
        '"content":[{"type":"input_text","text":"hi"}]}}\n',
    ),
    "openai": (
        "chat.jsonl",
        '{"id": "t1", "model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief."}, '
        '{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}\n',
    ),
    "mad": (
        "record.json",
        '{"mas_name": "ChatDev", "llm_name": "GPT-4o", "benchmark_name": "ProgramDev", "trace_id": 1, '
        '"trace": {"key": "k", "index": 1, "trajectory": "[2025-31-03 20:40:53 INFO] start"}}\n',
    ),
    "otel": (
        "spans.json",
        '{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"spans":[{"traceId":"ab","spanId":"cd",'
        '"name":"chat","startTimeUnixNano":"1","attributes":[{"key":"gen_ai.operation.name",'
        '"value":{"stringValue":"chat"}}]}]}]}]}\n',
    ),
    "claude": (
        "session.jsonl",
        '{"parentUuid":null,"isSidechain":false,"sessionId":"s1","type":"user",'
        '"message":{"role":"user","content":"hi"},"uuid":"u1","timestamp":"2025-11-03T09:00:00.000Z"}\n',
    ),
    "text": ("chat.txt", "User: hi\nAssistant: hello\n"),
}
ANTHROPIC = '{"model": "claude-haiku-4-5", "system": "Be brief.", "messages": [{"role": "user", "content": "hi"}]}'


@pytest.mark.parametrize("expected", sorted(SAMPLES))
def test_minimal_sample_is_detected(expected: str, tmp_path: Path) -> None:
    name, text = SAMPLES[expected]
    path = tmp_path / name
    path.write_text(text)
    assert detect_format(path).name == expected


def test_anthropic_messages_are_not_taken_for_chat_completions(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(ANTHROPIC)
    assert detect_format(path).name == "claude"


FILE_CASES = [(name, path) for name, path in CASES if not path.is_dir()]  # directories: sniff_directory, above


@pytest.mark.parametrize(("expected", "path"), FILE_CASES, ids=[f"{n}/{p.name}" for n, p in FILE_CASES])
def test_no_other_reader_is_as_confident(expected: str, path: Path) -> None:
    head = read_head(path)
    scores = {reader.name: reader.sniff(path, head) for reader in all_readers()}
    winner = scores.pop(expected)
    assert winner >= MIN_CONFIDENCE
    assert all(score < winner for score in scores.values()), scores
