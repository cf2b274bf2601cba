"""What an LLM judge run would send, counted without sending it: requests, tokens and cost (the dry run).

The requests are the judge's own (`LLMJudge.planned_requests`: the same redaction, compaction, chunking and
prompts as a real run), tokens are the judge's own conservative estimate, and the cost is the judge's price table
applied to them. Re-asks after an unusable answer are not foreseen; answers already cached are counted apart,
because a real run takes them from the cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from agentmortem.judges.llm.cost import Price, Usage
from agentmortem.judges.llm.judge import LLMJudge
from agentmortem.model import Trace
from agentmortem.taxonomy import Taxonomy


@dataclass
class RunEstimate:
    """The requests a run would send and what they would cost."""

    model: str
    price: Price | None
    traces: int = 0
    requests: int = 0
    cached_requests: int = 0
    usage: Usage = field(default_factory=Usage)

    @property
    def cost_usd(self) -> float | None:
        """Estimated cost of the requests to send; None when the model's price is unknown."""
        return self.price.cost(self.usage) if self.price is not None else None


def estimate_run(judge: LLMJudge, traces: Iterable[Trace], taxonomy: Taxonomy) -> RunEstimate:
    """Count what judging `traces` with `judge` would send; nothing is sent."""
    estimate = RunEstimate(model=judge.model, price=judge.price)
    for trace in traces:
        estimate.traces += 1
        for messages, cached in judge.planned_requests(trace, taxonomy):
            if cached:
                estimate.cached_requests += 1
                continue
            estimate.requests += 1
            estimate.usage = estimate.usage + judge.expected_usage(messages, taxonomy)
    return estimate
