"""Where the runs are in an ITBench SRE output tree, and what each run directory holds besides its session.

Two layouts are recognised:

* **agent-outputs** — what the ITBench SRE agent writes: `agent_outputs/<scenario>/<trial>/` holding
  `agent_output.json` (the diagnosis), `sessions/**/rollout-*.jsonl` (Codex sessions) and harness files
  (`AGENTS.md`, `config.toml`, `agent_remediation.json`) that are not traces and are never read as such. A trial
  directory is one with `sessions/**/rollout-*.jsonl` or an `agent_output.json`; its parent names the scenario.
* **trajectories** — the published trajectories dataset: `<Model>/sre/Scenario-<N>/<run>/session.jsonl` with
  `agent_output.json` and `judge_output.json` beside it. A run directory is one whose parent is named
  `Scenario-<N>` and that holds one of those files (or, anywhere, a `session.jsonl` with an ITBench output file
  beside it). The model directory is the one above `sre/`.

A directory is claimed as a whole (`sniff_directory`) only when it sits at one of the levels of a layout: a run,
a scenario, `agent_outputs/` (or any folder of scenarios), `sre/`, a `<Model>` folder, or a dataset root of model
folders. A folder that merely contains such a tree deeper down is not claimed, so other files beside the tree are
still read by the ordinary directory walk.

Trace ids are `<model>/scenario-<N>/run-<R>`: `<model>` is the `<Model>` directory name in the trajectories
layout (it is what keeps the dataset's runs apart) and the model id the Codex session records in the agent-outputs
layout (that layout has no model folder); `<R>` is the run folder's number (`run-1` for `1`, `run_1` or `run-1`) or
its name when it has none. A run with several Codex sessions (e.g. diagnosis then remediation) yields one trace per
session: the diagnosis session (file name ending in `-diagnosis`, else the first by name) gets the plain id and the
ITBench outcome; the others get `<id>/<phase>` and no outcome, because `agent_output.json` grades the diagnosis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from agentmortem.readers.base import ReadError

Layout = Literal["agent-outputs", "trajectories"]

AGENT_OUTPUT = "agent_output.json"
JUDGE_OUTPUT = "judge_output.json"
DATASET_SESSION = "session.jsonl"

_SCENARIO_DIR = re.compile(r"scenario[-_]?(\d+)", re.IGNORECASE)
_RUN_DIR = re.compile(r"(?:run[-_]?)?(\d+)", re.IGNORECASE)
_ROLLOUT_PHASE = re.compile(r"rollout-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-(.+)")

CLAIM_CONFIDENCE = 0.9
"""sniff_directory's answer for a directory at a layout level: sure, but below a reader that names a file type."""


@dataclass(frozen=True)
class ItbenchRun:
    """One run directory of an ITBench SRE output tree."""

    run_dir: Path
    layout: Layout
    scenario: str
    run: str
    sessions: tuple[Path, ...]
    model_dir: str | None = None

    @property
    def agent_output_path(self) -> Path:
        """Where the run's diagnosis deliverable lives (it may be missing)."""
        return self.run_dir / AGENT_OUTPUT

    @property
    def judge_output_path(self) -> Path:
        """Where an ITBench judge writes its verdict for the run (it may be missing)."""
        return self.run_dir / JUDGE_OUTPUT

    @property
    def primary_session(self) -> Path | None:
        """The session graded by agent_output.json: the one named `-diagnosis`, else the first by name."""
        named = [path for path in self.sessions if session_phase(path) == "diagnosis"]
        candidates = named or list(self.sessions)
        return candidates[0] if candidates else None

    def trace_id(self, model: str | None, session: Path) -> str:
        """`<model>/scenario-<N>/run-<R>`, with `/<phase>` appended for a session other than the primary one."""
        name = self.model_dir or model or "unknown-model"
        base = f"{name}/scenario-{self.scenario}/{run_label(self.run)}"
        return base if session == self.primary_session else f"{base}/{session_phase(session)}"


def session_phase(path: Path) -> str:
    """What a session file is for: the text after the timestamp in `rollout-<timestamp>-<phase>.jsonl`."""
    match = _ROLLOUT_PHASE.fullmatch(path.stem)
    return match.group(1) if match else path.stem


def run_label(run: str) -> str:
    """`run-<N>` for a numbered run folder, the folder name otherwise."""
    match = _RUN_DIR.fullmatch(run)
    return f"run-{match.group(1)}" if match else run


def scenario_id(name: str) -> str:
    """`2` for `Scenario-2`, `scenario_2` or `2`; the name itself when it carries no number."""
    match = _SCENARIO_DIR.fullmatch(name)
    return match.group(1) if match else name


# --- recognising run directories ------------------------------------------------------------------------------


