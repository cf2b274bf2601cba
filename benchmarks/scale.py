"""Scale-out figures, in one run on this machine:

  1. judge throughput, local engine vs Ray engine, at equal total concurrency, against the loopback fake
     OpenAI-compatible server (tests/fake_openai.py) answering after a fixed latency;
  2. peak memory (max RSS of a child process) of ingesting ~2 GB of generated Codex rollout sessions;
  3. a report read from Parquet for 1,000,000 traces: export time, then `Store.from_parquet` + `build_report`
     next to the same report from the DuckDB store.

Generated inputs live in a temporary folder that is deleted at the end. Needs the `ray` extra for part 1.

    .venv/bin/python benchmarks/scale.py [--judge-traces 400] [--latency 0.05 0.5] [--concurrency 16] [--workers 2]
                                         [--ingest-gb 2] [--report-traces 1000000] [--only judge ingest report]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from _machine import machine  # noqa: E402
from agentmortem.analysis import build_report  # noqa: E402
from agentmortem.engines.local import annotate_store  # noqa: E402
from agentmortem.ingest import BATCH_CHARS  # noqa: E402
from agentmortem.judges.llm import LLMJudge  # noqa: E402
from agentmortem.model import Trace, make_steps  # noqa: E402
from agentmortem.report import ReportSettings  # noqa: E402
from agentmortem.report.json import render_json  # noqa: E402
from agentmortem.store import Store  # noqa: E402
from fake_openai import FakeOpenAI  # noqa: E402
from report_scale import ANNOTATOR, generate  # noqa: E402

# -- 1. judge throughput: local vs ray ----------------------------------------------------------------------------


def _bench_trace(i: int) -> Trace:
    steps = make_steps(
        [
            {"kind": "message", "role": "user", "content": f"Investigate incident {i}: checkout latency alert."},
            {"kind": "tool_call", "tool_name": "shell", "tool_args": f'{{"cmd": "kubectl logs svc-{i}"}}'},
            {"kind": "tool_result", "content": "\n".join(f"{i}-{k} GET /cart 200 12ms" for k in range(40))},
            {"kind": "message", "role": "assistant", "content": f"The root cause of incident {i} is svc-{i}."},
        ]
    )
    return Trace(id=f"bench-{i:05d}", source_format="codex", model="bench-model", steps=steps)


def _judge(base_url: str, link: object, concurrency: int) -> LLMJudge:
    return LLMJudge(
        "bench-judge",
        base_url=base_url,
        api_key="bench",
        cache=link,
        log=link,
        concurrency=concurrency,  # type: ignore[arg-type]
    )


def judge_throughput(tmp: Path, n: int, latencies: list[float], concurrency: int, workers: int) -> None:
    import ray

    start = time.perf_counter()
    ray.init(
        num_cpus=workers, include_dashboard=False, log_to_driver=False, object_store_memory=128 << 20,
        logging_level="WARNING",
    )  # fmt: skip
    init_s = time.perf_counter() - start
    print(f"\n1. judge throughput: {n} traces, total concurrency {concurrency} for both engines; a local Ray with "
          f"{workers} CPUs ({init_s:.1f} s to start, not included below)")  # fmt: skip
    try:
        for latency in latencies:
            _compare_engines(tmp / f"judge-{latency}", n, latency, concurrency, workers)
    finally:
        ray.shutdown()


def _compare_engines(tmp: Path, n: int, latency: float, concurrency: int, workers: int) -> None:
    from agentmortem.engines.ray import annotate_store_ray, worker_concurrency

    tmp.mkdir()
    server = FakeOpenAI(latency=latency).start()
    url, per_worker = server.base_url, worker_concurrency(concurrency, workers)
    try:
        for path in (tmp / "local.duckdb", tmp / "ray.duckdb"):
            with Store(path) as store:
                store.add_traces([_bench_trace(i) for i in range(n)])
        with Store(tmp / "local.duckdb") as store:
            start = time.perf_counter()
            local = annotate_store(store, _judge(url, store, concurrency), concurrency=concurrency)
            local_s = time.perf_counter() - start
        start = time.perf_counter()
        remote = annotate_store_ray(
            str(tmp / "ray.duckdb"), lambda link: _judge(url, link, per_worker), concurrency=concurrency,
            workers=workers,
        )  # fmt: skip
        ray_s = time.perf_counter() - start
    finally:
        server.stop()
    assert local.annotated == remote.annotated == n, (local, remote)
    ideal = n * latency / concurrency
    print(
        f"   fake server latency {latency * 1000:.0f} ms per request (ideal {ideal:.1f} s = {n / ideal:.0f} traces/s):"
    )
    print(f"     local engine (1 process, concurrency {concurrency}): {local_s:6.1f} s  {n / local_s:7.1f} traces/s")
    print(
        f"     ray engine ({workers} workers x concurrency {per_worker}):    {ray_s:6.1f} s  {n / ray_s:7.1f} traces/s"
    )


# -- 2. peak memory of ingesting generated Codex sessions ---------------------------------------------------------

_OUTPUT_LINE = '2026-01-15T17:{m:02d}:{s:02d}Z pod/frontend-{k} level=warn msg="upstream checkout latency {v} ms"\\n'


def _session_rows(n: int, rows: int, output_lines: int) -> list[str]:
    """One Codex rollout session as JSONL rows: meta, turn contexts, shell calls with long outputs, messages."""
    meta = {"id": f"bench-session-{n:06d}", "timestamp": "2026-01-15T17:15:06Z", "cwd": f"/runs/{n}",
            "originator": "codex_exec", "cli_version": "0.80.0", "instructions": f"Diagnose incident {n}."}  # fmt: skip
    out = [_row("session_meta", meta), _row("turn_context", {"cwd": f"/runs/{n}", "model": "gpt-oss-120b"})]
    for turn in range(rows):
        call_id = f"call-{n}-{turn}"
        args = json.dumps({"command": ["bash", "-lc", f"kubectl logs frontend-{turn} -n sre-{n}"]})
        out.append(
            _row("response_item", {"type": "function_call", "name": "shell", "arguments": args, "call_id": call_id})
        )
        text = "".join(
            _OUTPUT_LINE.format(m=turn % 60, s=k % 60, k=k, v=(n * 7 + turn * 13 + k) % 997)
            for k in range(output_lines)
        )
        output = '{"output":"' + text + '","metadata":{"exit_code":0}}'
        out.append(_row("response_item", {"type": "function_call_output", "call_id": call_id, "output": output}))
        message = {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": f"Step {turn} of {n}."}],
        }
        out.append(_row("response_item", message))
    return out


def _row(kind: str, payload: dict[str, object]) -> str:
    return json.dumps({"timestamp": "2026-01-15T17:15:06.120Z", "type": kind, "payload": payload})


def generate_sessions(root: Path, gigabytes: float) -> tuple[int, int, int]:
    """Write plain rollout files (~1 MB each) until `gigabytes` are on disk; returns files, bytes, largest file."""
    target, written, files, largest = int(gigabytes * 1e9), 0, 0, 0
    while written < target:
        folder = root / f"batch-{files // 500:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"rollout-2026-01-15T12-00-00-{files:06d}.jsonl"
        data = "\n".join(_session_rows(files, rows=40, output_lines=220)) + "\n"
        path.write_text(data, encoding="utf-8")
        written, files, largest = written + len(data), files + 1, max(largest, len(data))
    return files, written, largest


_CHILD = """
import json, resource, sys, time
from agentmortem.ingest import ingest, BATCH_TRACES, BATCH_CHARS
from agentmortem.store import Store
start = time.perf_counter()
with Store(sys.argv[1]) as store:
    report = ingest([sys.argv[2]], store) if sys.argv[2] != "-" else None
