"""`agree` says *where*: decisive-step, step-hit and agent accuracy, checked against hand-computed values."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agentmortem.analysis.agreement import agreement
from agentmortem.cli.main import app
from agentmortem.ingest import ingest
from agentmortem.labels import import_labels
from agentmortem.model import Annotation, Evidence, ModeVerdict
from agentmortem.store import Store

WHO_WHEN = Path(__file__).parent / "fixtures" / "who_when"


def _who_when_store(db: str) -> None:
    with Store(db) as store:
        # Ids are the paths under the folder (Hand-Crafted/3); the labels name the runs by file name ("3").
        report = ingest([WHO_WHEN], store)
        assert (report.read, report.errors, [s.path.name for s in report.skipped]) == (5, [], ["judge_labels.jsonl"])
        labels = import_labels(WHO_WHEN / "judge_labels.jsonl", store)
        assert (labels.imported, labels.missing, labels.by_file_name, labels.errors) == (5, 0, 5, [])


def test_who_when_reference_is_embedded_with_the_trace_ids(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    _who_when_store(db)
    with Store(db) as store:
        references = store.get_annotations(annotator="who-and-when")
        assert {a.trace_id for a in references} == set(store.trace_ids())
        by_question = {store.get_trace(a.trace_id).task: a for a in references}  # type: ignore[union-attr]
        museum = by_question["Which museum near the central station opens earliest on Sundays?"]
        # mistake_step "4" is history[4], the WebSurfer's click on the reseller page; no modes: all unknown.
        assert (museum.decisive_step, museum.decisive_agent, museum.verdicts) == (4, "WebSurfer", [])
        assert museum.annotator_kind == "human" and museum.summary.startswith("WebSurfer took")
        assert all(o is False for o in store.outcome_successes(store.trace_ids()).values())


def test_agree_reports_decisive_step_accuracy_as_computed_by_hand(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    _who_when_store(db)
    result = runner.invoke(app, ["--db", db, "agree", "-a", "judge", "-r", "who-and-when", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # By hand, per run: decisive step (reference) vs the judge's earliest evidence step, and the agent there.
    #   AG 1: 3 vs 3 -> hit;  agent Verification_Expert at step 3 -> hit
    #   AG 2: 1 vs 2 -> miss, within 1;  agent Computer_terminal at step 2 vs Physics_Expert -> miss
    #   HC 3: 4 vs 5 -> miss, within 1;  agent "Orchestrator (thought)" vs WebSurfer -> miss
    #   HC 4: 2 vs 2 -> hit;  agent "Orchestrator (-> FileSurfer)" is the Orchestrator -> hit
    #   HC 5: 3 vs nothing cited -> miss, miss;  agent none -> miss
    overall = data["location"]
    assert data["decisive_traces"] == 5 and data["tolerance"] == 1
    assert (overall["decisive_step"]["hits"], overall["decisive_step"]["n"], overall["decisive_step"]["rate"]) == (
        2, 5, 0.4,
    )  # fmt: skip
    assert overall["decisive_step_within"]["rate"] == 0.8
    assert (overall["agent"]["hits"], overall["agent"]["n"]) == (2, 5)
    low, high = overall["decisive_step"]["low"], overall["decisive_step"]["high"]
    assert 0.0 <= low <= 0.4 <= high <= 1.0
    # Who&When names no modes, so no step-hit chance: n is 0 and the rate unknown, never 0.
    assert overall["step_hit"] == {"hits": 0, "n": 0, "rate": None, "low": None, "high": None}
    modes = {m["mode_id"]: m["location"] for m in data["modes"]}
    # Per mode, the mode's own earliest step: FM-3.3 3 vs 3 (hit), 3 vs 1 (miss, also beyond ±1).
    assert (modes["FM-3.3"]["decisive_step"]["hits"], modes["FM-3.3"]["decisive_step"]["n"]) == (1, 2)
    assert modes["FM-3.3"]["decisive_step_within"]["hits"] == 1
    assert (modes["FM-1.1"]["decisive_step"]["hits"], modes["FM-1.1"]["decisive_step_within"]["hits"]) == (1, 2)
    wider = runner.invoke(app, ["--db", db, "agree", "-a", "judge", "-r", "who-and-when", "--json", "-k", "0"])
    assert json.loads(wider.stdout)["location"]["decisive_step_within"]["rate"] == 0.4


def test_agree_table_shows_where(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    _who_when_store(db)
    result = runner.invoke(app, ["--db", db, "agree", "-a", "judge", "-r", "who-and-when", "--bootstrap", "200"])
    assert result.exit_code == 0, result.output
    overall = next(line for line in result.stdout.splitlines() if line.strip().startswith("overall"))
    assert "0.40" in overall and "(2/5)" in overall and "0.80" in overall and "(4/5)" in overall


def _annotation(who: str, verdicts: list[ModeVerdict], **fields: object) -> Annotation:
    return Annotation(trace_id="t", annotator=who, annotator_kind="mock", taxonomy_version="1", verdicts=verdicts,
                      **fields)  # type: ignore[arg-type]  # fmt: skip


def test_step_hit_and_mode_agents() -> None:
    def present(mode: str, *steps: int, agent: str | None = None) -> ModeVerdict:
        return ModeVerdict(mode_id=mode, present=True, evidence=[Evidence(step=s) for s in steps], agent=agent)

    mine = _annotation("A", [present("FM-1.3", 4, 9), present("FM-2.6", 7), present("FM-3.3")])
    theirs = _annotation(
        "B", [present("FM-1.3", 9, agent="Coder"), present("FM-2.6", 6, agent="Planner"), present("FM-3.3", 2)]
    )
    report = agreement([mine], [theirs], bootstrap=0, step_agents={"t": ["x"] * 4 + ["coder"] + ["y"] * 5})
    where = {m.mode_id: m.location for m in report.modes}
    # FM-1.3: 9 is a reference step (hit); FM-2.6: 7 is one step from 6 (hit within 1 only); FM-3.3: no evidence.
    assert [(where[m].step_hit.hits, where[m].step_hit_within.hits) for m in ("FM-1.3", "FM-2.6", "FM-3.3")] == [
        (1, 1), (0, 1), (0, 0),
    ]  # fmt: skip
    assert (report.location.step_hit.hits, report.location.step_hit.n, report.location.step_hit_within.hits) == (
        1,
        3,
        2,
    )
    # The annotator names no agent: the agent of its earliest FM-1.3 step (4, "coder") matches "Coder".
    assert (where["FM-1.3"].agent.hits, where["FM-2.6"].agent.hits, where["FM-2.6"].agent.n) == (1, 0, 1)
    # No outcome known and no decisive step in the reference: no decisive chances at all.
    assert report.decisive_traces == 0 and report.location.decisive_step.rate is None


def test_successful_runs_are_not_decisive_traces() -> None:
    mine = _annotation("A", [], decisive_step=3)
    theirs = _annotation("B", [], decisive_step=3)
    assert agreement([mine], [theirs], bootstrap=0, success={"t": True}).decisive_traces == 0
    stated = agreement([mine], [theirs], bootstrap=0, success={"t": False})
    assert stated.location.decisive_step.rate == 1.0  # the decisive step the annotator names counts first
