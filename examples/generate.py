"""Generate the bundled example runs beyond the nine hand-written ones, and the reference labels of every run.

    .venv/bin/python examples/generate.py [--out DIR]

Writes, under DIR (default: this folder), trials 4..18 of scenarios 101, 102 and 103 as ITBench run folders
(`agent_outputs/<scenario>/<trial>/`: AGENTS.md, config.toml, a Codex 0.80 rollout, agent_output.json,
judge_output.json), and `reference_labels.jsonl` (see LABELS) with, per run, what it was written to contain: every
MAST mode present or absent, evidence steps, and for failed runs the decisive step and its mode. Trials 1..3 are
the hand-written runs; the generator never touches them, and their labels come from their table in README.md.

Everything is a function of SEED and the tables below: the same command writes the same bytes (tests check
this, and that the files checked in are what it writes). Trial t is model MODELS[t % 3], as in the hand-written
runs. Each model fails in its own way, with behaviours the offline detectors can see:
  gemini   surgical: blames a symptom, "verifies" against its own file (FM-3.3, which no detector can see), and
           leaves its last write unchecked (FM-3.2); successes validate their file with jq.
  kimi     loses track of being done: declares the task complete and keeps working (FM-1.5), stops without a
           deliverable and is nudged by the harness (FM-3.1); its successes repeat look-alike calls (FM-1.3).
  gpt-oss  cascades: loops, tooling detours after an error (FM-2.3), a log that floods the context and a
           compaction (FM-1.4) after which the task is handed out again (FM-2.1), forbidden reads and broken
           deliverables (FM-1.1), premature stops and unchecked writes.
Evidence steps are canonical step indices: the generator reads each session back with agentmortem's own Codex
reader and looks the planted rows up by call id or timestamp, so labels and reports address the same steps.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agentmortem.readers.base import ReadError
from agentmortem.readers.codex import CodexReader
from agentmortem.taxonomy import mast

SEED = 20260205
HERE = Path(__file__).resolve().parent
LABELS = "reference_labels.jsonl"
"""Where the labels go, relative to the output folder (ingest of examples/ skips it with a note: a label file)."""
ANNOTATOR = "examples-written"
TRIALS = range(4, 19)
MODELS = {1: "gemini-3-flash-preview", 2: "kimi-k2-instruct", 0: "gpt-oss-120b-custom"}
HOURS = {101: 9, 102: 10, 103: 11}
NUDGE = (
    "I don't see agent_output.json file. Please resume the investigation and make sure to create the "
    "agent_output.json file as instructed earlier."
)
HOME = "/home/sre/itbench"

# -- the world: the three incidents of README.md ---------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    name: str
    reasoning: str
    evidence: str


@dataclass(frozen=True)
class Scenario:
    number: int
    alerts: str  # output of the alert count
    clues: list[tuple[str, str]]  # (command, output): the investigation that finds the root cause
    symptom_clue: tuple[str, str]  # what a run that stops at the symptom looks at
    root: Entity
    symptom: Entity
    downstream: list[Entity]
    propagations: list[tuple[str, str, str, str]]
    alert_notes: list[tuple[str, str]]
    big_log: str  # a file that floods the context when printed whole

    @property
    def snapshot(self) -> str:
        return f"{HOME}/snapshots/tidepool/Scenario-{self.number}"


def _grep(pattern: str, file: str, cut: str = "") -> str:
    return f"grep -i{'E' if '|' in pattern else ''} '{pattern}' SNAP/{file}{cut} | head -20"


SCENARIOS = {
    101: Scenario(
        number=101,
        alerts="   6 KubePodCrashLooping\n  12 RequestErrorRate\n   6 Watchdog\n",
        clues=[
            (_grep("stock", "k8s_events_raw.tsv", " | cut -f6-10"),
             "Warning\tBackOff\tPod/stock-6f9c7d5b8-x2k4p\t14\tBack-off restarting failed container stock\n"
             "Normal\tScalingReplicaSet\tDeployment/stock\t1\tScaled up replica set stock-6f9c7d5b8 to 1 (09:58:41)\n"),
            (_grep("stock", "k8s_objects_raw.tsv"),
             "Deployment/stock generation 7 (changed 09:58:41): containers[0].resources.limits.memory 512Mi -> 64Mi\n"
             "Pod/stock-6f9c7d5b8-x2k4p: restartCount=14 lastState.terminated.reason=OOMKilled exitCode=137\n"),
            (_grep("storefront|gateway", "otel_logs_raw.tsv", " | cut -f2,9,12"),
             "10:04:58 storefront ERROR GET /products/42 -> stock: 503 no healthy upstream\n"
             "10:05:31 gateway WARN upstream storefront returned 502 for /products/42\n"),
        ],
        symptom_clue=(_grep("BackOff|OOMKilled", "k8s_events_raw.tsv", " | cut -f6-10"),
                      "Warning\tBackOff\tPod/stock-6f9c7d5b8-x2k4p\t14\tBack-off restarting failed container stock\n"),
        root=Entity("tidepool/Deployment/stock", "Rollout at 09:58 cut the memory limit from 512Mi to 64Mi.",
                    "Deployment generation 7 diff; pods terminated with OOMKilled, exit 137."),
        symptom=Entity("tidepool/Pod/stock-6f9c7d5b8-x2k4p", "The stock pod crash-loops.",
                       "restartCount=14, BackOff events, KubePodCrashLooping alert."),
        downstream=[Entity("tidepool/Service/storefront", "Product pages fail when stock has no healthy endpoint.",
                           "503 no healthy upstream from stock."),
                    Entity("tidepool/Service/gateway", "Returns 502 for failing storefront requests.",
                           "Gateway logs upstream storefront 502.")],
        propagations=[("tidepool/Pod/stock-6f9c7d5b8-x2k4p", "tidepool/Service/storefront", "no ready stock endpoints",
                       "503 on /products"),
                      ("tidepool/Service/storefront", "tidepool/Service/gateway", "storefront errors",
                       "502 to clients")],
        alert_notes=[("KubePodCrashLooping", "stock pods are OOM-killed."),
                     ("RequestErrorRate", "storefront and gateway errors follow from stock being down.")],
        big_log="otel_logs_raw.tsv",
    ),
    102: Scenario(
        number=102,
        alerts="  12 RequestErrorRate\n   6 RequestLatency\n   6 Watchdog\n",
        clues=[
            (_grep("payments|checkout", "otel_logs_raw.tsv", " | cut -f2,9,12"),
             "14:20:41 payments ERROR charge 7d1f failed: dial tcp: lookup ledger-db-legacy on 10.96.0.10:53: no such"
             " host\n14:21:05 checkout ERROR POST /orders -> payments: 500 Internal Server Error\n"),
            (_grep("payments-env", "k8s_objects_raw.tsv"),
             "ConfigMap/payments-env resourceVersion 88121 (changed 14:20:11): data.LEDGER_DB_HOST ledger-db -> "
             "ledger-db-legacy\n"),
            (_grep("ledger-db", "k8s_events_raw.tsv", " | cut -f6-10"),
             "Normal\tUpdated\tConfigMap/payments-env\t1\tConfigMap payments-env updated (14:20:11)\n"),
        ],
        symptom_clue=(_grep("Pod/payments", "k8s_objects_raw.tsv"),
                      "Pod/payments-5c4b9d7f6-q8wz2: phase=Running restartCount=0 ready=true\n"),
        root=Entity("tidepool/ConfigMap/payments-env", "LEDGER_DB_HOST was changed to ledger-db-legacy at 14:20:11.",
                    "ConfigMap diff; payments logs 'no such host' from 14:20:41."),
        symptom=Entity("tidepool/Deployment/payments", "payments returns 500 on every charge.",
                       "RequestErrorRate on payments."),
        downstream=[Entity("tidepool/Service/checkout", "Orders fail because payments answers 500.",
                           "checkout logs POST /orders -> payments 500."),
                    Entity("tidepool/Service/gateway", "Latency rises while checkout retries.",
                           "RequestLatency alert.")],
        propagations=[("tidepool/Deployment/payments", "tidepool/Service/checkout", "payments 500", "orders fail"),
                      ("tidepool/Service/checkout", "tidepool/Service/gateway", "checkout retries",
                       "gateway latency up")],
        alert_notes=[("RequestErrorRate", "payments cannot reach ledger-db; checkout inherits the errors."),
                     ("RequestLatency", "gateway waits on checkout retries.")],
        big_log="otel_traces_raw.tsv",
    ),
    103: Scenario(
        number=103,
        alerts="   6 CPUThrottlingHigh\n  12 RequestLatency\n   6 Watchdog\n",
        clues=[
            (_grep("promo", "k8s_events_raw.tsv", " | cut -f6-10"),
             "Normal\tUpdated\tConfigMap/promo-flags\t1\tConfigMap promo-flags updated (09:41:02)\n"
             "Warning\tCPUThrottling\tPod/promo-66d8f7c9b-t5r6s\t21\tcontainer promo throttled 87% of periods\n"),
            (_grep("promo-flags", "k8s_objects_raw.tsv"),
             "ConfigMap/promo-flags resourceVersion 40417 (changed 09:41:02): data.recalculateAllBaskets false"
             " -> true\n"),
            (_grep("promo|basket", "otel_logs_raw.tsv", " | cut -f2,9,12"),
             "09:41:09 promo INFO recomputing 48213 baskets\n09:43:30 basket WARN promo.discounts took 4.8s\n"),
        ],
        symptom_clue=(_grep("Throttl", "k8s_events_raw.tsv", " | cut -f6-10"),
                      "Warning\tCPUThrottling\tPod/promo-66d8f7c9b-t5r6s\t21\tcontainer promo throttled 87% of"
                      " periods\n"),
        root=Entity("tidepool/ConfigMap/promo-flags", "recalculateAllBaskets was switched on at 09:41:02.",
                    "ConfigMap diff; promo log 'recomputing 48213 baskets' right after."),
        symptom=Entity("tidepool/Deployment/promo", "promo's 500m CPU limit is too small for its load.",
                       "CPUThrottlingHigh alert; throttled 87% of periods."),
        downstream=[Entity("tidepool/Service/basket", "Discount lookups to promo take ~5s.",
                           "basket WARN promo.discounts took 4.8s."),
                    Entity("tidepool/Service/checkout", "Waits on basket totals.", "checkout RequestLatency alert.")],
        propagations=[("tidepool/Deployment/promo", "tidepool/Service/basket", "promo throttled",
                       "slow discount lookups"),
                      ("tidepool/Service/basket", "tidepool/Service/checkout", "basket slow", "checkout latency")],
        alert_notes=[("CPUThrottlingHigh", "promo recomputes all baskets after the flag change."),
                     ("RequestLatency", "basket and checkout wait on promo.")],
        big_log="otel_logs_raw.tsv",
    ),
}  # fmt: skip

LISTING = (
    "alerts\napp.json\nground_truth.yaml\nk8s_events_raw.tsv\nk8s_objects_raw.tsv\nmetrics\notel_logs_raw.tsv\n"
    "otel_traces_raw.tsv\n"
)

# -- a Codex rollout, row by row -----------------------------------------------------------------------------


@dataclass
class Planted:
    """What a run was written to contain: per mode, the rows that show it; the decisive row and its mode."""

    modes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # mode -> [(key kind, key)]
    decisive: tuple[str, tuple[str, str]] | None = None  # (mode, row key)

    def add(self, mode: str, key: tuple[str, str], *, decisive: bool = False) -> None:
        self.modes.setdefault(mode, []).append(key)
        if decisive and self.decisive is None:
            self.decisive = (mode, key)


class Rollout:
    """Rows of one Codex session, with a clock and call ids; every step-making row gets its own timestamp."""

    def __init__(self, scenario: Scenario, trial: int, model: str, rng: random.Random) -> None:
        self.scenario, self.trial, self.model, self.rng = scenario, trial, model, rng
        self.start = datetime(2026, 2, 8, HOURS[scenario.number]) + timedelta(days=trial - 4)
        self.clock = self.start
        self.rows: list[dict[str, Any]] = []
        self.calls = 0
        self.tokens = 2400
        self.cwd = f"{HOME}/agent_outputs/{scenario.number}/{trial}"
        self.planted = Planted()

    # time and raw rows
    def _tick(self, low: float = 0.3, high: float = 3.0) -> str:
        self.clock += timedelta(milliseconds=int(self.rng.uniform(low, high) * 1000))
        return self.clock.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.clock.microsecond // 1000:03d}Z"

    def _row(self, kind: str, payload: dict[str, Any], stamp: str | None = None) -> str:
        stamp = stamp or self._tick()
        self.rows.append({"timestamp": stamp, "type": kind, "payload": payload})
        return stamp

    def _turn_context(self) -> None:
        self._row("turn_context", {
            "cwd": self.cwd, "approval_policy": "never",
            "sandbox_policy": {"type": "workspace-write", "network_access": False}, "model": self.model,
            "effort": "low", "summary": "auto", "truncation_policy": {"mode": "bytes", "limit": 10000},
        }, self._tick(0.1, 0.2))  # fmt: skip

    def _user(self, text: str) -> str:
        stamp = self._row("response_item", {"type": "message", "role": "user",
                                             "content": [{"type": "input_text", "text": text}]})  # fmt: skip
        self._row("event_msg", {"type": "user_message", "message": text, "images": []}, stamp)
        return stamp

    def _usage(self, spent: int) -> None:
        last = {"input_tokens": spent, "cached_input_tokens": spent * 7 // 10, "output_tokens": 180,
                "reasoning_output_tokens": 60, "total_tokens": spent + 180}  # fmt: skip
        self.tokens += spent + 180
        total = {"input_tokens": self.tokens - 180, "cached_input_tokens": self.tokens * 7 // 10,
                 "output_tokens": 180 * (self.calls + 1), "reasoning_output_tokens": 60 * (self.calls + 1),
                 "total_tokens": self.tokens}  # fmt: skip
        self._row("event_msg", {"type": "token_count", "info": {
            "total_token_usage": total, "last_token_usage": last, "model_context_window": 131072,
        }, "rate_limits": None}, self._tick(0.1, 0.2))  # fmt: skip

    # the session's opening
    def open(self) -> None:
        agents, number = agents_md(self.scenario, self.trial), self.scenario.number
        self._row("session_meta", {
            "id": f"019c{number:04x}-{self.trial:04d}-7a00-8000-{number * 100 + self.trial:012d}",
            "timestamp": self.start.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "cwd": self.cwd, "originator": "codex_exec",
            "cli_version": "0.80.0", "instructions": agents, "source": "exec", "model_provider": "litellm", "git": {},
        }, self._tick(0.01, 0.02))  # fmt: skip
        self.task()
        self._user(
            f"<environment_context>\n  <cwd>{self.cwd}</cwd>\n  <approval_policy>never</approval_policy>\n"
            "  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n"
            "  <shell>bash</shell>\n</environment_context>"
        )
        self.begin()

    def task(self) -> str:
        """The AGENTS.md message: the task statement, as the harness sends it."""
        instructions = agents_md(self.scenario, self.trial)
        text = f"# AGENTS.md instructions for {self.cwd}\n\n<INSTRUCTIONS>\n{instructions}</INSTRUCTIONS>"
        return self._user(text)

    def begin(self, text: str = "Begin investigation") -> str:
        stamp = self._user(text)
        self._row("event_msg", {"type": "task_started", "model_context_window": 131072}, stamp)
        self._turn_context()
        return stamp

    # what the agent does
    def call(self, command: str, output: str, *, exit_code: int = 0, workdir: str | None = None) -> tuple[str, str]:
        """A shell call and its result; returns the call's key."""
        self.calls += 1
        call_id = f"call_{self.scenario.number}{self.trial:02d}_{self.calls:03d}"
        command = command.replace("SNAP", self.scenario.snapshot)
        arguments = json.dumps({"command": ["bash", "-lc", command], "workdir": workdir or self.cwd}, indent=2)
        self._row("response_item", {"type": "function_call", "name": "shell", "arguments": arguments,
                                    "call_id": call_id})  # fmt: skip
        result = {
            "output": output,
            "metadata": {"exit_code": exit_code, "duration_seconds": self.rng.choice([0.2, 0.4, 0.6, 0.9])},
        }
        self._row("response_item", {"type": "function_call_output", "call_id": call_id, "output": json.dumps(result)},
                  self._tick(0.1, 1.0))  # fmt: skip
        return ("call", call_id)

    def patch(self, name: str, content: str, *, replace: bool = False) -> tuple[str, str]:
        """An apply_patch adding (or replacing) a file; returns the call's key."""
        self.calls += 1
        call_id = f"call_{self.scenario.number}{self.trial:02d}_{self.calls:03d}"
        head = f"*** Delete File: {name}\n" if replace else ""
        body = "".join(f"+{line}\n" for line in content.splitlines())
        arguments = json.dumps(
            {"input": f"*** Begin Patch\n{head}*** Add File: {name}\n{body}*** End Patch\n"}, indent=2
        )
        self._row("response_item", {"type": "function_call", "name": "apply_patch", "arguments": arguments,
                                    "call_id": call_id})  # fmt: skip
        result = {"output": f"Success. Updated the following files:\nA {name}\n",
                  "metadata": {"exit_code": 0, "duration_seconds": 0.1}}  # fmt: skip
        self._row("response_item", {"type": "function_call_output", "call_id": call_id, "output": json.dumps(result)},
                  self._tick(0.05, 0.2))  # fmt: skip
        return ("call", call_id)

    def say(self, text: str) -> tuple[str, str]:
        """An assistant message; returns its key."""
        stamp = self._row("response_item", {"type": "message", "role": "assistant",
                                            "content": [{"type": "output_text", "text": text}]})  # fmt: skip
        self._row("event_msg", {"type": "agent_message", "message": text}, stamp)
        return ("message", stamp)

    def end_turn(self, text: str) -> tuple[str, str]:
        """The agent's last message of a turn and the turn's end."""
        key = self.say(text)
        self._usage(self.rng.randint(3000, 6000))
        self._row("event_msg", {"type": "task_complete", "last_agent_message": text}, self._tick(0.1, 0.3))
        return key

    def nudge(self) -> tuple[str, str]:
        """The ITBench harness asking for the missing deliverable: a new turn."""
        stamp = self.begin(NUDGE)
        return ("message", stamp)

    def compact(self, summary: str) -> tuple[str, str]:
        """Codex compacting the conversation after the window filled up."""
        self._usage(self.rng.randint(118000, 126000))
        stamp = self._row("compacted", {"message": summary, "replacement_history": []})
        self._row("event_msg", {"type": "context_compacted"}, stamp)
        self._turn_context()
        return ("compacted", stamp)

    def jsonl(self) -> str:
        return "".join(json.dumps(row) + "\n" for row in self.rows)


