"""Report generation at scale: 1,000,000 traces x 14 modes of annotations vs one DuckDB aggregate scan.

Generates the traces, outcomes, a few steps per trace, annotations and 14 verdict rows per trace directly in
DuckDB (set-based SQL with deterministic hash-based randomness, no Python object per row), then times, in the same
run and on the same store:
  (a) one aggregate scan over the annotator's verdict rows (per mode: verdicts and present count);
  (b) the full `build_report` (every group statistic, cascade matrices, comparisons, a 200-trace drill-down).
  (c) the same report with people's labels on `--reference` random traces as its reference (corrected figures
      per group and outcome class); the reference is added for (c) and removed after, so (b) never sees it.
Prints them, the ratio (b)/(a) (target <= 3x) and the machine.

    .venv/bin/python benchmarks/report_scale.py [--traces N] [--db PATH] [--repeat K] [--reference R]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from _machine import machine
from agentmortem.analysis import build_report
from agentmortem.report import ReportSettings
from agentmortem.report.json import render_json
from agentmortem.store import Store
from agentmortem.taxonomy import mast

ANNOTATOR = "bench-judge"
REFERENCE = "bench-people"
MODELS = ["gemini-3-flash", "kimi-k2", "gpt-oss-120b"]
SUCCESS_RATE = [0.75, 0.29, 0.12]
STEPS_PER_TRACE = 6


def generate(store: Store, n: int) -> None:
    """Fill an empty store with n synthetic annotated traces."""
    con = store.con
    mode_ids = mast().ids
    con.execute(
        f"""CREATE TEMP TABLE gen AS
            SELECT i, 'bench/' || i AS id, i % 3 AS m,
                   (hash(i, 'outcome') % 1000) / 1000.0 < {SUCCESS_RATE}[i % 3 + 1] AS success
            FROM range({n}) t(i)"""
    )
    con.execute(
        f"""INSERT INTO traces (id, fingerprint, schema_version, source_format, model, agent_system, benchmark,
                                metadata, n_steps, ingested_at)
            SELECT id, 'sha256:' || md5(id), '1', 'bench', {MODELS}[m + 1], 'codex-cli', 'itbench-sre', '{{}}',
                   {STEPS_PER_TRACE}, now() FROM gen"""
    )
    con.execute(
        """INSERT INTO outcomes (trace_id, success, score, source, metrics)
           SELECT id, success, CASE WHEN success THEN 1.0 ELSE 0.2 END, 'bench', '{}' FROM gen"""
    )
    con.execute(
        f"""INSERT INTO steps (trace_id, idx, kind, role, content, is_error)
            SELECT id, s, 'message', 'assistant', 'step ' || s || ' of ' || id, false
            FROM gen CROSS JOIN range({STEPS_PER_TRACE}) t(s)"""
    )
    _verdicts(store, mode_ids)
    _annotations(store, mode_ids)
    con.execute("DROP TABLE gen")
    con.execute("CHECKPOINT")


def _verdicts(store: Store, mode_ids: list[str]) -> None:
    # Presence depends on model, outcome and mode, so groups differ and some modes are fatal, some benign.
    store.con.execute(
        f"""INSERT INTO verdicts (trace_id, annotator, mode_id, present, confidence, first_step, evidence,
                                  explanation, flags)
            SELECT id, '{ANNOTATOR}', {mode_ids}[b + 1], present, 0.8, CASE WHEN present THEN step END,
                   CASE WHEN present THEN '[{{"step": ' || step || ', "quote": "evidence"}}]' ELSE '[]' END,
                   CASE WHEN present THEN 'synthetic' ELSE '' END, '[]'
            FROM (SELECT id, b,
                         (hash(i, b) % 10000) / 10000.0
                           < 0.06 + CASE WHEN success THEN 0.0 ELSE 0.03 * m + 0.02 * (b % 5) END AS present,
                         hash(i, b, 'step') % {STEPS_PER_TRACE} AS step
                  FROM gen CROSS JOIN range({len(mode_ids)}) t(b))"""
    )


def _annotations(store: Store, mode_ids: list[str]) -> None:
    # With the per-trace facts Store.put_annotations keeps (migration 004): bit and `located` position i stand for
    # the i-th of the annotation's verdict modes in sorted order; `located` packs (i << 32) | first step.
    ordered = sorted(mode_ids)
    store.con.execute(
        f"""INSERT INTO annotations (trace_id, annotator, annotator_kind, taxonomy, taxonomy_version, status, usage,
                                     fact_modes, present_bits, known_bits, located)
            SELECT g.id, '{ANNOTATOR}', 'mock', 'MAST', '1',
                   CASE WHEN hash(g.i, 'status') % 1000 = 0 THEN 'failed' ELSE 'ok' END, '{{}}',
                   $fact_modes, f.present_bits, f.known_bits, f.located
            FROM gen g JOIN (
                SELECT trace_id, bit_or(CASE WHEN present THEN 1::BIGINT << pos ELSE 0::BIGINT END) AS present_bits,
                       bit_or(1::BIGINT << pos) AS known_bits,
                       coalesce(list((pos << 32) | first_step ORDER BY pos) FILTER (WHERE present), []) AS located
                FROM (SELECT *, list_position($ordered, mode_id)::BIGINT - 1 AS pos FROM verdicts)
                GROUP BY trace_id
            ) f ON f.trace_id = g.id""",
        {"fact_modes": orjson.dumps(ordered).decode(), "ordered": ordered},
    )


def timed(action: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time of `repeat` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    """Generate, time both, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None, help="Store to (re)use; default: a temporary file.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reference", type=int, default=400, help="Traces people labelled, for (c); 0 skips it.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "scale.duckdb"
        with Store(path) as store:
            if store.count_traces() == 0:
                start = time.perf_counter()
                generate(store, args.traces)
                print(f"generated {args.traces:,} traces x 14 modes in {time.perf_counter() - start:.1f} s")
            _measure(store, args.repeat)
            if args.reference:
                _measure_with_reference(store, args.repeat, args.reference)


