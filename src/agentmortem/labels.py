"""Failure labels from outside agentmortem: label files (JSONL) and labels embedded in dataset records (MAD).

(Being written: the labels helper replaces this module.)
"""

from __future__ import annotations

from agentmortem.model import Annotation, Trace


def embedded_annotations(trace: Trace) -> list[Annotation]:
    """Annotations carried inside a trace's source record (e.g. MAD's `mast_annotation`)."""
    return []
