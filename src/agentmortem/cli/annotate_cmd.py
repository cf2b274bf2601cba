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

from agentmortem.cli import exit_codes
from agentmortem.cli.app import app, console, err_console, fail, open_store, print_json, state, warn
from agentmortem.defaults import DEFAULT_CONCURRENCY, DEFAULT_WORKERS

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


ResponseFormatOption = typer.Option(
    "--response-format",
    help="auto (the family's best form, stepping down when refused), json_schema, json_object, text.",
)
ProviderOption = typer.Option(
    "--provider",
    help="Endpoint family (default: found from --base-url and --model): openai-chat, openai-reasoning, azure, "
    "gemini, anthropic, openrouter, litellm, vllm, ollama, llamacpp, lmstudio, openai-compatible.",
)
ApiVersionOption = typer.Option("--api-version", help="Azure OpenAI api-version (default: $OPENAI_API_VERSION).")


@app.command("annotate")
def annotate_command(
    model: Annotated[
        str | None, typer.Option("--model", help="LLM model name; 'detectors' (default) or 'mock' for offline judges.")
    ] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint URL.")] = None,
    api_key_env: Annotated[
        str | None,
        typer.Option(
            "--api-key-env",
            help="Environment variable holding the API key (default: the family's, e.g. OPENAI_API_KEY).",
        ),
    ] = None,
    provider: Annotated[str | None, ProviderOption] = None,
    api_version: Annotated[str | None, ApiVersionOption] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Requests in flight at once.")] = (
        DEFAULT_CONCURRENCY
    ),
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", help="Stop sending new requests once this many USD are spent.")
    ] = None,
    context_tokens: Annotated[
        int, typer.Option("--context-tokens", help="Context window per request; longer traces are split.")
    ] = 128_000,
    samples: Annotated[int, typer.Option("--samples", min=1, help="Independent verdicts per request (majority).")] = 1,
    temperature: Annotated[
        float | None, typer.Option("--temperature", help="Default 0, or 0.7 with --samples.")
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds before one request is given up.")] = 300.0,
    annotator: Annotated[str | None, typer.Option("--annotator", help="Store the annotations under this name.")] = None,
    taxonomy_file: Annotated[Path | None, typer.Option("--taxonomy", help="Custom taxonomy YAML.")] = None,
    trace_ids: Annotated[
        list[str] | None, typer.Option("--trace", help="Annotate only this trace (repeatable).")
    ] = None,
    no_redact: Annotated[bool, typer.Option("--no-redact", help="Send secrets in traces unredacted.")] = False,
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
    prices: Annotated[Path | None, typer.Option("--prices", help="YAML/JSON price table overriding built-ins.")] = None,
    price_input: Annotated[float | None, typer.Option("--price-input", help="USD per 1M prompt tokens.")] = None,
    price_output: Annotated[float | None, typer.Option("--price-output", help="USD per 1M completion tokens.")] = None,
    response_format: Annotated[str, ResponseFormatOption] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Label stored traces with the failure modes of the taxonomy (MAST by default)."""
    taxonomy = _taxonomy(taxonomy_file)
    if engine is Engine.ray:
        judge, report = _run_on_ray(model, locals(), taxonomy, quiet=as_json)
    else:
        with open_store() as store:
            judge = _judge(store, model, locals())
            _check_known(store, trace_ids)
            check_endpoint(judge)
            report = _run(store, judge, taxonomy, trace_ids, concurrency, redo, quiet=as_json)
    _summary(report, judge, as_json=as_json)
    if report.failed and not report.annotated:
        raise typer.Exit(1)


def _taxonomy(path: Path | None) -> Taxonomy:
    from agentmortem.taxonomy import TaxonomyError, load_taxonomy

    try:
        return load_taxonomy(path)
    except TaxonomyError as exc:
        fail(str(exc))


def _judge(store: JudgeLink, model: str | None, opts: dict[str, Any]) -> Judge:
    from agentmortem.judges import get_judge

    if model in (None, "detectors", "mock"):
        return get_judge(model, **({"name": opts["annotator"]} if opts["annotator"] else {}))
    from agentmortem.judges.llm import LLMJudge, PriceError, load_prices

    try:
        table = load_prices(opts["prices"]) if opts["prices"] else None
    except PriceError as exc:
        fail(str(exc))
    price = _flag_price(opts["price_input"], opts["price_output"])
    if opts["response_format"] not in ("auto", "json_schema", "json_object", "text"):
        fail(f"unknown --response-format {opts['response_format']!r}", code=2)
    try:
        judge = LLMJudge(
            model, base_url=opts["base_url"], api_key_env=opts["api_key_env"], name=opts["annotator"],
            provider=opts.get("provider"), api_version=opts.get("api_version"),
            concurrency=opts["concurrency"], context_tokens=opts["context_tokens"], samples=opts["samples"],
            temperature=opts["temperature"], timeout=opts["timeout"], redact=not opts["no_redact"],
            response_format=opts["response_format"], cache=store, log=store, price=price,
            prices=table, max_cost=opts["max_cost"],
        )  # fmt: skip
    except ValueError as exc:
        fail(str(exc), code=2)
    _check_price(judge, opts["max_cost"])
    return judge


def check_endpoint(judge: Judge) -> None:
    """One cheap request before the first trace; an endpoint that cannot serve the run ends it with one line.

    Shared with `analyze`: call it after the judge is built and before any trace is judged.
    """
    probe = getattr(judge, "probe", None)
    if probe is None:
        return
    import asyncio

    from agentmortem.judges.llm.probe import EndpointUnusable

    async def checked() -> None:
        try:
            await probe()
        finally:
            await judge.client.aclose()  # type: ignore[attr-defined]  # the run binds its own loop's connections

    try:
        asyncio.run(checked())
    except EndpointUnusable as exc:
        fail(str(exc), code=exit_codes.ENDPOINT_UNUSABLE)


def _flag_price(price_input: float | None, price_output: float | None) -> Any:
    if price_input is None and price_output is None:
        return None
    from agentmortem.judges.llm import Price

    return Price(input=price_input or 0.0, output=price_output or 0.0)


def _check_price(judge: Any, max_cost: float | None) -> None:
    if judge.price is not None:
        return
    if max_cost is not None:
        fail(f"no price known for model {judge.model!r}, so --max-cost cannot be enforced; give --price-input/-output")
    warn(f"no price known for model {judge.model!r}; cost is reported as 0 (give --prices or --price-input/-output)")


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

        budget = getattr(judge, "budget", None)
        report = annotate_store(
            store, judge, taxonomy=taxonomy, trace_ids=trace_ids, concurrency=concurrency, redo=redo,
            on_annotation=advance, stop=(lambda: budget.exhausted) if budget is not None else None,
        )  # fmt: skip
    return report


# -- --engine ray: the store is closed here and owned by one Ray actor for the run -----------------------------


def _run_on_ray(
    model: str | None, opts: dict[str, Any], taxonomy: Taxonomy, *, quiet: bool
) -> tuple[Judge, AnnotateReport]:
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
    judge = _judge(MemoryCache(), model, settings)  # built here too, so bad options fail once, on the driver
    check_endpoint(judge)
    with _progress(disable=quiet) as progress:
        task = progress.add_task(f"annotating with {judge.name} on Ray", total=total, info="")
        try:
            report = annotate_store_ray(
                state.db, partial(_judge_in_worker, model, settings), taxonomy=taxonomy,
                trace_ids=opts["trace_ids"], concurrency=opts["concurrency"], workers=opts["workers"],
                redo=opts["redo"], address=opts["ray_address"],
                on_progress=lambda done, _total: progress.update(task, completed=done),
            )  # fmt: skip
        except EngineError as exc:
            fail(str(exc))
    return judge, report


def _judge_in_worker(model: str | None, settings: dict[str, Any], link: JudgeLink) -> Judge:
    """Runs in each Ray worker: the driver's judge, with its cache and log served by the store actor."""
    return _judge(link, model, settings)


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
    for trace_id, error in report.failures[:10]:
        warn(f"{trace_id}: {error}")
    if len(report.failures) > 10:
        warn(f"... and {len(report.failures) - 10} more failed traces (they are tried again on the next run)")
    _print_summary(data, judge)


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
