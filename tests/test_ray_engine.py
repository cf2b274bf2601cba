"""The Ray engine against a local Ray and the loopback fake judge server: same annotations as the local engine,
and a worker killed mid-run still ends with every trace annotated."""

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from agentmortem.engines import annotate_store
from agentmortem.judges.llm import LLMJudge
from agentmortem.model import Annotation, Trace, make_steps
from agentmortem.store import Store
from fake_openai import FakeOpenAI, Received, mode_ids_in, steps_in

ray = pytest.importorskip("ray")
from agentmortem.engines.ray import StoreLink, annotate_store_ray  # noqa: E402

# Workers unpickle the judge factories below; they cannot import this test module, so it travels by value.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

N_TRACES = 200
CONCURRENCY = 8
KILL_AT = 6
"""The judge call (counted per shard) at which the kill test's worker dies; some of its shard is written by then."""


def _trace(i: int) -> Trace:
    failing = i % 3 == 0
    steps = make_steps(
        [
            {"kind": "message", "role": "user", "content": f"Diagnose incident {i}."},
            {"kind": "tool_call", "tool_name": "shell", "tool_args": f'{{"cmd": "kubectl get pods -n ns{i}"}}'},
            {"kind": "tool_result", "content": "ERROR: forbidden" if failing else f"pod-{i} Running"},
            {"kind": "message", "role": "assistant", "content": f"Root cause of incident {i} found."},
        ]
    )
    return Trace(id=f"run-{i:03d}", source_format="openai", model=f"model-{i % 2}", steps=steps)


def _verdict(request: Received) -> dict[str, Any]:
    """A deterministic judge: FM-2.6 wherever a step says ERROR, citing that step; every other mode absent."""
    steps = steps_in(request)
    errors = [index for index, text in sorted(steps.items()) if "ERROR" in text]
    modes = []
    for mode in mode_ids_in(request):
        present = mode == "FM-2.6" and bool(errors)
        evidence = [{"step": errors[0], "quote": "ERROR: forbidden"}] if present else []
        modes.append(
            {"explanation": "seen" if present else "not seen", "id": mode, "present": present, "confidence": 0.8,
             "evidence": evidence}
        )  # fmt: skip
    return {"summary": f"{len(steps)} steps read", "task_completed": not errors, "failure_modes": modes}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(verdict=_verdict).start()
    try:
        yield fake
    finally:
        fake.stop()


def _filled(path: Path) -> str:
    with Store(path) as store:
        store.add_traces([_trace(i) for i in range(N_TRACES)])
    return str(path)


def _judge(base_url: str, link: Any, concurrency: int = CONCURRENCY) -> LLMJudge:
    return LLMJudge("judge-model", base_url=base_url, api_key="test", cache=link, log=link, concurrency=concurrency)


class KillOnce:
    """Passes calls to a real judge, but the first process to reach call KILL_AT of a shard is SIGKILLed."""

    def __init__(self, inner: LLMJudge, marker: str) -> None:
        self.inner, self.marker = inner, marker
        self.name, self.kind, self.version = inner.name, inner.kind, inner.version
        self.calls = 0

    async def judge(self, trace: Trace, taxonomy: Any) -> Annotation:
        self.calls += 1
        if self.calls == KILL_AT and _claim(self.marker):
            os.kill(os.getpid(), signal.SIGKILL)
        return await self.inner.judge(trace, taxonomy)