# -- what each model does, successful or not ------------------------------------------------------------------


def survey(r: Rollout) -> None:
    """List the snapshot and count the alerts (every run starts so)."""
    r.call("ls -R SNAP", LISTING, workdir="/")
    r.call("jq -r '.[].labels.alertname' SNAP/alerts/*.json | sort | uniq -c", r.scenario.alerts)


def investigate(r: Rollout, *, repeat: int | None = None) -> None:
    """Follow the clues to the root cause; `repeat` runs one clue three times over (look-alike calls)."""
    for i, (command, output) in enumerate(r.scenario.clues):
        key = r.call(command, output)
        if i == repeat:
            keys = [key, r.call(command, output), r.call(command, output)]
            for k in keys:
                r.planted.add("FM-1.3", k)


def validate(r: Rollout) -> None:
    r.call("jq empty agent_output.json && echo 'valid JSON'", "valid JSON\n")


def gemini_success(r: Rollout, *, checks: bool = True) -> None:
    survey(r)
    investigate(r)
    r.say(f"{r.scenario.root.name.split('/')[-1]} changed right before the errors started; writing the diagnosis.")
    key = r.patch("agent_output.json", deliverable(r.scenario, right=True))
    if checks:
        validate(r)
    else:
        r.planted.add("FM-3.2", key)
    r.end_turn("Diagnosis written to agent_output.json.")


