"""Trace readers: one module per format behind the `Reader` protocol, chosen by sniffing unless named."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from agentmortem.readers.base import SNIFF_BYTES, Reader, ReadError
from agentmortem.readers.side_files import SideFile, recognise

if TYPE_CHECKING:  # the model (pydantic) is not needed to name formats: `agentmortem --help` lists them
    from agentmortem.identity import TraceIds
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
"""Suffixes not tried as traces while walking a directory (docs, configs, tables, outputs): such a file is skipped,
with a note when it is a label, ground-truth or outcome file (`side_files`). A file named explicitly is still read."""
_SIDE_FILE_SUFFIXES = {".yaml", ".yml", ".csv", ".tsv"}
"""Suffixes of the list above that label, ground-truth and outcome files have (the others are never looked into)."""


_DESCRIPTIONS: dict[str, str] = {
    "codex": "Codex CLI session JSONL (rollout-*.jsonl) and ITBench SRE run directories",
    "mad": "MAST-Data (MAD) records: raw ChatDev/MetaGPT/AG2 logs with MAST labels",
    "otel": "OpenTelemetry traces (OTLP/JSON or .pb, Tempo, Jaeger, Zipkin): GenAI, OpenLLMetry, OpenInference, ADK",
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


def read_traces(
    paths: Iterable[str | Path],
    errors: list[ReadError],
    *,
    format: str | None = None,
    skipped: list[SideFile] | None = None,
    ids: TraceIds | None = None,
) -> Iterator[Trace]:
    """Yield every trace under `paths` (files or directories, walked recursively), each under a unique id.

    A directory some reader claims as a whole (an ITBench run layout) is read by that reader; other directories
    are walked file by file. A trace without an id of its own is named by its file's path under the path given
    (see `agentmortem.identity`). Ids are settled by `ids` (pass one to learn the duplicates it dropped and the
    collisions it renamed; a fresh one is used otherwise). Files beside the traces that are labels, ground truths
    or outcomes are appended to `skipped`; other problems are appended to `errors` as one-line `ReadError`s, and
    reading goes on.
    """
    from agentmortem.identity import TraceIds  # imports the model; `format_names` must not

    readers = [get_reader(format)] if format else all_readers()
    ledger = ids if ids is not None else TraceIds()
    walk = _Walk(readers, errors, skipped if skipped is not None else [], forced=format is not None)
    for raw in paths:
        root = Path(raw)
        folder = root if root.is_dir() else None
        for trace in walk.path(root, named=True):
            ledger.place(trace, folder)
            if ledger.settle(trace):
                yield trace


class _Walk:
    """One walk over the paths given to `read_traces`: which readers, where problems and skipped files go."""

    def __init__(self, readers: list[Reader], errors: list[ReadError], skipped: list[SideFile], *, forced: bool):
        self.readers, self.errors, self.skipped, self.forced = readers, errors, skipped, forced

    def path(self, path: Path, *, named: bool) -> Iterator[Trace]:
        """The traces of `path`; `named` is True for a path given by the caller rather than found in a folder."""
        if not path.exists():
            self.errors.append(ReadError(path, "no such file or directory"))
        elif path.is_dir():
            yield from self._directory(path)
        elif named or _walkable(path):
            yield from self._file(path)
        elif path.suffix.lower() in _SIDE_FILE_SUFFIXES:
            self._note_if_side_file(path)

    def _directory(self, path: Path) -> Iterator[Trace]:
        score, reader = max(((_sniff_directory(r, path), r) for r in self.readers), key=lambda pair: pair[0])
        if score >= MIN_CONFIDENCE:
            yield from _read_with(reader, path, self.errors)
            return
        for child in sorted(path.iterdir()):
            if child.name not in _SKIP_NAMES and not child.name.startswith("."):
                yield from self.path(child, named=False)

    def _file(self, path: Path) -> Iterator[Trace]:
        try:
            reader = self.readers[0] if self.forced else detect_format(path, self.readers)
        except ReadError as exc:
            if not self._note_if_side_file(path):
                self.errors.append(exc)
            return
        except OSError as exc:
            self.errors.append(ReadError(path, str(exc)))
            return
        yield from _read_with(reader, path, self.errors)

    def _note_if_side_file(self, path: Path) -> bool:
        """Note `path` in `skipped` when it is a label, ground-truth or outcome file; True if it was one."""
        try:
            side = recognise(path, read_head(path))
        except OSError:
            return False
        if side is not None:
            self.skipped.append(side)
        return side is not None


def _walkable(child: Path) -> bool:
    """Whether a file found in a folder is tried as a trace (docs, configs, images and archives are not)."""
    return child.suffix.lower() not in _NOT_TRACES


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
    "SideFile",
    "all_readers",
    "detect_format",
    "format_descriptions",
    "format_names",
    "get_reader",
    "read_head",
    "read_traces",
]
