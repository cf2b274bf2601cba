r"""Literal prefilters for the detectors' regexes: skip a regex search when its match is impossible.

Most texts the detectors scan cannot match their patterns, and Python's regex engine cannot skip ahead on
case-insensitive alternations that start with `\b`: it tries every position. A plain substring test can: for
each pattern we derive, from its parse tree, a set of literal strings at least one of which every match must
contain. When none occurs in the text, the regex cannot match and is not run; otherwise it runs as before, so
the prefilter only ever saves time and never changes a result.

The derivation is conservative: anything it does not understand (classes, optional parts, back-references,
look-arounds, non-ASCII literals) contributes no literal, and a pattern without a required literal is never
prefiltered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_CASE_TRAPS = frozenset("iks")
"""ASCII letters that a case-insensitive regex also matches against non-ASCII characters (ı İ, K Kelvin, ſ), which
`str.lower()` does not fold to them; see `test_detector_literals.py`, which checks this list over all of Unicode."""

Requirement = frozenset[tuple[str, bool]]
"""Alternatives (literal, case_insensitive), at least one of which every match contains; insensitive ones lowered."""


@dataclass(frozen=True)
class Guard:
    """A cheap test that is False only when the guarded patterns cannot match the text."""

    sensitive: tuple[str, ...]
    insensitive: tuple[str, ...]
    needs_ascii: bool
    """True when an insensitive literal contains a letter of _CASE_TRAPS: then only ASCII text may be ruled out."""

    def admits(self, text: str) -> bool:
        """False when no literal occurs in `text`, i.e. the guarded regex cannot match it."""
        if any(literal in text for literal in self.sensitive):
            return True
        if not self.insensitive:
            return False
        if self.needs_ascii and not text.isascii():
            return True  # a case trap (e.g. the Kelvin sign matching 'k') could hide a match from lower()
        lowered = text.lower()
        return any(literal in lowered for literal in self.insensitive)


def guard_for(patterns: tuple[str, ...]) -> Guard | None:
    """A guard for the alternation of `patterns`, or None when some pattern has no required literal."""
    alternatives: set[tuple[str, bool]] = set()
    for pattern in patterns:
        required = required_literals(pattern)
        if required is None:
            return None
        alternatives |= required
    insensitive = tuple(sorted(lit for lit, folded in alternatives if folded))
    return Guard(
        sensitive=tuple(sorted(lit for lit, folded in alternatives if not folded)),
        insensitive=insensitive,
        needs_ascii=any(_CASE_TRAPS & set(lit) for lit in insensitive),
    )


def required_literals(pattern: str) -> Requirement | None:
    """Literals at least one of which every match of `pattern` contains; None when none can be derived."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None
    return _sequence(list(parsed), bool(parsed.state.flags & re.IGNORECASE))


def _sequence(items: list[tuple[Any, Any]], folded: bool) -> Requirement | None:
    """Every item of a sequence must match, so the most selective requirement of any item (or literal run) holds."""
    candidates: list[Requirement] = []
    run: list[str] = []
    for op, arg in items:
        char = _literal_char(op, arg)
        if char is not None:
            run.append(char.lower() if folded else char)
            continue
        candidates += [frozenset({("".join(run), folded)})] if run else []
        run = []
        required = _item(op, arg, folded)
        if required is not None:
            candidates.append(required)
    candidates += [frozenset({("".join(run), folded)})] if run else []
    return max(candidates, key=_selectivity, default=None)


def _literal_char(op: Any, arg: Any) -> str | None:
    # Only ASCII literals: their case folding is the plain one `str.lower()` applies.
    return chr(arg) if op is sre.LITERAL and arg < 128 else None


def _item(op: Any, arg: Any, folded: bool) -> Requirement | None:
    if op is sre.SUBPATTERN:
        _group, add_flags, del_flags, body = arg
        inner = (folded or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
        return _sequence(list(body), inner)
    if op is sre.ATOMIC_GROUP:
        return _sequence(list(arg), folded)
    if op in _REPEATS:
        low, _high, body = arg
        return _sequence(list(body), folded) if low >= 1 else None
    if op is sre.BRANCH:
        return _branch(arg[1], folded)
    return None  # classes, anchors, look-arounds, back-references: no literal required


def _branch(alternatives: list[Any], folded: bool) -> Requirement | None:
    """One of the alternatives matches, so the union of their requirements holds (if each has one)."""
    union: set[tuple[str, bool]] = set()
    for alternative in alternatives:
        required = _sequence(list(alternative), folded)
        if required is None:
            return None
        union |= required
    return frozenset(union)


def _selectivity(required: Requirement) -> tuple[int, int]:
    # Longer shortest literal first (a one-character literal is in almost every text), then fewer alternatives.
    return min(len(literal) for literal, _ in required), -len(required)
