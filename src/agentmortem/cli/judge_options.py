"""The judge's command-line options, defined once for every command that judges (`annotate`, `analyze`).

`@judge_options` adds each option below to a command's parameters and hands their values to it as one dict,
`judge_opts`; `build_judge` turns that dict into a judge. A new judge option is one entry in `JUDGE_OPTIONS` and
reaches both commands at once.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentmortem.cli import exit_codes
from agentmortem.cli.app import fail, warn
from agentmortem.defaults import DEFAULT_CONCURRENCY

if TYPE_CHECKING:  # the judges load when a command runs, never for `--help`
    from agentmortem.judges import Judge

RESPONSE_FORMATS = ("auto", "json_schema", "json_object", "text")
OFFLINE_JUDGES = (None, "detectors", "mock")
"""`--model` values that need no endpoint."""

JUDGE_OPTIONS: dict[str, tuple[Any, Any]] = {
    "model": (
        Annotated[
            str | None,
            typer.Option("--model", "-m", help="LLM model name; 'detectors' (default) or 'mock' for offline judges."),
        ],
        None,
    ),
    "base_url": (Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint URL.")], None),
    "api_key_env": (
        Annotated[
            str | None,
            typer.Option(
                "--api-key-env",
                help="Environment variable holding the API key (default: the family's, e.g. OPENAI_API_KEY).",
            ),
        ],
        None,
    ),
    "provider": (
        Annotated[
            str | None,
            typer.Option(
                "--provider",
                help="Endpoint family (default: found from --base-url and --model): openai-chat, openai-reasoning, "
                "azure, gemini, anthropic, openrouter, litellm, vllm, ollama, llamacpp, lmstudio, openai-compatible.",
            ),
        ],
        None,
    ),
    "api_version": (
        Annotated[
            str | None, typer.Option("--api-version", help="Azure OpenAI api-version (default: $OPENAI_API_VERSION).")
        ],
        None,
    ),
    "annotator": (
        Annotated[str | None, typer.Option("--annotator", "-a", help="Store the annotations under this name.")],
        None,
    ),
    "concurrency": (
        Annotated[int, typer.Option("--concurrency", min=1, help="Requests in flight at once.")],
        DEFAULT_CONCURRENCY,
    ),
    "max_cost": (
        Annotated[
            float | None, typer.Option("--max-cost", help="Stop sending new requests once this many USD are spent.")
        ],
        None,
    ),
    "context_tokens": (
        Annotated[int, typer.Option("--context-tokens", help="Context window per request; longer traces are split.")],
        128_000,
    ),
    "samples": (
        Annotated[int, typer.Option("--samples", min=1, help="Independent verdicts per request (majority).")],
        1,
    ),
    "temperature": (
        Annotated[float | None, typer.Option("--temperature", help="Default 0, or 0.7 with --samples.")],
        None,
    ),
    "timeout": (
        Annotated[float, typer.Option("--timeout", help="Seconds before one request is given up.")],
        300.0,
    ),
    "no_redact": (
        Annotated[bool, typer.Option("--no-redact", help="Send secrets in traces unredacted.")],
        False,
    ),
    "prices": (
        Annotated[Path | None, typer.Option("--prices", help="YAML/JSON price table overriding built-ins.")],
        None,
    ),
    "price_input": (
        Annotated[float | None, typer.Option("--price-input", help="USD per 1M prompt tokens.")],
        None,
    ),
    "price_output": (
        Annotated[float | None, typer.Option("--price-output", help="USD per 1M completion tokens.")],
        None,
    ),
    "response_format": (
        Annotated[
            str,
            typer.Option(
                "--response-format",
                help="auto (the family's best form, stepping down when refused), json_schema, json_object, text.",
            ),
        ],
        "auto",
    ),
    "dry_run": (
        Annotated[
            bool,
            typer.Option(
                "--dry-run",
                help="LLM judge: print the requests, tokens and cost a run would take, and send nothing.",
            ),
        ],
        False,
    ),
}
"""Parameter name: (annotated type with its option, default)."""


def judge_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command` every option of JUDGE_OPTIONS; their values reach it as the dict `judge_opts`."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "judge_opts"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
        for name, (annotation, default) in JUDGE_OPTIONS.items()
    ]

    @functools.wraps(command)
    def with_judge_options(**values: Any) -> None:
        judge_opts = {name: values.pop(name) for name in JUDGE_OPTIONS}
        command(**values, judge_opts=judge_opts)

    parameters = [*own, *added]
    with_judge_options.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    with_judge_options.__annotations__ = {p.name: p.annotation for p in parameters}
    return with_judge_options


def is_llm(opts: dict[str, Any]) -> bool:
    """Whether the options ask for the LLM judge (rather than an offline one)."""
    return opts["model"] not in OFFLINE_JUDGES


def build_judge(store: Any, opts: dict[str, Any]) -> Judge:
    """The judge the options describe; its request cache and log go to `store` (anything with their methods).

    Bad option values end the command with a one-line error.
    """
    from agentmortem.judges import get_judge

    model = opts["model"]
    if opts["dry_run"] and not is_llm(opts):  # before anything is read or judged
        fail(f"--dry-run counts an LLM judge's requests; {model or 'detectors'!r} sends none", code=exit_codes.USAGE)
    if not is_llm(opts):
        return get_judge(model, **({"name": opts["annotator"]} if opts["annotator"] else {}))
    from agentmortem.judges.llm import LLMJudge, PriceError, load_prices

    try:
        table = load_prices(opts["prices"]) if opts["prices"] else None
    except PriceError as exc:
        fail(str(exc))
    if opts["response_format"] not in RESPONSE_FORMATS:
        fail(f"unknown --response-format {opts['response_format']!r}", code=exit_codes.USAGE)
    try:
        judge = LLMJudge(
            model, base_url=opts["base_url"], api_key_env=opts["api_key_env"], name=opts["annotator"],
            provider=opts["provider"], api_version=opts["api_version"],
            concurrency=opts["concurrency"], context_tokens=opts["context_tokens"], samples=opts["samples"],
            temperature=opts["temperature"], timeout=opts["timeout"], redact=not opts["no_redact"],
            response_format=opts["response_format"], cache=store, log=store,
            price=_flag_price(opts["price_input"], opts["price_output"]), prices=table, max_cost=opts["max_cost"],
        )  # fmt: skip
    except ValueError as exc:
        fail(str(exc), code=exit_codes.USAGE)
    _check_price(judge, opts["max_cost"])
    return judge


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
