"""Split a compacted trace at step boundaries into overlapping chunks that each fit a token budget."""

from __future__ import annotations

from dataclasses import dataclass, replace

from agentmortem.judges.llm.compact import head_tail
from agentmortem.judges.llm.render import StepText
from agentmortem.judges.llm.tokens import ASCII_CHARS_PER_TOKEN, estimate_tokens

DEFAULT_OVERLAP = 2
"""Steps repeated at the start of the next chunk so a failure spanning a boundary is seen whole."""


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive steps sent in one request."""

    number: int
    steps: list[StepText]

    @property
    def first(self) -> int:
        """Canonical index of the first step."""
        return self.steps[0].index

    @property
    def last(self) -> int:
        """Canonical index of the last step."""
        return self.steps[-1].index


def step_tokens(step: StepText) -> int:
    """Estimated tokens of one rendered step, with its line break."""
    return estimate_tokens(step.render()) + 1


def fit_step(step: StepText, budget: int) -> StepText:
    """A step that alone exceeds the budget, cut (head and tail) until it fits."""
    if step_tokens(step) <= budget:
        return step
    # Non-ASCII text costs up to one token per character, so size the cut in characters for the worst case.
    limit = max(int(budget * (1 if not step.body.isascii() else ASCII_CHARS_PER_TOKEN)) - len(step.header) - 120, 64)
    return replace(step, body=head_tail(step.body, limit))


def split(steps: list[StepText], budget: int, *, overlap: int = DEFAULT_OVERLAP) -> list[Chunk]:
    """Chunks covering every step at least once, in order, each within `budget` estimated tokens."""
    fitted = [fit_step(s, budget) for s in steps]
    sizes = [step_tokens(s) for s in fitted]
    chunks: list[Chunk] = []
    start = 0
    while start < len(fitted):
        end, used = start, 0
        while end < len(fitted) and (end == start or used + sizes[end] <= budget):
            used += sizes[end]
            end += 1
        chunks.append(Chunk(len(chunks), fitted[start:end]))
        if end >= len(fitted):
            break
        start = _next_start(start, end, sizes, budget, overlap)
    return chunks


def _next_start(start: int, end: int, sizes: list[int], budget: int, overlap: int) -> int:
    """Where the next chunk begins: back `overlap` steps, but never so far that it cannot move forward."""
    back = min(overlap, end - start - 1)
    # The overlap may take at most half the budget, so every chunk still brings new steps.
    while back > 0 and sum(sizes[end - back : end]) > budget // 2:
        back -= 1
    return end - back
