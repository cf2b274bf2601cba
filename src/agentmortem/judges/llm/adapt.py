"""The request shape a run sends, built from the endpoint's profile and adapted by reading the endpoint's refusals.

One `Shape` is shared by every request of a run: when an endpoint refuses a parameter, the change is made once and
every later request (and every request that was built before it and comes back refused for the same reason) is
sent in the new shape. Each change is written down once, in words, for the run's summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

import openai

from agentmortem.judges.llm.providers import Profile, StructuredForm

SCHEMA_NAME = "mast_verdict"
_TOKEN_PARAMS = ("max_tokens", "max_completion_tokens")
_REFUSED_WORDS = (
    "unsupported", "not supported", "unrecognized", "unknown parameter", "extra inputs are not permitted",
    "does not support", "not allowed", "is not permitted", "invalid parameter", "unexpected",
)  # fmt: skip
_QUOTED = re.compile(r"['`\"]([a-z_]+)['`\"]")
_CONTEXT_LIMIT = re.compile(
    r"(?:maximum context length is|context size of|maximum number of tokens allowed \()\s*(\d+)"
)


@dataclass(frozen=True)
class Refusal:
    """What a 4xx error body says, whatever the provider's error shape."""

    status: int
    message: str
    code: str = ""
    param: str = ""
    type: str = ""
    limit: int | None = None
    """A context size the body states as a number (llama-server's `n_ctx`)."""

    @property
    def text(self) -> str:
        """Everything the body says, lower case, for marker matching."""
        return " ".join((self.code, self.param, self.type, self.message)).lower()


def read_refusal(exc: openai.APIStatusError) -> Refusal:
    """The error body in any documented shape: OpenAI's `{error: {...}}`, Gemini's list of those, Anthropic's."""
    body: Any = exc.body
    if isinstance(body, list) and body:
        body = body[0]
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    elif isinstance(body, dict) and isinstance(body.get("error"), str):  # LM Studio: {"error": "text"}
        body = {"message": body["error"]}
    if not isinstance(body, dict):
        return Refusal(exc.status_code, str(body or exc.message))
    n_ctx = body.get("n_ctx")
    code = body.get("code")
    if not isinstance(code, str):  # Google's and llama-server's `code` is the HTTP status; Google names it in `status`
        code = body.get("status") or ""
    return Refusal(
        exc.status_code, str(body.get("message") or exc.message), code=str(code),
        param=str(body.get("param") or ""), type=str(body.get("type") or ""),
        limit=n_ctx if isinstance(n_ctx, int) else None,
    )  # fmt: skip


def context_limit(refusal: Refusal, profile: Profile) -> int | None | Literal[False]:
    """For a request too long for the model: the limit it names (None when it names none); False otherwise."""
    if not any(marker in refusal.text for marker in profile.context_error):
        return False
    found = _CONTEXT_LIMIT.search(refusal.message.lower())
    return int(found.group(1)) if found else refusal.limit


@dataclass
class Shape:
    """The parameters every request of the run is built with; `version` changes with every adaptation."""

    profile: Profile
    model: str
    forms: list[StructuredForm]
    token_param: str | None
    send_temperature: bool
    dropped: set[str] = field(default_factory=set)
    changes: list[str] = field(default_factory=list)
    version: int = 0

    @classmethod
    def start(cls, profile: Profile, model: str, response_format: str) -> Shape:
        """The profile's first choice, or only the form asked for (`auto`: the profile's forms, best first)."""
        if response_format == "auto":
            forms: list[StructuredForm] = list(profile.structured)
        else:
            forms = [response_format, "text"] if response_format != "text" else ["text"]  # type: ignore[list-item]
        return cls(profile, model, forms, profile.token_param, profile.temperature_allowed)

    @property
    def form(self) -> StructuredForm:
        """The structured-output form requests are sent with now."""
        return self.forms[0]

    def body(
        self, messages: list[dict[str, str]], schema: dict[str, Any] | None, temperature: float, max_tokens: int | None
    ) -> dict[str, Any]:
        """The request body (without `model`) for these messages in the current shape."""
        body: dict[str, Any] = {"messages": messages if self.profile.system_messages else _no_system(messages)}
        if self.send_temperature and "temperature" not in self.dropped:
            body["temperature"] = min(temperature, self.profile.max_temperature)
        if max_tokens is not None and self.token_param is not None:
            body[self.token_param] = max_tokens
        if schema is not None and self.form == "json_schema":
            body["response_format"] = {
                "type": "json_schema", "json_schema": {"name": SCHEMA_NAME, "schema": schema, "strict": False},
            }  # fmt: skip
        elif schema is not None and self.form == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body

    def adapt(self, refusal: Refusal, sent: dict[str, Any]) -> bool:
        """Change the shape as the refusal of `sent` asks; False when it is not about a parameter (a real error)."""
        param = _refused_param(refusal, sent)
        if param is None:
            return False
        if param == "response_format":
            return self._step_down(refusal)
        if param in _TOKEN_PARAMS:
            other = _TOKEN_PARAMS[1 - _TOKEN_PARAMS.index(param)]
            self.token_param = other if other in refusal.text else None
            self._note(f"sent {other} instead of {param}" if self.token_param else f"sent no {param}")
        elif param == "temperature":
            self.send_temperature = False
            self._note("temperature left at the default")
        else:
            self.dropped.add(param)
            self._note(f"{param} not sent")
        return True

    def _step_down(self, refusal: Refusal) -> bool:
        if len(self.forms) < 2:
            return False
        refused = self.forms.pop(0)
        then = "the answer's shape asked for in the prompt only" if self.form == "text" else f"sent {self.form}"
        self._note(f"response_format {refused} refused; {then}")
        return True

    def _note(self, change: str) -> None:
        self.changes.append(change)
        self.version += 1


def _refused_param(refusal: Refusal, sent: dict[str, Any]) -> str | None:
    """The sent parameter a 400 refuses, if it refuses one; `response_format` also when only its value is named."""
    if refusal.status not in (400, 422):
        return None
    text = refusal.text
    candidates = [k for k in sent if k not in ("messages", "model")]
    if refusal.param in candidates:
        named = refusal.param
    else:
        quoted = [q for q in _QUOTED.findall(refusal.message) if q in candidates]
        named = quoted[0] if quoted else next((k for k in candidates if k in text), "")
    if "response_format" in sent and (named == "response_format" or "json_schema" in text or "json_object" in text):
        return "response_format"
    if named and (
        refusal.code in ("unsupported_parameter", "unsupported_value") or any(w in text for w in _REFUSED_WORDS)
    ):
        return named
    return None


def _no_system(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """Messages for an endpoint without a system role: the system text leads the first user message."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if system and rest:
        rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
    return rest
