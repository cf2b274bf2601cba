"""FM-3.2 No or incomplete verification: a file written or a system changed, and nothing checks it afterwards.

Writes are seen in patches (`*** Add File: x`, `*** Update File: x`), shell redirections and `tee`, and write
tools' `path`/`file_path` arguments; changes to a system are commands matching `change_patterns` (kubectl apply,
helm upgrade…). A written file counts as checked when a later call names it without writing it again; a change
counts as checked when a later call matches `check_patterns`. The detector only speaks when it saw a write or a
change: a run that produced nothing is FM-3.1's business, and FM-3.2 stays unknown.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import orjson

from agentmortem.judges.detectors.view import Finding, TraceView, compile_all, first_match, silent
from agentmortem.model import Step

MODE = "FM-3.2"
_PATCH_FILE = re.compile(r"\*\*\* (?:Add|Update) File:\s*(\S+)")
_REDIRECT = re.compile(r"(?:>>?|\btee(?:\s+-a)?)\s*['\"]?([\w./~-]+\.\w+)")
_PATH_KEYS = ("path", "file_path", "filename", "file")


def detect(view: TraceView) -> Finding | None:
    """Fire on the first write or change left unchecked; unknown when nothing was written or changed."""
    writes = _last_writes(view)
    changes = _changes(view)
    if not writes and not changes:
        return None
    for name, call in sorted(writes.items(), key=lambda item: (not _is_deliverable(view, item[0]), item[1].index)):
        if not any(_reads(view, later, name) for later in view.calls if later.index > call.index):
            return Finding(MODE, True, [view.evidence(call)], f"{name!r} was written and never read back or checked")
    checks = compile_all(view.config.verification.check_patterns)
    for call in changes:
        if not any(first_match(checks, view.command(later)) for later in view.calls if later.index > call.index):
            return Finding(MODE, True, [view.evidence(call)], "a change was applied and never checked")
    return silent(MODE, "every write and change was followed by a check")


def written_files(view: TraceView, call: Step) -> set[str]:
    """Base names of the files a call writes."""
    names = set(_PATCH_FILE.findall(view.command(call))) | set(_REDIRECT.findall(view.command(call)))
    if (call.tool_name or "") in view.config.verification.write_tools:
        names |= _path_arguments(call)
    return {PurePosixPath(n).name for n in names if n and not n.startswith("/dev/")}


def _last_writes(view: TraceView) -> dict[str, Step]:
    last: dict[str, Step] = {}
    for call in view.calls:
        if view.call_failed(call):
            continue  # a failed write produced nothing to verify
        for name in written_files(view, call):
            last[name] = call
    return last


def _changes(view: TraceView) -> list[Step]:
    patterns = compile_all(view.config.verification.change_patterns)
    return [c for c in view.calls if not view.call_failed(c) and first_match(patterns, view.command(c))]


def _reads(view: TraceView, call: Step, name: str) -> bool:
    return name in view.command(call) and name not in written_files(view, call)


def _is_deliverable(view: TraceView, name: str) -> bool:
    family = view.family
    return family is not None and family[1].deliverable_file == name


def _path_arguments(call: Step) -> set[str]:
    try:
        args = orjson.loads(call.tool_args or "")
    except orjson.JSONDecodeError:
        return set()
    if not isinstance(args, dict):
        return set()
    return {str(args[k]) for k in _PATH_KEYS if isinstance(args.get(k), str)}
