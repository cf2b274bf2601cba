"""The CLI starts at once: building the app and printing any `--help` imports none of the heavy libraries.

Each check runs in a fresh interpreter (a subprocess), because this test process has long imported everything.
benchmarks/startup.py times the same; here only what is imported is checked, never how long it takes.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys

from typer.testing import CliRunner

from agentmortem.cli.main import app
from agentmortem.readers import all_readers, format_descriptions

HEAVY = ["scipy", "openai", "ray", "jinja2", "matplotlib", "numpy", "pyarrow", "duckdb"]
"""Never imported by `--help`. (pydantic is not on the list: typer itself imports it to coerce the parameters of
any subcommand, so only the typed model is kept out, by the commands that need none.)"""

_PROBE = """
import json, sys
import typer
from agentmortem.cli.main import app

def leaves(command, path):
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from leaves(sub, [*path, name])

root = typer.main.get_command(app)
for args in [[*path, "--help"] for path in leaves(root, [])] + [sys.argv[2:]]:
    try:
        root.main(args=args, prog_name="agentmortem")
    except SystemExit:
        pass
with open(sys.argv[1], "w") as out:
    json.dump(sorted(sys.modules), out)
"""


def _modules_after(tmp_path, *args: str, top_level: bool = True) -> set[str]:
    """Module names (top-level ones only, by default) in sys.modules after every `--help` of the CLI and then
    `agentmortem ARGS`."""
    out = tmp_path / "modules.json"
    probe = tmp_path / "probe.py"
    probe.write_text(_PROBE)
    subprocess.run([sys.executable, str(probe), str(out), *args], check=True, capture_output=True, timeout=120)
    names = json.loads(out.read_text())
    return {name.split(".")[0] for name in names} if top_level else set(names)


def test_help_of_every_command_imports_nothing_heavy(tmp_path):
    loaded = _modules_after(tmp_path, "--version")
    assert "typer" in loaded  # the probe did build and run the app
    assert sorted(loaded & set(HEAVY)) == []


def test_formats_imports_no_reader(tmp_path):
    loaded = _modules_after(tmp_path, "formats", top_level=False)
    assert sorted({name.split(".")[0] for name in loaded} & set(HEAVY)) == []
    reader_modules = {
        f"agentmortem.readers.{name}" for name in ("codex", "mad", "otel", "claude", "openai_chat", "text")
    }
    assert sorted(loaded & reader_modules) == []
    assert "agentmortem.model" not in loaded


def test_formats_describes_each_format_as_its_reader_does():
    assert format_descriptions() == {reader.name: reader.description for reader in all_readers()}


def test_version_is_the_installed_distribution_version(runner: CliRunner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"agentmortem {importlib.metadata.version('agentmortem')}"