print(json.dumps({"seconds": time.perf_counter() - start, "traces": report.read if report else 0,
                  "steps": report.steps if report else 0, "errors": len(report.errors) if report else 0,
                  "batch": f"{BATCH_TRACES} traces or {BATCH_CHARS / 1e6:.0f} M characters",
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _child(db: Path, source: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", _CHILD, str(db), source], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def ingest_memory(tmp: Path, gigabytes: float) -> None:
    root = tmp / "sessions"
    start = time.perf_counter()
    files, size, largest = generate_sessions(root, gigabytes)
    made_s = time.perf_counter() - start
    baseline = _child(tmp / "empty.duckdb", "-")
    result = _child(tmp / "ingest.duckdb", str(root))
    store_mb = (tmp / "ingest.duckdb").stat().st_size / 1e6
    for path in root.rglob("*.jsonl"):
        path.unlink()
    print(f"\n2. ingest memory: {files:,} generated Codex sessions, {size / 1e9:.2f} GB "
          f"(largest file {largest / 1e6:.2f} MB; generated in {made_s:.0f} s, deleted after)")  # fmt: skip
    print(f"   traces read: {result['traces']:,}, steps: {result['steps']:,}, read errors: {result['errors']}, "
          f"batch: {result['batch']} per transaction")  # fmt: skip
    rate = size / 1e6 / result["seconds"]
    print(f"   ingest time: {result['seconds']:.0f} s ({rate:.1f} MB/s); store file {store_mb:.0f} MB")
    print(f"   peak RSS of the ingest process: {result['peak_kib'] / 1024:.0f} MiB")
    idle = baseline["peak_kib"] / 1024
    print(f"   peak RSS of a process that only imports agentmortem and opens a store: {idle:.0f} MiB")
    bound = memory_bound(idle, largest)
    peak = result["peak_kib"] / 1024
    print(f"   documented bound (docs/scale-out.md): {idle:.0f} + {DUCKDB_CAP_MIB} + {OBJECT_FACTOR} x "
          f"max({BATCH_CHARS / 2**20:.0f}, {largest / 2**20:.1f}) = {bound:.0f} MiB: "
          f"{'within' if peak <= bound else 'EXCEEDED'} ({peak:.0f} MiB)")  # fmt: skip


DUCKDB_CAP_MIB = 512
"""`agentmortem.ingest.INGEST_MEMORY_LIMIT`."""
OBJECT_FACTOR = 8
"""How many times its text size a batch (or the largest file) may take as Python objects, bytes and Arrow tables."""


def memory_bound(baseline_mib: float, largest_file: int) -> float:
    """The peak-memory bound docs/scale-out.md documents: baseline + DuckDB's cap + a factor x the largest unit held."""
    return baseline_mib + DUCKDB_CAP_MIB + OBJECT_FACTOR * max(BATCH_CHARS, largest_file) / 2**20


# -- 3. report from Parquet for a million traces -----------------------------------------------------------------


def parquet_report(tmp: Path, n: int) -> None:
    settings = ReportSettings(max_drilldown=200)
    with Store(tmp / "report.duckdb") as store:
        start = time.perf_counter()
        generate(store, n)
        made_s = time.perf_counter() - start
        start = time.perf_counter()
        counts = store.export_parquet(tmp / "parquet")
        export_s = time.perf_counter() - start
        start = time.perf_counter()
        from_store = render_json(build_report(store, annotator=ANNOTATOR, settings=settings))
        store_s = time.perf_counter() - start
    size_mb = sum(p.stat().st_size for p in (tmp / "parquet").rglob("*.parquet")) / 1e6
    start = time.perf_counter()
    with Store.from_parquet(tmp / "parquet") as parquet:
        from_parquet = render_json(build_report(parquet, annotator=ANNOTATOR, settings=settings))
    parquet_s = time.perf_counter() - start
    same = _without_time(from_store) == _without_time(from_parquet)
    print(f"\n3. report from Parquet: {counts['traces']:,} traces, {counts['verdicts']:,} verdicts, "
          f"{counts['steps']:,} steps (generated in DuckDB in {made_s:.0f} s)")  # fmt: skip
    print(f"   export --parquet: {export_s:.1f} s, {size_mb:.0f} MB of Parquet")
    print(f"   report from the DuckDB store:          {store_s:6.2f} s")
    print(f"   report --from-parquet (views, no copy): {parquet_s:6.2f} s   same JSON as from the store: {same}")


def _without_time(text: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(text)
    data.pop("generated_at", None)
    return data


PARTS = ["judge", "ingest", "report"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge-traces", type=int, default=400)
    parser.add_argument(
        "--latency", type=float, nargs="+", default=[0.05, 0.5], help="Fake server seconds per request (one run each)."
    )
    parser.add_argument("--concurrency", type=int, default=16, help="Total requests in flight, both engines.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ingest-gb", type=float, default=2.0)
    parser.add_argument("--report-traces", type=int, default=1_000_000)
    parser.add_argument("--only", nargs="+", choices=PARTS, default=PARTS, help="Run only these parts.")
    args = parser.parse_args()
    print(f"machine: {machine()}; nproc {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="agentmortem-scale-") as tmp:
        if "judge" in args.only:
            judge_throughput(Path(tmp), args.judge_traces, args.latency, args.concurrency, args.workers)
        if "ingest" in args.only:
            ingest_memory(Path(tmp), args.ingest_gb)
        if "report" in args.only:
            parquet_report(Path(tmp), args.report_traces)


if __name__ == "__main__":
    main()
