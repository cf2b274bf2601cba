"""Small builders for traces written for the detector tests: symptoms are planted at known step indices."""

from __future__ import annotations

import itertools
import json
from typing import Any

from agentmortem.judges.detectors import DetectorConfig, Finding, TraceView
from agentmortem.judges.detectors.view import Finding as _Finding
from agentmortem.model import Trace, make_steps

_ids = itertools.count()


def msg(role: str, content: str, *, agent: str | None = None) -> list[dict[str, Any]]:
    return [{"kind": "message", "role": role, "content": content, "agent": agent}]


def system(content: str, *, kind: str = "system", source_type: str | None = None) -> list[dict[str, Any]]:
    return [{"kind": kind, "role": "system" if kind == "system" else None, "content": content,
             "source_type": source_type}]  # fmt: skip


def call(
    tool: str, args: dict[str, Any] | str, output: str | None, *, error: bool = False, agent: str | None = None
) -> list[dict[str, Any]]:
    """A tool call and (unless output is None) its result: two steps."""
    cid = f"c{next(_ids)}"
    raw = args if isinstance(args, str) else json.dumps(args)
    steps = [{"kind": "tool_call", "role": "assistant", "tool_name": tool, "tool_args": raw, "call_id": cid,
              "agent": agent}]  # fmt: skip
    if output is not None:
        steps.append({"kind": "tool_result", "role": "tool", "content": output, "call_id": cid, "is_error": error})
    return steps


def shell(command: str, output: str = "ok", *, exit_code: int = 0) -> list[dict[str, Any]]:
    """A Codex-style shell call: JSON arguments with a bash -lc command, output JSON carrying the exit code."""
    out = json.dumps({"output": output, "metadata": {"exit_code": exit_code, "duration_seconds": 0.1}})
    return call("shell", {"command": ["bash", "-lc", command], "workdir": "/w"}, out)


def patch(file: str, body: str, *, ok: bool = True) -> list[dict[str, Any]]:
    text = f"*** Begin Patch\n*** Add File: {file}\n+{body}\n*** End Patch"
    out = "Success. Updated the following files:\nA " + file if ok else "failed to parse function arguments: EOF"
    return call("apply_patch", {"input": text}, out)


def trace(*parts: list[dict[str, Any]], benchmark: str | None = None, **metadata: Any) -> Trace:
    raw = [step for part in parts for step in part]
    return Trace(id="t", source_format="test", benchmark=benchmark, metadata=metadata, steps=make_steps(raw))


def run(detect: Any, tr: Trace, config: DetectorConfig | None = None) -> Finding | None:
    result: _Finding | None = detect(TraceView(tr, config or DetectorConfig()))
    return result


def steps_of(finding: Finding | None) -> list[int]:
    assert finding is not None and finding.present, finding
    return [e.step for e in finding.evidence]


def index_of(tr: Trace, text: str, *, kind: str | None = None, nth: int = 0) -> int:
    """Index of the nth step whose content or arguments contain `text`."""
    hits = [s.index for s in tr.steps if text in (s.content + (s.tool_args or "")) and (kind is None or s.kind == kind)]
    return hits[nth]
