"""The renderers (JSON, Markdown, terminal) and the `report` / `analyze` commands, offline with scripted judges."""

import json

import pytest
from rich.console import Console

from agentmortem import judges
from agentmortem.analysis import build_report
from agentmortem.cli.main import app
from agentmortem.judges import MockJudge
from agentmortem.model import Evidence, ModeVerdict
from agentmortem.report.json import load_report, render_json
from agentmortem.report.markdown import render_markdown
from agentmortem.report.terminal import render_terminal
from agentmortem.store import Store
from agentmortem.taxonomy import mast
from report_builders import Row, fill

MODES = mast().ids
HOSTILE = "<script>alert(1)</script> | <img src=x onerror=alert(2)>"


def _rows():
    rows = [Row(f"f{i}", "alpha|beta", False, {"FM-3.3": 1, "FM-1.3": 2}, content=HOSTILE) for i in range(8)]
    return rows + [Row(f"s{i}", "alpha|beta", True, {"FM-1.3": 1} if i % 2 else {}) for i in range(8)]


@pytest.fixture
def report(store):
    fill(store, _rows(), all_modes=MODES)
    return build_report(store)


def test_json_has_the_documented_names_and_round_trips(report, tmp_path):
    data = json.loads(render_json(report))
    assert {"annotator", "taxonomy", "groups", "comparisons"} <= data.keys()
    group = data["groups"][0]
    for key in ["group", "traces", "failed", "succeeded", "success_rate", "mean_score", "modes_per_failed_trace",
                "modes_per_successful_trace", "cascading_share", "modes", "interventions"]:  # fmt: skip
        assert key in group
    mode = next(m for m in group["modes"] if m["id"] == "FM-3.3")
    for key in ["id", "prevalence_failed", "prevalence_succeeded", "relative_increase", "odds_ratio", "ci95",
                "p_value", "q_value", "verdict"]:  # fmt: skip
        assert key in mode
    assert mode["verdict"] == "fatal" and mode["relative_increase"] is None
    path = tmp_path / "r.json"
    path.write_text(render_json(report))
    assert load_report(path) == report


def test_markdown_escapes_metadata_and_states_the_rules(report):
    text = render_markdown(report)
    assert text.startswith("# Failure signatures — judge on MAST")
    assert "alpha\\|beta" in text and "| alpha|beta |" not in text
    assert "<script>" not in text and "<img" not in text
    assert "| 1 | FM-3.3 Incorrect Verification | 100% | 0% |" in text
    assert "Woolf" in text and "## Differences between groups" in text


def test_terminal_puts_the_headline_first(report):
    console = Console(record=True, width=100)
    for part in render_terminal(report, width=100):
        console.print(part)
    text = console.export_text()
    assert text.splitlines()[1].startswith("• alpha|beta: isolated failures (2.0 modes per failed trace, 50% success)")
    assert "FM-3.3 Incorre" in text and "fatal" in text


def _db_with(db_path, *annotators):
    with Store(db_path) as store:
        for name in annotators:
            fill(store, _rows(), annotator=name, all_modes=MODES)


def test_report_command_writes_every_output(runner, db_path, tmp_path):
    _db_with(db_path, "judge")
    out = tmp_path / "out"
    result = runner.invoke(app, ["--db", db_path, "report", "--json", f"{out}.json", "--md", f"{out}.md"])
    assert result.exit_code == 0, result.output
    assert "isolated failures" in result.output
    assert json.loads((tmp_path / "out.json").read_text())["annotator"] == "judge"
    assert (tmp_path / "out.md").read_text().startswith("# Failure signatures")


def test_report_command_with_several_annotators_names_them(runner, db_path):
    _db_with(db_path, "one", "two")
    result = runner.invoke(app, ["--db", db_path, "report"])
    assert result.exit_code == 1
    assert "several annotators" in result.output and "one, two" in result.output
    assert "Traceback" not in result.output
    assert runner.invoke(app, ["--db", db_path, "report", "-a", "two", "-q"]).exit_code == 0


def test_report_command_rejects_a_bad_group_by(runner, db_path):
    _db_with(db_path, "judge")
    result = runner.invoke(app, ["--db", db_path, "report", "--group-by", "colour"])
    assert result.exit_code == 1 and "cannot group by 'colour'" in result.output


def _scripted(trace):
    failing = "broken" in trace.id
    if not failing:
        return [ModeVerdict(mode_id=m, present=False) for m in MODES]
    return [ModeVerdict(mode_id=m, present=m == "FM-3.1", evidence=[Evidence(step=1, quote="stops")] if m == "FM-3.1"
                        else []) for m in MODES]  # fmt: skip


def test_analyze_ingests_annotates_and_reports(runner, db_path, tmp_path, monkeypatch):
    traces = tmp_path / "traces.jsonl"
    lines = [{"id": f"{'broken' if i < 3 else 'fine'}-{i}", "model": "m1", "success": i >= 3,
              "messages": [{"role": "user", "content": "fix it"}, {"role": "assistant", "content": f"done {i}"}]}
             for i in range(6)]  # fmt: skip
    traces.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    # The command imports get_judge when it runs (the CLI starts at once), so it is replaced where it is defined.
    monkeypatch.setattr(judges, "get_judge", lambda spec, **_: MockJudge(_scripted, name="scripted"))
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["--db", db_path, "analyze", str(traces), "--json", str(out), "-q"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["annotator"] == "scripted"
    (group,) = data["groups"]
    assert (group["group"], group["traces"], group["failed"], group["succeeded"]) == ("m1", 6, 3, 3)
    fm31 = next(m for m in group["modes"] if m["id"] == "FM-3.1")
    assert (fm31["prevalence_failed"], fm31["prevalence_succeeded"]) == (1.0, 0.0)
