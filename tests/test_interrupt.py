"""Ctrl-C and SIGTERM delivered to a real `agentmortem` process: exit 130, one line, no traceback, nothing lost.

The judge talks to a slow loopback server started here; the signal comes while requests are in flight. A rerun
must send no request whose answer had arrived before the signal (it was stored: annotation or cached answer).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest

from agentmortem.store import Store
from fake_openai import FakeOpenAI, Received, all_absent

LINE = re.compile(r"^interrupted: (\d+) annotations saved, (\d+) in flight discarded; run again to continue$")
ANSWER_SECONDS = 0.3  # how long the fake takes to answer each request
MARGIN = 0.2
"""An answer finished this long before the signal has surely reached the client (it is on loopback)."""
TRACES = 5


class SlowServer(FakeOpenAI):
    """Answers after ANSWER_SECONDS and notes when each answer left, by the request's messages."""

    def __init__(self) -> None:
        super().__init__(verdict=self._slow)
        self.answered: list[tuple[float, bytes]] = []
        self._times = threading.Lock()

    def _slow(self, request: Received) -> dict:
        time.sleep(ANSWER_SECONDS)
        with self._times:
            self.answered.append((time.monotonic(), _identity(request)))
        return all_absent(request)


def _identity(request: Received) -> bytes:
    return orjson.dumps(request.body.get("messages"))


def _agentmortem(*args: str) -> list[str]:
    return [sys.executable, "-m", "agentmortem.cli.main", *args]


def _traces(path: Path) -> Path:
    """Traces long enough to be judged in several parts each at a 16k-token context (so parts get cached)."""
    lines = []
    for t in range(TRACES):
        messages = [{"role": "user", "content": f"task {t}: repair the service"}]
        messages += [{"role": "assistant", "content": f"step {s} of trace {t}: " + "inspecting logs " * 400}
                     for s in range(4)]  # fmt: skip
        lines.append(json.dumps({"id": f"long-{t}", "model": "m", "success": t % 2 == 0, "messages": messages}))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def slow_server():
    server = SlowServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_annotate_ends_at_once_and_a_rerun_repeats_no_answered_request(
    tmp_path: Path, slow_server: SlowServer, sig: signal.Signals
) -> None:
    db = str(tmp_path / "run.duckdb")
    subprocess.run(_agentmortem("--db", db, "ingest", "--format", "openai", str(_traces(tmp_path / "t.jsonl"))),
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    annotate = _agentmortem("--db", db, "annotate", "--model", "gpt-4o-mini", "--base-url", slow_server.base_url,
                            "--concurrency", "2", "--context-tokens", "16000")  # fmt: skip
    process = subprocess.Popen(annotate, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while len(slow_server.answered) < 5 and process.poll() is None:
            time.sleep(0.05)
        time.sleep(ANSWER_SECONDS / 2)  # mid-request
        sent_at = time.monotonic()
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    match = LINE.match(stderr.strip().splitlines()[-1])
    assert match, stderr
    with Store(db, read_only=True) as store:
        assert len(store.annotated_trace_ids("gpt-4o-mini", status=None)) == int(match.group(1))
    received = {identity for at, identity in slow_server.answered if at < sent_at - MARGIN}
    assert received  # the signal did come after some answers

    before = len(slow_server.requests)
    rerun = subprocess.run(annotate + ["--json"], capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    summary = orjson.loads(rerun.stdout)
    assert summary["annotated"] + summary["skipped"] == TRACES
    repeated = [r for r in slow_server.requests[before:] if _identity(r) in received]
    assert repeated == []


def test_interrupted_ingest_keeps_nothing_half_written(tmp_path: Path) -> None:
    source, db = tmp_path / "many.jsonl", tmp_path / "ingest.duckdb"
    total, steps = 8000, 6
    with source.open("w") as out:
        for t in range(total):
            messages = [{"role": "user", "content": f"task {t}"}]
            messages += [{"role": "assistant", "content": f"step {s} " + "y" * 150} for s in range(steps - 1)]
            out.write(json.dumps({"id": f"t{t}", "model": "m", "messages": messages}) + "\n")
    ingest = _agentmortem("--db", str(db), "ingest", "--format", "openai", str(source))
    process = subprocess.Popen(ingest, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wal = db.with_name(db.name + ".wal")
        while not wal.exists() and process.poll() is None:  # the store is open: ingest has begun
            time.sleep(0.02)
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == (
        "interrupted while reading traces: nothing half-written was kept; run again to continue"
    )
    with Store(db, read_only=True) as store:
        stored = store.count_traces()
        assert stored < total  # the signal did come mid-ingest
        assert all(len(trace.steps) == steps for trace in store.iter_traces())
    again = subprocess.run([*ingest, "--json"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    summary = orjson.loads(again.stdout)
    assert (summary["added"], summary["unchanged"], summary["replaced"]) == (total - stored, stored, 0)
