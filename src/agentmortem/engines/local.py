"""The local engine: a judge over stored traces with bounded asyncio concurrency, annotations saved as they come.

Each annotation is written as soon as its trace is judged, so an interrupted run loses nothing already answered,
and a re-run skips traces this annotator has already annotated successfully (failed ones are tried again).

With `handle_signals`, SIGINT (Ctrl-C) and SIGTERM end the run at once instead of killing it: no new trace is
started, the traces being judged are cancelled (their requests dropped), and the annotations already judged, the
judge's cached answers and its request log are written before `annotate_store` returns, marked `interrupted`.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime

from agentmortem.defaults import DEFAULT_CONCURRENCY
from agentmortem.judges.base import Judge
from agentmortem.model import Annotation, Trace
from agentmortem.store import Store
from agentmortem.taxonomy import Taxonomy, mast


@dataclass
class AnnotateReport:
    """What an annotate run did."""

    annotated: int = 0
    failed: int = 0
    skipped: int = 0
    stopped: int = 0
    """Traces not judged because `stop` said so (e.g. the cost cap was reached); they are judged on the next run."""
    failures: list[tuple[str, str]] = field(default_factory=list)
    usage: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False
    """A signal ended the run early (see the module docstring)."""
    discarded: int = 0
    """Traces being judged when the run was interrupted: nothing of theirs was stored but answers already cached."""

    @property
    def saved(self) -> int:
        """Annotations this run stored (successful and failed)."""
        return self.annotated + self.failed

    def add_usage(self, usage: dict[str, object]) -> None:
        """Add an annotation's numeric usage figures to the run's totals."""
        for key, value in usage.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                self.usage[key] = self.usage.get(key, 0) + value


def annotate_store(
    store: Store,
    judge: Judge,
    *,
    taxonomy: Taxonomy | None = None,
    trace_ids: Sequence[str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    redo: bool = False,
    on_annotation: Callable[[Annotation], None] | None = None,
    stop: Callable[[], bool] | None = None,
    handle_signals: bool = False,
) -> AnnotateReport:
    """Annotate stored traces with `judge` and store the results; see the module docstring for resume rules.

    `stop` is asked before each trace starts; once it returns True no new trace is started (traces already being
    judged finish), and the traces left over are counted in `stopped`. `handle_signals` (main thread only) turns
    SIGINT and SIGTERM into an orderly stop, reported in `interrupted` and `discarded`.
    """
    taxonomy = taxonomy or mast()
    report = AnnotateReport()
    ids, report.skipped = traces_to_judge(store, judge.name, trace_ids, redo=redo)
    asyncio.run(_run(store, judge, taxonomy, ids, concurrency, report, on_annotation, stop, signals=handle_signals))
    return report


def traces_to_judge(
    store: Store, annotator: str, trace_ids: Sequence[str] | None, *, redo: bool
) -> tuple[list[str], int]:
    """The ids a run judges, and how many it leaves out.

    Of all stored traces (or `trace_ids`), those `annotator` has already annotated successfully are left out,
    unless `redo`.
    """
    ids = list(trace_ids) if trace_ids is not None else store.trace_ids()
    if redo:
        return ids, 0
    done = store.annotated_trace_ids(annotator)
    return [i for i in ids if i not in done], sum(1 for i in ids if i in done)


async def _run(
    store: Store,
    judge: Judge,
    taxonomy: Taxonomy,
    ids: list[str],
    concurrency: int,
    report: AnnotateReport,
    on_annotation: Callable[[Annotation], None] | None,
    stop: Callable[[], bool] | None = None,
    *,
    signals: bool = False,
) -> None:
    semaphore = asyncio.Semaphore(max(1, concurrency))
    writer = _GroupWriter(store)
    judging: set[asyncio.Task[Annotation]] = set()

    def interrupt() -> None:
        report.interrupted = True
        for job in list(judging):  # requests in flight are dropped; what they already answered is cached
            job.cancel()

    async def one(trace: Trace) -> None:
        async with semaphore:
            if report.interrupted:
                return
            if stop is not None and stop():
                report.stopped += 1
                return
            job = asyncio.ensure_future(_judge_safely(judge, trace, taxonomy))
            judging.add(job)
            try:
                annotation = await job
            except asyncio.CancelledError:
                if not job.cancelled() or not report.interrupted:
                    raise
                report.discarded += 1
                return
            finally:
                judging.discard(job)
        await writer.put(annotation)  # a judged trace is stored even when the run is interrupted meanwhile
        _count(report, annotation)
        if on_annotation is not None:
            on_annotation(annotation)

    # Traces are loaded in batches so memory stays bounded however many the store holds.
    pending: set[asyncio.Task[None]] = set()
    with _signals_call(interrupt) if signals else nullcontext():
        try:
            for trace in store.iter_traces(ids, batch_size=max(concurrency, 16)):
                if report.interrupted:
                    break
                pending.add(asyncio.create_task(one(trace)))
                if len(pending) >= concurrency * 4:
                    _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if pending:
                await asyncio.gather(*pending)
        finally:
            writer.close()
            await close_judge(judge)  # the judge's written-behind cache entries and request log land here


INTERRUPT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def _signals_call(handler: Callable[[], None]) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM call `handler` on the running loop; the former handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may take signals; elsewhere they keep their usual effect
        return
    loop = asyncio.get_running_loop()
    former = {sig: signal.getsignal(sig) for sig in INTERRUPT_SIGNALS}
    for sig in INTERRUPT_SIGNALS:
        loop.add_signal_handler(sig, handler)
    try:
        yield
    finally:
        for sig, previous in former.items():
            loop.remove_signal_handler(sig)
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)


async def close_judge(judge: Judge) -> None:
    """Let a judge release what it holds on this event loop (HTTP connections), if it holds anything."""
    aclose = getattr(judge, "aclose", None)
    if aclose is not None:
        await aclose()


class _GroupWriter:
    """Group commit on a writer thread: annotations that finish while a write is in flight go into the next one.

    Writes run on a thread with its own cursor, so commits never stall the event loop (and the requests it is
    driving); a burst of completions costs one commit instead of one each. `put` returns once the annotation is
    stored, so nothing reported as done is lost if the run is killed.
    """

    def __init__(self, store: Store) -> None:
        self.store = store.on_own_cursor()
        self.pending: list[tuple[Annotation, asyncio.Future[None]]] = []
        self.writing = False
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentmortem-writer")

    async def put(self, annotation: Annotation) -> None:
        """Queue `annotation` and return once it is stored."""
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((annotation, stored))
        if not self.writing:
            asyncio.get_running_loop().create_task(self._drain())
            self.writing = True
        await stored

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.pending:
                batch, self.pending = self.pending, []
                try:
                    await loop.run_in_executor(self.executor, self.store.put_annotations, [a for a, _ in batch])
                except Exception as exc:  # noqa: BLE001 - handed to every waiter of this batch, not lost in the loop
                    for _, stored in batch:
                        stored.set_exception(exc)
                    continue
                for _, stored in batch:
                    stored.set_result(None)
        finally:
            self.writing = False

    def close(self) -> None:
        """Stop the writer thread and release its cursor."""
        self.executor.shutdown(wait=True)
        self.store.con.close()


async def _judge_safely(judge: Judge, trace: Trace, taxonomy: Taxonomy) -> Annotation:
    """A judge that raises still yields a 'failed' annotation, so one trace never stops the run."""
    try:
        return await judge.judge(trace, taxonomy)
    except Exception as exc:  # noqa: BLE001 - any judge error becomes a recorded failure for this trace
        return Annotation(
            trace_id=trace.id, annotator=judge.name, annotator_kind=judge.kind, annotator_version=judge.version,
            taxonomy=taxonomy.name, taxonomy_version=taxonomy.version, status="failed",
            error=f"{type(exc).__name__}: {exc}".splitlines()[0], created_at=datetime.now(UTC),
        )  # fmt: skip


def _count(report: AnnotateReport, annotation: Annotation) -> None:
    if annotation.status == "ok":
        report.annotated += 1
    else:
        report.failed += 1
        report.failures.append((annotation.trace_id, annotation.error or "unknown error"))
    report.add_usage(annotation.usage)