def _measure(store: Store, repeat: int) -> None:
    verdict_rows = store.con.execute("SELECT count(*) FROM verdicts").fetchone()[0]  # type: ignore[index]
    scan, _ = timed(lambda: store.signature_baseline_scan(ANNOTATOR), repeat)
    settings = ReportSettings(max_drilldown=200)
    full, report = timed(lambda: build_report(store, annotator=ANNOTATOR, settings=settings), repeat)
    size = len(render_json(report, indent=False))  # type: ignore[arg-type]
    print(f"machine: {machine()}")
    print(f"traces: {store.count_traces():,}; verdict rows: {verdict_rows:,}; median of {repeat} runs each")
    print(f"(a) one DuckDB aggregate scan over the verdict rows: {scan:.3f} s")
    print(f"(b) full report (drill-down bound 200):             {full:.3f} s   (JSON {size / 1e6:.2f} MB)")
    print(f"ratio (b)/(a): {full / scan:.2f}x   (target <= 3x)")


def _measure_with_reference(store: Store, repeat: int, traces: int) -> None:
    """(c): people's labels on `traces` random traces (the judge's verdicts, one in seven flipped), timed, removed."""
    ids = [r[0] for r in store.con.execute(f"SELECT id FROM traces ORDER BY hash(id, 'ref') LIMIT {traces}").fetchall()]
    judged = store.get_annotations(annotator=ANNOTATOR, trace_ids=ids)
    people = [
        a.model_copy(update={"annotator": REFERENCE, "annotator_kind": "human", "verdicts": [
            v.model_copy(update={"present": v.present != (k % 7 == 0), "evidence": []})
            for k, v in enumerate(a.verdicts)]})
        for a in judged if a.status == "ok"
    ]  # fmt: skip
    store.put_annotations(people)  # as import-labels stores them, with their per-trace facts
    try:
        settings = ReportSettings(max_drilldown=200)
        full, _ = timed(
            lambda: build_report(store, annotator=ANNOTATOR, settings=settings, reference=REFERENCE), repeat
        )
        print(f"(c) full report with a {len(people)}-trace human reference:  {full:.3f} s")
    finally:
        store.con.execute(f"DELETE FROM verdicts WHERE annotator = '{REFERENCE}'")
        store.con.execute(f"DELETE FROM annotations WHERE annotator = '{REFERENCE}'")


if __name__ == "__main__":
    main()
