"""`agentmortem sample`: a stratified random draw, recorded, and a labelling page that hides the judge by default."""

from __future__ import annotations

import json
from pathlib import Path

from agentmortem.analysis.sampling import allocate, stratified_sample
from agentmortem.cli.main import app
from agentmortem.store import Store
from report_builders import Row, fill


def _frame(failed: int, succeeded: int, unknown: int = 0) -> list[tuple[str, str, str]]:
    classes = ["f"] * failed + ["s"] * succeeded + ["u"] * unknown
    return [(f"t{i:03d}", cls, "m") for i, cls in enumerate(classes)]


def test_allocation_is_proportional_and_adds_up():
    assert allocate({"f": 70, "s": 30}, 40) == {"f": 28, "s": 12}
    assert allocate({"f": 1, "s": 1, "u": 1}, 2) == {"f": 1, "s": 1, "u": 0}  # ties go by class code
    assert sum(allocate({"f": 13, "s": 29, "u": 5}, 17).values()) == 17
    assert allocate({"f": 3, "s": 2}, 40) == {"f": 3, "s": 2}  # never more than the frame holds


def test_sample_is_stratified_seeded_and_recorded():
    frame = _frame(70, 30)
    plan = stratified_sample(frame, 40, seed=5)
    classes = dict((t, c) for t, c, _ in frame)
    assert [classes[t] for t in plan.trace_ids].count("f") == 28 and len(plan.trace_ids) == 40
    assert plan.frame == {"failed": 70, "succeeded": 30} and plan.drawn == {"failed": 28, "succeeded": 12}
    assert stratified_sample(list(reversed(frame)), 40, seed=5).trace_ids == plan.trace_ids  # order-free
    assert stratified_sample(frame, 40, seed=6).trace_ids != plan.trace_ids


def _store(db_path: str) -> None:
    with Store(db_path) as store:
        rows = [Row(id=f"run-{i}", success=i % 2 == 0, verdicts={"FM-1.3": 1}, n_steps=4) for i in range(6)]
        fill(store, rows, all_modes=["FM-1.3"])


def test_judge_verdicts_show_only_when_asked(runner, db_path, tmp_path: Path):
    _store(db_path)
    for name, extra in (("blind", []), ("review", ["--show-judge"])):
        result = runner.invoke(app, ["--db", db_path, "sample", "--annotator", "bob", "--n", "2", "--seed", "3",
                                     "--out", str(tmp_path / name), *extra])  # fmt: skip
        assert result.exit_code == 0, result.output
    assert "The judge (judge) found" not in (tmp_path / "blind" / "label.html").read_text()
    assert "The judge (judge) found" in (tmp_path / "review" / "label.html").read_text()
    record = json.loads((tmp_path / "blind" / "sample.json").read_text())
    assert record["frame"]["judge"] == "judge" and record["stratified_by"] == "outcome class"


def test_sample_refuses_what_it_cannot_do(runner, db_path, tmp_path: Path):
    with Store(db_path):
        pass
    result = runner.invoke(app, ["--db", db_path, "sample", "--annotator", "a", "--out", str(tmp_path / "x")])
    assert result.exit_code == 1 and "no traces in the store to sample from" in result.output
    result = runner.invoke(app, ["--db", db_path, "sample", "--annotator", "a", "--n", "0", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--n must be at least 1" in result.output
    result = runner.invoke(app, ["--db", db_path, "sample", "--annotator", "a", "--show-judge", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "--show-judge needs a judge" in result.output


def test_trace_text_on_the_labelling_page_is_inert(runner, db_path, tmp_path: Path):
    from hostile_report import PAYLOADS

    with Store(db_path) as store:
        rows = [Row(id=f"x{i}-</script>", success=i % 2 == 0, content=PAYLOADS[i % len(PAYLOADS)]) for i in range(4)]
        fill(store, rows, all_modes=["FM-1.3"])
    result = runner.invoke(app, ["--db", db_path, "sample", "--annotator", "<b>eve</b>", "--n", "4", "--seed", "1",
                                 "--out", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    page = (tmp_path / "label.html").read_text()
    assert page.count("<script") == 2  # the page data (JSON, not executed) and the page's own script
    assert "<script>window.__pwned" not in page and "<b>eve</b>" not in page
    assert "&lt;script&gt;window.__pwned" in page
    data = page[page.index('id="sample-data">') : page.index("</script>", page.index('id="sample-data">'))]
    assert "</script>" not in data and "x0-\\u003c/script\\u003e" in data
