"""Judge throughput: agentmortem's LLM judge at --concurrency 32 against the published MAST annotator's loop.

Both run against the same loopback fake OpenAI-compatible server (tests/fake_openai.py, in a process of its
own) answering every request after a fixed latency (default 0.5 s). The baseline does what the MAST annotator does:
one request per trace, one trace at a time, the trace text *before* the taxonomy text. Ours runs `annotate_store`
with the LLM judge (store-backed cache, redaction, parsing, storing) at concurrency 32. Prints wall times, the ideal
`traces x latency / concurrency`, both ratios, and the machine.

    .venv/bin/python benchmarks/judge.py [--traces 200] [--latency 0.5] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import openai

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from _machine import machine  # noqa: E402
from agentmortem.engines.local import annotate_store  # noqa: E402
from agentmortem.judges.llm import LLMJudge, RetryPolicy  # noqa: E402
from agentmortem.judges.llm.prompt import render_taxonomy  # noqa: E402
from agentmortem.model import Trace, make_steps  # noqa: E402
from agentmortem.readers import ReadError, read_traces  # noqa: E402
from agentmortem.store import Store  # noqa: E402
from agentmortem.taxonomy import mast  # noqa: E402
from fake_openai import FakeOpenAI  # noqa: E402

MAD = ROOT.parent / "shared" / "data" / "mad-openai" / "ag2_gpt4o.jsonl"


def load_traces(n: int) -> tuple[list[Trace], str]:
    """The first n MAD AG2 traces when the shared data is there, else n synthetic ones."""
    if MAD.exists():
        errors: list[ReadError] = []
        traces = [t for _, t in zip(range(n), read_traces([MAD], errors, format="openai"), strict=False)]
        if len(traces) == n:
            return traces, f"{n} MAD AG2 traces ({MAD.name})"
    synthetic = [
        Trace(id=f"syn-{i:04d}", source_format="openai", steps=make_steps(
            [{"kind": "message", "role": "assistant", "content": f"step {j} of run {i} " * 40} for j in range(30)]
        )).with_fingerprint()
        for i in range(n)
    ]  # fmt: skip
    return synthetic, f"{n} synthetic traces (30 steps each)"


def baseline(traces: list[Trace], base_url: str) -> float:
    """The MAST annotator's loop: sequential, one request per trace, trace first and taxonomy after."""
    client = openai.OpenAI(base_url=base_url, api_key="none", max_retries=0)
    definitions = render_taxonomy(mast())
    start = time.perf_counter()
    for trace in traces:
        text = "\n".join(s.content for s in trace.steps)
        prompt = f"Below I will provide a multiagent system trace. {text}\n\nFailure modes:\n{definitions}"
        client.chat.completions.create(model="baseline", messages=[{"role": "user", "content": prompt}])
    return time.perf_counter() - start


def ours(traces: list[Trace], base_url: str, concurrency: int) -> tuple[float, int]:
    """Our judge through the local engine into a fresh store; returns wall time and traces annotated."""
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.duckdb") as store:
        store.add_traces(traces)
        judge = LLMJudge(
            "gpt-4o-mini", base_url=base_url, concurrency=concurrency, cache=store, log=store,
            retry=RetryPolicy(wait_scale=0.0),
        )  # fmt: skip
        start = time.perf_counter()
        report = annotate_store(store, judge, concurrency=concurrency)
        return time.perf_counter() - start, report.annotated


def _serve(latency: float, urls: multiprocessing.Queue, stop: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    server = FakeOpenAI(latency=latency).start()
    urls.put(server.base_url)
    stop.wait()
    server.stop()


def start_server(latency: float) -> tuple[str, multiprocessing.Event, multiprocessing.Process]:  # type: ignore[type-arg]
    """The fake server in a process of its own: a real endpoint does not share the client's interpreter (GIL)."""
    urls: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    stop = multiprocessing.Event()
    process = multiprocessing.Process(target=_serve, args=(latency, urls, stop), daemon=True)
    process.start()
    return urls.get(timeout=30), stop, process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    traces, what = load_traces(args.traces)
    base_url, stop, process = start_server(args.latency)
    try:
        ours_s, annotated = ours(traces, base_url, args.concurrency)
        base_s = baseline(traces, base_url)
    finally:
        stop.set()
        process.join(timeout=10)
    ideal = args.traces * args.latency / args.concurrency
    print(f"machine: {machine()}")
    print(f"workload: {what}, {args.latency} s latency per request")
    print(f"MAST-style sequential baseline: {base_s:8.2f} s")
    print(f"agentmortem --concurrency {args.concurrency}: {ours_s:8.2f} s ({annotated} annotated)")
    print(f"ideal {args.traces} x {args.latency} / {args.concurrency}: {ideal:8.2f} s")
    print(f"ours / ideal: {ours_s / ideal:.2f}x (target <= 1.25x)")
    print(f"baseline / ours: {base_s / ours_s:.1f}x (target >= 20x)")


if __name__ == "__main__":
    main()
