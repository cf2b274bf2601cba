"""`agentmortem annotate` and `agentmortem annotations list|show`."""

from __future__ import annotations

from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from agentmortem.cli.app import app, console, err_console, fail, open_store, print_json, state, warn
from agentmortem.cli.interrupt import Tally, on_interrupt
from agentmortem.cli.judge_options import build_judge, judge_options
from agentmortem.cli.judge_run import (
    budget_stop,
    check_endpoint,
    dry_run,
    end_annotate_run,
    not_analysed_warning,
    stop_if_interrupted,
    warn_failures,
)
from agentmortem.defaults import DEFAULT_WORKERS

if TYPE_CHECKING:  # the machinery is imported where it runs, so `agentmortem --help` starts at once
    from agentmortem.engines.local import AnnotateReport
    from agentmortem.engines.ray import JudgeLink
    from agentmortem.judges import Judge
    from agentmortem.model import Annotation
    from agentmortem.store import Store
    from agentmortem.taxonomy import Taxonomy

annotations_app = typer.Typer(help="List and show stored annotations.", no_args_is_help=True)
app.add_typer(annotations_app, name="annotations")


class Engine(StrEnum):
    """Where the judge runs: this process (asyncio) or Ray workers."""

    local = "local"
    ray = "ray"


@app.command("annotate")
@judge_options
def annotate_command(
    taxonomy_file: Annotated[Path | None, typer.Option("--taxonomy", help="Custom taxonomy YAML.")] = None,
    trace_ids: Annotated[
        list[str] | None, typer.Option("--trace", help="Annotate only this trace (repeatable).")
    ] = None,
    redo: Annotated[bool, typer.Option("--redo", help="Judge again traces already annotated successfully.")] = False,
    engine: Annotated[
        Engine, typer.Option("--engine", help="local: asyncio in this process; ray: Ray workers (the ray extra).")
    ] = Engine.local,
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="Ray cluster to join (default: start a local Ray).")
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Ray engine: shards judged at once; --concurrency is split.")
    ] = DEFAULT_WORKERS,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    *,
    judge_opts: dict[str, Any],
) -> None:
    """Label stored traces with the failure modes of the taxonomy (MAST by default)."""
    taxonomy = _taxonomy(taxonomy_file)
    opts = {**judge_opts, "trace_ids": trace_ids, "redo": redo, "ray_address": ray_address, "workers": workers}
    with on_interrupt(Tally()) as tally:
        if engine is Engine.ray and not opts["dry_run"]:
            tally.saved = None  # stored by the Ray store actor, not counted here
            judge, report = _run_on_ray(opts, taxonomy, quiet=as_json)
        else:
            with open_store() as store:
                judge = build_judge(store, opts)
                _check_known(store, trace_ids)
                if opts["dry_run"]:
                    dry_run(store, judge, taxonomy, trace_ids, redo=redo, as_json=as_json)
                    return
                check_endpoint(judge)
                report = _run(store, judge, taxonomy, trace_ids, opts["concurrency"], redo, quiet=as_json)
        stop_if_interrupted(report)
        tally.saved = report.saved
        _summary(report, judge, as_json=as_json)
    end_annotate_run(report)


def _taxonomy(path: Path | None) -> Taxonomy:
    from agentmortem.taxonomy import TaxonomyError, load_taxonomy

    try:
        return load_taxonomy(path)
    except TaxonomyError as exc:
        fail(str(exc))


def _check_known(store: Store, trace_ids: list[str] | None) -> None:
    for trace_id in trace_ids or []:
        if not store.has_trace(trace_id):
            fail(f"no trace {trace_id!r} in the store")


def _run(
    store: Store,
    judge: Judge,
    taxonomy: Taxonomy,
    trace_ids: list[str] | None,
    concurrency: int,
    redo: bool,
    *,
    quiet: bool,
) -> AnnotateReport:
    from agentmortem.engines.local import annotate_store

    total = len(trace_ids) if trace_ids else store.count_traces()
    with _progress(disable=quiet) as progress:
        task = progress.add_task(f"annotating with {judge.name}", total=total, info="")

        def advance(_annotation: Annotation) -> None:
            progress.update(task, advance=1, info=_live(judge))

        report = annotate_store(
            store, judge, taxonomy=taxonomy, trace_ids=trace_ids, concurrency=concurrency, redo=redo,
            on_annotation=advance, stop=budget_stop(judge),
            handle_signals=True,
        )  # fmt: skip
    return report