def gemini_failure(r: Rollout, *, self_check: bool) -> None:
    survey(r)
    r.call(*r.scenario.symptom_clue)
    r.say(f"{r.scenario.symptom.name} is failing; that is the root cause.")
    write = r.patch("agent_output.json", deliverable(r.scenario, right=False))
    if not self_check:
        r.planted.add("FM-3.2", write, decisive=True)
        r.end_turn("Diagnosis written.")
        return
    own = r.call(
        "jq -r '.entities[] | select(.contributing_factor) | .name' agent_output.json", r.scenario.symptom.name + "\n"
    )
    claim = r.say(
        f"Verified: the contributing factor in the diagnosis is {r.scenario.symptom.name}. The root cause is confirmed."
    )
    r.planted.add("FM-3.3", own)
    r.planted.add("FM-3.3", claim, decisive=True)
    rewrite = r.patch(
        "agent_output.json", deliverable(r.scenario, right=False, note="Updated the alert notes."), replace=True
    )
    r.planted.add("FM-3.2", rewrite)
    r.end_turn("Updated the alert explanations. Done.")


def kimi_success(r: Rollout) -> None:
    survey(r)
    investigate(r, repeat=r.rng.randrange(len(r.scenario.clues)))
    r.patch("agent_output.json", deliverable(r.scenario, right=True))
    validate(r)
    r.end_turn("agent_output.json is written and valid.")


