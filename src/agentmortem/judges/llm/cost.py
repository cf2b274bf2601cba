"""Token usage as an addable value, prices per model, and the run-wide cost cap."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

PER = 1_000_000
"""Prices are given per this many tokens."""


class PriceError(ValueError):
    """A price file that cannot be read (one line naming the file)."""


class Price(BaseModel):
    """USD per million tokens.

    Usage follows OpenAI's convention, which OpenRouter and Gemini's compatible endpoint follow too: cached prompt
    tokens are part of `prompt_tokens`, reasoning tokens part of `completion_tokens`. Reasoning tokens are billed
    as output by every provider in the table, so `reasoning` defaults to the output rate.
    """

    input: float
    output: float
    cached_input: float | None = None
    reasoning: float | None = None

    def cost(self, usage: Usage) -> float:
        """Cost of `usage` at this price; cached prompt and reasoning tokens at their own rates when known."""
        return sum(self.parts(usage).values())

    def parts(self, usage: Usage) -> dict[str, float]:
        """The cost split into fresh input, cached input, visible output and reasoning, in USD."""
        cached_rate = self.cached_input if self.cached_input is not None else self.input
        reasoning_rate = self.reasoning if self.reasoning is not None else self.output
        fresh = max(usage.prompt_tokens - usage.cached_tokens, 0)
        visible = max(usage.completion_tokens - usage.reasoning_tokens, 0)
        return {
            "input": fresh * self.input / PER, "cached_input": usage.cached_tokens * cached_rate / PER,
            "output": visible * self.output / PER, "reasoning": usage.reasoning_tokens * reasoning_rate / PER,
        }  # fmt: skip


@dataclass
class Usage:
    """What requests consumed; add two with `+`."""

    requests: int = 0
    cached_requests: int = 0
    failed_requests: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    """Part of `completion_tokens` the model spent reasoning (reported by reasoning models)."""
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, Any]:
        """Plain dict, e.g. for an annotation's `usage`."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@lru_cache(maxsize=1)
def builtin_prices() -> dict[str, Price]:
    """The price table shipped with agentmortem (its header names the date and the pages it was read from)."""
    text = resources.files("agentmortem.judges.llm").joinpath("prices.yaml").read_text(encoding="utf-8")
    return {name: Price.model_validate(value) for name, value in yaml.safe_load(text).items()}


def load_prices(path: str | Path) -> dict[str, Price]:
    """A price table from a YAML or JSON file of `model: {input, output, cached_input}`."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise PriceError(f"{path}: expected a mapping of model name to prices")
        return {str(name): Price.model_validate(value) for name, value in data.items()}
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise PriceError(f"{path}: cannot read prices: {str(exc).splitlines()[0]}") from exc


def price_for(model: str, table: dict[str, Price] | None = None) -> Price | None:
    """The price of `model`: exact name, name without a `provider/` prefix, or the longest matching prefix."""
    table = table if table is not None else builtin_prices()
    for name in (model, model.rsplit("/", 1)[-1]):
        if name in table:
            return table[name]
        prefixes = [key for key in table if name.startswith(key)]
        if prefixes:
            return table[max(prefixes, key=len)]
    return None


class Budget:
    """A run-wide cost cap: a request is sent only while spent + reserved + its own estimate stays within it."""

    def __init__(self, max_cost: float | None) -> None:
        self.max_cost = max_cost
        self.spent = 0.0
        self.reserved = 0.0
        self.refused = 0

    def reserve(self, estimate: float) -> bool:
        """Reserve `estimate` USD for a request about to be sent; False (and nothing reserved) over the cap."""
        if self.max_cost is not None and self.spent + self.reserved + estimate > self.max_cost:
            self.refused += 1
            return False
        self.reserved += estimate
        return True

    def settle(self, estimate: float, actual: float) -> None:
        """Replace a reservation by what the request really cost."""
        self.reserved = max(self.reserved - estimate, 0.0)
        self.spent += actual

    @property
    def exhausted(self) -> bool:
        """True once some request was refused for the cap."""
        return self.refused > 0
