"""Without the `ray` extra the Ray engine says which extra to install, in one line, and nothing else breaks."""

import sys

import pytest

from agentmortem.cli.main import app
from agentmortem.engines.ray import EngineUnavailable, require_ray


@pytest.fixture
def no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail as if it were not installed


def test_require_ray_names_the_extra(no_ray):
    with pytest.raises(EngineUnavailable, match=r"pip install 'agentmortem\[ray\]'"):
        require_ray()


def test_engine_ray_without_ray_gives_a_one_line_message(no_ray, runner, db_path):
    result = runner.invoke(app, ["--db", db_path, "annotate", "--model", "mock", "--engine", "ray"])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "agentmortem[ray]" in lines[0], result.stderr


def test_engine_local_needs_no_ray(no_ray, runner, db_path):
    result = runner.invoke(app, ["--db", db_path, "annotate", "--model", "mock", "--engine", "local", "--json"])
    assert result.exit_code == 0, result.output
