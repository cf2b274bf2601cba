"""The detectors on the real ITBench run (scenario 2, trial 1, GPT-OSS-120B), against what reading it shows.

Reading the session: the agent stops after one `ls -R` and is nudged; stops again after the trace-error tree and
is nudged; its first patch of agent_output.json fails to parse, the harness nudges a third time, and the same
patch is retried until the fifth attempt succeeds. It then validates the file with `jq`, but updates it once more
with an unvalidated patch and ends. `ground_truth.yaml` appears only in a directory listing's output; no call
reads it. No compaction, reset, limit or meta-loop occurs.
"""

from __future__ import annotations

import pytest

from agentmortem.judges.detectors import DetectorsJudge
from agentmortem.model import Trace
from agentmortem.readers import ReadError, read_traces
from agentmortem.taxonomy import mast
from conftest import shared_data


@pytest.fixture(scope="module")
def itbench_trace() -> Trace:
    pytest.importorskip("agentmortem.readers.codex")
    errors: list[ReadError] = []
    traces = list(read_traces([shared_data("itbench", "agent_outputs", "2", "1")], errors, format="codex"))
    assert not errors and len(traces) == 1
    return traces[0]


def _indices(trace: Trace, predicate: object) -> list[int]:
    return [s.index for s in trace.steps if predicate(s)]  # type: ignore[operator]


def test_real_run_findings_match_the_reading(itbench_trace: Trace) -> None:
    annotation = DetectorsJudge().annotate(itbench_trace, mast())
    found = {v.mode_id: v for v in annotation.verdicts}
    nudges = _indices(itbench_trace, lambda s: s.content.startswith("I don't see agent_output.json"))
    patches = _indices(itbench_trace, lambda s: s.tool_name == "apply_patch" and s.kind == "tool_call")
    assert len(nudges) == 3 and len(patches) == 6
    assert [e.step for e in found["FM-3.1"].evidence] == nudges
    assert [e.step for e in found["FM-1.3"].evidence] == patches[:5]  # the retried Add File patch
    assert [e.step for e in found["FM-3.2"].evidence] == patches[5:]  # the final, unvalidated Update File
    assert {m for m, v in found.items() if v.present} == {"FM-1.3", "FM-3.1", "FM-3.2"}
    assert {"FM-1.1", "FM-1.4", "FM-1.5", "FM-2.1", "FM-2.3"} <= {m for m, v in found.items() if v.present is False}
    assert "FM-2.2" not in found  # no detector sees it: unknown, not absent


def test_evidence_quotes_come_from_their_steps(itbench_trace: Trace) -> None:
    annotation = DetectorsJudge().annotate(itbench_trace, mast())
    for verdict in annotation.present_modes():
        for evidence in annotation.verdict(verdict).evidence:  # type: ignore[union-attr]
            step = itbench_trace.step(evidence.step)
            words = evidence.quote.split()[:3]
            assert evidence.quote and all(w in " ".join((step.content or step.tool_args or "").split()) or
                                          w in (step.tool_args or "") for w in words)  # fmt: skip
