"""Golden files for reader tests: what a reader made of a fixture, checked in as JSON next to the fixture.

`AGENTMORTEM_UPDATE_GOLDENS=1 pytest …` rewrites the goldens from the current readers; review the diff before
committing it. Otherwise a missing golden fails the test rather than being created silently.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from agentmortem.model import Trace

UPDATE = os.environ.get("AGENTMORTEM_UPDATE_GOLDENS") == "1"


def snapshot(traces: list[Trace]) -> list[dict[str, Any]]:
    """Traces as JSON-ready dicts, without the fields that depend on where the checkout lives.

    Outcome warnings are left out too: readers never set them (ingest does, in `outcomes.resolve`).
    """
    exclude = {"source_path": True, "fingerprint": True, "outcome": {"warnings"}}
    return [t.model_dump(mode="json", exclude=exclude) for t in traces]


def golden_path(fixture: Path) -> Path:
    """Where the golden of `fixture` lives: `golden/<fixture name>.json` beside it."""
    return fixture.parent / "golden" / f"{fixture.name}.json"


def check_golden(fixture: Path, traces: list[Trace]) -> None:
    """Assert that `traces` equal the checked-in golden of `fixture` (or rewrite it in update mode)."""
    actual = snapshot(traces)
    path = golden_path(fixture)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(actual, option=orjson.OPT_INDENT_2) + b"\n")
    assert path.exists(), f"no golden {path}; run with AGENTMORTEM_UPDATE_GOLDENS=1 and review it"
    expected = orjson.loads(path.read_bytes())
    assert actual == expected, f"{fixture.name}: reader output differs from {path.name}"
