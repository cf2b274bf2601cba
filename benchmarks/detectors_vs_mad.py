"""The offline detectors against the MAST-Data (MAD) o1 labels, per mode: kappa, precision, recall, support.

Ingests ../shared/data/mad-openai (AG2 and MetaGPT traces as OpenAI-chat JSONL) into a temporary store, imports
`labels.jsonl` (annotator `mad-o1`: the MAST authors' o1 judge, not humans), runs the detectors judge, and prints
the agreement as a Markdown table (the one in docs/detectors.md). Modes the detectors leave unknown are reported
with n = 0. Run: .venv/bin/python benchmarks/detectors_vs_mad.py [--with-mismatch]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine  # noqa: E402
from agentmortem.analysis.agreement import AgreementReport, agreement_in_store  # noqa: E402
from agentmortem.engines import annotate_store  # noqa: E402
from agentmortem.ingest import ingest  # noqa: E402
from agentmortem.judges.detectors import DetectorConfig, DetectorsJudge  # noqa: E402
from agentmortem.labels import import_labels  # noqa: E402
from agentmortem.store import Store  # noqa: E402
from agentmortem.taxonomy import mast  # noqa: E402

MAD = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "mad-openai"


def main() -> None:
    if not MAD.exists():
        sys.exit(f"skipped: {MAD} is absent (see ../shared/data/README.md)")
    config = DetectorConfig.model_validate({"mismatch": {"enabled": "--with-mismatch" in sys.argv}})
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "mad.duckdb") as store:
        read = ingest([MAD / "ag2_gpt4o.jsonl", MAD / "metagpt_gpt4o.jsonl"], store)
        labels = import_labels(MAD / "labels.jsonl", store)
        start = time.perf_counter()
        annotated = annotate_store(store, DetectorsJudge(config))
        seconds = time.perf_counter() - start
        report = agreement_in_store(store, "detectors", "mad-o1")
    print(machine())
    print(f"traces read {read.read} (errors {len(read.errors)}), labels imported {labels.imported} "
          f"(missing {labels.missing}), annotated {annotated.annotated} in {seconds:.2f} s")  # fmt: skip
    print(markdown(report))


def markdown(report: AgreementReport) -> str:
    """The per-mode table, then the micro and macro rows."""
    names = {m.id: m.name for m in mast().modes}
    rows = ["| Mode | n | kappa [95% CI] | Precision | Recall | F1 | Support (o1 positives) | Detector positives |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for mode in report.modes:
        f = mode.figures
        label = f"{mode.mode_id} {names[mode.mode_id]}"
        if f.n == 0:
            rows.append(f"| {label} | 0 | unknown on every trace | | | | | |")
            continue
        rows.append(f"| {label} | {f.n} | {_kappa(f.kappa, f.kappa_low, f.kappa_high)} | {_n(f.precision)} | "
                    f"{_n(f.recall)} | {_n(f.f1)} | {f.support} | {f.tp + f.fp} |")  # fmt: skip
    m, a = report.micro, report.macro
    rows.append(f"| micro (covered modes pooled) | {m.n} | {_kappa(m.kappa, m.kappa_low, m.kappa_high)} | "
                f"{_n(m.precision)} | {_n(m.recall)} | {_n(m.f1)} | {m.support} | {m.tp + m.fp} |")  # fmt: skip
    rows.append(f"| macro (mean of {a.modes} modes) | | {_kappa(a.kappa, a.kappa_low, a.kappa_high)} | "
                f"{_n(a.precision)} | {_n(a.recall)} | {_n(a.f1)} | | |")  # fmt: skip
    return "\n".join(rows)


def _kappa(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "undefined"
    if low is None or high is None:
        return _n(value)
    return f"{_n(value)} [{_n(low)}, {_n(high)}]"


def _n(value: float | None) -> str:
    # round first so that -0.001 prints as 0.00, not -0.00
    return "–" if value is None else f"{round(value, 2) + 0.0:.2f}"


if __name__ == "__main__":
    main()
