"""FM-1.3 Step repetition: the same call again and again with nothing new learnt in between.

A *run* is a sequence of consecutive tool calls where each looks like the one before (same tool, normalised
arguments equal or at least `similarity` alike) and the earlier call taught nothing new: its result failed, was
missing, or repeated a result already seen in the run. A run of `min_repeats` calls fires. In conversations
without tools, the same agent saying nearly the same thing in consecutive turns fires too.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from agentmortem.judges.detectors.view import Finding, TraceView, is_agent_message, silent
from agentmortem.model import Step

MODE = "FM-1.3"
_MIN_PREFIX_WORDS = 30
_MIN_PREFIX_SHARE = 1 / 3  # a retry cut off after a third of the call still names what it is retrying
_WORD = re.compile(r"\w+|[^\w\s]")


def detect(view: TraceView) -> Finding | None:
    """Fire on the longest run of repeated calls, else on repeated agent messages."""
    cfg = view.config.repetition
    runs = [run for run in call_runs(view) if len(run) >= cfg.min_repeats]
    if runs:
        run = max(runs, key=len)
        name = run[0].tool_name or "tool"
        return Finding(MODE, True, view.evidences(run), f"{name!r} called {len(run)} times in a row with no new result")
    repeated = repeated_messages(view)
    if repeated:
        agent = repeated[0].agent or repeated[0].role or "agent"
        return Finding(MODE, True, view.evidences(repeated), f"{agent} repeated the same message {len(repeated)} times")
    return silent(MODE)


def call_runs(view: TraceView) -> list[list[Step]]:
    """Every maximal run of look-alike calls without new information (runs of one included); computed once a view."""
    if "call_runs" not in view.shared:
        view.shared["call_runs"] = _call_runs(view)
    runs: list[list[Step]] = view.shared["call_runs"]
    return runs


def _call_runs(view: TraceView) -> list[list[Step]]:
    runs: list[list[Step]] = []
    for call in view.calls:
        if runs and _repeats(view, runs[-1][-1], call):
            runs[-1].append(call)
        else:
            runs.append([call])
    return runs


def _repeats(view: TraceView, previous: Step, call: Step) -> bool:
    """`call` does again what `previous` did, and the pair taught nothing: failed, missing or unchanged results."""
    if previous.tool_name != call.tool_name or not similar(
        view.norm_args(previous), view.norm_args(call), view, prefix=True
    ):
        return False
    before, after = view.result_of(previous), view.result_of(call)
    if before is None or after is None or view.failed(before) or view.failed(after):
        return True
    return before.content == after.content


def similar(a: str, b: str, view: TraceView, *, threshold: float | None = None, prefix: bool = False) -> bool:
    """True when two texts are equal or at least the configured similarity alike, compared word by word.

    Word-level comparison keeps the cost low on long texts (a character-level diff of two 4,000-character
    messages is quadratic in practice). With `prefix`, long texts are also compared over the shorter one's
    length: a model whose arguments were cut off at different points (the "failed to parse function arguments"
    retries) is still sending the same call.
    """
    if a == b:
        return True
    cfg = view.config.repetition
    limit = threshold if threshold is not None else cfg.similarity
    a, b = a[: cfg.max_compare_chars], b[: cfg.max_compare_chars]
    share = min(len(a), len(b)) / max(len(a), len(b), 1)
    if share < limit and (not prefix or share < _MIN_PREFIX_SHARE):
        return False  # lengths alone rule it out (a cheap bound before any diff)
    words_a, words_b = _words(a, view), _words(b, view)
    if _at_least(words_a, words_b, limit):
        return True
    if not prefix:
        return False
    short = min(len(words_a), len(words_b))
    long_enough = short >= _MIN_PREFIX_WORDS and short >= max(len(words_a), len(words_b)) * _MIN_PREFIX_SHARE
    return long_enough and _at_least(words_a[:short], words_b[:short], limit)


def _words(text: str, view: TraceView) -> list[str]:
    # Consecutive pairs share a text (each call or message is compared with the one before and after it), so
    # the word lists are cached per view rather than split twice.
    cache: dict[str, list[str]] = view.shared.setdefault("words", {})
    words = cache.get(text)
    if words is None:
        words = cache[text] = _WORD.findall(text)
    return words


def _at_least(a: list[str], b: list[str], limit: float) -> bool:
    if not a or not b or a == b:
        return a == b  # equal non-empty lists have ratio 1.0: no need for the diff
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.real_quick_ratio() >= limit and matcher.quick_ratio() >= limit and matcher.ratio() >= limit


def repeated_messages(view: TraceView) -> list[Step]:
    """The longest run of near-identical consecutive messages by one agent, if long enough to count.

    Consecutive means nobody else spoke in between: an agent answering the same thing to different turns of a
    dialogue (a proxy's canned "continue", a tester re-run by its framework) is the framework's rhythm, not a loop.
    """
    cfg = view.config.repetition
    best: list[Step] = []
    run: list[Step] = []
    for step in view.steps:
        if step.kind not in {"message", "system"}:
            continue
        if not is_agent_message(step) or len(step.content.strip()) < cfg.message_min_chars:
            run = []
            continue
        alike = run and run[-1].agent == step.agent and similar(run[-1].content, step.content, view,
                                                                 threshold=cfg.message_similarity)  # fmt: skip
        run = [*run, step] if alike else [step]
        best = max(best, run, key=len)
    return best if len(best) >= cfg.min_message_repeats else []
