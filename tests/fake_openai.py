"""A fake OpenAI-compatible chat-completions server on a real 127.0.0.1 socket, for tests and benchmarks.

It answers `POST /v1/chat/completions` with the JSON the official `openai` client expects (including `usage` with
`prompt_tokens_details.cached_tokens`), and `GET /v1/models`. Given a family's `Rules` (fake_families.py) it enforces
that family's documented request rules and answers refusals in that family's error shape: the key, the model or
Azure deployment and api-version, refused parameters and values, response_format types, the context length.

Verdicts are scripted by a callable that sees the parsed request; faults are
injected from a queue: HTTP status codes with headers (429 + Retry-After, 500), hangs longer than the client's
timeout, dropped connections, truncated bodies, prose answers and truncated JSON answers. Every request that reaches
the server is kept in `requests`, so a test can assert exactly what left the client.

The serving core is one asyncio event loop in a background thread speaking just enough HTTP/1.1 for the `openai`
client (request line, headers, Content-Length or chunked bodies, keep-alive, `Connection: close`). A thread per
connection cost every request tens of milliseconds of thread switching on a 2-core machine at concurrency 32,
which the judge benchmark then charged to the client. Verdict callables run on a small thread pool, so a slow one
delays only its own answer, and one that raises turns into a 500 instead of a hung connection.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson
import pytest

from fake_families import FAMILIES, Rules

STEP_LINE = re.compile(r"^\[step (\d+)\] ([^:\n]*): ?(.*)$", re.MULTILINE)
MODE_ID = re.compile(r"\bFM-\d+\.\d+\b")
BACKLOG = 256  # the default of 100 (5 for socketserver) drops bursts of connects, which then wait a SYN retry
READ_LIMIT = 1 << 20  # longest header line accepted; bodies are read by length and are not bound by it
STOP_GRACE = 5.0  # seconds stop() waits for the loop thread before giving up on it


@dataclass
class Fault:
    """One injected misbehaviour: 'status', 'hang', 'drop', 'truncated-body', 'prose', 'truncated-json', and the
    answer shapes 'fenced' (JSON in a fence after prose), 'length' (cut at the budget), 'refusal',
    'reasoning-only' (empty content, the text in reasoning_content)."""

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
    method: str = "POST"
    status: int = 200
    """The status the fake answered with (set once it is decided)."""
    latency: float = 0.0
    """The latency applied to this request, read when it arrived."""

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


class BadRequest(Exception):
    """The bytes on the wire are not an HTTP request this server understands; answered with 400 and a close."""


@dataclass
class _Wire:
    """One parsed HTTP request: what the handler needs beyond `Received`."""

    method: str
    path: str
    version: str
    headers: dict[str, str]
    body: bytes
    ready_at: float  # loop time at which the answer is due: arrival + latency
    latency: float

    @property
    def keep_alive(self) -> bool:
        """Whether the client wants the connection kept open after this exchange."""
        connection = self.headers.get("connection", "").lower()
        return "close" not in connection and (self.version != "HTTP/1.0" or "keep-alive" in connection)


class FakeOpenAI:
    """The server and its scripting knobs; start with `start()`, stop with `stop()`."""

    def __init__(
        self, *, verdict: Verdict = all_absent, latency: float = 0.0, model_echo: bool = True, family: str | None = None
    ) -> None:
        self.verdict = verdict
        self.rules: Rules | None = FAMILIES[family] if family is not None else None
        self.latency = latency
        self.model_echo = model_echo
        self.faults: list[Fault] = []
        self.fault_rule: Callable[[int], Fault | None] | None = None
        self.reject_response_format = False
        self.requests: list[Received] = []
        self.cached_tokens = 0
        self._lock = threading.Lock()
        self._count = 0
        # Bound now so `base_url` is known before `start()`; the loop takes the socket over when it starts.
        self._socket = socket.create_server(("127.0.0.1", 0), backlog=BACKLOG)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fake-openai-loop", daemon=True)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fake-openai-verdict")
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        """The `/v1` base URL to give the client."""
        host, port = self._socket.getsockname()[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> FakeOpenAI:
        """Serve from an event loop in a background thread; returns once the server accepts connections."""
        self._thread.start()
        self._ready.wait()
        if self._failed is not None:
            raise RuntimeError(f"fake OpenAI server did not start: {self._failed!r}") from self._failed
        return self

    def stop(self) -> None:
        """Shut the server down: close the listener, cut every open connection, join the loop and pool threads."""
        if self._loop is not None and self._stopping is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(STOP_GRACE)
        self._socket.close()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def completions(self) -> list[Received]:
        """Chat-completion requests received so far."""
        with self._lock:
            return [r for r in self.requests if "/chat/completions" in r.path]

    def refused(self) -> list[Received]:
        """Requests answered with a 4xx or 5xx status."""
        with self._lock:
            return [r for r in self.requests if r.status >= 400]

    def record(self, request: Received, *, faults: bool = True) -> tuple[int, Fault | None]:
        """Log a request and decide which fault (if any) applies to it."""
        with self._lock:
            self.requests.append(request)
            if not faults:
                return -1, None
            number = self._count
            self._count += 1
            fault = self.faults.pop(0) if self.faults else None
        if fault is None and self.fault_rule is not None:
            fault = self.fault_rule(number)
        return number, fault

    # -- the event loop ------------------------------------------------------------------------------------------

    def _run(self) -> None:
        """Thread body: `asyncio.run` cancels leftovers and closes the loop, so nothing is left pending."""
        try:
            asyncio.run(self._serve())
        except Exception as exc:  # reported to start() instead of dying silently in a thread
            self._failed = exc
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        """Accept connections until `stop()` sets the stopping event, then cut the open ones."""
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._connection, sock=self._socket, backlog=BACKLOG, limit=READ_LIMIT)
        self._ready.set()
        await self._stopping.wait()
        server.close()
        for task in list(self._connections):
            task.cancel()  # hangs and idle keep-alive connections would otherwise outlive stop()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one keep-alive connection, one request after another, until either side closes it."""
        task = asyncio.current_task()
        assert task is not None  # a connection callback always runs inside its own task
        self._connections.add(task)
        try:
            while await self._exchange(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away mid-request; there is nobody left to answer
        except BadRequest as exc:
            _write(writer, 400, {"error": {"message": str(exc), "type": "bad_request"}}, close=True)
        except asyncio.CancelledError:
            # Only stop() cancels these. Ending normally rather than cancelled keeps Python 3.11's stream callback,
            # which calls task.exception() on the finished task, from logging a CancelledError "in callback".
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read one request and answer it; False when the connection is to be closed afterwards."""
        wire = await _read_request(reader, writer, lambda: self.latency)
        if wire is None:
            return False
        if wire.method not in ("POST", "GET"):
            await _sleep_until(wire.ready_at)
            _write(writer, 501, {"error": {"message": f"method {wire.method!r} is not supported"}}, close=True)
            return False
        request = Received(wire.path, wire.headers, _json_body(wire.body), method=wire.method, latency=wire.latency)
        if wire.method == "GET":
            self.record(request, faults=False)
            await _sleep_until(wire.ready_at)
            status, payload = self._get(request)
            request.status = status
            _write(writer, status, payload)
            await writer.drain()
            return wire.keep_alive
        _, fault = self.record(request)
        refusal = enforce(self.rules, request) if self.rules is not None else None
        if refusal is not None:
            request.status = refusal[0]
            await _sleep_until(wire.ready_at)
            _write(writer, *refusal)
            await writer.drain()
            return wire.keep_alive
        keep_open = await self._answer(writer, request, fault, wire)
        await writer.drain()
        return keep_open and wire.keep_alive

    def _get(self, request: Received) -> tuple[int, Any]:
        """GET /models (and /models/{id}) as the family documents it; without rules an empty list."""
        rules = self.rules
        if rules is not None and (denied := _check_key(rules, request)) is not None:
            return denied
        if not request.path.split("?")[0].rstrip("/").endswith("/models") or (
            rules is not None and not rules.models_route
        ):
            body = rules.error(404, "Not found") if rules is not None else {"error": {"message": "Not found"}}
            return 404, body
        ids = list(rules.listed or sorted(rules.models or ())) if rules is not None else []
        return 200, {"object": "list", "data": [{"id": i, "object": "model", "created": 0, "owned_by": "fake"}
                                                for i in ids]}  # fmt: skip

    async def _answer(self, writer: asyncio.StreamWriter, request: Received, fault: Fault | None, wire: _Wire) -> bool:
        """Script the answer, wait for `ready_at`, send it (or misbehave); False when the connection must close."""
        response: dict[str, Any] = {}
        if fault is None or fault.kind in ANSWER_FAULTS:
            try:  # scripted before the wait, so the server's own work is inside the latency
                response = await self._script(request, fault)
            except Exception as exc:  # a broken test verdict must answer, not hang the client
                await _sleep_until(wire.ready_at)
                _write(writer, 500, {"error": {"message": f"verdict raised {exc!r}", "type": "fake_server"}})
                return True
        await _sleep_until(wire.ready_at)
        return await self._deliver(writer, request, fault, response)

    async def _script(self, request: Received, fault: Fault | None) -> dict[str, Any]:
        """The completion for a request, built on the pool: a test's verdict may be slow, and the loop must not wait."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, _completion, self, request, fault)

    async def _deliver(
        self, writer: asyncio.StreamWriter, request: Received, fault: Fault | None, response: dict[str, Any]
    ) -> bool:
        """Send the scripted answer or act out the fault; False when the connection must close."""
        if fault is not None and fault.kind == "status":
            request.status = fault.status
            _write(writer, fault.status, {"error": {"message": f"injected {fault.status}"}}, headers=fault.headers)
        elif fault is not None and fault.kind == "hang":
            await asyncio.sleep(fault.seconds)
            return False
        elif fault is not None and fault.kind == "drop":
            return False  # closed by the caller with nothing written: the client sees a disconnect
        elif fault is not None and fault.kind == "truncated-body":
            body = orjson.dumps(response)  # Content-Length promises the whole body; half of it arrives
            writer.write(_head(200, len(body), {}, close=True) + body[: len(body) // 2])
            return False
        elif self.reject_response_format and "response_format" in request.body:
            request.status = 400
            _write(writer, 400, {"error": {"message": "response_format is not supported", "type": "invalid"}})
        else:
            _write(writer, 200, response)
        return True


ANSWER_FAULTS = ("prose", "truncated-json", "truncated-body", "fenced", "length", "refusal", "reasoning-only")


def enforce(rules: Rules, request: Received) -> tuple[int, Any] | None:
    """The refusal (status, body) the family answers this chat request with, or None when it accepts it."""
    body = request.body
    if (denied := _check_key(rules, request)) is not None:
        return denied
    model = body.get("model", "")
    if rules.azure:
        path, _, query = request.path.partition("?")
        parts = path.strip("/").split("/")
        if "api-version=" not in query or parts[:2] != ["openai", "deployments"] or len(parts) < 5:
            return 404, {"error": {"code": "404", "message": "Resource not found"}}
        model = parts[2]
    if rules.models is not None and model not in rules.models:
        if rules.azure:
            return 404, {"error": {"code": "DeploymentNotFound", "message": "The API deployment for this resource "
                                   "does not exist."}}  # fmt: skip
        message = f"The model `{model}` does not exist or you do not have access to it."
        return 404, rules.error(404, message, code="model_not_found")
    for param, (code, message) in rules.refused_params.items():
        if param in body:
            return 400, rules.error(400, message, code=code, param=param)
    temperature = body.get("temperature")
    if rules.temperature == "default-only" and temperature is not None and temperature != 1:
        message = (f"Unsupported value: 'temperature' does not support {temperature} with this model. Only the "
                   "default (1) value is supported.")  # fmt: skip
        return 400, rules.error(400, message, code="unsupported_value", param="temperature")
    form = (body.get("response_format") or {}).get("type")
    if form not in (None, "text") and not rules.ignores_response_format and form not in rules.forms:
        return 400, rules.error(400, rules.form_refusal.format(type=form), param="response_format")
    tokens = max(1, len(request.text) // 4)
    if rules.context_limit is not None and tokens > rules.context_limit:
        message = rules.context_message.format(limit=rules.context_limit, tokens=tokens)
        error = rules.error(400, message, code=rules.context_code, param="messages")
        if rules.error_shape == "llamacpp":  # llama-server adds the sizes to its error object
            error["error"].update(n_prompt_tokens=tokens, n_ctx=rules.context_limit)
        return 400, error
    return None


def _check_key(rules: Rules, request: Received) -> tuple[int, Any] | None:
    if rules.key is None:
        return None
    sent = request.headers.get(rules.key_header, "")
    if rules.key_header == "authorization":
        sent = sent.removeprefix("Bearer ")
    if sent != rules.key:
        return 401, rules.error(401, "Incorrect API key provided.", code="invalid_api_key")
    return None


async def _read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: Callable[[], float]
) -> _Wire | None:
    """The next request on the connection, or None when the client closed it between requests."""
    line = await reader.readline()
    while line in (b"\r\n", b"\n"):  # stray line breaks between requests are allowed and ignored
        line = await reader.readline()
    if not line:
        return None
    # `latency` runs from the request's arrival, like a model endpoint's: reading and parsing happen inside it. It is
    # read now, not when the connection opened, so a test may change it between requests on a kept-alive connection.
    delay = latency()
    ready_at = asyncio.get_running_loop().time() + delay
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise BadRequest(f"bad request line {line[:80]!r}")
    headers = await _read_headers(reader)
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = await _read_body(reader, headers)
    return _Wire(parts[0].upper(), parts[1], parts[2], headers, body, ready_at, delay)


async def _read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    """Header fields up to the blank line, names lower-cased (as `Received.headers` has always had them)."""
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            return headers
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise BadRequest(f"bad header line {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    """The request body, by Content-Length or by chunks."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunks(reader)
    length = headers.get("content-length", "0")
    if not length.isdigit():
        raise BadRequest(f"bad Content-Length {length!r}")
    return await reader.readexactly(int(length))


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    """A chunked body: hex size lines, each followed by that many bytes and CRLF, ending at size 0 and trailers."""
    chunks: list[bytes] = []
    while True:
        size_line = (await reader.readline()).split(b";")[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise BadRequest(f"bad chunk size {size_line[:20]!r}") from None
        if size == 0:
            await _read_headers(reader)  # trailers, discarded
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _json_body(raw: bytes) -> dict[str, Any]:
    """The request body as JSON (an empty body counts as `{}`)."""
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest(f"request body is a JSON {type(body).__name__}, not an object")
    return body


async def _sleep_until(ready_at: float) -> None:
    """Wait until the loop time `ready_at` (at once if it has passed)."""
    await asyncio.sleep(max(0.0, ready_at - asyncio.get_running_loop().time()))


def _head(status: int, length: int, headers: dict[str, str], *, close: bool = False) -> bytes:
    """Status line and header block of a JSON response."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json", f"Content-Length: {length}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _write(
    writer: asyncio.StreamWriter,
    status: int,
    payload: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    close: bool = False,
) -> None:
    """Queue a whole JSON response on the connection (the caller drains)."""
    body = orjson.dumps(payload)
    writer.write(_head(status, len(body), headers or {}, close=close) + body)


def _completion(fake: FakeOpenAI, request: Received, fault: Fault | None) -> dict[str, Any]:
    answer = fake.verdict(request)
    content = answer if isinstance(answer, str) else orjson.dumps(answer).decode()
    if fault is not None and fault.kind == "prose":
        content = "After careful reading, I believe the agent mostly did fine and no failure modes stand out."
    elif fault is not None and fault.kind == "truncated-json":
        content = content[: len(content) // 2]
    elif fault is not None and fault.kind == "fenced":
        content = f"Here is my assessment of the trace.\n\n```json\n{content}\n```\nLet me know if you need more."
    elif fault is not None and fault.kind == "length":
        content = content[: len(content) // 3]
    rules = fake.rules
    prompt_tokens = max(1, len(request.text) // 4)
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if fault is not None and fault.kind == "refusal":
        message = {"role": "assistant", "content": None, "refusal": "I'm sorry, I can't help with that request."}
    elif (fault is not None and fault.kind == "reasoning-only") or (rules is not None and rules.reasoning_content):
        message = {"role": "assistant", "content": "", "reasoning_content": content}
    reasoning = rules.reasoning_tokens if rules is not None else 0
    completion_tokens = max(1, len(content) // 4) + reasoning
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }  # fmt: skip
    if rules is None or rules.cached_usage:
        usage["prompt_tokens_details"] = {"cached_tokens": min(fake.cached_tokens, prompt_tokens)}
    if reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    cut = fault is not None and fault.kind in ("truncated-json", "length")
    return {
        "id": f"chatcmpl-fake-{len(fake.requests)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.body.get("model", "fake") if fake.model_echo else "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": "length" if cut else "stop"}],
        "usage": usage,
    }


def family_server(family: str, **options: Any) -> FakeOpenAI:
    """A started fake server enforcing `family`'s rules (the caller stops it)."""
    return FakeOpenAI(family=family, **options).start()


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAI]:
    """A started fake server, stopped after the test."""
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()
