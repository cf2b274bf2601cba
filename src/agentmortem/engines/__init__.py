"""Engines run a judge over stored traces and write the annotations back: local (asyncio) and ray."""

from agentmortem.engines.local import AnnotateReport, annotate_store

__all__ = ["AnnotateReport", "annotate_store"]
