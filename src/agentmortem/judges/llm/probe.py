"""Fail fast, before spending: one cheap request checks that the endpoint answers, the key works, the model exists.

A run that cannot work ends here with one line naming the URL, the model, where the key came from (never the key)
and what to do; a missing key for a hosted endpoint is caught before anything is sent.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

import openai

from agentmortem.judges.llm.client import ChatClient, RequestFailed, RetryPolicy
from agentmortem.judges.llm.providers import Resolved

ONE_ATTEMPT = RetryPolicy(max_attempts=1, wait_scale=0.0)
_SHOWN_MODELS = 5


class EndpointUnusable(Exception):
    """The endpoint cannot serve this run; the message is the one line to show."""


@dataclass(frozen=True)
class KeySource:
    """Where the API key came from: an environment variable (set or not), an argument, or nowhere."""

    env: str | None
    found: bool
    from_argument: bool = False

    def describe(self) -> str:
        """Words for the message: never the key itself."""
        if self.from_argument:
            return "key given as an argument"
        if self.env is None:
            return "no key (none needed)"
        return f"key from ${self.env}" if self.found else f"no key (${self.env} is not set)"


async def probe(client: ChatClient, resolved: Resolved, key: KeySource) -> None:
    """Raise EndpointUnusable when the run cannot work; return when it can (or when only a retry could tell)."""
    where = f"{client.base_url} with model {client.model!r}"
    if resolved.key_required and not key.found and not key.from_argument:
        env = key.env or resolved.profile.key_env
        raise EndpointUnusable(
            f"cannot use {where}: no API key (${env} is not set); fix: export {env}=... "
            f"or name another variable with --api-key-env"
        )
    try:
        if resolved.profile.probe == "models" and await _listed(client, where, key):
            return
        await client.complete(
            [{"role": "user", "content": "Reply with OK."}], schema=None, temperature=0.0, max_tokens=1,
            retry=ONE_ATTEMPT, first_of_run=False,
        )  # fmt: skip
    except RequestFailed as exc:
        cause = exc.__cause__
        if isinstance(cause, openai.OpenAIError):
            _raise_if_fatal(cause, where, key)


async def _listed(client: ChatClient, where: str, key: KeySource) -> bool:
    """True when GET /models answered and lists the model (or lists nothing to compare with)."""
    try:
        ids = await client.model_ids()
    except openai.NotFoundError:
        return False  # no /models route here: the one-token request below tells instead
    except openai.OpenAIError as exc:
        _raise_if_fatal(exc, where, key)
        return False
    if ids and not any(_same_model(client.model, listed) for listed in ids):
        shown = ", ".join(sorted(ids)[:_SHOWN_MODELS]) + (", ..." if len(ids) > _SHOWN_MODELS else "")
        raise EndpointUnusable(f"cannot use {where}: the endpoint lists no such model; fix: use one of {shown}")
    return True


def _same_model(model: str, listed: str) -> bool:
    """Listed ids may carry a prefix (`models/gemini-…`) or a default tag (`llama3:latest`)."""
    return listed in (model, f"{model}:latest") or listed.endswith(f"/{model}") or model.endswith(f"/{listed}")


def _raise_if_fatal(exc: openai.OpenAIError, where: str, key: KeySource) -> None:
    """Turn an error no retry can cure into EndpointUnusable; leave transient ones (429, 5xx) to the run."""
    reason_fix = _reason_and_fix(exc, key)
    if reason_fix is not None:
        reason, fix = reason_fix
        raise EndpointUnusable(f"cannot use {where}: {reason}; {key.describe()}; fix: {fix}") from exc


def _reason_and_fix(exc: openai.OpenAIError, key: KeySource) -> tuple[str, str] | None:
    if isinstance(exc, openai.APITimeoutError):
        return "no answer within the timeout", "check that the server is up, or raise --timeout"
    if isinstance(exc, openai.APIConnectionError):
        return _connection_reason(exc)
    if isinstance(exc, openai.AuthenticationError):
        what = f"${key.env}" if key.env else "the key"
        return "the key was refused (HTTP 401)", f"check {what}, or name another variable with --api-key-env"
    if isinstance(exc, openai.PermissionDeniedError):
        return "access denied (HTTP 403)", "check that the key may use this model or deployment"
    if isinstance(exc, openai.NotFoundError):
        return "no such model or deployment (HTTP 404)", "check --model (on Azure: the deployment name) and --base-url"
    return None


def _connection_reason(exc: BaseException) -> tuple[str, str]:
    """Why the connection failed, from the exception chain under the client's APIConnectionError."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused", "start the server, or correct --base-url (host and port)"
        if isinstance(seen, socket.gaierror):
            return "host name not found (DNS)", "correct the host in --base-url"
        if isinstance(seen, ssl.SSLError):
            fix = "use the right scheme (http/https) and a trusted certificate"
            return f"TLS error ({getattr(seen, 'reason', None) or seen})", fix
        text = str(seen).lower()
        for marker, reason, fix in _CONNECTION_TEXTS:
            if marker in text:
                return reason, fix
        seen = seen.__cause__ or seen.__context__
    return f"cannot connect ({exc})", "check --base-url and that the server is up"


_CONNECTION_TEXTS = (
    ("connection refused", "connection refused", "start the server, or correct --base-url (host and port)"),
    ("connect call failed", "connection refused", "start the server, or correct --base-url (host and port)"),
    ("name or service not known", "host name not found (DNS)", "correct the host in --base-url"),
    ("nodename nor servname", "host name not found (DNS)", "correct the host in --base-url"),
    ("temporary failure in name resolution", "host name not found (DNS)", "correct the host in --base-url"),
    ("certificate verify failed", "TLS error (certificate)", "use a trusted certificate or the right host"),
    ("wrong version number", "TLS error (is it http, not https?)", "use http:// for a server without TLS"),
)