def _subdirs(path: Path) -> list[Path]:
    try:
        return sorted(child for child in path.iterdir() if child.is_dir() and not child.name.startswith("."))
    except OSError:
        return []


def _is_trajectory_run(path: Path) -> bool:
    has_output = (path / AGENT_OUTPUT).is_file() or (path / JUDGE_OUTPUT).is_file()
    if _SCENARIO_DIR.fullmatch(path.parent.name):
        return has_output or (path / DATASET_SESSION).is_file()
    return has_output and (path / DATASET_SESSION).is_file()


def _is_agent_trial(path: Path) -> bool:
    if _SCENARIO_DIR.fullmatch(path.parent.name) or (path / DATASET_SESSION).is_file():
        return False
    return (path / AGENT_OUTPUT).is_file() or next(path.glob("sessions/**/rollout-*.jsonl"), None) is not None


def _is_run(path: Path) -> bool:
    return _is_trajectory_run(path) or _is_agent_trial(path)


def _is_scenario(path: Path) -> bool:
    return any(_is_run(child) for child in _subdirs(path))


def _is_model_dir(path: Path) -> bool:
    sre = path / "sre"
    return sre.is_dir() and _is_scenario_set(sre)


def _is_scenario_set(path: Path) -> bool:
    """A folder of scenarios: `agent_outputs/` or a dataset's `sre/`."""
    return any(_is_scenario(child) for child in _subdirs(path))


def sniff_directory(path: Path) -> float:
    """CLAIM_CONFIDENCE when `path` is a level of an ITBench layout (see the module docstring), else 0."""
    if not path.is_dir():
        return 0.0
    checks = (_is_run, _is_scenario, _is_scenario_set, _is_model_dir)
    if any(check(path) for check in checks) or any(_is_model_dir(child) for child in _subdirs(path)):
        return CLAIM_CONFIDENCE
    return 0.0


def find_runs(root: Path) -> list[ItbenchRun]:
    """Every run under `root` (itself a run, a scenario, a folder of scenarios, a model folder or dataset root)."""
    if _is_run(root):
        return [_make_run(root)]
    runs: list[ItbenchRun] = []
    for child in _subdirs(root):
        if _is_run(child):
            runs.append(_make_run(child))
        elif child.name == "sre" or _is_scenario(child) or _is_scenario_set(child) or _is_model_dir(child):
            runs.extend(find_runs(child))
    return runs


def _make_run(run_dir: Path) -> ItbenchRun:
    run_dir = run_dir.resolve()
    if _is_trajectory_run(run_dir):
        above = run_dir.parent.parent
        model_dir = above.parent.name if above.name == "sre" else None
        sessions = (run_dir / DATASET_SESSION,) if (run_dir / DATASET_SESSION).is_file() else ()
        return ItbenchRun(
            run_dir, "trajectories", scenario_id(run_dir.parent.name), run_dir.name, sessions, model_dir=model_dir
        )
    rollouts = tuple(sorted((run_dir / "sessions").rglob("rollout-*.jsonl")))
    return ItbenchRun(run_dir, "agent-outputs", scenario_id(run_dir.parent.name), run_dir.name, rollouts)


# --- the run's side files -------------------------------------------------------------------------------------


def load_json_object(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """`(document, None)` for a readable JSON object; `(None, reason)` when missing, unreadable or not an object."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, "missing"
    except OSError as exc:
        return None, f"unreadable: {exc.strerror}"
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    if not isinstance(value, dict):
        return None, f"not a JSON object but {type(value).__name__}"
    return value, None


def run_metadata(run: ItbenchRun, session: Path, errors: list[ReadError]) -> dict[str, Any]:
    """`metadata["itbench"]` for the trace read from `session` of `run`.

    A missing or broken `agent_output.json` is the agent's failure to deliver, not a reading problem: it is
    recorded as `agent_output_error` (and scores as a miss). A broken `judge_output.json` is an input problem:
    it is reported in `errors` and recorded as `judge_output_error`, and the outcome falls back to other sources.
    """
    primary = session == run.primary_session
    meta: dict[str, Any] = {
        "layout": run.layout, "scenario": run.scenario, "run": run.run, "run_dir": str(run.run_dir),
        "phase": session_phase(session), "primary": primary,
    }  # fmt: skip
    if run.model_dir is not None:
        meta["model_dir"] = run.model_dir
    if not primary:
        return meta
    meta["agent_output"], problem = load_json_object(run.agent_output_path)
    if problem is not None:
        meta["agent_output_error"] = problem
    judge, judge_problem = load_json_object(run.judge_output_path)
    if judge is not None:
        meta["judge_output"] = judge
    elif judge_problem != "missing":
        meta["judge_output_error"] = judge_problem
        errors.append(ReadError(run.judge_output_path, f"ITBench judge output {judge_problem}"))
    return meta
