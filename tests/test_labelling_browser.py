"""The labelling page in a real headless Chromium: label two traces by clicking, save, import, and check the store."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentmortem.cli.main import app
from agentmortem.store import Store
from report_builders import Row, fill
from test_html_browser import chrome

pytestmark = pytest.mark.browser

MODES = ["FM-1.1", "FM-1.3", "FM-3.1", "FM-3.2"]


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture
def browser(tmp_path: Path, downloads: Path) -> Iterator[Any]:
    prefs = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    driver = chrome(tmp_path / "profile", prefs=prefs)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(runner, db_path: str, tmp_path: Path) -> Path:
    """A store with six judged traces and the labelling page of a four-trace sample drawn from it."""
    with Store(db_path) as store:
        rows = [Row(id=f"run-{i}", group="m", success=i % 2 == 0, verdicts={"FM-1.3": 1}, n_steps=4) for i in range(6)]
        fill(store, rows, all_modes=MODES)
    out = tmp_path / "sample"
    result = runner.invoke(app, ["--db", db_path, "sample", "--annotator", "alice", "--n", "4", "--seed", "3",
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "drew 4 traces (2 failed, 2 succeeded) with seed 3" in result.output
    return out


def _trace(driver: Any, k: int) -> Any:
    return driver.find_element("css selector", f"#trace-{k}")


def _answer(box: Any, mode: str, value: str) -> None:
    box.find_element("css selector", f"input[data-mode='{mode}'][value='{value}']").click()


def _download(folder: Path, name: str) -> Path:
    path = folder / name
    for _ in range(100):  # Chrome writes a .crdownload first, then renames it
        if path.exists() and not list(folder.glob("*.crdownload")):
            return path
        time.sleep(0.05)
    raise AssertionError(f"no download {name} in {folder}: {list(folder.iterdir())}")


def test_label_two_traces_save_and_import(browser, page, downloads, runner, db_path):
    record = json.loads((page / "sample.json").read_text())
    assert record["seed"] == 3 and record["drawn_by_class"] == {"failed": 2, "succeeded": 2}
    browser.get((page / "label.html").as_uri())
    assert "FM-1.3" not in browser.find_element("css selector", "ol.steps").text  # judge hidden: no marks
    first, second = _trace(browser, 0), _trace(browser, 1)
    first.find_element("css selector", "button[data-locate='FM-1.3']").click()  # locate FM-1.3 at steps 1 and 3
    first.find_element("css selector", "ol.steps li[data-step='1']").click()
    first.find_element("css selector", "ol.steps li[data-step='3']").click()
    assert first.find_element("css selector", "[data-evidence-of='FM-1.3']").text == "steps 1, 3"
    assert first.find_element("css selector", "input[data-mode='FM-1.3'][value='present']").is_selected()
    _answer(first, "FM-3.2", "absent")
    first.find_element("css selector", "[data-rest-absent]").click()
    _answer(second, "FM-3.1", "present")
    _answer(second, "FM-1.1", "unsure")
    second.find_element("css selector", "button[data-locate='#decisive']").click()
    second.find_element("css selector", "ol.steps li[data-step='2']").click()
    assert second.find_element("css selector", "[data-decisive-shown]").text == "step 2"
    assert browser.find_element("id", "progress").text == "2 of 4 traces labelled"
    browser.find_element("id", "save").click()
    saved = _download(downloads, "labels-alice.jsonl")
    rows = [json.loads(line) for line in saved.read_text().splitlines()]
    assert [r["trace_id"] for r in rows] == record["trace_ids"][:2]
    assert rows[0]["labels"]["FM-1.3"] == {"present": True, "evidence": [{"step": 1}, {"step": 3}]}
    assert rows[1]["decisive_step"] == 2 and rows[1]["labels"] == {"FM-3.1": 1, "FM-1.1": None}
    assert {r["annotator_kind"] for r in rows} == {"human"}
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []

    result = runner.invoke(app, ["--db", db_path, "import-labels", str(saved), "--annotator", "alice"])
    assert result.exit_code == 0, result.output
    with Store(db_path) as store:
        stored = {a.trace_id: a for a in store.get_annotations(annotator="alice")}
    assert set(stored) == set(record["trace_ids"][:2])
    first_id, second_id = record["trace_ids"][:2]
    labels = {v.mode_id: v.present for v in stored[first_id].verdicts}
    assert labels == {mode: mode == "FM-1.3" for mode in _all_modes()}  # the rest marked absent by the button
    assert [e.step for e in stored[first_id].verdict("FM-1.3").evidence] == [1, 3]  # type: ignore[union-attr]
    assert {v.mode_id: v.present for v in stored[second_id].verdicts} == {"FM-3.1": True}  # unsure stays unknown
    assert stored[second_id].decisive_step == 2 and stored[first_id].decisive_step is None
    assert {a.annotator_kind for a in stored.values()} == {"human"}


def _all_modes() -> list[str]:
    from agentmortem.taxonomy import mast

    return mast().ids
