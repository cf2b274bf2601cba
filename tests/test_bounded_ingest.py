"""Ingest keeps memory bounded: a JSONL file of many chat traces is read line by line, never whole."""

from pathlib import Path

import orjson
import pytest

from agentmortem.ingest import INGEST_MEMORY_LIMIT, ingest
from agentmortem.readers import ReadError, get_reader
from agentmortem.store import Store, StoreError


def _chat_jsonl(path: Path, n: int) -> Path:
    lines = [
        orjson.dumps({"id": f"chat-{i}", "model": "m", "messages": [{"role": "user", "content": f"task {i}"},
                                                                     {"role": "assistant", "content": "done"}]})
        for i in range(n)
    ]  # fmt: skip
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture
def no_slurping(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading any .jsonl file whole fails the test: only line-by-line reading is allowed."""
    original = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.suffix == ".jsonl":
            raise AssertionError(f"{self} was read whole")
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)


def test_openai_jsonl_is_streamed_line_by_line(tmp_path: Path, no_slurping):
    path = _chat_jsonl(tmp_path / "chats.jsonl", 500)
    errors: list[ReadError] = []
    traces = get_reader("openai").read(path, errors)
    first = next(traces)  # the first trace arrives before the rest of the file is parsed
    assert first.id.endswith("chat-0") and len(first.steps) == 2
    assert len(list(traces)) == 499 and errors == []


def test_streamed_jsonl_keeps_line_numbers_of_bad_lines_and_the_rest(tmp_path: Path, no_slurping):
    lines = [b'{"messages": [{"role": "user", "content": "a"}]}', b"{not json", b'{"foo": 1}', b""]
    (tmp_path / "mixed.jsonl").write_bytes(b"\n".join(lines))
    errors: list[ReadError] = []
    traces = list(get_reader("openai").read(tmp_path / "mixed.jsonl", errors))
    assert len(traces) == 1
    assert [e.line for e in errors] == [2, 3]


def test_empty_jsonl_is_still_reported(tmp_path: Path, no_slurping):
    (tmp_path / "empty.jsonl").write_bytes(b"\n\n")
    with pytest.raises(ReadError, match="empty file"):
        list(get_reader("openai").read(tmp_path / "empty.jsonl", []))


def test_ingest_of_a_streamed_jsonl_stores_every_trace(tmp_path: Path, store: Store, no_slurping):
    report = ingest([_chat_jsonl(tmp_path / "chats.jsonl", 300)], store, format="openai")
    assert (report.read, report.added, report.errors) == (300, 300, [])
    assert store.count_traces() == 300


def test_store_memory_cap_is_set_and_given_back(store: Store):
    default = store.con.execute("SELECT current_setting('memory_limit')").fetchone()
    store.limit_memory("512MB")
    assert store.con.execute("SELECT current_setting('memory_limit')").fetchone() == ("488.2 MiB",)
    store.limit_memory(None)
    assert store.con.execute("SELECT current_setting('memory_limit')").fetchone() == default
    with pytest.raises(StoreError, match="invalid memory limit"):
        store.limit_memory("512MB'; DROP TABLE traces; --")


def test_ingest_caps_duckdb_memory_while_it_runs_and_restores_it(tmp_path: Path, store: Store, monkeypatch):
    seen: list[str] = []
    real = Store.limit_memory

    def spy(self: Store, limit: str | None) -> None:
        seen.append(limit)
        real(self, limit)

    monkeypatch.setattr(Store, "limit_memory", spy)
    before = store.con.execute("SELECT current_setting('memory_limit')").fetchone()
    ingest([_chat_jsonl(tmp_path / "chats.jsonl", 5)], store, format="openai")
    assert seen == [INGEST_MEMORY_LIMIT, None]
    assert store.con.execute("SELECT current_setting('memory_limit')").fetchone() == before
