"""Shared fixtures: paths, the CLI runner, the public reference data in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

# the live SPARQL server fixture for every test module (tests/oxigraph_server.py)
from oxigraph_server import oxigraph_server  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
DATA = TESTS / "data"
# ../shared/data beside the checkout (or beside the folder of worktrees a checkout sits in)
SHARED_DATA = next(
    (p / "shared" / "data" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared").is_dir()),
    ROOT.parent / "shared" / "data",
)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def shared_data() -> Path:
    """../shared/data (public CMS and X12 files); tests using it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data folder {SHARED_DATA} is absent (it is not shipped)")
    return SHARED_DATA
