"""Sentences about a group's signature, decisive steps and shared fixes, worded once for the text renderers."""

from __future__ import annotations

from agentmortem.report.format import pct
from agentmortem.report.report import GroupReport, SharedIntervention


def signature_line(group: GroupReport) -> str | None:
    """'Fatal: FM-3.3, FM-3.1. More often than the others: FM-1.5 (70% vs 10%).', or None without a signature."""
    sig = group.signature
    if sig is None:
        return None
    fatal = f"Fatal: {', '.join(sig.fatal)}." if sig.fatal else "No fatal mode."
    if not sig.distinctive:
        return f"{fatal} Distinctive: none ({sig.note})."
    rows = {d.mode: d for d in sig.distinctions}
    more = ", ".join(f"{m} ({pct(rows[m].prevalence)} vs {pct(rows[m].prevalence_others)})" for m in sig.distinctive)
    where = "failed traces" if sig.population == "failed" else "traces"
    return f"{fatal} More often than in the others' {where}: {more}."


def decisive_line(group: GroupReport) -> str | None:
    """Where the group's failed traces turned, in one sentence; None without failed traces."""
    d = group.decisive
    if d is None or not d.failed:
        return None
    if not d.fatal_modes:
        return "Decisive step: none (no mode is fatal in this group)."
    roots = ", ".join(f"{r.mode} {r.traces} ({pct(r.share)})" for r in d.roots)
    text = f"Decisive step: {d.located} of {d.failed} failed traces turn at a fatal mode"
    if d.located:
        text += f", median {pct(d.median_position)} into the run; root modes {roots}"
    extra = [f"{d.unlocated} with a fatal mode but no evidence step"] if d.unlocated else []
    extra += [f"{d.without_fatal_mode} without a fatal mode"] if d.without_fatal_mode else []
    return text + ("; " + ", ".join(extra) if extra else "") + "."


def shared_line(fix: SharedIntervention) -> str:
    """'Put an external verification gate … — FM-3.3 fatal in every model; …'."""
    return f"{fix.title} — {fix.why}"