# -- --engine ray: the store is closed here and owned by one Ray actor for the run -----------------------------


def _run_on_ray(opts: dict[str, Any], taxonomy: Taxonomy, *, quiet: bool) -> tuple[Judge, AnnotateReport]:
    from agentmortem.engines.ray import EngineError, EngineUnavailable, annotate_store_ray, require_ray
    from agentmortem.engines.ray import worker_concurrency as per_worker
    from agentmortem.judges.llm import MemoryCache

    try:
        require_ray()
    except EngineUnavailable as exc:
        fail(str(exc), code=2)
    if opts["max_cost"] is not None:
        fail("--max-cost is not enforced across Ray workers yet; use --engine local for a capped run", code=2)
    with open_store(read_only=True) as store:  # closed before Ray starts: DuckDB allows the actor no other writer
        _check_known(store, opts["trace_ids"])
        total = len(opts["trace_ids"]) if opts["trace_ids"] else store.count_traces()
    settings = {**opts, "concurrency": per_worker(opts["concurrency"], opts["workers"])}
    judge = build_judge(MemoryCache(), settings)  # built here too, so bad options fail once, on the driver
    check_endpoint(judge)
    with _progress(disable=quiet) as progress:
        task = progress.add_task(f"annotating with {judge.name} on Ray", total=total, info="")
        try:
            report = annotate_store_ray(
                state.db, partial(_judge_in_worker, settings), taxonomy=taxonomy,
                trace_ids=opts["trace_ids"], concurrency=opts["concurrency"], workers=opts["workers"],
                redo=opts["redo"], address=opts["ray_address"],
                on_progress=lambda done, _total: progress.update(task, completed=done),
            )  # fmt: skip
        except EngineError as exc:
            fail(str(exc))
    return judge, report


def _judge_in_worker(settings: dict[str, Any], link: JudgeLink) -> Judge:
    """Runs in each Ray worker: the driver's judge, with its cache and log served by the store actor."""
    return build_judge(link, settings)


def _progress(*, disable: bool) -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("traces"),
        TextColumn("{task.fields[info]}"), TimeRemainingColumn(), console=err_console, transient=True,
        disable=disable,
    )  # fmt: skip


def _live(judge: Judge) -> str:
    stats = getattr(judge, "stats", None)
    if stats is None:
        return ""
    tokens = stats.prompt_tokens + stats.completion_tokens
    return f"{stats.requests} sent, {stats.cached_requests} cached, {tokens:,} tokens, ${stats.cost_usd:.4f}"


def _summary(report: AnnotateReport, judge: Judge, *, as_json: bool) -> None:
    usage = report.usage
    data = {
        "annotator": judge.name, "annotated": report.annotated, "failed": report.failed, "skipped": report.skipped,
        "stopped": report.stopped, "requests_sent": int(usage.get("requests", 0)),
        "requests_cached": int(usage.get("cached_requests", 0)),
        "requests_failed": int(usage.get("failed_requests", 0)),
        "prompt_tokens": int(usage.get("prompt_tokens", 0)), "cached_prompt_tokens": int(usage.get("cached_tokens", 0)),
        "completion_tokens": int(usage.get("completion_tokens", 0)),
        "reasoning_tokens": int(usage.get("reasoning_tokens", 0)), "cost_usd": round(usage.get("cost_usd", 0.0), 6),
        "cost_parts_usd": _cost_parts(judge, usage), "provider": getattr(judge, "provider", None),
        "adaptations": list(getattr(judge, "adaptations", [])),
        "redactions": int(usage.get("redactions", 0)),
        "failures": [{"trace_id": t, "error": e} for t, e in report.failures],
    }  # fmt: skip
    if as_json:
        print_json(data)
        return
    warn_failures(report.failures)
    _print_summary(data, judge)
    not_analysed_warning(report.failed)


def _cost_parts(judge: Judge, usage: dict[str, float]) -> dict[str, float]:
    """The run's cost split into input, cached input, output and reasoning (empty without a price)."""
    price = getattr(judge, "price", None)
    if price is None:
        return {}
    from agentmortem.judges.llm import Usage

    total = Usage(
        prompt_tokens=int(usage.get("prompt_tokens", 0)), cached_tokens=int(usage.get("cached_tokens", 0)),
        completion_tokens=int(usage.get("completion_tokens", 0)),
        reasoning_tokens=int(usage.get("reasoning_tokens", 0)),
    )  # fmt: skip
    return {name: round(value, 6) for name, value in price.parts(total).items()}


