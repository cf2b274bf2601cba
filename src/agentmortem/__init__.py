"""agentmortem: explain why LLM agents fail, with MAST failure signatures from agent execution traces.

The public names below are imported on first use (PEP 562), not with the package: every `agentmortem.*` import,
the command line's included, runs this file first, and the library behind these names pulls in DuckDB, scipy
and the OpenAI client, which `agentmortem --help` must never wait for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentmortem.engines import annotate_store
    from agentmortem.ingest import ingest
    from agentmortem.judges import Judge, MockJudge, get_judge
    from agentmortem.model import SCHEMA_VERSION, Annotation, Evidence, ModeVerdict, Outcome, Step, Trace
    from agentmortem.readers import read_traces
    from agentmortem.store import Store
    from agentmortem.taxonomy import Taxonomy, load_taxonomy, mast

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "SCHEMA_VERSION": "agentmortem.model",
    "Annotation": "agentmortem.model",
    "Evidence": "agentmortem.model",
    "Judge": "agentmortem.judges",
    "MockJudge": "agentmortem.judges",
    "ModeVerdict": "agentmortem.model",
    "Outcome": "agentmortem.model",
    "Step": "agentmortem.model",
    "Store": "agentmortem.store",
    "Taxonomy": "agentmortem.taxonomy",
    "Trace": "agentmortem.model",
    "annotate_store": "agentmortem.engines",
    "get_judge": "agentmortem.judges",
    "ingest": "agentmortem.ingest",
    "load_taxonomy": "agentmortem.taxonomy",
    "mast": "agentmortem.taxonomy",
    "read_traces": "agentmortem.readers",
}
"""Public name -> the module that defines it."""


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agentmortem' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "SCHEMA_VERSION",
    "Annotation",
    "Evidence",
    "Judge",
    "MockJudge",
    "ModeVerdict",
    "Outcome",
    "Step",
    "Store",
    "Taxonomy",
    "Trace",
    "annotate_store",
    "get_judge",
    "ingest",
    "load_taxonomy",
    "mast",
    "read_traces",
]
