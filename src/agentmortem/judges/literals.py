r"""Literal prefilters for regexes (detector markers, redaction rules): skip a search whose match is impossible.

Most texts the detectors and the redactor scan cannot match their patterns, and Python's regex engine cannot skip
ahead on case-insensitive alternations that start with `\b`: it tries every position. A plain substring test can:
for each pattern we derive, from its parse tree, a set of literal strings at least one of which every match must
contain. When none occurs in the text, the regex cannot match and is not run; otherwise it runs as before, so
the prefilter only ever saves time and never changes a result.

Runs of parts that match only a few fixed strings (literals, small classes such as `[pousr]`, alternations of
literals, bounded repeats such as `[_-]?`) are multiplied out, so `gh[pousr]_` requires one of `ghp_`, `gho_`, …
rather than just `gh`.

The derivation is conservative: anything it does not understand (ranges, open-ended optional parts,
back-references, look-arounds, non-ASCII literals) contributes no literal, and a pattern without a required
literal is never prefiltered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_CASE_TRAPS = frozenset("iks")
"""ASCII letters that a case-insensitive regex also matches against non-ASCII characters, _CASE_TWINS, which
`str.lower()` may not fold to them; `test_detector_literals.py` checks both lists over all of Unicode."""
_CASE_TWINS = ("\u0130", "\u0131", "\u017f", "\u212a")
"""İ ı ſ and the Kelvin sign K: the only non-ASCII characters a case-insensitive ASCII letter matches."""

_MAX_ALTERNATIVES = 16
"""At most this many literals per requirement: more would cost more to look for than they save."""

_MAX_EXACT_REPEAT = 3
"""A part repeated at most this often is still multiplied out (`x{0,3}`); beyond, it counts as unknown."""

Requirement = frozenset[tuple[str, bool]]
"""Alternatives (literal, case_insensitive), at least one of which every match contains; insensitive ones lowered."""


@dataclass(frozen=True)
class Guard:
    """A cheap test that is False only when the guarded patterns cannot match the text."""

    sensitive: tuple[str, ...]
    insensitive: tuple[str, ...]
    case_traps: bool
    """True when an insensitive literal contains a letter of _CASE_TRAPS: then a text with a twin is never ruled out."""

    def admits(self, text: str, lowered: str | None = None) -> bool:
        """False when no literal occurs in `text`, i.e. the guarded regex cannot match it.

        `lowered` is `text.lower()` when the caller has it already (several guards tried on one text).
        """
        # Plain loops, not any(...): this runs for every rule on every text, and a generator costs more than a look.
        for literal in self.sensitive:
            if literal in text:
                return True
        if not self.insensitive:
            return False
        if self.case_traps and not text.isascii() and any(twin in text for twin in _CASE_TWINS):
            return True  # a twin (e.g. the Kelvin sign matching 'k') could hide a match from lower()
        lowered = text.lower() if lowered is None else lowered
        for literal in self.insensitive:
            if literal in lowered:
                return True
        return False


def guard_for(patterns: tuple[str, ...]) -> Guard | None:
    """A guard for the alternation of `patterns`, or None when some pattern has no required literal."""
    alternatives: set[tuple[str, bool]] = set()
    for pattern in patterns:
        required = required_literals(pattern)
        if required is None:
            return None
        alternatives |= required
    insensitive = _shortest([lit for lit, folded in alternatives if folded])
    return Guard(
        sensitive=_shortest([lit for lit, folded in alternatives if not folded]),
        insensitive=insensitive,
        case_traps=any(_CASE_TRAPS & set(lit) for lit in insensitive),
    )


def _shortest(literals: list[str]) -> tuple[str, ...]:
    """The literals that contain no other one: a text holding `sk-proj-` holds `sk-`, so `sk-` alone will do."""
    return tuple(sorted(lit for lit in literals if not any(other != lit and other in lit for other in literals)))


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
    run: set[str] = {""}
    for op, arg in items:
        exact = _exact(op, arg, folded)
        if exact is not None:
            joined = _join(run, exact)
            if joined is None:
                candidates += _run_requirement(run, folded)
            run = joined if joined is not None else exact
            continue
        # The run ends here, but what this item's every match starts with still extends it.
        candidates += _run_requirement(_join(run, _prefixes(op, arg, folded)) or run, folded)
        run = {""}
        required = _item(op, arg, folded)
        if required is not None:
            candidates.append(required)
    candidates += _run_requirement(run, folded)
    return max(candidates, key=_selectivity, default=None)


def _run_requirement(run: set[str], folded: bool) -> list[Requirement]:
    # An empty literal would admit every text: such a run (from an alternative matching nothing) requires nothing.
    return [frozenset((literal, folded) for literal in run)] if "" not in run else []


def _join(heads: set[str], tails: set[str]) -> set[str] | None:
    """Every head followed by every tail, or None when that makes more than _MAX_ALTERNATIVES literals."""
    joined = {head + tail for head in heads for tail in tails}
    return joined if len(joined) <= _MAX_ALTERNATIVES else None


def _exact(op: Any, arg: Any, folded: bool) -> set[str] | None:
    """The few fixed strings an item can match (a literal, a small class, literal alternatives), else None."""
    char = _literal_char(op, arg)
    if char is not None:
        return {char.lower() if folded else char}
    if op is sre.IN:
        chars = [_literal_char(member_op, member_arg) for member_op, member_arg in arg]
        if None in chars or len(chars) > _MAX_ALTERNATIVES:
            return None  # a range, category or negation: too many strings to list
        return {c.lower() if folded else c for c in chars if c is not None}
    if op is sre.SUBPATTERN and _inner_folding(arg, folded) == folded:
        return _exact_sequence(list(arg[3]), folded)
    if op in _REPEATS and arg[1] <= _MAX_EXACT_REPEAT:  # `[_-]?` is one of "_", "-", ""
        low, high, body = arg
        return _exact_sequence(list(body) * low, folded) if low == high else _exact_repeat(low, high, body, folded)
    if op is sre.BRANCH:
        union: set[str] = set()
        for alternative in arg[1]:
            strings = _exact_sequence(list(alternative), folded)
            if strings is None:
                return None
            union |= strings
        return union if len(union) <= _MAX_ALTERNATIVES else None
    return None


def _exact_repeat(low: int, high: int, body: Any, folded: bool) -> set[str] | None:
    union: set[str] = set()
    for count in range(low, high + 1):
        strings = _exact_sequence(list(body) * count, folded)
        if strings is None:
            return None
        union |= strings
    return union if len(union) <= _MAX_ALTERNATIVES else None


def _exact_sequence(items: list[tuple[Any, Any]], folded: bool) -> set[str] | None:
    strings: set[str] | None = {""}
    for op, arg in items:
        exact = _exact(op, arg, folded)
        strings = _join(strings, exact) if strings is not None and exact is not None else None
        if strings is None:
            return None
    return strings


def _prefixes(op: Any, arg: Any, folded: bool) -> set[str]:
    """Strings one of which every match of an item starts with ({""} when nothing is known)."""
    if op is sre.SUBPATTERN and _inner_folding(arg, folded) == folded:
        return _leading(list(arg[3]), folded)
    if op in _REPEATS and arg[0] >= 1:
        return _leading(list(arg[2]), folded)
    if op is sre.BRANCH:
        union: set[str] = set().union(*(_leading(list(alternative), folded) for alternative in arg[1]))
        return union if len(union) <= _MAX_ALTERNATIVES and "" not in union else {""}
    return {""}


def _leading(items: list[tuple[Any, Any]], folded: bool) -> set[str]:
    """The fixed strings a sequence starts with, multiplied out as far as _MAX_ALTERNATIVES allows."""
    strings = {""}
    for op, arg in items:
        exact = _exact(op, arg, folded)
        if exact is None:
            return _join(strings, _prefixes(op, arg, folded)) or strings
        joined = _join(strings, exact)
        if joined is None:
            return strings
        strings = joined
    return strings


def _literal_char(op: Any, arg: Any) -> str | None:
    # Only ASCII literals: their case folding is the plain one `str.lower()` applies.
    return chr(arg) if op is sre.LITERAL and arg < 128 else None


def _inner_folding(subpattern: Any, folded: bool) -> bool:
    """Whether a group's body is matched case-insensitively, given the group's own flags."""
    _group, add_flags, del_flags, _body = subpattern
    return (folded or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE


def _item(op: Any, arg: Any, folded: bool) -> Requirement | None:
    if op is sre.SUBPATTERN:
        return _sequence(list(arg[3]), _inner_folding(arg, folded))
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