def _print_summary(data: dict[str, Any], judge: Judge) -> None:
    console.print(
        f"traces: {data['annotated']} annotated, {data['failed']} failed, {data['skipped']} already done"
        + (f", {data['stopped']} not started" if data["stopped"] else "")
    )
    console.print(
        f"requests: {data['requests_sent']} sent, {data['requests_cached']} served from cache, "
        f"{data['requests_failed']} failed after retries"
    )
    fresh = data["prompt_tokens"] - data["cached_prompt_tokens"]
    visible = data["completion_tokens"] - data["reasoning_tokens"]
    console.print(
        f"tokens: {fresh:,} input, {data['cached_prompt_tokens']:,} cached input, {visible:,} output, "
        f"{data['reasoning_tokens']:,} reasoning; secrets redacted: {data['redactions']}"
    )
    parts = data["cost_parts_usd"]
    split = (
        f" (input ${parts['input']:.4f}, cached input ${parts['cached_input']:.4f}, output ${parts['output']:.4f}, "
        f"reasoning ${parts['reasoning']:.4f})"
        if parts
        else ""
    )
    console.print(f"cost: ${data['cost_usd']:.4f}{split}")
    if data["adaptations"]:
        console.print(f"endpoint ({data['provider']}) refused a request; adapted for the rest of the run (one extra "
                      f"request each): {_grouped(data['adaptations'], getattr(judge, 'model', ''))}")  # fmt: skip
    budget = getattr(judge, "budget", None)
    if budget is not None and budget.exhausted:
        warn(f"cost cap ${budget.max_cost} reached: no further requests were sent; run again to continue")


def _grouped(lines: list[str], model: str) -> str:
    """The lines, with the model named once when every line is about the judge's model."""
    prefix = f"{model}: "
    if model and all(line.startswith(prefix) for line in lines):
        return prefix + "; ".join(line.removeprefix(prefix) for line in lines)
    return "; ".join(lines)


@annotations_app.command("list")
def list_command(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """List annotators with how many traces each annotated, failed, and found failures in."""
    with open_store(read_only=True) as store:
        rows = store.annotators()
    if as_json:
        print_json(
            [
                {"annotator": r.annotator, "kind": r.kind, "traces": r.traces, "failed": r.failed,
                 "present_verdicts": r.present_verdicts}
                for r in rows
            ]
        )  # fmt: skip
        return
    table = Table("annotator", "kind", "traces", "failed", "present verdicts")
    for r in rows:
        table.add_row(escape(r.annotator), r.kind, str(r.traces), str(r.failed), str(r.present_verdicts))
    console.print(table)


@annotations_app.command("show")
def show_command(
    trace_id: Annotated[str, typer.Argument(help="Trace id.")],
    annotator: Annotated[str | None, typer.Option("--annotator", help="Only this annotator.")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Also list modes judged absent.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Show a trace's annotations: modes found, with the steps that show them and why."""
    with open_store(read_only=True) as store:
        if not store.has_trace(trace_id):
            fail(f"no trace {trace_id!r} in the store")
        annotations = store.get_annotations(annotator=annotator, trace_ids=[trace_id])
    if as_json:
        print_json([a.model_dump(mode="json") for a in annotations])
        return
    if not annotations:
        console.print(f"no annotations for {escape(trace_id)}" + (f" by {escape(annotator)}" if annotator else ""))
    for annotation in annotations:
        _print_annotation(annotation, show_all=show_all)


def _print_annotation(annotation: Annotation, *, show_all: bool) -> None:
    head = f"[bold]{escape(annotation.annotator)}[/bold] ({annotation.annotator_kind} {annotation.annotator_version})"
    if annotation.status == "failed":
        console.print(f"{head}: [red]failed[/red]: {escape(annotation.error or '')}")
        return
    console.print(f"{head}: {escape(annotation.summary)}")
    for verdict in annotation.verdicts:
        if not (verdict.present or show_all):
            continue
        mark = "[red]present[/red]" if verdict.present else ("absent" if verdict.present is False else "unknown")
        conf = f" ({verdict.confidence:.2f})" if verdict.confidence is not None else ""
        flags = f" [yellow]{', '.join(verdict.flags)}[/yellow]" if verdict.flags else ""
        console.print(f"  {verdict.mode_id} {mark}{conf}{flags}: {escape(verdict.explanation)}")
        for evidence in verdict.evidence:
            step = escape(f"[step {evidence.step}]")
            console.print(f"    [cyan]{step}[/cyan] {escape(evidence.quote)}")
