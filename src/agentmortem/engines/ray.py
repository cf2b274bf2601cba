"""The Ray engine: the local engine's judge spread over Ray workers, with one actor owning the store.

DuckDB allows one writer, so a single `StoreService` actor opens the store (on the driver's node) and serves all
that touches it: the run plan, trace loading, the judge's request cache and request log, and annotation writes.
Workers are Ray tasks, each judging a shard of trace ids with the same async judge and its own concurrency, and each
annotation is written the moment it is made. A task whose worker dies is retried by Ray (`max_retries`); the retry
skips the traces of its shard already written in this run, and the request cache answers every request already paid
for, so a retry costs little. The rules are the local engine's: the same judge and cache keys, and a re-run skips
traces this annotator already annotated successfully (failed ones are tried again) unless `redo` is set.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import math
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, Protocol

from agentmortem.defaults import DEFAULT_WORKERS
from agentmortem.engines.local import DEFAULT_CONCURRENCY, AnnotateReport, _count, _judge_safely, close_judge
from agentmortem.judges.base import Judge
from agentmortem.judges.llm.cache import AnswerCache, RequestLog
from agentmortem.model import Annotation, Trace
from agentmortem.store import Store
from agentmortem.taxonomy import Taxonomy, mast

RAY_EXTRA_HINT = "the ray engine needs Ray, an optional extra: pip install 'agentmortem[ray]'"
MAX_SHARD = 32
"""Traces per task at most: what a killed worker's retry has to look at again, and what one task holds in memory."""
MAX_RETRIES = 3
PROGRESS_SECONDS = 0.5

_LINK_METHODS = frozenset({"get_cached_answer", "put_cached_answer", "log_llm_request"})
"""Store methods a worker's judge may call through the actor: the request cache and the request log, nothing else."""


class EngineUnavailable(RuntimeError):
    """An engine whose optional dependency is not installed (the message names the extra)."""


class EngineError(RuntimeError):
    """A distributed run that could not finish; one line, and what is already stored stays stored."""


def require_ray() -> ModuleType:
    """The `ray` module, or EngineUnavailable naming the extra to install."""
    try:
        return importlib.import_module("ray")
    except ImportError as exc:
        raise EngineUnavailable(RAY_EXTRA_HINT) from exc


class StoreService:
    """The store's one owner during a run; Ray runs it as an actor, so its calls are served one at a time."""

    def __init__(self, path: str) -> None:
        self.store = Store(path)
        self.report = AnnotateReport()
        self.written: set[str] = set()

    def plan(self, annotator: str, trace_ids: Sequence[str] | None, redo: bool) -> tuple[list[str], int]:
        """Trace ids to judge and how many are skipped because this annotator already annotated them."""
        ids = list(trace_ids) if trace_ids is not None else self.store.trace_ids()
        if redo:
            return ids, 0
        done = self.store.annotated_trace_ids(annotator)
        return [i for i in ids if i not in done], sum(1 for i in ids if i in done)

    def unwritten(self, ids: list[str]) -> list[str]:
        """The ids not yet annotated in this run (a retried shard resumes from here)."""
        return [i for i in ids if i not in self.written]

    def load(self, ids: list[str]) -> list[Trace]:
        """Traces with their steps and outcomes."""
        return list(self.store.iter_traces(ids))

    def put(self, annotation: Annotation) -> None:
        """Store one annotation; a trace is counted once however many times a retried shard writes it."""
        self.store.put_annotations([annotation])
        if annotation.trace_id not in self.written:
            self.written.add(annotation.trace_id)
            _count(self.report, annotation)

    def link_call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Serve one request-cache or request-log call of a worker's judge."""
        if method not in _LINK_METHODS:
            raise AttributeError(f"store method {method!r} is not served to workers")
        return getattr(self.store, method)(*args, **kwargs)

    def progress(self) -> int:
        """Traces annotated so far in this run."""
        return len(self.written)

    def finish(self) -> AnnotateReport:
        """Close the store (checkpointing it) and hand back what the run did."""
        self.store.close()
        return self.report


