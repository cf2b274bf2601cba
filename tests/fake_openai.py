"""A fake OpenAI-compatible chat-completions server on a real 127.0.0.1 socket, for tests and benchmarks.

It answers `POST /v1/chat/completions` with the JSON the official `openai` client expects (including `usage` with
`prompt_tokens_details.cached_tokens`). Verdicts are scripted by a callable that sees the parsed request; faults are
injected from a queue: HTTP status codes with headers (429 + Retry-After, 500), hangs longer than the client's
timeout, dropped connections, truncated bodies, prose answers and truncated JSON answers. Every request that reaches
the server is kept in `requests`, so a test can assert exactly what left the client.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

STEP_LINE = re.compile(r"^\[step (\d+)\] ([^:\n]*): ?(.*)$", re.MULTILINE)
MODE_ID = re.compile(r"\bFM-\d+\.\d+\b")


@dataclass
class Fault:
    """One injected misbehaviour: 'status', 'hang', 'drop', 'truncated-body', 'prose', 'truncated-json'."""

    kind: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 5.0


@dataclass
class Received:
    """A request as the server saw it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def text(self) -> str:
        """All message contents joined, for 'did X reach the server' assertions."""
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))

    @property
    def user_text(self) -> str:
        """Content of the last user message (where the trace goes)."""
        users = [m for m in self.body.get("messages", []) if m.get("role") == "user"]
        return str(users[-1]["content"]) if users else ""


Verdict = Callable[[Received], dict[str, Any] | str]


def steps_in(request: Received) -> dict[int, str]:
    """The `[step N] header: content` lines of the request's trace, by step index (first line of content)."""
    return {int(m.group(1)): m.group(3) for m in STEP_LINE.finditer(request.user_text)}


def mode_ids_in(request: Received) -> list[str]:
    """Mode ids the system prompt lists, in order, without repeats."""
    system = next((str(m["content"]) for m in request.body["messages"] if m["role"] == "system"), "")
    return list(dict.fromkeys(MODE_ID.findall(system)))


def all_absent(request: Received) -> dict[str, Any]:
    """A verdict saying no mode is present, answering every mode the prompt lists."""
    return {
        "summary": f"saw {len(steps_in(request))} steps",
        "task_completed": True,
        "failure_modes": [
            {"id": m, "present": False, "confidence": 0.9, "evidence": [], "explanation": "not seen"}
            for m in mode_ids_in(request)
        ],
    }


class FakeOpenAI:
    """The server and its scripting knobs; start with `start()`, stop with `stop()`."""

    def __init__(self, *, verdict: Verdict = all_absent, latency: float = 0.0, model_echo: bool = True) -> None:
        self.verdict = verdict
        self.latency = latency
        self.model_echo = model_echo
        self.faults: list[Fault] = []
        self.fault_rule: Callable[[int], Fault | None] | None = None
        self.reject_response_format = False
        self.requests: list[Received] = []
        self.cached_tokens = 0
        self._lock = threading.Lock()
        self._count = 0
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The `/v1` base URL to give the client."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> FakeOpenAI:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down."""
        self._server.shutdown()
        self._server.server_close()

    def completions(self) -> list[Received]:
        """Chat-completion requests received so far."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def record(self, request: Received) -> tuple[int, Fault | None]:
        """Log a request and decide which fault (if any) applies to it."""
        with self._lock:
            self.requests.append(request)
            number = self._count
            self._count += 1
            fault = self.faults.pop(0) if self.faults else None
        if fault is None and self.fault_rule is not None:
            fault = self.fault_rule(number)
        return number, fault


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 drops bursts of concurrent connects, which then wait a whole SYN retry.
    request_queue_size = 256


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the base class
            return

        def do_POST(self) -> None:  # noqa: N802 - name fixed by the base class
            # `latency` is the time from the request's arrival to its answer, like a model endpoint's: the
            # server's own work (parsing, scripting the verdict) happens inside it, not on top of it.
            ready_at = time.monotonic() + fake.latency
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, orjson.loads(raw or b"{}"))
            _, fault = fake.record(request)
            self._answer(request, fault, ready_at)

        def _answer(self, request: Received, fault: Fault | None, ready_at: float) -> None:
            answers = fault is None or fault.kind in ("prose", "truncated-json", "truncated-body")
            response = _completion(fake, request, fault) if answers else {}  # scripted before the wait
            time.sleep(max(0.0, ready_at - time.monotonic()))
            if fault is not None and fault.kind == "status":
                self._send(fault.status, {"error": {"message": f"injected {fault.status}"}}, fault.headers)
            elif fault is not None and fault.kind == "hang":
                time.sleep(fault.seconds)
                self.close_connection = True
            elif fault is not None and fault.kind == "drop":
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
            elif fault is not None and fault.kind == "truncated-body":
                body = orjson.dumps(response)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
            elif fake.reject_response_format and "response_format" in request.body:
                self._send(400, {"error": {"message": "response_format is not supported", "type": "invalid"}})
            else:
                self._send(200, response)

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            body = orjson.dumps(payload)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _completion(fake: FakeOpenAI, request: Received, fault: Fault | None) -> dict[str, Any]:
    answer = fake.verdict(request)
    content = answer if isinstance(answer, str) else orjson.dumps(answer).decode()
    if fault is not None and fault.kind == "prose":
        content = "After careful reading, I believe the agent mostly did fine and no failure modes stand out."
    elif fault is not None and fault.kind == "truncated-json":
        content = content[: len(content) // 2]
    prompt_tokens = max(1, len(request.text) // 4)
    return {
        "id": f"chatcmpl-fake-{len(fake.requests)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.body.get("model", "fake") if fake.model_echo else "fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "length" if fault is not None and fault.kind == "truncated-json" else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": max(1, len(content) // 4),
            "total_tokens": prompt_tokens + max(1, len(content) // 4),
            "prompt_tokens_details": {"cached_tokens": min(fake.cached_tokens, prompt_tokens)},
        },
    }


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAI]:
    """A started fake server, stopped after the test."""
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()
