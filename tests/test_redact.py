"""Redaction: every planted secret shape is caught, code and prose about secrets are left alone."""

from __future__ import annotations

import pytest

from agentmortem.judges.redact import Redactions, redact_text, redact_trace
from agentmortem.readers import ReadError, read_traces
from conftest import shared_data
from judge_helpers import make_trace

# Realistic shapes, made up here (none is a live credential): (kind, text, the secret that must disappear).
PLANTED = [
    ("openai-key", "export OPENAI_API_KEY=sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "sk-proj-AbCdEfGhIj"),
    ("openai-key", "client = OpenAI(api_key='sk-9f8e7d6c5b4a39281706f5e4d3c2b1a0A1B2C3D4E5F6G7H8')", "sk-9f8e7d6c5b4a"),
    ("openai-key", "OPENAI_API_KEY: sk-svcacct-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe", "sk-svcacct-Zx9Y"),
    ("anthropic-key", "key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz012345-_aBcDeF", "sk-ant-api03-AbCd"),
    ("anthropic-key", '{"x-api-key": "sk-ant-admin01-Q1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHh"}', "sk-ant-admin01-Q1w2"),
    ("aws-key", "aws id AKIAIOSFODNN7EXAMPLE in config", "AKIAIOSFODNN7EXAMPLE"),
    ("aws-key", "AWS_ACCESS_KEY_ID=ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A"),
    ("aws-secret", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG"),
    ("aws-secret", 'AWS_SECRET_ACCESS_KEY="je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"', "je7MtGbClwBF/2Zp9Utk"),
    ("github-token", "git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r", "ghp_abcdefghij"),
    ("github-token", "GH_TOKEN=gho_16C7e42F292c6912E7710c838347Ae178B4a", "gho_16C7e42F292c"),
    (
        "github-token",
        "token github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXy",
        "github_pat_11ABCDEFG0",
    ),
    ("slack-token", "SLACK_BOT_TOKEN=xoxb-2048576093-4096173852017-Q8sYtWxZ1a2B3c4D5e6F7g8H", "xoxb-2048576093"),
    ("slack-token", "slack: xoxp-1234567890-0987654321-1122334455-abcdef0123456789", "xoxp-1234567890"),
    ("google-api-key", "https://maps.googleapis.com/maps/api?key=AIzaSyA1234567890abcdefghijklmnopqrstuv", "AIzaSyA12"),
    ("huggingface-token", "HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567", "hf_AbCdEfGhIj"),
    ("stripe-key", "stripe.api_key = 'sk_live_51H8xYzAbCdEfGhIjKlMnOpQr'", "sk_live_51H8x"),
    (
        "jwt",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "dozjgNryP4J3jVmNHl0w5N",
    ),
    (
        "private-key",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7xQ2\nq9Lm+/8=\n-----END RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEA7xQ2",
    ),
    (
        "private-key",
        "cat ~/.ssh/id_ed25519\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRI",
        "b3BlbnNzaC1rZXktdjEAAAAA",
    ),
    (
        "private-key",
        '"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----\\n"',
        "MIIEvQIBADANBg",
    ),
    ("bearer-token", "curl -H 'Authorization: Bearer abcdef0123456789abcdef0123' https://api", "abcdef0123456789"),
    ("bearer-token", '{"headers": {"Authorization": "Bearer 9a8b7c6d5e4f3a2b1c0d9e8f"}}', "9a8b7c6d5e4f3a2b1c0d"),
    ("basic-auth", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
    ("url-password", "postgres://admin:s3cr3tPass@db.internal:5432/app", "s3cr3tPass"),
    ("url-password", "REDIS_URL=redis://:p4ssw0rd-Redis@cache:6379/0", "p4ssw0rd-Redis"),
    ("url-password", "mongodb+srv://svc_user:Xy7%21qRt9@cluster0.mongodb.net/db", "Xy7%21qRt9"),
    ("password", "db_password=c0rrect-h0rse", "c0rrect-h0rse"),  # env file
    ("password", "export PGPASSWORD='hunter2'", "hunter2"),  # shell
    ("password", "  password: hunter2x\n  user: app", "hunter2x"),  # YAML
    ("password", 'spring.datasource.password="Tr0ub4dor&3"', "Tr0ub4dor&3"),  # properties
    ("password", '{"user": "app", "password": "Tr0ub4dor&3"}', "Tr0ub4dor&3"),  # JSON
    ("password", '{"cmd": "login --user app --password \\"S3cure!Pass\\""}', "S3cure!Pass"),  # JSON-escaped shell
    ("password", "mysql --user=root --password=Sup3r-S3cret db", "Sup3r-S3cret"),  # shell flag
    ("password", "vault login --token s.8fJ2kLm9PqRsT4uV", "s.8fJ2kLm9PqRsT4uV"),
    ("password", 'password = "securepassword"  # a literal, whatever it spells', "securepassword"),  # Python
    ("password", "self.client_secret = 'a1b2c3d4e5f6a7b8'", "a1b2c3d4e5f6a7b8"),
    ("password", "API_KEY = '3f9a7c2e-41d8-4b6a-9e2f-7c1d8a5b3e90'", "3f9a7c2e-41d8"),
    ("password", "kubectl create secret generic db --from-literal=password=S3cr3t!", "S3cr3t!"),
    ("password", "Set ACCESS_TOKEN: 4f8d2a9c1e7b3f6d0a5c in the env", "4f8d2a9c1e7b3f6d0a5c"),
]

# Code and prose about secrets, none of them a secret: every one must come out unchanged.
NOT_SECRETS = [
    "def generate_key(password: str) -> bytes:",
    'password = getpass("Enter password: ")',
    "password = args.password",
    "vault[site] = {'username': username, 'password': password}",
    "API_KEY = 'YOUR_API_KEY_HERE'  # Replace YOUR_API_KEY_HERE with your key",
    'api_key = "YOUR_API_KEY"',
    "params = {'symbol': ticker_symbol, 'apikey': API_KEY}",
    'api_key = os.environ["OPENAI_API_KEY"]',
    'api_key = os.getenv("OPENAI_API_KEY")',
    "auth_token: Optional[str] = None",
    "client_secret: SecretStr",
    "def login(user: str, password: str | None = None) -> Session:",
    "conn = connect(host=host, user=user, password=password)",
    "if password == stored_password: return True",
    "ok = password==expected_hash",
    "hashed_password = bcrypt.hashpw(password.encode(), bcrypt.gensalt())",
    "client_secret = config.client_secret",
    'headers = {"Authorization": f"Bearer {token}"}',
    "DB_PASSWORD=${DB_PASSWORD}",
    'password: "${POSTGRES_PASSWORD}"',
    "password: <your-password>",
    "password: ********",
    'password = ""',
    "postgres://user:${PGPASSWORD}@db/app",
    "https://user:password@example.com is the form of a URL with credentials",
    'print(f"password: {password}")',
    "The password policy requires rotation; secret: none configured yet.",
    "Reset your password: click the link we sent.",
    "max_tokens=100, token_count: 0, sk-short",
    "the bearer tokens are checked by the middleware",
    "kubectl get pods -n otel-demo; kubectl get secret db-credentials -o name",
    "--password-stdin reads the password from standard input",
]


@pytest.mark.parametrize(("kind", "text", "secret"), PLANTED, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(PLANTED)])
def test_every_planted_secret_becomes_its_typed_placeholder(kind: str, text: str, secret: str) -> None:
    tally = Redactions()
    redacted = redact_text(text, tally)
    assert f"[REDACTED:{kind}]" in redacted
    assert secret not in redacted
    assert tally.counts[kind] >= 1


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_code_and_prose_about_secrets_stay_as_they_are(text: str) -> None:
    tally = Redactions()
    assert redact_text(text, tally) == text
    assert tally.total == 0


def test_context_around_a_secret_stays_readable() -> None:
    assert redact_text("postgres://admin:s3cr3tPass@db:5432") == "postgres://admin:[REDACTED:url-password]@db:5432"
    assert redact_text("password: hunter2x") == "password: [REDACTED:password]"
    assert redact_text("password = 'password123'") == "password = '[REDACTED:password]'"
    bearer = "Authorization: Bearer abcdef0123456789abcdef"
    assert redact_text(bearer) == "Authorization: Bearer [REDACTED:bearer-token]"


def test_redaction_is_idempotent() -> None:
    once = redact_text(" ".join(text for _, text, _ in PLANTED))
    tally = Redactions()
    assert redact_text(once, tally) == once
    assert tally.total == 0


def test_the_prefilter_changes_nothing_on_planted_and_harmless_texts() -> None:
    for text in [t for _, t, _ in PLANTED] + NOT_SECRETS:
        assert redact_text(text) == redact_text(text, prefilter=False)


def test_trace_redaction_keeps_every_step_index_and_counts() -> None:
    aws, jwt = PLANTED[5][1], PLANTED[17][1]
    trace = make_trace("t", ["hello", aws, "no secret", jwt + " db_password=c0rrect-h0rse"])
    redacted, tally = redact_trace(trace)
    assert [s.index for s in redacted.steps] == [s.index for s in trace.steps]
    assert redacted.steps[0].content == "hello"
    assert "AKIA" not in redacted.steps[1].content
    assert tally.total == 3
    assert "AKIA" in trace.steps[1].content  # the original is not modified


_TRACE_SOURCES = [
    ("mad-openai/ag2_gpt4o.jsonl", "openai"),
    ("mad-openai/metagpt_gpt4o.jsonl", "openai"),
    ("mad-original", None),
    ("itbench/agent_outputs", "codex"),
]
_TRACE_FILES = [
    "mad-openai/ag2_gpt4o.jsonl",
    "mad-openai/metagpt_gpt4o.jsonl",
    "itbench/agent_outputs/2/1/sessions/rollout-2026-01-15T12-15-06-diagnosis.jsonl",
]


def _shared_texts() -> list[str]:
    """Every text redaction sees in the shared real data (step contents, tool arguments, tasks), and the raw text of
    every other file there (labels, ground truths, configs, agent outputs, READMEs)."""
    root = shared_data()
    errors: list[ReadError] = []
    traces = [t for source, fmt in _TRACE_SOURCES for t in read_traces([root / source], errors, format=fmt)]
    assert len(traces) > 500 and not errors
    texts = [t.task or "" for t in traces] + [s.content for t in traces for s in t.steps]
    texts += [s.tool_args for t in traces for s in t.steps if s.tool_args is not None]
    read_as_traces = {root / name for name in _TRACE_FILES} | set((root / "mad-original").iterdir())
    others = [p for p in sorted(root.rglob("*")) if p.is_file() and p not in read_as_traces]
    assert len(others) >= 10
    return texts + [p.read_text(errors="replace") for p in others]


def test_the_prefilter_is_byte_identical_on_all_shared_data() -> None:
    texts = _shared_texts()
    with_prefilter, without = Redactions(), Redactions()
    changed = 0
    for text in texts:
        redacted = redact_text(text, with_prefilter)
        assert redacted == redact_text(text, without, prefilter=False)
        changed += redacted != text
    assert with_prefilter.counts == without.counts
    assert changed > 0  # the data holds secrets in form, so the comparison covers real replacements


def test_every_redaction_in_the_mad_data_is_a_literal_value() -> None:
    # Reviewed by hand (docs/redaction.md): the MAD traces hold no live credential, 22 password literals in test
    # code (`password = "password123"`), and code about passwords (`password: str`, `getpass(`) that must stay.
    errors: list[ReadError] = []
    source = shared_data("mad-openai", "metagpt_gpt4o.jsonl")
    tally = Redactions()
    redacted = [redact_text(s.content, tally) for t in read_traces([source], errors, format="openai") for s in t.steps]
    assert dict(tally.counts) == {"password": 22}
    literals = sum(text.count('"[REDACTED:password]"') + text.count("'[REDACTED:password]'") for text in redacted)
    assert literals == 22
    assert sum(text.count("password: str") for text in redacted) == 4