class StoreLink:
    """What a worker's judge sees of the store: the request cache and the request log, served by the actor.

    Lookups wait for the answer. Writes are sent without waiting, so a worker's event loop never stalls on them;
    the actor runs one caller's calls in the order sent (a later lookup sees an earlier write), and `flush` waits
    for all of them before the shard reports done.
    """

    def __init__(self, service: Any) -> None:
        self._service = service
        self._sent: list[Any] = []

    def get_cached_answer(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """The cached raw answer and usage for `key`, or None."""
        cached: tuple[str, dict[str, Any]] | None = require_ray().get(
            self._service.link_call.remote("get_cached_answer", key)
        )
        return cached

    def put_cached_answer(self, key: str, answer: str, usage: dict[str, Any], *, model: str) -> None:
        """Keep an answer in the store's request cache."""
        self._sent.append(self._service.link_call.remote("put_cached_answer", key, answer, usage, model=model))

    def log_llm_request(self, record: dict[str, Any]) -> None:
        """Append one request record to the store's request log."""
        self._sent.append(self._service.link_call.remote("log_llm_request", record))

    def flush(self) -> None:
        """Wait until every write sent so far is stored; a failed write raises here."""
        require_ray().get(self._sent)
        self._sent.clear()


class _OfflineLink:
    """Stands in for the store when the driver builds a judge only to learn its name; it is never asked."""

    def get_cached_answer(self, key: str) -> None:
        """Nothing is cached here."""
        return None

    def put_cached_answer(self, key: str, answer: str, usage: dict[str, Any], *, model: str) -> None:
        """Keep nothing."""

    def log_llm_request(self, record: dict[str, Any]) -> None:
        """Log nothing."""


class JudgeLink(AnswerCache, RequestLog, Protocol):
    """Where a judge keeps its request cache and request log: a Store, a worker's StoreLink, or nothing at all."""


JudgeFactory = Callable[[JudgeLink], Judge]
"""Builds the judge inside each worker, handed the link to use as its request cache and log (pickled by Ray)."""


def worker_concurrency(concurrency: int, workers: int) -> int:
    """Requests each worker keeps in flight so that all workers together keep about `concurrency`."""
    return max(1, math.ceil(concurrency / max(1, workers)))


def annotate_store_ray(
    store_path: str,
    judge_factory: JudgeFactory,
    *,
    taxonomy: Taxonomy | None = None,
    trace_ids: Sequence[str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    workers: int = DEFAULT_WORKERS,
    redo: bool = False,
    address: str | None = None,
    max_retries: int = MAX_RETRIES,
    on_progress: Callable[[int, int], None] | None = None,
) -> AnnotateReport:
    """Annotate the traces of the store file at `store_path` on Ray; see the module docstring for the rules.

    No one else may hold the store open meanwhile (the actor is its one writer). `concurrency` is the total over
    `workers` tasks running at once. Without `address` a small local Ray is started, and stopped at the end.
    `on_progress(done, total)` is called from the driver as traces get annotated.
    """
    ray = require_ray()
    taxonomy = taxonomy or mast()
    annotator = judge_factory(_OfflineLink()).name
    started = _connect(ray, address, workers)
    try:
        service = _start_service(ray, store_path)
        todo, skipped = _ask(ray, service.plan.remote(annotator, trace_ids, redo))
        per_worker = worker_concurrency(concurrency, workers)
        shard_task = ray.remote(num_cpus=1, max_retries=max_retries)(_judge_shard)
        calls = [(service, judge_factory, taxonomy, shard, per_worker) for shard in _shards(todo, workers)]
        _drive(ray, shard_task, calls, workers, lambda: _ask(ray, service.progress.remote()), len(todo), on_progress)
        report: AnnotateReport = _ask(ray, service.finish.remote())
        report.skipped = skipped
        return report
    finally:
        if started:
            ray.shutdown()


def _connect(ray: ModuleType, address: str | None, workers: int) -> bool:
    """Join the cluster at `address`, or start a light local Ray; True when this call started it."""
    if ray.is_initialized():
        return False
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    if address is not None:
        ray.init(address=address, **quiet)
        return True
    ray.init(num_cpus=max(1, workers), object_store_memory=_LOCAL_OBJECT_STORE, **quiet)
    return True


_LOCAL_OBJECT_STORE = 128 * 1024 * 1024
"""Bytes of shared memory for a local Ray: traces and annotations pass through it a shard at a time."""


def _start_service(ray: ModuleType, store_path: str) -> Any:
    # Pinned to the driver's node: the store file lives on the machine the command runs on.
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)
    return ray.remote(num_cpus=0, max_restarts=0)(StoreService).options(scheduling_strategy=here).remote(store_path)


def _shards(ids: list[str], workers: int) -> list[list[str]]:
    """Shards small enough to spread evenly (about four per worker) and to retry cheaply."""
    if not ids:
        return []
    size = max(1, min(MAX_SHARD, math.ceil(len(ids) / (4 * max(1, workers)))))
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def _drive(
    ray: ModuleType,
    shard_task: Any,
    calls: list[tuple[Any, ...]],
    workers: int,
    progress: Callable[[], int],
    total: int,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    """Keep `workers` shard tasks in flight until every shard is done; a task's own error ends the run."""
    queue, running = list(calls), list[Any]()
    while queue or running:
        while queue and len(running) < max(1, workers):
            running.append(shard_task.remote(*queue.pop(0)))
        done, running = ray.wait(running, num_returns=1, timeout=PROGRESS_SECONDS)
        for ref in done:
            _ask(ray, ref)
        if on_progress is not None:
            on_progress(progress(), total)


def _ask(ray: ModuleType, ref: Any) -> Any:
    """`ray.get`, with Ray's multi-line failures turned into one-line EngineErrors."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:
        raise EngineError(_reason(exc)) from exc


def _reason(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException) and cause is not exc:
        return f"{type(cause).__name__}: {cause}".splitlines()[0]
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[-1] if lines else 'no reason given'}"


def _judge_shard(
    service: Any, judge_factory: JudgeFactory, taxonomy: Taxonomy, ids: list[str], concurrency: int
) -> int:
    """Ray task: judge the traces of one shard not yet written in this run; returns how many it judged."""
    ray = require_ray()
    todo: list[str] = ray.get(service.unwritten.remote(ids))
    if todo:
        link = StoreLink(service)
        judge = judge_factory(link)
        asyncio.run(_judge_traces(service, judge, taxonomy, ray.get(service.load.remote(todo)), concurrency))
        link.flush()
    return len(todo)


async def _judge_traces(service: Any, judge: Judge, taxonomy: Taxonomy, traces: list[Trace], concurrency: int) -> None:
    semaphore = asyncio.Semaphore(max(1, concurrency))

    async def one(trace: Trace) -> None:
        async with semaphore:
            annotation = await _judge_safely(judge, trace, taxonomy)
        await service.put.remote(annotation)

    try:
        await asyncio.gather(*(one(trace) for trace in traces))
    finally:
        await close_judge(judge)
