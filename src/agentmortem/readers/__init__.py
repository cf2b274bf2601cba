"""Trace readers: one module per format behind the `Reader` protocol, chosen by sniffing unless named."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from agentmortem.readers.base import SNIFF_BYTES, Reader, ReadError

if TYPE_CHECKING:  # the model (pydantic) is not needed to name formats: `agentmortem --help` lists them
    from agentmortem.model import Trace

# name -> "module:Class"; order breaks ties in sniffing (more specific formats first, plain text last).
_REGISTRY: dict[str, str] = {
    "codex": "agentmortem.readers.codex:CodexReader",
    "mad": "agentmortem.readers.mad:MadReader",
    "otel": "agentmortem.readers.otel:OtelReader",
    "claude": "agentmortem.readers.claude:ClaudeReader",
    "openai": "agentmortem.readers.openai_chat:OpenAIChatReader",
    "text": "agentmortem.readers.text:TextReader",
}

MIN_CONFIDENCE = 0.2
"""Below this sniff confidence a file is reported as an unknown format rather than guessed."""

_SKIP_NAMES = {".DS_Store"}
_NOT_TRACES = {
    ".md",
    ".rst",
    ".yaml",
    ".yml",
    ".toml",
    ".ini",
    ".cfg",
    ".py",
    ".csv",
    ".tsv",
    ".parquet",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".svg",
    ".html",
    ".pdf",
    ".duckdb",
    ".wal",
    ".gz",
    ".zip",
    ".tar",
}
"""Suffixes skipped silently while walking a directory (docs, configs, ground truths, outputs); a file with such a
suffix named explicitly is still read."""


_DESCRIPTIONS: dict[str, str] = {
    "codex": "Codex CLI session JSONL (rollout-*.jsonl) and ITBench SRE run directories",
    "mad": "MAST-Data (MAD) records: raw ChatDev/MetaGPT/AG2 logs with MAST labels",
    "otel": "OpenTelemetry OTLP/JSON exports (GenAI semantic conventions, OpenInference)",
    "claude": "Claude Code session JSONL and Anthropic Messages JSON (content blocks)",
    "openai": "OpenAI chat messages (role/content/tool_calls) as JSON or JSONL; tau-bench, Who&When, MAD-as-chat",
    "text": "Plain-text logs with turn markers (User:, Agent:, [agent], ### Assistant, >>> tool)",
}
"""Each reader's `description`, kept here too so `agentmortem formats` lists the formats without importing the
readers (and the model they build); tests/test_cli_startup.py checks the two agree."""


def format_names() -> list[str]:
    """Names of all supported formats."""
    return list(_REGISTRY)


def format_descriptions() -> dict[str, str]:
    """Format name -> what it reads, in sniffing order, without importing any reader."""
    return {name: _DESCRIPTIONS[name] for name in _REGISTRY}


def get_reader(name: str) -> Reader:
    """The reader for format `name` (ValueError naming the known formats if there is none)."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown format {name!r}; known: {', '.join(_REGISTRY)}")
    module_name, class_name = _REGISTRY[name].split(":")
    reader: Reader = getattr(importlib.import_module(module_name), class_name)()
    return reader


def all_readers() -> list[Reader]:
    """One instance of every reader, in sniffing order."""
    return [get_reader(name) for name in _REGISTRY]


def read_head(path: Path) -> str:
    """The first SNIFF_BYTES of a file, decoded leniently (bad bytes become U+FFFD)."""
    with path.open("rb") as handle:
        return handle.read(SNIFF_BYTES).decode("utf-8", errors="replace")


def detect_format(path: Path, readers: list[Reader] | None = None) -> Reader:
    """The reader most confident it can read `path` (a file or a run directory); ReadError when none is."""
    readers = readers if readers is not None else all_readers()
    if path.is_dir():
        scores = [(_sniff_directory(r, path), r) for r in readers]
    else:
        head = read_head(path)
        if not head.strip():
            raise ReadError(path, "empty file")
        scores = [(r.sniff(path, head), r) for r in readers]
    best_score, best = max(scores, key=lambda pair: pair[0])
    if best_score < MIN_CONFIDENCE:
        raise ReadError(path, f"no reader recognises this {'directory' if path.is_dir() else 'file'}")
    return best


def _sniff_directory(reader: Reader, path: Path) -> float:
    """Readers that understand whole run directories (ITBench layouts) implement `sniff_directory`."""
    sniff = getattr(reader, "sniff_directory", None)
    return float(sniff(path)) if sniff is not None else 0.0


def read_traces(paths: Iterable[str | Path], errors: list[ReadError], *, format: str | None = None) -> Iterator[Trace]:
    """Yield every trace under `paths` (files or directories, walked recursively).

    A directory some reader claims as a whole (an ITBench run layout) is read by that reader; other directories
    are walked file by file. Problems are appended to `errors` as one-line `ReadError`s and reading goes on.
    """
    readers = [get_reader(format)] if format else all_readers()
    for raw in paths:
        yield from _read_path(Path(raw), readers, errors, forced=format is not None)


def _read_path(path: Path, readers: list[Reader], errors: list[ReadError], *, forced: bool) -> Iterator[Trace]:
    if not path.exists():
        errors.append(ReadError(path, "no such file or directory"))
        return
    if path.is_dir():
        claimed = max(((_sniff_directory(r, path), r) for r in readers), key=lambda pair: pair[0])
        if claimed[0] >= MIN_CONFIDENCE:
            yield from _read_with(claimed[1], path, errors)
            return
        for child in sorted(path.iterdir()):
            if _walkable(child):
                yield from _read_path(child, readers, errors, forced=forced)
        return
    try:
        reader = readers[0] if forced else detect_format(path, readers)
    except (ReadError, OSError) as exc:
        errors.append(exc if isinstance(exc, ReadError) else ReadError(path, str(exc)))
        return
    yield from _read_with(reader, path, errors)


def _walkable(child: Path) -> bool:
    if child.name in _SKIP_NAMES or child.name.startswith("."):
        return False
    return child.is_dir() or child.suffix.lower() not in _NOT_TRACES


def _read_with(reader: Reader, path: Path, errors: list[ReadError]) -> Iterator[Trace]:
    try:
        yield from reader.read(path, errors)
    except ReadError as exc:
        errors.append(exc)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        errors.append(ReadError(path, f"{reader.name}: {type(exc).__name__}: {exc}".splitlines()[0]))


__all__ = [
    "MIN_CONFIDENCE",
    "ReadError",
    "Reader",
    "all_readers",
    "detect_format",
    "format_descriptions",
    "format_names",
    "get_reader",
    "read_head",
    "read_traces",
]
