"""agentmortem: explain why LLM agents fail, with MAST failure signatures from agent execution traces."""

from agentmortem.engines import annotate_store
from agentmortem.ingest import ingest
from agentmortem.judges import Judge, MockJudge, get_judge
from agentmortem.model import SCHEMA_VERSION, Annotation, Evidence, ModeVerdict, Outcome, Step, Trace
from agentmortem.readers import read_traces
from agentmortem.store import Store
from agentmortem.taxonomy import Taxonomy, load_taxonomy, mast

__version__ = "0.1.0"

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
