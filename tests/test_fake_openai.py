"""The loopback fake OpenAI server itself: HTTP framing, keep-alive, broken verdicts, and a clean stop."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

import orjson
import pytest

from fake_openai import FakeOpenAI, Fault, Received, all_absent

BODY = orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})


def port_of(server: FakeOpenAI) -> int:
    """The TCP port the server listens on."""
    return int(server.base_url.rsplit(":", 1)[1].split("/")[0])


@pytest.fixture
def connection(fake_server: FakeOpenAI) -> Iterator[tuple[socket.socket, IO[bytes]]]:
    port = port_of(fake_server)
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        yield sock, sock.makefile("rb")
    finally:
        sock.close()


def send(sock: socket.socket, body: bytes = BODY, *, extra: str = "", framing: str = "length") -> None:
    """Write one POST; `framing` is 'length' (Content-Length) or 'chunked' (two chunks)."""
    head = f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}"
    if framing == "chunked":
        half = len(body) // 2
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:half], body[half:]))
        sock.sendall(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + chunks + b"0\r\n\r\n")
    else:
        sock.sendall(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)


def receive(stream: IO[bytes]) -> tuple[int, dict[str, str], Any]:
    """One response: status, lower-cased headers, JSON body."""
    status = int(stream.readline().split()[1])
    headers: dict[str, str] = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.lower()] = value.strip()
    return status, headers, orjson.loads(stream.read(int(headers["content-length"])))


def test_keep_alive_serves_many_requests_and_connection_close_ends_it(connection: Any, fake_server: FakeOpenAI) -> None:
    sock, stream = connection
    for _ in range(3):
        send(sock)
        status, headers, body = receive(stream)
        assert status == 200 and body["choices"][0]["message"]["role"] == "assistant"
        assert "connection" not in headers
    send(sock, extra="Connection: close\r\n")
    assert receive(stream)[0] == 200
    assert stream.read(1) == b""  # the server closed its side
    assert len(fake_server.completions()) == 4


def test_chunked_bodies_are_reassembled(connection: Any, fake_server: FakeOpenAI) -> None:
    sock, stream = connection
    send(sock, framing="chunked")
    assert receive(stream)[0] == 200
    assert fake_server.completions()[0].body == orjson.loads(BODY)


def test_garbage_is_a_400_naming_the_problem_and_a_close(connection: Any, fake_server: FakeOpenAI) -> None:
    sock, stream = connection
    send(sock, b"{not json")
    status, headers, body = receive(stream)
    assert status == 400 and "not JSON" in body["error"]["message"] and headers["connection"] == "close"
    assert stream.read(1) == b"" and fake_server.requests == []


def test_status_faults_carry_their_headers_and_keep_the_connection(connection: Any, fake_server: FakeOpenAI) -> None:
    sock, stream = connection
    fake_server.faults = [Fault("status", 429, {"Retry-After": "7"})]
    send(sock)
    status, headers, _ = receive(stream)
    assert status == 429 and headers["retry-after"] == "7"
    send(sock)
    assert receive(stream)[0] == 200


def test_a_raising_verdict_is_a_500_not_a_hang(connection: Any, fake_server: FakeOpenAI) -> None:
    def broken(_request: Received) -> dict[str, Any]:
        raise ValueError("no verdict today")

    sock, stream = connection
    fake_server.verdict = broken
    send(sock)
    status, _, body = receive(stream)
    assert status == 500 and "no verdict today" in body["error"]["message"]
    fake_server.verdict = all_absent
    send(sock)
    assert receive(stream)[0] == 200  # same connection, still usable


def test_a_slow_verdict_does_not_stall_other_connections(fake_server: FakeOpenAI) -> None:
    release = threading.Event()

    def slow_for_one(request: Received) -> dict[str, Any]:
        if "slow" in request.user_text:
            release.wait(10)  # held until the fast request has been answered, which proves the loop kept going
        return all_absent(request)

    fake_server.verdict = slow_for_one
    port = port_of(fake_server)
    slow, fast = (socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2))
    try:
        send(slow, orjson.dumps({"messages": [{"role": "user", "content": "slow"}]}))
        while not fake_server.requests:
            time.sleep(0.01)
        send(fast)
        assert receive(fast.makefile("rb"))[0] == 200  # times out (and fails) if the slow verdict blocks the loop
        release.set()
        assert receive(slow.makefile("rb"))[0] == 200
    finally:
        release.set()
        slow.close()
        fast.close()


def test_latency_is_read_when_each_request_arrives(connection: Any, fake_server: FakeOpenAI) -> None:
    # The connection is already open (and waiting for a request line) when the latency changes: the request must
    # still get the new latency, and the next one on the same kept-alive connection the one set after it.
    sock, stream = connection
    send(sock)
    receive(stream)
    fake_server.latency = 0.2
    start = time.monotonic()
    send(sock)
    receive(stream)
    waited = time.monotonic() - start  # a lower bound only: the answer cannot come before the latency has run
    fake_server.latency = 0.0
    send(sock)
    receive(stream)
    assert [r.latency for r in fake_server.requests] == [0.0, 0.2, 0.0] and waited >= 0.2


def test_stop_cuts_hanging_connections_and_leaves_nothing_behind(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncio")
    server = FakeOpenAI().start()
    server.faults = [Fault("hang", seconds=60)]
    port = port_of(server)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as hanging,
        socket.create_connection(("127.0.0.1", port), timeout=5) as idle,
    ):
        send(hanging)
        while not server.requests:
            time.sleep(0.01)
        server.stop()
        assert hanging.makefile("rb").read(1) == b"" and idle.makefile("rb").read(1) == b""
    leftovers = [t.name for t in threading.enumerate() if t.name.startswith("fake-openai")]
    assert leftovers == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