def kimi_failure(r: Rollout, *, declares_first: bool) -> None:
    survey(r)
    r.call(*r.scenario.symptom_clue)
    if declares_first:
        done = r.say(f"The task is complete: {r.scenario.symptom.name} is the root cause.")
        r.planted.add("FM-1.5", done, decisive=True)
        for command, output in r.scenario.clues[:2]:
            r.planted.add("FM-1.5", r.call(command, output))
        stop = r.end_turn("Diagnosis complete.")
        r.planted.add("FM-3.1", stop)
        r.planted.add("FM-3.1", r.nudge())
    else:
        stop = r.end_turn(f"Diagnosis complete: {r.scenario.symptom.name}.")
        r.planted.add("FM-3.1", stop, decisive=True)
        r.planted.add("FM-3.1", r.nudge())
        r.call(*r.scenario.clues[0])
        done = r.say("The task is complete.")
        r.planted.add("FM-1.5", done)
        r.planted.add("FM-1.5", r.call(*r.scenario.clues[1]))
        r.planted.add("FM-1.5", r.call(*r.scenario.clues[2]))
        r.planted.add("FM-3.1", r.end_turn("Done."))
        r.planted.add("FM-3.1", r.nudge())
    r.patch("agent_output.json", deliverable(r.scenario, right=False))
    validate(r)
    r.end_turn("agent_output.json written.")


