from __future__ import annotations

from agentmortem.judges.llm.chunk import split
from agentmortem.judges.llm.compact import compact, head_tail
from agentmortem.judges.llm.render import StepText
from agentmortem.judges.llm.tokens import estimate_tokens
from fake_openai import FakeOpenAI, steps_in
from judge_helpers import citing, judge_one, make_judge, make_trace


def big_trace() -> tuple[list[str], list[str]]:
    """About 3 MB: 560 steps of ~5 KB, two 300 KB tool outputs, and a repeated one."""
    contents, kinds = [], []
    for i in range(560):
        if i in (100, 400):
            body = f"MARK-{i} " + "".join(f"line {n}: pod status Running\n" for n in range(12_000))
        elif i == 301:
            body = contents[300]
        else:
            body = f"MARK-{i} " + (f"output of command {i} " * 250)
        contents.append(body)
        kinds.append("tool_result" if i % 3 == 0 or i == 301 else "message")
    return contents, kinds


def test_a_3mb_trace_is_seen_whole_in_chunks_with_canonical_indices(fake_server: FakeOpenAI) -> None:
    contents, kinds = big_trace()
    assert sum(len(c) for c in contents) > 3_000_000
    fake_server.verdict = citing("MARK-480 ", "FM-2.3")
    trace = make_trace("big", contents, kinds=kinds)
    annotation = judge_one(make_judge(fake_server), trace)
    requests = fake_server.completions()
    seen: set[int] = set()
    for request in requests:
        for index, first_line in steps_in(request).items():
            seen.add(index)
            assert first_line.startswith(f"MARK-{index} ") or first_line.startswith("[identical to the output")
    assert seen == set(range(len(contents)))
    assert len(requests) > 1 and annotation.status == "ok" and annotation.usage["requests"] == len(requests)
    later = [r.user_text for r in requests[1:]]
    assert all("Summary of the earlier parts" in text for text in later)
    assert all(estimate_tokens(r.text) < 128_000 for r in requests)
    assert annotation.verdict("FM-2.3").present and [e.step for e in annotation.verdict("FM-2.3").evidence] == [480]


def test_compaction_cuts_the_middle_and_references_repeats() -> None:
    long = "head " + "x" * 50_000 + " tail"
    steps = [StepText(0, "tool_result/tool", long), StepText(1, "tool_result/tool", long), StepText(2, "message", "hi")]
    out = compact(steps, limit=1_000)
    assert out[0].body.startswith("head ") and out[0].body.endswith(" tail") and len(out[0].body) < 1_200
    assert "characters cut from the middle" in out[0].body and "50,010" in out[0].body
    assert out[1].body == "[identical to the output of step 0]" and out[2].body == "hi"
    assert head_tail("short", 100) == "short"


def test_split_overlaps_and_covers_every_step_even_when_one_step_is_too_big() -> None:
    steps = [StepText(i, "message", ("é" if i == 5 else "w") * (30_000 if i == 5 else 900)) for i in range(40)]
    chunks = split(steps, 2_000, overlap=2)
    covered = [s.index for c in chunks for s in c.steps]
    assert set(covered) == set(range(40))
    assert all([s.index for s in c.steps] == list(range(c.first, c.last + 1)) for c in chunks)
    assert [c.first for c in chunks] == sorted({c.first for c in chunks})  # always moving forward
    assert all(sum(estimate_tokens(s.render()) + 1 for s in c.steps) <= 2_000 for c in chunks)
    assert any(chunks[i].first <= chunks[i - 1].last for i in range(1, len(chunks)))  # overlap
