"""FM-2.3 Task derailment, in its tool-using form: the "meta-loop".

After a tool error the agent sometimes stops working on the task and works on itself: it installs packages,
probes the environment, edits and re-runs its own scripts that keep failing. A call belongs to such a loop when
it matches `meta_patterns` (environment work), or when it names a file the agent wrote earlier in the run and
either rewrites it or fails. `min_run` such calls in a row right after an error fire. A successful run of the
agent's own script ends the loop: that is the task being done with a tool the agent made.
"""

from __future__ import annotations

from agentmortem.judges.detectors.verification import written_files
from agentmortem.judges.detectors.view import Finding, GuardedPattern, TraceView, compile_all, first_match, silent
from agentmortem.model import Step

MODE = "FM-2.3"


def detect(view: TraceView) -> Finding | None:
    """Fire on the longest meta-loop following a tool error; unknown for runs without tool calls."""
    if not view.calls:
        return None
    best = max(_loops(view), key=len, default=[])
    if len(best) - 1 < view.config.derailment.min_run:
        return silent(MODE)
    return Finding(
        MODE, True, view.evidences(best), f"after a tool error, {len(best) - 1} calls spent on its own tooling"
    )


def _loops(view: TraceView) -> list[list[Step]]:
    """Each error followed by the meta calls that come right after it (the error call first)."""
    meta = compile_all(view.config.derailment.meta_patterns)
    own_files: set[str] = set()
    loops: list[list[Step]] = []
    current: list[Step] | None = None
    for call in view.calls:
        is_meta = _is_meta(view, call, meta, own_files)
        if current is not None and is_meta:
            current.append(call)
        elif current is not None:
            loops.append(current)
            current = None
        if current is None and view.call_failed(call):
            current = [call]
        own_files |= written_files(view, call)
    if current is not None:
        loops.append(current)
    return loops


def _is_meta(view: TraceView, call: Step, meta: list[GuardedPattern], own_files: set[str]) -> bool:
    command = view.command(call)
    result = view.result_of(call)
    if first_match(meta, command) or (result is not None and first_match(meta, result.content[:2000])):
        return True
    touches_own = any(name in command for name in own_files)
    return touches_own and (bool(written_files(view, call)) or view.call_failed(call))
