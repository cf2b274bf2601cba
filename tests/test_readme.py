"""The README's promises: two set-up commands, and the demo command it runs works as described."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from agentmortem.cli.main import app

REPO = Path(__file__).resolve().parent.parent


def _demo_command() -> list[str]:
    """The agentmortem invocation of the Makefile's demo target, as arguments."""
    recipe = (REPO / "Makefile").read_text().split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    line = next(line for line in recipe.splitlines() if "agentmortem" in line and "analyze" in line)
    return shlex.split(line.strip())[1:]  # drop $(BIN)/agentmortem


def test_readme_names_exactly_the_two_setup_commands():
    readme = (REPO / "README.md").read_text()
    setup = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^make (\w+)", setup, flags=re.MULTILINE)
    assert commands == ["demo", "test"]
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci


def test_demo_command_analyses_the_examples_and_writes_the_report(tmp_path: Path, monkeypatch):
    args = _demo_command()
    assert args[:2] == ["--db", "demo.duckdb"] and "analyze" in args and "examples/" in args
    monkeypatch.chdir(REPO)
    db, html = tmp_path / "demo.duckdb", tmp_path / "report.html"
    args = [str(db) if a == "demo.duckdb" else str(html) if a == "report.html" else a for a in args]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Failure signatures")  # the headline comes first
    for group in ["gemini-3-flash-preview", "gpt-oss-120b-custom", "kimi-k2-instruct"]:
        assert group in out
    assert "cascading" in out and "isolated" in out
    assert "54 of 54 traces analysed" in out
    kimi = out.split("╭─ kimi-k2-instruct")[1].split("╰")[0]
    assert "fatal" in kimi and "benign" in kimi  # the verdicts the README promises, on the bundled runs
    firsts = re.findall(r"│ 1\. (.+?) —", out)
    assert len(firsts) == 3 and len(set(firsts)) == 3  # three models, three different first fixes
    readme = " ".join((REPO / "README.md").read_text().replace("│", " ").split())
    for headline in re.findall(r"^• (.+?)(?=\n• |\nGroups)", out, flags=re.MULTILINE | re.DOTALL):
        assert " ".join(headline.split()) in readme  # the README shows the demo's real output
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
