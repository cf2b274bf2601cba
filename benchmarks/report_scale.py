"""Report generation at scale: 1,000,000 traces x 14 modes of annotations vs one DuckDB aggregate scan.

Generates the traces, outcomes, a few steps per trace, annotations and 14 verdict rows per trace directly in
DuckDB (set-based SQL with deterministic hash-based randomness, no Python object per row), then times, in the same
run and on the same store:
  (a) one aggregate scan over the annotator's verdict rows (per mode: verdicts and present count);
  (b) the full `build_report` (every group statistic, cascade matrices, comparisons, a 200-trace drill-down).
  (c) the same report with people's labels on `--reference` random traces as its reference (corrected figures
      per group and outcome class); the reference is added for (c) and removed after, so (b) never sees it.
  (d) the store exported as Parquet: (a) and (b) again over the files (`report --from-parquet`), and whether
      the report's JSON equals the store's (generated_at aside).
Prints them, the ratios (b)/(a) per source (target <= 3x; min and median of the per-run ratios, each run timing
the scan and the report back to back so that load from other processes hits both) and the machine.

    .venv/bin/python benchmarks/report_scale.py [--traces N] [--db PATH] [--repeat K] [--reference R] [--no-parquet]
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
            SELECT i, 'bench/' || i AS id, nextval('trace_keys') AS key, i % 3 AS m,
                   (hash(i, 'outcome') % 1000) / 1000.0 < {SUCCESS_RATE}[i % 3 + 1] AS success
            FROM range({n}) t(i)"""
    )
    con.execute(
        f"""INSERT INTO traces (id, trace_key, fingerprint, schema_version, source_format, model, agent_system,
                                benchmark, metadata, n_steps, ingested_at)
            SELECT id, key, 'sha256:' || md5(id), '1', 'bench', {MODELS}[m + 1], 'codex-cli', 'itbench-sre', '{{}}',
                   {STEPS_PER_TRACE}, now() FROM gen"""
    )
    con.execute(
        """INSERT INTO outcomes (trace_id, trace_key, success, score, source, metrics)
           SELECT id, key, success, CASE WHEN success THEN 1.0 ELSE 0.2 END, 'bench', '{}' FROM gen"""
    )
    con.execute(
        f"""INSERT INTO steps (trace_id, trace_key, idx, kind, role, content, is_error)
            SELECT id, key, s, 'message', 'assistant', 'step ' || s || ' of ' || id, false
            FROM gen CROSS JOIN range({STEPS_PER_TRACE}) t(s)"""
    )
    _verdicts(store, mode_ids)
    _annotations(store, mode_ids)
    con.execute("DROP TABLE gen")
    con.execute("CHECKPOINT")


def _verdicts(store: Store, mode_ids: list[str]) -> None:
    # Presence depends on model, outcome and mode, so groups differ and some modes are fatal, some benign.
    store.con.execute(
        f"""INSERT INTO verdicts (trace_id, trace_key, annotator, mode_id, present, confidence, first_step, evidence,
                                  explanation, flags)
            SELECT id, key, '{ANNOTATOR}', {mode_ids}[b + 1], present, 0.8, CASE WHEN present THEN step END,
                   CASE WHEN present THEN '[{{"step": ' || step || ', "quote": "evidence"}}]' ELSE '[]' END,
                   CASE WHEN present THEN 'synthetic' ELSE '' END, '[]'
            FROM (SELECT id, key, b,
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
        f"""INSERT INTO annotations (trace_id, trace_key, annotator, annotator_kind, taxonomy, taxonomy_version, status,
                                     usage, fact_modes, present_bits, known_bits, located)
            SELECT g.id, g.key, '{ANNOTATOR}', 'mock', 'MAST', '1',
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


def paired(scan: Callable[[], object], report: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    """`repeat` runs of (scan, report) back to back, after one warm-up of each: their wall times."""
    scan(), report()
    scans, reports = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        scan()
        scans.append(time.perf_counter() - start)
        start = time.perf_counter()
        report()
        reports.append(time.perf_counter() - start)
    return scans, reports


def main() -> None:
    """Generate, time both, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None, help="Store to (re)use; default: a temporary file.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reference", type=int, default=400, help="Traces people labelled, for (c); 0 skips it.")
    parser.add_argument("--no-parquet", action="store_true", help="Skip (d), the report over a Parquet export.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "scale.duckdb"
        with Store(path) as store:
            if store.count_traces() == 0:
                start = time.perf_counter()
                generate(store, args.traces)
                print(f"generated {args.traces:,} traces x 14 modes in {time.perf_counter() - start:.1f} s")
            print(f"machine: {machine()}")
            verdict_rows = store.con.execute("SELECT count(*) FROM verdicts").fetchall()[0][0]
            print(f"traces: {store.count_traces():,}; verdict rows: {verdict_rows:,}; {args.repeat} runs each")
            from_store = _measure(store, args.repeat, "store")
            if not args.no_parquet:
                export = Path(tmp) / "export"
                start = time.perf_counter()
                store.export_parquet(export, overwrite=True)
                print(f"exported as Parquet in {time.perf_counter() - start:.1f} s")
                with Store.from_parquet(export) as parquet:
                    from_parquet = _measure(parquet, args.repeat, "parquet")
                same = _without_time(from_store) == _without_time(from_parquet)
                print(f"(d) report JSON from Parquet equals the store's: {same}")
            if args.reference:
                _measure_with_reference(store, args.repeat, args.reference)


def _measure(store: Store, repeat: int, source: str) -> bytes:
    settings = ReportSettings(max_drilldown=200)
    reports: list[object] = []
    scans, fulls = paired(
        lambda: store.signature_baseline_scan(ANNOTATOR),
        lambda: reports.append(build_report(store, annotator=ANNOTATOR, settings=settings)),
        repeat,
    )
    text = render_json(reports[-1], indent=False)  # type: ignore[arg-type]
    ratios = [full / scan for scan, full in zip(scans, fulls, strict=True)]
    print(f"[{source}] (a) one DuckDB aggregate scan over the verdict rows: median {statistics.median(scans):.3f} s")
    print(f"[{source}] (b) full report (drill-down bound 200):             median {statistics.median(fulls):.3f} s"
          f"   (JSON {len(text) / 1e6:.2f} MB)")  # fmt: skip
    print(f"[{source}] ratio (b)/(a): min {min(ratios):.2f}x, median {statistics.median(ratios):.2f}x"
          f"   (target <= 3x)")  # fmt: skip
    return text.encode() if isinstance(text, str) else text


def _without_time(text: bytes) -> dict[str, object]:
    report = orjson.loads(text)
    report.pop("generated_at")
    return report


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
