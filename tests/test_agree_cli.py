"""`agentmortem agree` over a store holding two annotators' labels."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from agentmortem.cli.main import app
from agentmortem.model import Annotation, ModeVerdict
from agentmortem.store import Store

# FM-1.3: tp=4 fp=1 fn=1 tn=4 -> kappa .6; FM-3.1: A unknown on every trace.
A = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
B = [1, 1, 1, 1, 0, 1, 0, 0, 0, 0]


def _fill(db: str) -> None:
    def ann(i: int, who: str, value: int, *, with_31: bool) -> Annotation:
        verdicts = [ModeVerdict(mode_id="FM-1.3", present=bool(value))]
        if with_31:
            verdicts.append(ModeVerdict(mode_id="FM-3.1", present=False))
        return Annotation(trace_id=f"t{i}", annotator=who, annotator_kind="mock", taxonomy_version="1",
                          verdicts=verdicts)  # fmt: skip

    with Store(db) as store:
        store.put_annotations([ann(i, "A", a, with_31=False) for i, a in enumerate(A)])
        store.put_annotations([ann(i, "B", b, with_31=True) for i, b in enumerate(B)])


def test_agree_json(runner: CliRunner, db_path: str) -> None:
    _fill(db_path)
    result = runner.invoke(app, ["--db", db_path, "agree", "--annotator", "A", "--reference", "B", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    modes = {m["mode_id"]: m for m in data["modes"]}
    assert abs(modes["FM-1.3"]["figures"]["kappa"] - 0.6) < 1e-9
    assert modes["FM-3.1"]["unknown_annotator"] == 10 and modes["FM-3.1"]["figures"]["n"] == 0
    assert data["traces_compared"] == 10 and data["macro"]["modes"] == 1


def test_agree_table(runner: CliRunner, db_path: str) -> None:
    _fill(db_path)
    result = runner.invoke(app, ["--db", db_path, "agree", "-a", "A", "-r", "B", "--bootstrap", "200"])
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.stdout.splitlines() if "FM-1.3" in ln)
    assert "0.60" in line and "0.80" in line and "[" in line
    assert "micro" in result.stdout and "macro" in result.stdout


def test_agree_unknown_annotator_is_a_one_line_error(runner: CliRunner, db_path: str) -> None:
    _fill(db_path)
    result = runner.invoke(app, ["--db", db_path, "agree", "-a", "nobody", "-r", "B"])
    assert result.exit_code == 1
    assert "'nobody'" in result.stderr and "'A'" in result.stderr and len(result.stderr.strip().splitlines()) == 1
