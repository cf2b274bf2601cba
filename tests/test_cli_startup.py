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


def _modules_after(tmp_path, *args: str) -> set[str]:
    """Top-level module names in sys.modules after every `--help` of the CLI and then `agentmortem ARGS`."""
    out = tmp_path / "modules.json"
    probe = tmp_path / "probe.py"
    probe.write_text(_PROBE)
    subprocess.run([sys.executable, str(probe), str(out), *args], check=True, capture_output=True, timeout=120)
    return {name.split(".")[0] for name in json.loads(out.read_text())}


def test_help_of_every_command_imports_nothing_heavy(tmp_path):
    loaded = _modules_after(tmp_path, "--version")
    assert "typer" in loaded  # the probe did build and run the app
    assert sorted(loaded & set(HEAVY)) == []


def test_formats_imports_no_heavy_machinery(tmp_path):
    loaded = _modules_after(tmp_path, "formats")
    assert sorted(loaded & set(HEAVY)) == []


def test_version_is_the_installed_distribution_version(runner: CliRunner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"agentmortem {importlib.metadata.version('agentmortem')}"