def _claim(marker: str) -> bool:
    """True for exactly one caller across processes (O_EXCL creation), so one worker dies, once."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    with open(marker, "w") as handle:
        handle.write(str(os.getpid()))
    return True


def _comparable(annotations: list[Annotation], *, usage: bool = True) -> list[dict[str, Any]]:
    exclude = {"created_at"} | (set() if usage else {"usage"})
    return [a.model_dump(mode="json", exclude=exclude) for a in annotations]


@pytest.fixture(scope="module")
def local_annotations(server: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> list[Annotation]:
    path = _filled(tmp_path_factory.mktemp("local") / "local.duckdb")
    with Store(path) as store:
        report = annotate_store(store, _judge(server.base_url, store), concurrency=CONCURRENCY)
        assert (report.annotated, report.failed) == (N_TRACES, 0)
        annotations = store.get_annotations()
    assert sum(bool(a.present_modes()) for a in annotations) == len(range(0, N_TRACES, 3))  # the judge did judge
    return annotations


def test_ray_engine_gives_the_local_engines_annotations(server, local_annotations, tmp_path: Path):
    path = _filled(tmp_path / "ray.duckdb")
    base_url = server.base_url
    seen: list[tuple[int, int]] = []
    report = annotate_store_ray(
        path, lambda link: _judge(base_url, link, CONCURRENCY // 2), concurrency=CONCURRENCY, workers=2,
        on_progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip
    assert (report.annotated, report.failed, report.skipped) == (N_TRACES, 0, 0)
    assert report.usage["requests"] == N_TRACES
    assert seen[-1] == (N_TRACES, N_TRACES)
    with Store(path) as store:
        assert _comparable(store.get_annotations()) == _comparable(local_annotations)
        assert store.count_cached_answers() == N_TRACES  # the cache was written through the store actor
        assert len(store.llm_requests()) == N_TRACES
    again = annotate_store_ray(path, lambda link: _judge(base_url, link), concurrency=CONCURRENCY)
    assert (again.annotated, again.skipped) == (0, N_TRACES)  # resume: nothing left to do


def test_a_killed_worker_still_ends_with_every_trace_annotated(server, local_annotations, tmp_path: Path):
    path = _filled(tmp_path / "killed.duckdb")
    marker = str(tmp_path / "killed-worker.pid")
    base_url = server.base_url
    before = len(server.completions())
    report = annotate_store_ray(
        path, lambda link: KillOnce(_judge(base_url, link, CONCURRENCY // 2), marker), concurrency=CONCURRENCY,
        workers=2,
    )  # fmt: skip
    killed_pid = int(Path(marker).read_text())
    assert killed_pid != os.getpid()  # a Ray worker process died, not this one
    assert (report.annotated, report.failed) == (N_TRACES, 0)
    with Store(path) as store:
        assert _comparable(store.get_annotations(), usage=False) == _comparable(local_annotations, usage=False)
    # The retry re-asked at most the requests in flight when the worker died; answers already cached were reused.
    assert N_TRACES <= len(server.completions()) - before <= N_TRACES + CONCURRENCY


def test_store_link_serves_only_the_cache_and_the_log(tmp_path: Path):
    from agentmortem.engines.ray import StoreService

    service = StoreService(_filled(tmp_path / "svc.duckdb"))
    service.link_call("put_cached_answer", "sha256:k", "answer", {"requests": 1}, model="m")
    assert service.link_call("get_cached_answer", "sha256:k") == ("answer", {"requests": 1})
    with pytest.raises(AttributeError, match="put_annotations"):
        service.link_call("put_annotations", [])
    assert {"get_cached_answer", "put_cached_answer", "log_llm_request"} <= set(dir(StoreLink))
    assert service.plan("nobody", None, False) == ([f"run-{i:03d}" for i in range(N_TRACES)], 0)
    service.finish()


def test_annotate_command_with_engine_ray_starts_its_own_ray(server, runner, tmp_path: Path, monkeypatch):
    from agentmortem.cli.main import app

    monkeypatch.setenv("FAKE_JUDGE_KEY", "test")
    db = str(tmp_path / "cli.duckdb")
    with Store(db) as store:
        store.add_traces([_trace(i) for i in range(12)])
    assert not ray.is_initialized()
    args = ["--db", db, "annotate", "--model", "judge-model", "--base-url", server.base_url, "--api-key-env",
            "FAKE_JUDGE_KEY", "--engine", "ray", "--workers", "2", "--concurrency", "4", "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert (summary["annotated"], summary["failed"], summary["requests_sent"]) == (12, 0, 12)
    assert not ray.is_initialized()  # the command stopped the Ray it started
    with Store(db) as store:
        assert len(store.annotated_trace_ids("judge-model")) == 12
    capped = runner.invoke(app, [*args[:-1], "--max-cost", "1"])
    assert capped.exit_code == 2 and "--max-cost" in capped.stderr