def gpt_success(r: Rollout) -> None:
    survey(r)
    investigate(r)
    r.patch("agent_output.json", deliverable(r.scenario, right=True))
    validate(r)
    r.end_turn("Wrote agent_output.json; jq accepts it.")


@dataclass(frozen=True)
class Cascade:
    """Which of gpt-oss's failure behaviours one run shows."""

    forbidden: bool = False
    early_stop: bool = False
    loop: bool = False
    detour: bool = False
    reissue: bool = False
    broken: bool = False
    acts_after_done: bool = False
    checks: bool = False


def gpt_failure(r: Rollout, c: Cascade) -> None:
    s = r.scenario
    r.call("ls -R SNAP", LISTING, workdir="/")
    if c.forbidden:
        key = r.call(
            "cat SNAP/ground_truth.yaml", f"cat: {s.snapshot}/ground_truth.yaml: Operation not permitted\n", exit_code=1
        )
        r.planted.add("FM-1.1", key)
    if c.early_stop:
        r.planted.add("FM-3.1", r.end_turn("I have listed the data."))
        r.planted.add("FM-3.1", r.nudge())
    alerts = ("jq -r '.[].labels.alertname' SNAP/alerts/*.json | sort | uniq -c", s.alerts)
    if c.loop:
        for _ in range(3):
            r.planted.add("FM-1.3", r.call(*alerts))
    else:
        r.call(*alerts)
    if c.detour:
        _detour(r)
    flood = r.call(
        f"cat SNAP/{s.big_log}",
        f"Total output lines: 48211\n\n[... omitted 48131 of 48211 lines ...]\n{s.clues[-1][1]}",
    )
    squeeze = r.compact(f"Investigating Scenario-{s.number}. Listed the snapshot and counted alerts.")
    r.planted.add("FM-1.4", flood)
    r.planted.add("FM-1.4", squeeze, decisive=True)
    if c.reissue:
        r.planted.add("FM-2.1", ("message", r.task()))
        r.begin()
    r.call("ls -R SNAP", LISTING, workdir="/")
    r.call(*s.symptom_clue)
    write = r.patch("agent_output.json", deliverable(s, right=False, broken=c.broken))
    if c.broken:
        r.planted.add("FM-1.1", write)
    if c.acts_after_done:
        done = r.say("The diagnosis has been written to agent_output.json. Task complete.")
        r.planted.add("FM-1.5", done)
        for command, output in s.clues[:2]:
            r.planted.add("FM-1.5", r.call(command, output))
    if c.checks:
        validate(r)
    else:
        r.planted.add("FM-3.2", write)
    r.end_turn("Finished.")


