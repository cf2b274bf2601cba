"""Per-trace annotation facts (migration 004): the report reads them, and they say what the verdict rows say."""

import dataclasses
import random
from typing import Any

import pytest

from agentmortem.model import Annotation, Evidence, ModeVerdict, Outcome, Trace, make_steps
from agentmortem.store import Store
from agentmortem.store.migrations import MIGRATIONS
from agentmortem.taxonomy import mast

FACTS = "fact_modes, present_bits, known_bits, located"


def _verdict(rng: random.Random, mode_id: str) -> ModeVerdict:
    present = rng.choice([True, False, False, None])
    steps = rng.sample(range(-1, 9), rng.randrange(3)) if present else []  # -1: a step before the trace
    return ModeVerdict(mode_id=mode_id, present=present, evidence=[Evidence(step=s, quote="q") for s in steps])


def _fill(store: Store, seed: int) -> None:
    """Traces of three models (outcome known, unknown, none at all) judged on random, partial mode sets."""
    rng = random.Random(seed)
    ids = mast().ids
    traces, annotations = [], []
    for i in range(240):
        success = None if i % 3 == 2 else rng.random() < 0.4
        steps = make_steps([{"kind": "message", "role": "user", "content": f"x{i}"}] * rng.randrange(1, 9))
        model = ["m-a", "m-b", "m-c"][i % 3]
        traces.append(Trace(id=f"t{i:03d}", source_format="text", model=model, steps=steps,
                            outcome=Outcome(success=success)))  # fmt: skip
        modes = rng.sample(ids, rng.randrange(len(ids) + 1))  # some annotations have no verdict at all
        annotations.append(
            Annotation(trace_id=f"t{i:03d}", annotator="j", annotator_kind="mock", taxonomy_version="1",
                       status="failed" if i % 29 == 0 else "ok", verdicts=[_verdict(rng, m) for m in modes])
        )  # fmt: skip
    store.add_traces(traces)
    store.put_annotations(annotations)


def _tables(store: Store, mode_ids: list[str]) -> dict[str, Any]:
    tables = store.signature_tables("j", mode_ids, drilldown=7)
    cascade = [
        {**dataclasses.asdict(row), "positions": [None if p is None else round(p, 9) for p in row.positions]}
        for row in tables.cascade
    ]
    return {"masks": tables.masks, "cascade": cascade, "drilldown": tables.drilldown}


@pytest.mark.parametrize("order", ["taxonomy", "reversed"])
def test_report_tables_from_facts_equal_those_from_verdicts(store: Store, order: str):
    _fill(store, seed=3)
    mode_ids = mast().ids if order == "taxonomy" else mast().ids[::-1]  # reversed: every position moves
    from_facts = _tables(store, mode_ids)
    assert store._fact_layouts("j", mode_ids) is not None  # the facts were used
    store.con.execute(f"UPDATE annotations SET ({FACTS}) = (NULL, NULL, NULL, NULL) WHERE trace_id = 't001'")
    assert store._fact_layouts("j", mode_ids) is None  # one annotation without facts: all from verdicts
    from_verdicts = _tables(store, mode_ids)
    assert from_facts == from_verdicts
    assert sum(row.located for row in store.signature_tables("j", mode_ids).cascade) > 0  # not vacuous


def test_a_mode_outside_the_report_taxonomy_makes_the_report_read_verdicts(store: Store):
    _fill(store, seed=5)
    some = mast().ids[:5]
    assert store._fact_layouts("j", some) is None
    masks = store.signature_tables("j", some).masks
    assert all(present < 2**5 and known < 2**5 for _, _, present, known, _ in masks)


def test_migration_backfill_gives_the_facts_the_write_path_stores(store: Store):
    _fill(store, seed=11)
    written = store.con.execute(f"SELECT trace_id, {FACTS} FROM annotations ORDER BY trace_id").fetchall()
    store.con.execute(f"UPDATE annotations SET ({FACTS}) = (NULL, NULL, NULL, NULL)")
    backfill = dict(MIGRATIONS)["004_annotation_facts"].split("ADD COLUMN located BIGINT[];")[1]
    store.con.execute(backfill)
    assert store.con.execute(f"SELECT trace_id, {FACTS} FROM annotations ORDER BY trace_id").fetchall() == written
    assert any(row[4] for row in written) and any(row[1] == "[]" for row in written)


def test_located_keeps_a_negative_step_and_the_earliest_of_a_mode(store: Store):
    store.add_traces([Trace(id="t", source_format="text", steps=make_steps([{"kind": "message"}] * 3))])
    verdicts = [
        ModeVerdict(mode_id="FM-2.1", present=True, evidence=[Evidence(step=2, quote=""), Evidence(step=-1, quote="")]),
        ModeVerdict(mode_id="FM-1.1", present=True, evidence=[Evidence(step=1, quote="")]),
        ModeVerdict(mode_id="FM-1.2", present=None),
    ]
    store.put_annotations(
        [Annotation(trace_id="t", annotator="j", annotator_kind="mock", taxonomy_version="1", verdicts=verdicts)]
    )
    row = store.con.execute(f"SELECT {FACTS} FROM annotations").fetchall()[0]
    assert row == ('["FM-1.1","FM-1.2","FM-2.1"]', 0b101, 0b101, [(0 << 32) | 1, (2 << 32) | (-1 & 0xFFFFFFFF)])
    cascade = store.signature_tables("j", mast().ids).cascade[0]
    first, root = mast().ids.index("FM-1.1"), mast().ids.index("FM-2.1")
    assert cascade.roots[root] == 1 and cascade.roots[first] == 0 and cascade.precedence[root][first] == 1
