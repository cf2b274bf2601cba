"""How every judging command (`annotate`, `analyze`) ends a run.

Failures named and counted, the exit code, an interrupt's one line, and the dry run's estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from agentmortem.cli import exit_codes
from agentmortem.cli.app import console, fail, print_json, warn
from agentmortem.cli.interrupt import Tally, stop_interrupted

if TYPE_CHECKING:
    from agentmortem.engines.local import AnnotateReport
    from agentmortem.judges import Judge
    from agentmortem.store import Store
    from agentmortem.taxonomy import Taxonomy

FAILURES_SHOWN = 10
"""Failed traces named one warning each; the others are counted in one more line (all are in --json and reports)."""


def not_analysed_warning(failed: int) -> None:
    """The sentence the report also uses, as a warning."""
    from agentmortem.report.report import not_analysed_line

    if failed:
        warn(not_analysed_line(failed))


def warn_failures(failures: list[tuple[str, str]], *, shown: int = FAILURES_SHOWN) -> None:
    """One warning per failed trace (the first `shown`), then one counting those left out."""
    for trace_id, error in failures[:shown]:
        warn(f"annotation of {trace_id!r} failed: {error}")
    if len(failures) > shown:
        warn(f"... and {len(failures) - shown} more failed traces not listed here (--json and the report name them)")


def budget_stop(judge: Judge) -> Callable[[], bool] | None:
    """For the engine's `stop`: True once the judge's cost cap (--max-cost) has refused a request."""
    budget = getattr(judge, "budget", None)
    return (lambda: budget.exhausted) if budget is not None else None


def warn_if_capped(judge: Judge) -> None:
    """Say so when the cost cap stopped the run."""
    budget = getattr(judge, "budget", None)
    if budget is not None and budget.exhausted:
        warn(f"cost cap ${budget.max_cost} reached: no further requests were sent; run again to continue")


def stop_if_interrupted(report: AnnotateReport) -> None:
    """An interrupted run ends here: its one line, exit 130."""
    if report.interrupted:
        stop_interrupted(Tally(saved=report.saved, in_flight=report.discarded))


def end_annotate_run(report: AnnotateReport) -> None:
    """Exit with FAILED_JUDGEMENTS when any trace's annotation failed (the summary has said how many)."""
    if report.failed:
        raise typer.Exit(exit_codes.FAILED_JUDGEMENTS)


def check_endpoint(judge: Judge) -> None:
    """One cheap request before the first trace; an endpoint that cannot serve the run ends it with one line.

    Call it after the judge is built and before any trace is judged (and never in a dry run, which connects to nothing).
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


def dry_run(
    store: Store, judge: Judge, taxonomy: Taxonomy, trace_ids: list[str] | None, *, redo: bool, as_json: bool
) -> None:
    """Print what judging would send (requests, tokens, cost) and send nothing."""
    from agentmortem.engines.local import traces_to_judge
    from agentmortem.judges.llm import LLMJudge
    from agentmortem.judges.llm.estimate import estimate_run

    if not isinstance(judge, LLMJudge):
        fail(f"--dry-run counts an LLM judge's requests; {judge.name!r} sends none", code=exit_codes.USAGE)
    ids, skipped = traces_to_judge(store, judge.name, trace_ids, redo=redo)
    try:
        estimate = estimate_run(judge, store.iter_traces(ids), taxonomy)
    except ValueError as exc:  # options no request can satisfy, e.g. a context too small for the prompt
        fail(str(exc), code=exit_codes.USAGE)
    cost = estimate.cost_usd
    data: dict[str, Any] = {
        "dry_run": True, "model": judge.model, "traces": estimate.traces, "already_done": skipped,
        "requests": estimate.requests, "requests_cached": estimate.cached_requests,
        "prompt_tokens": estimate.usage.prompt_tokens, "completion_tokens": estimate.usage.completion_tokens,
        "cost_usd": round(cost, 6) if cost is not None else None,
        "price": estimate.price.model_dump() if estimate.price is not None else None, "sent": 0,
    }  # fmt: skip
    if as_json:
        print_json(data)
        return
    console.print(
        f"dry run: {estimate.traces} traces to judge ({skipped} already done): {estimate.requests} requests "
        f"({estimate.cached_requests} more answered from the cache), about {data['prompt_tokens']:,} prompt and "
        f"{data['completion_tokens']:,} completion tokens; "
        + (
            f"estimated cost ${cost:.4f} (${estimate.price.input} in, ${estimate.price.output} out per 1M tokens)"
            if cost is not None and estimate.price is not None
            else f"cost unknown (no price for {judge.model!r})"
        )
        + "; nothing was sent",
        highlight=False,
        soft_wrap=True,
    )
