"""Read the judge's answer: tolerant about form (fences, prose around the JSON, id spellings), strict about content.

Unknown mode ids are dropped with a warning, evidence citing steps the trace does not have is dropped, a present mode
without evidence is kept but flagged, and a quote found in another step than the one cited is moved to that step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentmortem.model import Evidence, ModeVerdict
from agentmortem.taxonomy import Taxonomy

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_STEP_NUMBER = re.compile(r"-?\d+")
_SPACE = re.compile(r"\s+")
_VERDICT_KEYS = {"failure_modes", "modes", "failures"}
MIN_QUOTE_CHARS = 8
"""Shorter quotes match too many places to say which step they come from."""
MAX_QUOTE_CHARS = 300


class AnswerError(ValueError):
    """An answer that cannot be used; the message is what the judge is told when asked again."""


@dataclass
class ParsedAnswer:
    """A usable answer: verdicts by canonical id, plus what had to be fixed or dropped."""

    summary: str
    task_completed: bool | None
    verdicts: dict[str, ModeVerdict]
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


class StepTexts:
    """The text of every step as the judge saw it, normalised once for quote lookups."""

    def __init__(self, texts: Mapping[int, str]) -> None:
        self.normalised = {index: _normalise(text) for index, text in texts.items()}

    def __contains__(self, index: int) -> bool:
        return index in self.normalised

    def locate(self, quote: str, cited: int) -> int | None:
        """The step holding `quote`: the cited one if it does, else the nearest one that does, else None."""
        needle = _quote_core(quote)
        if len(needle) < MIN_QUOTE_CHARS or needle in self.normalised.get(cited, ""):
            return cited
        hits = [i for i, text in self.normalised.items() if needle in text]
        return min(hits, key=lambda i: (abs(i - cited), i)) if hits else None


def extract_json(text: str) -> dict[str, Any]:
    """The JSON object in an answer, wherever it sits (whole text, code fence, or surrounded by prose)."""
    candidates = [text.strip(), *(m.group(1).strip() for m in _FENCE.finditer(text))]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    found = _first_object(text)
    if found is None:
        raise AnswerError("the answer contains no complete JSON object with a 'failure_modes' list")
    return found


def _first_object(text: str) -> dict[str, Any] | None:
    """The first complete object holding a verdict list; inner items of a cut-off answer do not count."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict) and _VERDICT_KEYS & value.keys():
            return value
    return None


def parse_answer(text: str, taxonomy: Taxonomy, steps: StepTexts) -> ParsedAnswer:
    """Validate an answer against the taxonomy and the trace's steps (AnswerError when unusable)."""
    data = extract_json(text)
    items = _items(data)
    answer = ParsedAnswer(str(data.get("summary") or ""), _as_bool(data.get("task_completed")), {})
    for item in items:
        _add_item(answer, item, taxonomy, steps)
    if not answer.verdicts:
        raise AnswerError("no failure mode of the taxonomy was answered with a usable 'present' value")
    answer.missing = [m for m in taxonomy.ids if m not in answer.verdicts]
    return answer


def _items(data: dict[str, Any]) -> list[dict[str, Any]]:
    raw = data.get("failure_modes", data.get("modes", data.get("failures")))
    if isinstance(raw, dict):  # {"FM-1.3": {...}} is a common variation of the list form
        return [
            {"id": key, **value} if isinstance(value, dict) else {"id": key, "present": value}
            for key, value in raw.items()
        ]
    if not isinstance(raw, list):
        raise AnswerError("the JSON object has no 'failure_modes' list")
    return [item for item in raw if isinstance(item, dict)]


def _add_item(answer: ParsedAnswer, item: dict[str, Any], taxonomy: Taxonomy, steps: StepTexts) -> None:
    label = str(item.get("id") or item.get("mode") or item.get("name") or "")
    mode_id = taxonomy.resolve(label) if label else None
    if mode_id is None:
        answer.warnings.append(f"dropped an answer for unknown mode {label!r}")
        return
    present = _as_bool(item.get("present"))
    if present is None or mode_id in answer.verdicts:
        answer.warnings.append(
            f"ignored an answer for {mode_id} ({'repeated' if present is not None else 'no present value'})"
        )
        return
    verdict = ModeVerdict(
        mode_id=mode_id, present=present, confidence=_confidence(item.get("confidence")),
        explanation=str(item.get("explanation") or item.get("reason") or ""),
    )  # fmt: skip
    if present:
        verdict.evidence, verdict.flags = _evidence(item.get("evidence"), steps)
        if not verdict.evidence:
            verdict.flags.append("no-evidence")
    answer.verdicts[mode_id] = verdict


def _evidence(raw: object, steps: StepTexts) -> tuple[list[Evidence], list[str]]:
    evidence: list[Evidence] = []
    flags: list[str] = []
    for entry in raw if isinstance(raw, list) else []:
        step, quote = _step_and_quote(entry)
        if step is None or step not in steps:
            _flag(flags, "evidence-dropped")
            continue
        located = steps.locate(quote, step)
        if located is None:
            _flag(flags, "quote-not-found")
        elif located != step:
            _flag(flags, "evidence-relocated")
            step = located
        if not any(e.step == step and e.quote == quote for e in evidence):
            evidence.append(Evidence(step=step, quote=quote))
    return evidence, flags


def _step_and_quote(entry: object) -> tuple[int | None, str]:
    if isinstance(entry, dict):
        step_raw, quote = entry.get("step", entry.get("index")), str(entry.get("quote") or "")
    else:
        step_raw, quote = entry, ""
    if isinstance(step_raw, bool):
        return None, quote
    if isinstance(step_raw, int):
        return step_raw, quote[:MAX_QUOTE_CHARS]
    match = _STEP_NUMBER.search(str(step_raw)) if step_raw is not None else None
    return (int(match.group(0)) if match else None), quote[:MAX_QUOTE_CHARS]


def _flag(flags: list[str], flag: str) -> None:
    if flag not in flags:
        flags.append(flag)


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in {"yes", "true", "present", "1"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"no", "false", "absent", "0"}:
        return False
    return None


def _confidence(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return min(max(number / 100 if number > 1 else number, 0.0), 1.0)


def _normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def _quote_core(quote: str) -> str:
    """The longest verbatim run of a quote: judges mark their own cuts with ellipses and wrap quotes in marks."""
    parts = re.split(r"\.\.\.|…|\[\.\.\.\]", quote)
    core = max(parts, key=len) if parts else ""
    return _normalise(core.strip().strip("\"'`“”"))
