"""Secret redaction: replace credentials in trace text with typed placeholders before any of it leaves the machine.

Only step text changes; the number and order of steps, and so every step index, stay exactly as they were.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from agentmortem.model import Trace

# Order matters: whole private-key blocks and provider-specific keys go first, so the generic
# `secret=...` rule never splits a key another rule would name more precisely. Each rule has triggers: plain
# substrings (matched case-insensitively when the rule is) at least one of which every match contains, so the
# regex only runs on the rare text that could match — redaction sees every byte sent to the judge.
_RULES: list[tuple[str, tuple[str, ...], re.Pattern[str]]] = [
    (
        "private-key",
        ("PRIVATE KEY",),
        re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL),
    ),
    ("anthropic-key", ("sk-ant-",), re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}")),
    ("openai-key", ("sk-",), re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}")),
    ("google-api-key", ("AIza",), re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    (
        "github-token",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"),
    ),
    ("slack-token", ("xox",), re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}")),
    ("huggingface-token", ("hf_",), re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("stripe-key", ("k_live_", "k_test_"), re.compile(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{20,}\b")),
    ("aws-key", ("AKIA", "ASIA", "ABIA", "ACCA"), re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    (
        "aws-secret",
        ("aws_secret_access_key",),
        re.compile(r"(?i)(aws_secret_access_key[\"']?\s*[:=]\s*[\"']?)([A-Za-z0-9/+=]{40})"),
    ),
    ("jwt", ("eyJ",), re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")),
    ("bearer-token", ("bearer",), re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9_\-\.=~+/]{16,})")),
    ("url-password", ("://",), re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^\s:/@\"']+:)([^\s@/\"']+)(@)", re.IGNORECASE)),
    (
        "password",
        ("passw", "pwd", "secret", "apikey", "api_key", "api-key", "token"),
        re.compile(
            r"(?i)(\b[\w.\-]*(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)"
            r"[\"']?\s*[:=]\s*[\"']?)([^\s\"',;}{]{4,})"
        ),
    ),
]
_PLACEHOLDER = re.compile(r"\[REDACTED:[a-z\-]+\]")


def placeholder(kind: str) -> str:
    """The text a secret of `kind` is replaced with."""
    return f"[REDACTED:{kind}]"


@dataclass
class Redactions:
    """How many secrets of each kind were replaced."""

    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """All replacements together."""
        return sum(self.counts.values())

    def add(self, other: Redactions) -> None:
        """Add another tally to this one."""
        self.counts.update(other.counts)


def redact_text(text: str, tally: Redactions | None = None) -> str:
    """`text` with every recognised secret replaced by its typed placeholder; counts go into `tally`."""
    lowered: str | None = None
    for kind, triggers, pattern in _RULES:
        if pattern.flags & re.IGNORECASE:
            lowered = lowered if lowered is not None else text.lower()
            haystack, needles = lowered, [t.lower() for t in triggers]
        else:
            haystack, needles = text, list(triggers)
        if any(needle in haystack for needle in needles):
            text = pattern.sub(lambda m, k=kind: _replace(m, k, tally), text)  # type: ignore[misc]
            lowered = None
    return text


def _replace(match: re.Match[str], kind: str, tally: Redactions | None) -> str:
    # Rules with groups keep their context (the `password=` or `Bearer ` prefix, the URL around a password)
    # and replace only the secret itself, so the judge still sees what kind of thing was there.
    groups = match.groups()
    secret = groups[1] if len(groups) >= 2 else match.group(0)
    if _PLACEHOLDER.fullmatch(secret) or secret.startswith("[REDACTED:"):
        return match.group(0)
    if tally is not None:
        tally.counts[kind] += 1
    if len(groups) >= 2:
        return groups[0] + placeholder(kind) + "".join(g or "" for g in groups[2:])
    return placeholder(kind)


def redact_trace(trace: Trace) -> tuple[Trace, Redactions]:
    """A copy of `trace` with secrets redacted from every step's content and tool arguments, and from its task."""
    tally = Redactions()
    steps = [
        step.model_copy(
            update={
                "content": redact_text(step.content, tally),
                "tool_args": redact_text(step.tool_args, tally) if step.tool_args is not None else None,
            }
        )
        for step in trace.steps
    ]
    task = redact_text(trace.task, tally) if trace.task is not None else None
    return trace.model_copy(update={"steps": steps, "task": task}), tally