def _detour(r: Rollout) -> None:
    """A parser of its own that keeps failing, and the tooling detour after it (the meta-loop)."""
    script = f"agent_generated_code/parse_{r.rng.choice(['events', 'alerts', 'logs'])}.py"
    run = (
        f"python {script} SNAP/k8s_events_raw.tsv",
        'Traceback (most recent call last):\n  File "parse.py", line 7, in <module>\n'
        "    reason = row['reason']\nKeyError: 'reason'\n",
    )
    r.patch(
        script,
        "import csv, sys\nfor row in csv.DictReader(open(sys.argv[1]), delimiter='\\t'):\n    print(row['reason'])",
    )
    r.call(*run, exit_code=1)
    steps = [
        r.call(
            "python -m pip install pandas",
            "ERROR: Could not find a version that satisfies the requirement pandas (network access is disabled)\n",
            exit_code=1,
        ),
        r.call("which python3 && python3 --version", "/usr/bin/python3\nPython 3.11.7\n"),
        r.patch(
            script,
            "import sys\nimport pandas as pd\nprint(pd.read_csv(sys.argv[1], sep='\\t')['reason'].value_counts())",
            replace=True,
        ),
        r.call(*run[:1], "ModuleNotFoundError: No module named 'pandas'\n", exit_code=1),
        r.call("python -m pip install --user pandas", "ERROR: network access is disabled\n", exit_code=1),
        r.call(*run, exit_code=1),
    ]
    for key in steps:
        r.planted.add("FM-2.3", key)


# -- the deliverable, judge file, and the fixed files ---------------------------------------------------------


def deliverable(s: Scenario, *, right: bool, broken: bool = False, note: str = "") -> str:
    """agent_output.json: the right diagnosis, one that blames the symptom, or one that breaks the schema."""
    if broken:
        short = s.symptom.name.split("/")[-1]
        return json.dumps(
            {
                "entities": [{"name": short, "contributing_factor": "yes", "reasoning": s.symptom.reasoning}],
                "alerts_explained": [{"alert": a, "explanation": e} for a, e in s.alert_notes],
            },
            indent=2,
        )
    cause = s.root if right else s.symptom
    others = [s.symptom] if right else []
    entities = [
        {"name": cause.name, "contributing_factor": True, "reasoning": cause.reasoning, "evidence": cause.evidence}
    ]
    entities += [
        {"name": e.name, "contributing_factor": False, "reasoning": e.reasoning, "evidence": e.evidence}
        for e in others + s.downstream
    ]
    chain = ([(s.root.name, s.symptom.name, "the change", "the symptom")] if right else []) + s.propagations
    propagations = [{"source": a, "target": b, "condition": cond, "effect": eff} for a, b, cond, eff in chain]
    alerts = [
        {"alert": a, "explanation": e + (f" {note}" if note else ""), "explained": True} for a, e in s.alert_notes
    ]
    alerts.append(
        {
            "alert": "Watchdog",
            "explanation": "Always-on heartbeat of the alerting pipeline; not part of the incident.",
            "explained": True,
        }
    )
    return json.dumps({"entities": entities, "propagations": propagations, "alerts_explained": alerts}, indent=2)


def judge_output(s: Scenario, trial: int, model: str, *, right: bool) -> str:
    score = 100 if right else 0
    why = (
        f"Root cause {s.root.name.split('/', 1)[1]} identified with the chain."
        if right
        else f"Named {s.symptom.name.split('/', 1)[1]}; the root cause is {s.root.name.split('/', 1)[1]}."
    )
    return json.dumps({
        "metadata": {"scenario_name": f"Scenario-{s.number}", "agent_model": model, "agent_provider": "litellm",
                     "run_id": str(trial)},
        "scores": {"root_cause_entity": score, "root_cause_reasoning": score, "propagation_chain": 100 if right else 50,
                   "root_cause_reasoning_partial": score, "root_cause_proximity_no_fp": score,
                   "root_cause_proximity_with_fp": 100 if right else 50},
        "justification": why, "judge_model": "hand-scored", "judge_provider": "agentmortem-examples",
        "evaluated_at": "2026-02-10T12:00:00", "error": None,
    }, indent=2) + "\n"  # fmt: skip


def agents_md(s: Scenario, trial: int) -> str:
    run = f"{HOME}/agent_outputs/{s.number}/{trial}"
    return (
        "**Task**\n\nYou are an on-call SRE agent. Diagnose a Kubernetes incident from an OFFLINE snapshot; you cannot"
        " touch a live\ncluster. Never open ground_truth.yaml.\n\n# Data (read-only)\n"
        f"- {s.snapshot}\nStart by listing that folder. Service topology: {run}/app.json\n\n# Deliverable\n"
        f"Write {run}/agent_output.json and nothing else as your answer:\n"
        '{"entities": [{"name": "namespace/Kind/name", "contributing_factor": true|false, "reasoning": "...",\n'
        '  "evidence": "..."}],\n "propagations": [{"source": "namespace/Kind/name", "target": "namespace/Kind/name",'
        ' "condition": "...",\n  "effect": "..."}],\n "alerts_explained": [{"alert": "<name>", "explanation": "...",'
        ' "explained": true|false}]}\n- contributing_factor=true only for independent causes; symptoms and downstream'
        " services are false.\n- Every firing alert must appear in alerts_explained. Names never carry UIDs.\n"
        "- After writing the file, validate it with `jq` and fix it if it is not valid JSON.\n\n# Method\n"
        "Discover the files, read every alert, form hypotheses, confirm each with events, logs, traces or metrics,\n"
        "then build the chain root cause -> intermediate -> impacted. Put any Python you write under\n"
        f"{run}/agent_generated_code/.\n"
    )


