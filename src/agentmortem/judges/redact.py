"""Secret redaction: replace credentials in trace text with typed placeholders before any of it leaves the machine.

Only step text changes; the number and order of steps, and so every step index, stay exactly as they were.

The rules match secret *values*, not the words around them: `password: str`, `password = getpass(...)` and
`api_key = "YOUR_API_KEY"` are code, and stay as they are. How well this works on real traces is measured in
docs/redaction.md.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property

from agentmortem.judges.literals import Guard, guard_for
from agentmortem.model import Trace


@dataclass(frozen=True)
class Rule:
    """One kind of secret: a regex and, where the regex alone is too loose, a test of the value it captured."""

    kind: str
    pattern: re.Pattern[str]
    accepts: Callable[[str], bool] = lambda value: True
    """Whether the captured secret really looks like one (`hunter2x`, not `args.password`)."""

    @cached_property
    def guard(self) -> Guard | None:
        """Literals one of which every match contains, derived from the pattern (see `judges.literals`)."""
        return guard_for((self.pattern.pattern,))


_PLACEHOLDER = re.compile(r"\[REDACTED:[a-z\-]{1,40}\]")
_LONGEST_PLACEHOLDER = len("[REDACTED:]") + 40
_STAND_IN = re.compile(
    r"""(?ix)
      [$%{<] | .*[}>]$                  # a reference or template: $VAR, ${VAR}, %(pw)s, {password}, <your-key>
    | your[_\-\s] | .*[_\-\s]here$      # YOUR_API_KEY, api-key-here
    | (?:insert|replace|enter|put)[_\-\s]
    | [x*•.#?\-]+$                      # a mask: xxxx, ****, ...
    | (?:none|null|nil|true|false|undefined|string|str|bytes|redacted|secret|password|token)$
    | (?-i:[A-Z]+(?:_[A-Z]+)+)$         # an environment variable's name: OPENAI_API_KEY
    """
)
_IDENTIFIER = re.compile(r"[A-Za-z_]+|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
"""A word (`correcthorse`, `SecretStr`) or an attribute chain (`args.password`): code, not a value."""


def _not_a_stand_in(value: str) -> bool:
    """A literal value, not a placeholder, mask, template or variable name."""
    return _STAND_IN.match(value) is None


def _token_like(value: str) -> bool:
    """A bare value that looks like a secret: no stand-in, and more than letters (a digit or a symbol)."""
    return _not_a_stand_in(value) and _IDENTIFIER.fullmatch(value) is None


# What names a credential: `name = value`, `name: value`, `"name": "value"` (also JSON-escaped: `\"name\"`), and the
# command-line form `--name value` (where a bare `--token` names one too; `token = ...` in code mostly does not).
# The match starts at the name itself (`db_password` keeps its `db_` as context) behind a one-character look-ahead:
# with it the regex engine rules most positions out at once, about three times faster on the MAD traces.
_NAMES = r"(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)"
_KEY = (
    rf"(?i)(?=[psa-])(?:{_NAMES}\\?[\"']?[ \t]*[:=](?!=)[ \t]*"
    rf"|--(?<![\w-]--)[\w\-]*(?:{_NAMES}|token)[ \t]+)"
)

# Order matters: whole private-key blocks and provider-specific keys go first, so the generic keyword rules never
# split a key another rule names more precisely. Rules with a `secret` group replace only that group and keep the
# rest (the `password=` or `Bearer ` before it, the URL around it), so the judge still sees what was there.
_RULES: list[Rule] = [
    Rule(
        "private-key",
        re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL),
    ),
    Rule("anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}")),
    Rule("openai-key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}")),
    Rule("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    Rule("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b")),
    Rule("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}")),
    Rule("huggingface-token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    Rule("stripe-key", re.compile(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{20,}\b")),
    Rule("aws-key", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    Rule("aws-secret", re.compile(r"(?i)aws_secret_access_key[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{40})")),
    Rule("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")),
    Rule("bearer-token", re.compile(r"(?i)\bbearer\s+(?P<secret>[A-Za-z0-9_\-\.=~+/]{16,})"), _token_like),
    Rule(
        "basic-auth",
        re.compile(r"(?i)\bauthorization\\?[\"']?\s*[:=]\s*\\?[\"']?basic\s+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})"),
        _not_a_stand_in,  # base64 of `user:pass` may be letters only, and after `Basic` it is always a credential
    ),
    Rule(
        "url-password",
        re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s:/@\"']*:(?P<secret>[^\s@/\"']+)@", re.IGNORECASE),
        _not_a_stand_in,
    ),
    # A quoted literal after a credential's name is a value, whatever it spells (`password = "password123"`).
    Rule("password", re.compile(_KEY + r"(?P<quote>\\?[\"'])(?P<secret>[^\"'\s\\]{4,})(?P=quote)"), _not_a_stand_in),
    # A bare one only when it cannot be code: not followed by `(` or `[` (a call, a subscript, a generic type),
    # and more than a word or an attribute chain (`str`, `args.password`).
    Rule("password", re.compile(_KEY + r"(?P<secret>[^\s\"'`\\,;(){}\[\]<>]{6,}+)(?![(\[])"), _token_like),
]


@cache
def _guarded_rules() -> list[tuple[Guard | None, list[Rule]]]:
    """The rules in order, neighbours with the same literals (the two `password` ones) under one guard.

    Derived on first use, so importing this module stays cheap.
    """
    groups: list[tuple[Guard | None, list[Rule]]] = []
    for rule in _RULES:
        if groups and groups[-1][0] == rule.guard:
            groups[-1][1].append(rule)
        else:
            groups.append((rule.guard, [rule]))
    return groups


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


def redact_text(text: str, tally: Redactions | None = None, *, prefilter: bool = True) -> str:
    """`text` with every recognised secret replaced by its typed placeholder; counts go into `tally`.

    With `prefilter` (the default) a rule's regex only runs on text containing one of its literals, which cannot
    change the result, only the time; `prefilter=False` tries every rule on every text, to prove exactly that.
    """
    lowered: str | None = None
    for guard, rules in _guarded_rules():
        if prefilter and guard is not None:
            if guard.insensitive and lowered is None:
                lowered = text.lower()
            if not guard.admits(text, lowered):
                continue
        for rule in rules:
            replaced = rule.pattern.sub(lambda match, r=rule: _replace(match, r, tally), text)  # type: ignore[misc]
            if replaced != text:
                text, lowered = replaced, None
    return text


def _replace(match: re.Match[str], rule: Rule, tally: Redactions | None) -> str:
    named = "secret" in rule.pattern.groupindex
    start, end = match.span("secret") if named else match.span()
    if _in_placeholder(match.string, start, end) or not rule.accepts(match.string[start:end]):
        return match.group(0)
    if tally is not None:
        tally.counts[rule.kind] += 1
    whole_start, whole_end = match.span()
    return match.string[whole_start:start] + placeholder(rule.kind) + match.string[end:whole_end]


def _in_placeholder(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] overlaps a placeholder already there (`[REDACTED:github-token]` in a URL)."""
    around = _PLACEHOLDER.finditer(text, max(0, start - _LONGEST_PLACEHOLDER), end + _LONGEST_PLACEHOLDER)
    return any(found.start() < end and start < found.end() for found in around)


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
