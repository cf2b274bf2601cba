"""Detector settings files and the DetectorsJudge as a Judge: versioning, unknown modes, the registry."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agentmortem.engines import annotate_store
from agentmortem.judges import Judge, get_judge
from agentmortem.judges.detectors import DetectorConfigError, DetectorsJudge, covered_modes, load_config
from agentmortem.store import Store
from agentmortem.taxonomy import mast
from conftest import FIXTURES
from detector_builders import msg, shell, trace

HERE = FIXTURES / "detectors"


def test_settings_file_overrides_and_keeps_the_builtin_family() -> None:
    config = load_config(HERE / "strict.yaml")
    assert config.repetition.min_repeats == 2 and config.mismatch.enabled
    rules = config.families["itbench-sre"]
    assert [f.pattern for f in rules.forbidden] == ["/etc/shadow"]
    assert rules.deliverable_file == "agent_output.json"  # kept from the preset
    assert "FM-2.6" in covered_modes(config) and "FM-2.6" not in covered_modes()


def test_typo_in_settings_is_a_one_line_error_naming_file_and_key() -> None:
    with pytest.raises(DetectorConfigError) as info:
        load_config(HERE / "typo.json")
    message = str(info.value)
    assert "typo.json" in message and "repetition.min_repeat" in message and "\n" not in message


def test_unreadable_settings_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("repetition: [unclosed\n")
    with pytest.raises(DetectorConfigError, match="bad.yaml"):
        load_config(bad)
    bad.write_text("- 1\n")
    with pytest.raises(DetectorConfigError, match="mapping"):
        load_config(bad)


def test_version_follows_the_settings() -> None:
    assert DetectorsJudge().version == DetectorsJudge().version
    assert DetectorsJudge().version != DetectorsJudge(config_path=HERE / "strict.yaml").version


def test_get_judge_defaults_to_detectors_and_it_is_a_judge() -> None:
    judge = get_judge(None)
    assert isinstance(judge, DetectorsJudge) and isinstance(judge, Judge)
    assert isinstance(get_judge("detectors", name="det2"), DetectorsJudge)


def test_uncovered_and_inapplicable_modes_stay_unknown() -> None:
    tr = trace(msg("user", "What is 2+2? Answer briefly please, with the number only."), msg("assistant", "4"))
    annotation = asyncio.run(DetectorsJudge().judge(tr, mast()))
    answered = {v.mode_id for v in annotation.verdicts}
    assert answered == {"FM-1.3", "FM-1.4", "FM-1.5", "FM-2.1", "FM-3.1"}  # no tools, no family, no writes
    assert all(v.present is False for v in annotation.verdicts)
    assert annotation.annotator_kind == "detectors" and annotation.status == "ok"


def test_annotate_store_with_detectors(store: Store) -> None:
    looping = trace(msg("user", "List the data directory and report what is in it, in one line."),
                    *[shell("ls /data", "a b") for _ in range(3)])  # fmt: skip
    store.add_traces([looping])
    report = annotate_store(store, DetectorsJudge())
    assert report.annotated == 1 and report.failed == 0
    stored = store.get_annotations(annotator="detectors")[0]
    assert stored.present_modes() == ["FM-1.3", "FM-1.5"]
    assert [e.step for e in stored.verdict("FM-1.3").evidence] == [1, 3, 5]  # type: ignore[union-attr]


def test_settings_example_in_the_docs_loads(tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "detectors.md").read_text(encoding="utf-8")
    example = docs.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "settings.yaml").write_text(example)
    config = load_config(tmp_path / "settings.yaml")
    assert config.repetition.min_repeats == 2
    assert len(config.families["itbench-sre"].forbidden) == 2
    assert config.families["my-benchmark"].match_benchmark == "(?i)my-bench"
