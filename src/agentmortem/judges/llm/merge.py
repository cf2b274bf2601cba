"""Combine answers: several samples of one request by majority, several chunks of one trace by evidence."""

from __future__ import annotations

from collections.abc import Callable

from agentmortem.judges.llm.parse import ParsedAnswer
from agentmortem.model import Evidence, ModeVerdict


def merge_samples(answers: list[ParsedAnswer], mode_ids: list[str]) -> ParsedAnswer:
    """Majority vote per mode over independent samples; the share of samples agreeing becomes the confidence."""
    if len(answers) == 1:
        return answers[0]
    head = ParsedAnswer(answers[0].summary, _majority_bool([a.task_completed for a in answers]), {})
    return _per_mode(answers, mode_ids, head, _vote)


def _vote(mode_id: str, votes: list[ModeVerdict]) -> ModeVerdict:
    yes = [v for v in votes if v.present]
    present = len(yes) * 2 > len(votes)  # a strict majority; a tie keeps the mode out
    agreeing = yes if present else [v for v in votes if not v.present]
    return ModeVerdict(
        mode_id=mode_id, present=present, confidence=round(len(agreeing) / len(votes), 4),
        evidence=_union(v.evidence for v in agreeing) if present else [],
        explanation=agreeing[0].explanation if agreeing else "", flags=_flags(agreeing),
    )  # fmt: skip


def merge_chunks(answers: list[ParsedAnswer], mode_ids: list[str]) -> ParsedAnswer:
    """One answer for a trace judged in parts: a mode is present when some part shows it with evidence."""
    if len(answers) == 1:
        return answers[0]
    last = answers[-1]
    return _per_mode(answers, mode_ids, ParsedAnswer(last.summary, last.task_completed, {}), _across_parts)


def _per_mode(
    answers: list[ParsedAnswer],
    mode_ids: list[str],
    merged: ParsedAnswer,
    combine: Callable[[str, list[ModeVerdict]], ModeVerdict],
) -> ParsedAnswer:
    """Fill `merged` with `combine` of each mode's verdicts across `answers`; modes nobody answered are missing."""
    for mode_id in mode_ids:
        verdicts = [a.verdicts[mode_id] for a in answers if mode_id in a.verdicts]
        if verdicts:
            merged.verdicts[mode_id] = combine(mode_id, verdicts)
    merged.missing = [m for m in mode_ids if m not in merged.verdicts]
    merged.warnings = [w for a in answers for w in a.warnings]
    return merged


def _across_parts(mode_id: str, parts: list[ModeVerdict]) -> ModeVerdict:
    shown = [v for v in parts if v.present and v.evidence]
    if shown:
        return ModeVerdict(
            mode_id=mode_id, present=True, confidence=max((v.confidence or 0.0) for v in shown) or None,
            evidence=_union(v.evidence for v in shown),
            explanation=" / ".join(v.explanation for v in shown if v.explanation),
            flags=_flags(shown),
        )  # fmt: skip
    claimed = [v for v in parts if v.present]
    # A part that says "present" without pointing at any step cannot be checked against the others; it is kept
    # visible as a flag instead of deciding the trace-level verdict.
    return ModeVerdict(
        mode_id=mode_id, present=False, confidence=min((v.confidence or 0.0) for v in parts) or None,
        explanation=parts[-1].explanation, flags=["unsupported-claim-in-part"] if claimed else [],
    )  # fmt: skip


def _union(groups: object) -> list[Evidence]:
    seen: dict[tuple[int, str], Evidence] = {}
    for group in groups:  # type: ignore[attr-defined]
        for evidence in group:
            seen.setdefault((evidence.step, evidence.quote), evidence)
    return sorted(seen.values(), key=lambda e: e.step)


def _flags(verdicts: list[ModeVerdict]) -> list[str]:
    return list(dict.fromkeys(flag for v in verdicts for flag in v.flags))


def _majority_bool(values: list[bool | None]) -> bool | None:
    known = [v for v in values if v is not None]
    if not known:
        return None
    return sum(known) * 2 > len(known)
