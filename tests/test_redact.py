from __future__ import annotations

import pytest

from agentmortem.judges.redact import Redactions, redact_text, redact_trace
from judge_helpers import make_trace

SECRETS = {
    "openai-key": "export OPENAI_API_KEY=sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "anthropic-key": "key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz012345",
    "aws-key": "aws id AKIAIOSFODNN7EXAMPLE in config",
    "aws-secret": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "github-token": "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "google-api-key": "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "private-key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----",
    "url-password": "postgres://admin:s3cr3tPass@db.internal:5432/app",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "bearer-token": "curl -H 'Authorization: Bearer abcdef0123456789abcdef0123'",
    "password": "db_password=correcthorse",
}


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_each_kind_of_secret_becomes_its_typed_placeholder(kind: str) -> None:
    tally = Redactions()
    text = redact_text(SECRETS[kind], tally)
    assert f"[REDACTED:{kind}]" in text
    assert tally.counts[kind] >= 1


def test_context_around_a_secret_stays_readable() -> None:
    assert redact_text("postgres://admin:s3cr3tPass@db:5432") == "postgres://admin:[REDACTED:url-password]@db:5432"
    assert redact_text("password: hunter2x") == "password: [REDACTED:password]"


def test_plain_text_is_left_alone() -> None:
    text = "kubectl get pods -n otel-demo; the password policy requires rotation; sk-short"
    tally = Redactions()
    assert redact_text(text, tally) == text
    assert tally.total == 0


def test_redaction_is_idempotent() -> None:
    once = redact_text(SECRETS["password"] + " " + SECRETS["aws-key"])
    tally = Redactions()
    assert redact_text(once, tally) == once
    assert tally.total == 0


def test_trace_redaction_keeps_every_step_index_and_counts() -> None:
    trace = make_trace("t", ["hello", SECRETS["aws-key"], "no secret", SECRETS["jwt"] + " " + SECRETS["password"]])
    redacted, tally = redact_trace(trace)
    assert [s.index for s in redacted.steps] == [s.index for s in trace.steps]
    assert redacted.steps[0].content == "hello"
    assert "AKIA" not in redacted.steps[1].content
    assert tally.total == 3
    assert "AKIA" in trace.steps[1].content  # the original is not modified
