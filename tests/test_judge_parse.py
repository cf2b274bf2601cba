from __future__ import annotations

import json

import pytest

from agentmortem.judges.llm.parse import AnswerError, StepTexts, extract_json, parse_answer
from agentmortem.taxonomy import mast

STEPS = StepTexts({0: "run the diagnosis", 1: "kubectl get pods -n shop", 2: "kubectl get pods -n shop", 3: "done"})


def full_answer(**overrides: dict[str, object]) -> dict[str, object]:
    modes = [{"id": m, "present": False, "confidence": 0.9, "evidence": [], "explanation": ""} for m in mast().ids]
    for mode_id, change in overrides.items():
        next(m for m in modes if m["id"] == mode_id.replace("_", "-").replace("FM-1-", "FM-1.")).update(change)
    return {"summary": "s", "task_completed": False, "failure_modes": modes}


def test_json_is_found_in_fences_and_in_prose() -> None:
    body = json.dumps(full_answer())
    assert extract_json(f"```json\n{body}\n```")["summary"] == "s"
    assert extract_json(f"Here is my verdict:\n{body}\nHope this helps.")["summary"] == "s"
    with pytest.raises(AnswerError):
        extract_json("I think the agent did fine overall.")
    with pytest.raises(AnswerError):
        extract_json(body[: len(body) // 2])


def test_ids_are_resolved_from_codes_and_names_and_unknown_ids_dropped() -> None:
    answer = full_answer()
    modes = answer["failure_modes"]
    assert isinstance(modes, list)
    modes[2]["id"] = "1.3"
    modes[0]["id"] = "Disobey Task Specification"
    modes.append({"id": "FM-9.9", "present": True, "evidence": []})
    parsed = parse_answer(json.dumps(answer), mast(), STEPS)
    assert "FM-1.3" in parsed.verdicts and "FM-1.1" in parsed.verdicts and not parsed.missing
    assert any("FM-9.9" in w for w in parsed.warnings)


def test_evidence_outside_the_trace_is_dropped_and_missing_evidence_flagged() -> None:
    answer = full_answer(
        FM_1_3={"present": True, "evidence": [{"step": 99, "quote": "x"}, {"step": 2, "quote": "kubectl get pods"}]}
    )
    answer["failure_modes"][3].update(present=True, evidence=[])  # type: ignore[index]
    parsed = parse_answer(json.dumps(answer), mast(), STEPS)
    repetition = parsed.verdicts["FM-1.3"]
    assert [e.step for e in repetition.evidence] == [2] and "evidence-dropped" in repetition.flags
    assert parsed.verdicts["FM-1.4"].present and "no-evidence" in parsed.verdicts["FM-1.4"].flags


def test_a_quote_cited_at_the_wrong_step_moves_to_the_step_it_comes_from() -> None:
    answer = full_answer(FM_1_3={"present": True, "evidence": [{"step": 0, "quote": "...get pods -n shop"}]})
    verdict = parse_answer(json.dumps(answer), mast(), STEPS).verdicts["FM-1.3"]
    assert verdict.evidence[0].step == 1 and "evidence-relocated" in verdict.flags


def test_missing_modes_are_reported_not_invented() -> None:
    answer = full_answer()
    answer["failure_modes"] = answer["failure_modes"][:5]  # type: ignore[index]
    parsed = parse_answer(json.dumps(answer), mast(), STEPS)
    assert parsed.missing == mast().ids[5:] and len(parsed.verdicts) == 5


def test_a_dict_keyed_by_id_and_yes_no_values_are_accepted() -> None:
    answer = {"summary": "", "failure_modes": {m: {"present": "no"} for m in mast().ids}}
    answer["failure_modes"]["FM-2.6"] = {"present": "yes", "evidence": [{"step": "step 3", "quote": "done"}]}
    parsed = parse_answer(json.dumps(answer), mast(), STEPS)
    assert parsed.verdicts["FM-2.6"].present and parsed.verdicts["FM-2.6"].evidence[0].step == 3
