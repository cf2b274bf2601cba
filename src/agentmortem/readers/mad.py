"""Reader for MAST-Data (MAD) records: raw multi-agent logs with their MAST labels.

Two record shapes are read, one record or a JSON list of them per file (JSONL also works):

* full-dataset records ``{mas_name, llm_name, benchmark_name, trace_id, trace: {key, index, trajectory},
  mast_annotation}``;
* human-labelled records ``{round, mas_name, benchmark_name, trace_id, trace: "<log>", annotations: [...]}``.

The raw log is split into steps by `agentmortem.readers.mad_log`. Trace ids: ``mad/<trace.key>/<trace_id>`` for
full-dataset records (MAD's key already names system, benchmark and model, e.g. ``ChatDev_ProgramDev_GPT4o``; when a
record has no key, ``<mas_name>_<benchmark_name>_<llm_name>`` stands in), and ``mad-human/<mas_name>_<benchmark_name>
/<trace_id>`` for human-labelled ones, which are a separate sample. Labels are kept raw in the trace metadata under
the keys `agentmortem.label_formats.embedded` documents; `embedded_annotations` turns them into annotations at
ingest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import orjson

from agentmortem.label_formats.embedded import (
    HUMAN_LABELS_KEY,
    HUMAN_ROUND_KEY,
    LABEL_WARNINGS_KEY,
    MAST_LABELS_KEY,
    human_label_warnings,
)
from agentmortem.model import Outcome, Trace
from agentmortem.readers.base import ReadError
from agentmortem.readers.jsonio import first_json_value
from agentmortem.readers.mad_log import ParsedLog, split_trajectory

_HEAD_MAS = re.compile(r'"mas_name"\s*:')
_HEAD_CHAT = re.compile(r'"(?:messages|traj|history|conversation)"\s*:\s*\[')
_HEAD_TRACE = re.compile(r'"trace"\s*:\s*[\{"]|"mast_annotation"\s*:|"failure mode"\s*:')
_TASK_PROMPT = re.compile(r"\*\*task_prompt\*\*: ([^\n]*)")


class MadReader:
    """Reads MAST-Data records (full dataset and human-labelled sample)."""

    name: ClassVar[str] = "mad"
    description: ClassVar[str] = "MAST-Data (MAD) records: raw ChatDev/MetaGPT/AG2 logs with MAST labels"

    def sniff(self, path: Path, head: str) -> float:
        """Confidence that `head` starts a MAD record file (a top-level `mas_name` beside a `trace`)."""
        stripped = head.lstrip()
        if not stripped.startswith(("{", "[")):
            return 0.0
        record = _first_value(stripped, path)
        if record is not None:
            return 0.95 if is_mad_record(record) else 0.0
        mas = _HEAD_MAS.search(stripped)
        if mas is None:
            return 0.0
        chat = _HEAD_CHAT.search(stripped)
        if chat is not None and chat.start() < mas.start():
            return 0.0  # a chat trace carrying MAD fields in its metadata (MAD-as-chat) is the openai reader's
        return 0.9 if _HEAD_TRACE.search(stripped) else 0.3

    def read(self, path: Path, errors: list[ReadError]) -> Iterator[Trace]:
        """Yield one trace per MAD record in `path`; records of another shape go to `errors`."""
        data = path.read_bytes()
        if not data.strip():
            raise ReadError(path, "empty file")
        for place, record in _records(path, data, errors):
            if not is_mad_record(record):
                errors.append(ReadError(path, f"{place[0]}not a MAD record (no 'mas_name' and 'trace')", line=place[1]))
                continue
            yield record_trace(path, record, ordinal=place[2])


def is_mad_record(record: Any) -> bool:
    """True for a dict with MAD's `mas_name` and a `trace` (object with a trajectory, or a log string)."""
    if not isinstance(record, dict) or "mas_name" not in record:
        return False
    trace = record.get("trace")
    return isinstance(trace, str) or (isinstance(trace, dict) and isinstance(trace.get("trajectory"), str))


def _first_value(head: str, path: Path) -> Any:
    """The first record when the head holds it whole (small file or first JSONL line), else None."""
    value = first_json_value(path, head)
    return value[0] if isinstance(value, list) and value else value