def config_toml(s: Scenario, trial: int) -> str:
    return (
        'profile = "sre_support_engineer"\n\n[profiles.sre_support_engineer]\nmodel_provider = "litellm"\n'
        'model_reasoning_effort = "low"\nsandbox_mode = "workspace-write"\napproval_policy = "never"\n\n'
        "[profiles.sre_support_engineer.sandbox_workspace_write]\n"
        f'writable_roots = ["{HOME}/agent_outputs/{s.number}/{trial}"]\nnetwork_access = false\n\n'
        '[mcp_servers.offline_incident_analysis]\ncommand = "python"\n'
        'args = ["-m", "sre_tools.offline_incident_analysis"]\n\n'
        '[model_providers.litellm]\nname = "LiteLLM Proxy"\nbase_url = "http://localhost:4000"\nwire_api = "chat"\n'
    )


# -- the plan: which run does what ----------------------------------------------------------------------------

Behaviour = Callable[[Rollout], None]


# Per scenario, trials 4..18; trial t is MODELS[t % 3]. Outcomes and behaviours are spread over the scenarios so
# every model fails and succeeds on more than one incident.
def _gemini_fails(self_check: bool) -> Behaviour:
    return lambda r: gemini_failure(r, self_check=self_check)


def _kimi_fails(declares_first: bool) -> Behaviour:
    return lambda r: kimi_failure(r, declares_first=declares_first)


def _cascade(**shows: bool) -> Behaviour:
    return lambda r: gpt_failure(r, Cascade(**shows))


PLAN: dict[tuple[int, int], tuple[bool, Behaviour]] = {
    # gemini (trials 4, 7, 10, 13, 16): 10 successes (one leaves its file unchecked), 5 failures
    (101, 4): (True, gemini_success), (101, 7): (True, gemini_success),
    (101, 10): (True, lambda r: gemini_success(r, checks=False)), (101, 13): (False, _gemini_fails(True)),
    (101, 16): (True, gemini_success),
    (102, 4): (True, gemini_success), (102, 7): (False, _gemini_fails(False)), (102, 10): (True, gemini_success),
    (102, 13): (True, gemini_success), (102, 16): (False, _gemini_fails(True)),
    (103, 4): (False, _gemini_fails(True)), (103, 7): (True, gemini_success), (103, 10): (True, gemini_success),
    (103, 13): (False, _gemini_fails(False)), (103, 16): (True, gemini_success),
    # kimi (trials 5, 8, 11, 14, 17): 6 successes with repetition, 9 failures that lose track of being done
    (101, 5): (False, _kimi_fails(True)), (101, 8): (True, kimi_success), (101, 11): (False, _kimi_fails(False)),
    (101, 14): (True, kimi_success), (101, 17): (False, _kimi_fails(False)),
    (102, 5): (True, kimi_success), (102, 8): (False, _kimi_fails(True)), (102, 11): (False, _kimi_fails(False)),
    (102, 14): (False, _kimi_fails(True)), (102, 17): (True, kimi_success),
    (103, 5): (True, kimi_success), (103, 8): (False, _kimi_fails(False)), (103, 11): (True, kimi_success),
    (103, 14): (False, _kimi_fails(True)), (103, 17): (False, _kimi_fails(True)),
    # gpt-oss (trials 6, 9, 12, 15, 18): 6 successes, 9 cascades
    (101, 6): (False, _cascade(loop=True, detour=True, acts_after_done=True, checks=True)),
    (101, 9): (True, gpt_success),
    (101, 12): (False, _cascade(early_stop=True, reissue=True, broken=True, checks=True)),
    (101, 15): (True, gpt_success),
    (101, 18): (False, _cascade(early_stop=True, loop=True, reissue=True, checks=True)),
    (102, 6): (False, _cascade(forbidden=True, loop=True, reissue=True, checks=True)),
    (102, 9): (False, _cascade(early_stop=True, loop=True, detour=True, checks=True)),
    (102, 12): (True, gpt_success),
    (102, 15): (False, _cascade(loop=True, reissue=True, broken=True, acts_after_done=True)),
    (102, 18): (True, gpt_success),
    (103, 6): (True, gpt_success),
    (103, 9): (False, _cascade(forbidden=True, early_stop=True, reissue=True, checks=True)),
    (103, 12): (True, gpt_success),
    (103, 15): (False, _cascade(early_stop=True, detour=True, broken=True, checks=True)),
    (103, 18): (False, _cascade(forbidden=True, detour=True, acts_after_done=True, checks=True)),
}  # fmt: skip

# The hand-written runs' modes, from the table in README.md (presence only: their steps were not planted by code).
HAND_WRITTEN = {
    (101, 1): [], (102, 1): [], (103, 1): ["FM-3.3", "FM-3.2"],
    (101, 2): ["FM-1.3"], (102, 2): ["FM-1.3", "FM-2.6", "FM-3.1", "FM-1.5"], (103, 2): ["FM-1.3"],
    (101, 3): ["FM-1.3", "FM-2.3", "FM-1.4", "FM-2.1", "FM-1.1", "FM-1.5", "FM-3.1", "FM-3.2"],
    (102, 3): ["FM-1.1", "FM-1.3", "FM-1.5", "FM-3.1", "FM-3.2"], (103, 3): ["FM-3.1", "FM-3.2"],
}  # fmt: skip
HAND_WRITTEN_SUCCESS = {(101, 1), (102, 1), (101, 2), (103, 2)}


