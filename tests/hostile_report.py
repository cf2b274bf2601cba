"""A small store whose traces carry markup and script payloads everywhere a trace can put text, and its Report.

Shared by tests/test_report_html.py and tests/test_html_browser.py. Each payload, if it ever ran, would set
`window.__pwned` and change `document.title`, which the browser test looks for.
"""

from __future__ import annotations

from pathlib import Path

from agentmortem.analysis import build_report
from agentmortem.engines.local import annotate_store
from agentmortem.judges.mock import MockJudge
from agentmortem.model import Evidence, ModeVerdict, Outcome, Trace, make_steps
from agentmortem.report.report import Report
from agentmortem.store import Store

PAYLOADS = [
    "<script>window.__pwned = 'script'; document.title = 'PWNED';</script>",
    "<img src=x onerror=\"window.__pwned = 'img'; document.title = 'PWNED'\">",
    '"><svg onload="window.__pwned = \'svg\'">',
    "</pre></details></main><script>window.__pwned = 'breakout'</script>",
    "<a href=\"javascript:window.__pwned='link'\">click me</a>",
    "<iframe srcdoc=\"<script>parent.__pwned='iframe'</script>\"></iframe>",
    "{{ 7 * 7 }} {% raw %}jinja{% endraw %} ${7*7}",
    "<style>body { display: none }</style>",
]
"""Markup a trace might carry; every one must show up as literal text."""

HOSTILE_MODEL = "gpt-<script>window.__pwned='group'</script>"
"""A model name (so a group name, drawn in SVG labels and titles) that is itself a payload."""

MODELS = ["careful-model", HOSTILE_MODEL, 'model-"quoted" & <b>bold</b>']


def hostile_trace(number: int) -> Trace:
    """A trace whose ids, messages, tool calls and outputs carry payloads; outcome alternates by number."""
    payload = PAYLOADS[number % len(PAYLOADS)]
    raw = [
        {"kind": "message", "role": "user", "content": f"Investigate the incident. {payload}"},
        {"kind": "message", "role": "assistant", "content": f"I will look at the logs first {payload}"},
        {"kind": "tool_call", "role": "assistant", "tool_name": "shell<img src=x onerror=alert(1)>",
         "tool_args": f'{{"command": "cat {payload}"}}', "call_id": "c1"},
        {"kind": "tool_result", "role": "tool", "content": f"error: {payload}", "call_id": "c1", "is_error": True},
        {"kind": "message", "role": "assistant", "content": f"Done. {PAYLOADS[(number + 1) % len(PAYLOADS)]}"},
    ]  # fmt: skip
    trace_id = f'run-{number}-"><img src=x onerror="window.__pwned=\'id\'">'
    success = number % 2 == 0
    return Trace(
        id=trace_id,
        source_format="test",
        model=MODELS[number % len(MODELS)],
        outcome=Outcome(success=success, score=1.0 if success else 0.0, source="test"),
        steps=make_steps(raw),
    ).with_fingerprint()


def hostile_verdicts(trace: Trace) -> list[ModeVerdict]:
    """Verdicts citing the payload steps, with payloads in quotes and explanations too."""
    number = int(trace.id.split("-")[1])
    payload = PAYLOADS[number % len(PAYLOADS)]
    verdicts = [
        ModeVerdict(mode_id="FM-1.3", present=number % 4 < 2, evidence=_cite(number % 4 < 2, 2, payload),
                    explanation=f"Repeated the same call: {payload}"),
        ModeVerdict(mode_id="FM-3.3", present=not trace.outcome.success, evidence=_cite(True, 4, payload),
                    explanation=f"Claimed success without evidence {payload}"),
        ModeVerdict(mode_id="FM-2.6", present=number % 4 == 1, evidence=_cite(True, 1, payload),
                    explanation="Said one thing, did another."),
    ]  # fmt: skip
    return [v if v.present else v.model_copy(update={"evidence": [], "explanation": ""}) for v in verdicts]


def _cite(present: bool, step: int, quote: str) -> list[Evidence]:
    return [Evidence(step=step, quote=quote)] if present else []


def build_hostile_report(tmp_path: Path, *, traces: int = 12) -> Report:
    """Ingest hostile traces into a fresh store, annotate them with a scripted judge, and build the Report."""
    with Store(tmp_path / "hostile.duckdb") as store:
        store.add_traces([hostile_trace(n) for n in range(traces)])
        annotate_store(store, MockJudge(hostile_verdicts, name="mock<script>judge</script>"))
        return build_report(store)