def _records(path: Path, data: bytes, errors: list[ReadError]) -> Iterator[tuple[tuple[str, int | None, int], Any]]:
    """(place, record) pairs; place = (message prefix, JSONL line, ordinal). Whole JSON first, else JSONL."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        document = _lenient_document(data)
    if document is not None:
        items = document if isinstance(document, list) else [document]
        for ordinal, record in enumerate(items):
            yield (f"item {ordinal}: " if isinstance(document, list) else "", None, ordinal), record
        return
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            yield ("", number, number - 1), orjson.loads(line.decode("utf-8", errors="replace"))
        except orjson.JSONDecodeError:
            errors.append(ReadError(path, "invalid JSON (truncated or malformed line)", line=number))


def _lenient_document(data: bytes) -> Any:
    try:
        return orjson.loads(data.decode("utf-8", errors="replace"))
    except orjson.JSONDecodeError:
        return None


def record_trace(path: Path, record: dict[str, Any], *, ordinal: int) -> Trace:
    """The trace for one MAD record (full-dataset or human-labelled)."""
    raw_trace = record["trace"]
    text = raw_trace if isinstance(raw_trace, str) else raw_trace["trajectory"]
    parsed = split_trajectory(text)
    return Trace(
        id=_trace_id(record, ordinal),
        source_format="mad",
        source_path=str(path),
        model=_text(record.get("llm_name")),
        agent_system=_text(record.get("mas_name")),
        benchmark=_text(record.get("benchmark_name")),
        task=_task(parsed, text),
        outcome=_outcome(parsed),
        metadata=_metadata(record, parsed),
        steps=parsed.steps,
    )


def _trace_id(record: dict[str, Any], ordinal: int) -> str:
    raw_trace = record["trace"]
    number = record.get("trace_id")
    if number is None and isinstance(raw_trace, dict):
        number = raw_trace.get("index")
    number = ordinal if number is None else number
    if isinstance(raw_trace, str):
        group = "_".join(_text(record.get(k)) or "unknown" for k in ("mas_name", "benchmark_name"))
        return f"mad-human/{group}/{number}"
    key = _text(raw_trace.get("key"))
    if key is None:
        key = "_".join(_text(record.get(k)) or "unknown" for k in ("mas_name", "benchmark_name", "llm_name"))
    return f"mad/{key}/{number}"


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _task(parsed: ParsedLog, text: str) -> str | None:
    prompt = parsed.fields.get("prompt")
    if isinstance(prompt, str):
        return prompt
    statement = parsed.fields.get("problem_statement")
    if isinstance(statement, list) and statement and isinstance(statement[0], str):
        return statement[0]
    match = _TASK_PROMPT.search(text, 0, 20_000) if parsed.style == "chatdev" else None
    return match.group(1).strip() if match else None


def _outcome(parsed: ParsedLog) -> Outcome:
    """AG2 run dumps record whether the final answer was correct (`other_data.correct`); nothing else does."""
    other = parsed.fields.get("other_data")
    correct = other.get("correct") if isinstance(other, dict) else None
    if not isinstance(correct, bool):
        return Outcome()
    return Outcome(success=correct, source="trace", metrics={"correct": correct})


def _metadata(record: dict[str, Any], parsed: ParsedLog) -> dict[str, Any]:
    raw_trace = record["trace"]
    metadata: dict[str, Any] = {"mad_trace_id": record.get("trace_id"), "log_style": parsed.style}
    if isinstance(raw_trace, dict):
        metadata.update(mad_trace_key=raw_trace.get("key"), mad_trace_index=raw_trace.get("index"))
    # The AG2 dumps carry the annotator's own notes ('note'); kept here, never in step content a judge reads.
    metadata.update({f"log_{k}": v for k, v in parsed.fields.items()})
    if isinstance(record.get(MAST_LABELS_KEY), dict):
        metadata[MAST_LABELS_KEY] = record[MAST_LABELS_KEY]
    entries = record.get("annotations")
    if isinstance(entries, list):
        metadata[HUMAN_LABELS_KEY] = entries
        metadata[HUMAN_ROUND_KEY] = record.get("round")
        metadata[LABEL_WARNINGS_KEY] = human_label_warnings(entries)
    extra = {k: v for k, v in record.items() if k not in {"trace", "annotations", MAST_LABELS_KEY}}
    metadata["record"] = extra
    return metadata
