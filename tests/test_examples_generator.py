"""examples/generate.py: deterministic, checked in as it writes, small, and labelled with what the runs contain."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from agentmortem.engines.local import annotate_store
from agentmortem.ingest import ingest
from agentmortem.judges import get_judge
from agentmortem.store import Store
from agentmortem.taxonomy import mast
from conftest import REPO

EXAMPLES = REPO / "examples"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("examples_generate", EXAMPLES / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the module runs
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, Path, list[Path]]:
    gen = _generator()
    out = tmp_path_factory.mktemp("generated")
    return gen, out, gen.generate(out)


def _contents(root: Path, files: list[Path]) -> dict[str, bytes]:
    return {str(f.relative_to(root)): f.read_bytes() for f in files}


def test_the_same_bytes_twice(generated, tmp_path: Path) -> None:
    gen, first, files = generated
    again = gen.generate(tmp_path)
    assert _contents(first, files) == _contents(tmp_path, again)
    assert len(files) > 36 * 5  # 36 runs of five files each, and the labels


def test_the_checked_in_files_are_what_it_writes(generated) -> None:
    _, out, files = generated
    for name, data in _contents(out, files).items():
        assert (EXAMPLES / name).read_bytes() == data, f"examples/{name} differs: run examples/generate.py"
    runs = {p.parent for p in (EXAMPLES / "agent_outputs").glob("*/*/sessions")}
    written = {EXAMPLES / f.relative_to(out).parent.parent for f in files if f.parent.name == "sessions"}
    hand_written = {EXAMPLES / "agent_outputs" / s / t for s in ("101", "102", "103") for t in ("1", "2", "3")}
    assert runs == written | hand_written  # no stale run folder left behind, the nine hand-written ones kept


def test_generated_files_stay_small(generated) -> None:
    _, _, files = generated
    assert sum(f.stat().st_size for f in files) < 2_000_000


def test_enough_runs_per_model_over_three_scenarios(generated) -> None:
    gen, out, _ = generated
    rows = [json.loads(line) for line in (out / gen.LABELS).read_text().splitlines()]
    per_model: dict[str, set[str]] = {}
    for row in rows:
        model, scenario, _ = row["trace_id"].split("/")
        per_model.setdefault(model, set()).add(row["trace_id"])
        assert scenario in {"scenario-101", "scenario-102", "scenario-103"}
    assert len(per_model) == 3 and all(len(ids) >= 12 for ids in per_model.values())


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """The checked-in examples ingested as `make demo` does, judged by the detectors: verdicts per trace."""
    with Store(tmp_path_factory.mktemp("store") / "examples.duckdb") as store:
        report = ingest([EXAMPLES], store)
        assert report.read == 54 and not report.errors, [str(e) for e in report.errors]
        annotate_store(store, get_judge(None))
        traces = {t.id: t for t in store.iter_traces()}
        return {
            a.trace_id: {
                "n_steps": len(traces[a.trace_id].steps), "success": traces[a.trace_id].outcome.success,
                **{v.mode_id: v for v in a.verdicts},
            }
            for a in store.get_annotations(annotator="detectors")
        }  # fmt: skip


def _hand_written(row: dict) -> bool:
    return row["trace_id"].rsplit("-", 1)[1] in {"1", "2", "3"}


def _labels() -> list[dict]:
    return [json.loads(line) for line in (EXAMPLES / _generator().LABELS).read_text().splitlines()]


def test_labels_cover_every_run_and_every_mode(judged) -> None:
    rows = _labels()
    assert {r["trace_id"] for r in rows} == set(judged)
    assert all(set(r["labels"]) == set(mast().ids) for r in rows)


def test_what_the_detectors_see_on_a_generated_run_is_what_it_was_written_to_contain(judged) -> None:
    """On every generated run, each mode a detector can judge agrees with the labels, at a labelled step."""
    checked = 0
    for row in _labels():
        if _hand_written(row):
            continue  # hand-written: labels say what was meant, the detectors' recall on them is measured elsewhere
        verdicts = judged[row["trace_id"]]
        for mode_id, label in row["labels"].items():
            verdict = verdicts.get(mode_id)
            if verdict is None or verdict.present is None:  # type: ignore[attr-defined]
                continue  # a mode the detectors cannot see on this run
            planted = isinstance(label, dict)
            assert verdict.present == planted, (row["trace_id"], mode_id)  # type: ignore[attr-defined]
            if planted:
                steps = {e["step"] for e in label["evidence"]}
                assert steps and max(steps) < verdicts["n_steps"]  # type: ignore[operator]
                assert steps & {e.step for e in verdict.evidence}, (row["trace_id"], mode_id)  # type: ignore[attr-defined]
            checked += 1
    assert checked > 36 * 5


def test_failed_generated_runs_name_their_decisive_step(judged) -> None:
    generated = [r for r in _labels() if not _hand_written(r)]
    failed = {r["trace_id"] for r in generated if judged[r["trace_id"]]["success"] is False}
    assert {r["trace_id"] for r in generated if "decisive_step" in r} == failed and len(failed) >= 12
    for row in (r for r in generated if r["trace_id"] in failed):
        label = row["labels"][row["decisive_mode"]]
        assert row["decisive_step"] in {e["step"] for e in label["evidence"]}
