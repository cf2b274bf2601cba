"""Planted labels for signature tests: three groups, each with its own distinct failure modes, at known steps.

Three groups (A, B, C) of 20 failed and 20 successful traces, 10 steps each:
- incorrect verification (FM-3.3, step 6) in 16 of every group's failures and 2 of its successes: fatal in all;
- B's failures carry premature termination (FM-3.1, step 3) and unawareness of termination (FM-1.5, step 4) in 14
  of 20, A's and C's in 2 of 20; one success of every group has FM-3.1;
- C's failures carry loss of history (FM-1.4, step 2) in 12 of 20; no other trace has it.
"""

from __future__ import annotations

from agentmortem.analysis import build_report
from agentmortem.report import ReportSettings
from agentmortem.report.report import Report
from agentmortem.store import Store
from agentmortem.taxonomy import mast
from report_builders import Row, Verdicts, fill


def _failed(group: str, i: int) -> Verdicts:
    verdicts: Verdicts = {"FM-3.3": 6 if i < 16 else False}
    termination = i < (14 if group == "B" else 2)
    verdicts |= {"FM-3.1": 3, "FM-1.5": 4} if termination else {}
    if group == "C" and i >= 8:
        verdicts["FM-1.4"] = 2
    return verdicts


def _succeeded(i: int) -> Verdicts:
    return {"FM-3.3": 6 if i < 2 else False, "FM-3.1": 3 if i == 2 else False}


def planted_rows() -> list[Row]:
    rows = []
    for group in "ABC":
        rows += [Row(f"{group}-f{i:02d}", group, False, _failed(group, i), n_steps=10) for i in range(20)]
        rows += [Row(f"{group}-s{i:02d}", group, True, _succeeded(i), n_steps=10) for i in range(20)]
    return rows


def planted_report(store: Store) -> Report:
    """The planted rows stored and reported on, every trace in the drill-down."""
    fill(store, planted_rows(), all_modes=mast().ids)
    return build_report(store, settings=ReportSettings(max_drilldown=120))
