"""`agentmortem sample`: draw traces for people to label and write the offline labelling page."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import orjson
import typer

from agentmortem.cli.app import app, console, fail, open_store


@app.command("sample")
def sample_command(
    annotator: Annotated[str, typer.Option("--annotator", help="Who will label: the name the labels are saved under.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write label.html and sample.json into.")],
    n: Annotated[int, typer.Option("--n", help="Traces to draw (stratified by outcome class).")] = 40,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (default: a fresh one, recorded).")] = None,
    judge: Annotated[
        str | None,
        typer.Option("--judge", help="Judge whose analysed traces are the frame (default: the store's only one)."),
    ] = None,
    show_judge: Annotated[
        bool, typer.Option("--show-judge", help="Show the judge's verdicts on the page (review, not blind labels).")
    ] = False,
) -> None:
    """Draw a random sample, stratified by outcome class only, and write a labelling page people open offline.

    The page saves a labels JSONL (a download) that `import-labels FILE --annotator NAME` reads back; with those
    labels, `report` corrects every figure for the judge's error. Exit 2 for a bad option, 1 when nothing can be
    drawn or written.
    """
    from agentmortem.analysis.sampling import SamplingError, labelling_sample, sample_record
    from agentmortem.report.labelling import render_labelling_page

    if n < 1:
        fail(f"--n must be at least 1, got {n!r}", code=2)
    seed = secrets.randbelow(2**31) if seed is None else seed
    with open_store(read_only=True) as store:
        try:
            plan, page = labelling_sample(store, annotator=annotator, n=n, seed=seed, judge=judge,
                                          show_judge=show_judge)  # fmt: skip
        except SamplingError as exc:
            fail(str(exc))
        record = sample_record(plan, page, store_path=store.path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "label.html").write_text(render_labelling_page(page), encoding="utf-8")
        (out / "sample.json").write_bytes(orjson.dumps(record, option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as exc:
        fail(f"{out}: cannot write: {exc.strerror or exc}")
    drawn = ", ".join(f"{count} {cls}" for cls, count in plan.drawn.items())
    short = f" (asked for {n}; the frame holds only {len(plan.trace_ids)})" if len(plan.trace_ids) < n else ""
    console.print(
        f"drew {len(plan.trace_ids)} traces ({drawn}){short} with seed {seed}; open {out / 'label.html'} to label "
        f"them, then: agentmortem import-labels {page.file_name} --annotator {annotator}",
        highlight=False, soft_wrap=True,
    )  # fmt: skip