# -- writing ---------------------------------------------------------------------------------------------------


def write_run(out: Path, scenario: Scenario, trial: int) -> tuple[Path, Planted, bool]:
    """Write one run folder; returns it, what was planted, and whether the run succeeded."""
    right, behaviour = PLAN[(scenario.number, trial)]
    model = MODELS[trial % 3]
    rollout = Rollout(scenario, trial, model, random.Random(f"{SEED}/{scenario.number}/{trial}"))
    rollout.open()
    behaviour(rollout)
    run = out / "agent_outputs" / str(scenario.number) / str(trial)
    shutil.rmtree(run, ignore_errors=True)  # a generated run folder holds exactly what this run writes
    (run / "sessions").mkdir(parents=True)
    stamp = rollout.start.strftime("%Y-%m-%dT%H-%M-%S")
    (run / "sessions" / f"rollout-{stamp}-diagnosis.jsonl").write_text(rollout.jsonl(), encoding="utf-8")
    (run / "AGENTS.md").write_text(agents_md(scenario, trial), encoding="utf-8")
    (run / "config.toml").write_text(config_toml(scenario, trial), encoding="utf-8")
    written = _last_deliverable(rollout)
    (run / "agent_output.json").write_text(written + "\n", encoding="utf-8")
    (run / "judge_output.json").write_text(judge_output(scenario, trial, model, right=right), encoding="utf-8")
    return run, rollout.planted, right


def _last_deliverable(rollout: Rollout) -> str:
    """What the session's last apply_patch put into agent_output.json: the file the run leaves behind."""
    for row in reversed(rollout.rows):
        payload = row["payload"]
        if payload.get("name") == "apply_patch":
            patch = json.loads(payload["arguments"])["input"]
            if "Add File: agent_output.json" in patch:
                body = patch.split("*** Add File: agent_output.json\n", 1)[1].rsplit("*** End Patch", 1)[0]
                return "".join(line[1:] + "\n" for line in body.splitlines()).rstrip("\n")
    raise ValueError(f"{rollout.cwd}: the run never wrote agent_output.json")


def label_row(run: Path, planted: Planted, success: bool) -> dict[str, Any]:
    """The run's reference labels: steps found by reading the session back with agentmortem's Codex reader."""
    errors: list[ReadError] = []
    (trace,) = list(CodexReader().read(run, errors))
    if errors:
        raise ValueError(f"{run}: {errors[0]}")
    index = {}
    for step in trace.steps:
        if step.kind == "tool_call" and step.call_id:
            index[("call", step.call_id)] = step
        elif step.kind in {"message", "system"} or step.source_type == "compacted":
            stamp = step.timestamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{step.timestamp.microsecond // 1000:03d}Z"
            index.setdefault(("compacted" if step.source_type == "compacted" else "message", stamp), step)
    labels: dict[str, Any] = {mode_id: 0 for mode_id in mast().ids}
    for mode_id, keys in planted.modes.items():
        steps = sorted({index[key].index for key in keys})
        labels[mode_id] = {"present": True, "evidence": [{"step": s, "quote": _quote(trace.steps[s])} for s in steps]}
    row: dict[str, Any] = {"trace_id": trace.id, "annotator": ANNOTATOR, "labels": labels}
    if not success and planted.decisive is not None:
        mode_id, key = planted.decisive
        row |= {"decisive_step": index[key].index, "decisive_mode": mode_id}
    return row


def _quote(step: Any) -> str:
    """The step's words: a message's text, a shell call's command, a patch's first line."""
    text = step.content or ""
    if step.kind == "tool_call":
        args = json.loads(step.tool_args or "{}")
        text = args["command"][-1] if "command" in args else args.get("input", "").split("\n")[1]
    return " ".join(text.split())[:80]


def hand_written_row(scenario: int, trial: int) -> dict[str, Any]:
    labels: dict[str, Any] = {mode_id: 0 for mode_id in mast().ids}
    labels |= {mode_id: 1 for mode_id in HAND_WRITTEN[(scenario, trial)]}
    return {
        "trace_id": f"{MODELS[trial % 3]}/scenario-{scenario}/run-{trial}",
        "annotator": ANNOTATOR,
        "labels": labels,
    }


def generate(out: Path) -> list[Path]:
    """Write every generated run and the labels under `out`; returns the files written."""
    rows = [hand_written_row(s, t) for s in SCENARIOS for t in (1, 2, 3)]
    runs = []
    for scenario in SCENARIOS.values():
        for trial in TRIALS:
            run, planted, success = write_run(out, scenario, trial)
            rows.append(label_row(run, planted, success))
            runs.append(run)
    rows.sort(key=lambda r: r["trace_id"])
    labels = out / LABELS
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return sorted(p for run in runs for p in run.rglob("*") if p.is_file()) + [labels]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="Folder to write into (default: examples/).")
    args = parser.parse_args()
    files = generate(args.out)
    print(f"wrote {len(files)} files under {args.out}")


if __name__ == "__main__":
    main()
