"""Compaction before chunking: cut the middle of very long outputs and replace repeated outputs by a reference.

Both keep every step (and its index) in the trace the judge reads; only the body of a step gets shorter, and the
judge is told exactly what was removed.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from agentmortem.judges.llm.render import StepText

DEFAULT_STEP_CHARS = 16_000
"""Longest step body sent as is; longer ones keep their head and tail (half each)."""
MIN_DEDUP_CHARS = 200
"""Shorter bodies are repeated verbatim: a reference would save nothing."""


def head_tail(text: str, limit: int) -> str:
    """`text` itself when it fits `limit` characters, else its head and tail around a marker saying what was cut."""
    if len(text) <= limit:
        return text
    keep = max(limit // 2, 1)
    cut = len(text) - 2 * keep
    marker = f"\n[... {cut:,} of {len(text):,} characters cut from the middle of this step ...]\n"
    return text[:keep] + marker + text[-keep:]


def compact(steps: list[StepText], *, limit: int = DEFAULT_STEP_CHARS) -> list[StepText]:
    """Steps with long bodies cut to head and tail and repeated tool outputs replaced by a reference."""
    seen: dict[str, int] = {}
    out: list[StepText] = []
    for step in steps:
        body = step.body
        if len(body) >= MIN_DEDUP_CHARS and step.header.startswith("tool_result"):
            digest = hashlib.sha256(body.encode()).hexdigest()
            if digest in seen:
                body = f"[identical to the output of step {seen[digest]}]"
            else:
                seen[digest] = step.index
        out.append(replace(step, body=head_tail(body, limit)))
    return out
