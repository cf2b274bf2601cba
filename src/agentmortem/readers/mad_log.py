r"""Split the raw multi-agent-system logs stored in MAD records into steps.

A MAD record's ``trajectory`` is one string: whatever log the multi-agent system wrote. The styles met so far:

* ``chatdev``: Python-logging records ``[2025-31-03 21:05:37 INFO] <message>`` (ChatDev's date format is
  year-day-month); a turn is ``<Speaker>: **<A><->B on : <Phase>, turn <n>**``, other records (``**[Seminar
  Conclusion]**``, HTTP requests, "flask app.py did not start…") have no speaker.
* ``metagpt``: loguru records ``2025-01-17 11:40:27.872 | INFO     | module:func:line - Alice(SimpleCoder): …``.
* ``metagpt-messages``: a communication log of ``[2025-03-27 01:21:03] FROM: Human TO: …`` and
  ``[…] NEW MESSAGES:\n\nSimpleCoder: …`` blocks.
* JSON: an AG2 run dump ``{"trajectory": [{"content": [lines], "role", "name"}], …}`` (one step per message), or a
  wrapper ``{"content": "<log>", "prompt": …}`` whose ``content`` is one of the logs above.

For the text styles, the *marker* of a record is its header (timestamp, level, logger) plus the speaker prefix
(``Chief Product Officer: ``); everything else — every byte between one marker and the next, and any text before
the first — is some step's content, so nothing the agents said is lost. A record with a speaker is a ``message``
(``system`` when the speaker is ChatDev's ``System``), one without is an ``event``. Text in no known style becomes a
single event step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from agentmortem.model import Step, StepKind


@dataclass(frozen=True)
class LogStyle:
    """How one multi-agent system writes its log: a record header and the speaker prefix that may follow it."""

    name: str
    header: re.Pattern[str]
    speaker: re.Pattern[str]
    time_format: str


@dataclass
class ParsedLog:
    """Steps split from a raw log, the style recognised, and any JSON fields that wrapped the log."""

    steps: list[Step]
    style: str
    fields: dict[str, Any] = field(default_factory=dict)


STYLES: tuple[LogStyle, ...] = (
    LogStyle(
        "chatdev",
        re.compile(r"^\[(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\] ", re.M),
        re.compile(r"(?P<agent>[^\n:*\[\]]{1,80}): (?=\*\*)"),
        "%Y-%d-%m %H:%M:%S",  # ChatDev configures logging with datefmt '%Y-%d-%m %H:%M:%S'
    ),
    LogStyle(
        "metagpt",
        re.compile(r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.\d+ \| *[A-Z]+ *\| \S+ - ", re.M),
        re.compile(r"[\w.\-]+\((?P<agent>[\w.\-]+)\): "),
        "%Y-%m-%d %H:%M:%S",
    ),
    LogStyle(
        "metagpt-messages",
        re.compile(r"^\[(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\] ", re.M),
        re.compile(r"FROM: (?P<agent>\S+) |NEW MESSAGES:[ \t]*\n\s*(?P<agent2>[\w.\-]+):[ \t]"),
        "%Y-%m-%d %H:%M:%S",
    ),
)


def split_trajectory(text: str) -> ParsedLog:
    """Steps for a MAD trajectory string, whichever style it is in."""
    if text.lstrip()[:1] in ("{", "["):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return _from_json(value, text)
    return split_log(text)


def split_log(text: str) -> ParsedLog:
    """Split a text log at the record headers of the style with the most records (one event step if none)."""
    best_count, style = 0, None
    for candidate in STYLES:
        count = sum(1 for _ in candidate.header.finditer(text))
        if count > best_count:
            best_count, style = count, candidate
    if style is None:
        return ParsedLog(steps=[_step(0, None, text, None, "log:unknown")] if text else [], style="unknown")
    return ParsedLog(steps=_split_with(style, text), style=style.name)


def _split_with(style: LogStyle, text: str) -> list[Step]:
    steps: list[Step] = []
    headers = list(style.header.finditer(text))
    source_type = f"log:{style.name}"
    if headers[0].start() > 0:
        steps.append(_step(0, None, text[: headers[0].start()], None, source_type))
    times: dict[str, datetime | None] = {}
    for number, header in enumerate(headers):
        end = headers[number + 1].start() if number + 1 < len(headers) else len(text)
        speaker = style.speaker.match(text, header.end(), end)
        agent = (speaker.group("agent") or speaker.groupdict().get("agent2")) if speaker else None
        body_start = speaker.end() if speaker else header.end()
        stamp = header.group("ts")
        if stamp not in times:
            times[stamp] = _parse_time(stamp, style.time_format)
        steps.append(_step(len(steps), agent, text[body_start:end], times[stamp], source_type))
    return steps


def _step(index: int, agent: str | None, content: str, timestamp: datetime | None, source_type: str) -> Step:
    agent = agent.strip() if agent else None
    kind: StepKind = "event" if not agent else ("system" if agent.lower() == "system" else "message")
    return Step(index=index, kind=kind, agent=agent, content=content, timestamp=timestamp, source_type=source_type)


def _parse_time(stamp: str, time_format: str) -> datetime | None:
    try:
        return datetime.strptime(stamp, time_format)
    except ValueError:
        return None


def _from_json(value: dict[str, Any], text: str) -> ParsedLog:
    messages = value.get("trajectory")
    if isinstance(messages, list) and all(isinstance(m, dict) for m in messages):
        fields = {k: v for k, v in value.items() if k != "trajectory"}
        return ParsedLog(
            steps=[_json_message(i, m) for i, m in enumerate(messages)], style="json-messages", fields=fields
        )
    log = value.get("content")
    if isinstance(log, str):
        parsed = split_log(log)
        parsed.fields = {k: v for k, v in value.items() if k != "content"}
        return parsed
    return ParsedLog(steps=[_step(0, None, text, None, "log:json")], style="json")


def _json_message(index: int, message: dict[str, Any]) -> Step:
    content = message.get("content")
    if isinstance(content, list):
        content = "\n".join(str(line) for line in content)
    role = message.get("role") if isinstance(message.get("role"), str) else None
    name = message.get("name") if isinstance(message.get("name"), str) else None
    return Step(
        index=index, kind="system" if role == "system" else "message", role=role, agent=name,
        content=content if isinstance(content, str) else orjson.dumps(content).decode(),
        source_type="log:json-messages",
    )  # fmt: skip
