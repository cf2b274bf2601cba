"""Shared fixtures: the real data folder beside the checkout, temporary stores, the CLI runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentmortem.store import Store
from fake_openai import fake_server  # noqa: F401  (the loopback OpenAI-compatible server fixture)

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data; skips the calling test with a clear message when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (see ../shared/data/README.md)")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "test.duckdb") as s:
        yield s


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "cli.duckdb")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
