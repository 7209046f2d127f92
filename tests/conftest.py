"""Shared fixtures: a private home for every test, paths, the CLI runner, the public reference
data in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

# the live SPARQL server fixture for every test module (tests/oxigraph_server.py)
from oxigraph_server import oxigraph_server  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
DATA = TESTS / "data"
# ../shared/data beside the checkout (or beside the folder of worktrees: ../../shared/data)
SHARED_DATA = next(
    (d for d in (ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data")
     if d.is_dir()),
    ROOT.parent / "shared" / "data",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _private_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test runs with its own HOME (and XDG folders) and code-set store, and with a
    cache folder private to this test run: nothing the developer has imported or cached (a
    code-set store in the user data folder, CLAIMGRAPH_STORE, CLAIMGRAPH_NO_CACHE) changes a
    result. The cache is shared by the tests of one run (it only holds derived files)."""
    home = tmp_path_factory.mktemp("home")  # beside the test's tmp_path, not in it
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (("XDG_DATA_HOME", ".local/share"), ("XDG_CACHE_HOME", ".cache"),
                     ("XDG_CONFIG_HOME", ".config")):  # fmt: skip
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(home / "store"))
    monkeypatch.setenv("CLAIMGRAPH_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    for var in ("CLAIMGRAPH_NO_CACHE", "CLAIMGRAPH_DEBUG"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def shared_data() -> Path:
    """../shared/data (public CMS and X12 files); tests using it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data folder {SHARED_DATA} is absent (it is not shipped)")
    return SHARED_DATA


NCCI_TABLES = Path(__file__).resolve().parent / "data" / "cms" / "ncci"


@pytest.fixture(scope="session")
def ncci_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding only the made-up NCCI tables of tests/data/cms/ncci (2026Q1: PTP, MUE,
    AOC), none of whose rows is about a curated code. Tests of other rules use it so that the
    NCCI rules, which give one Info per run without tables, stay out of their findings for
    service dates in 2026Q1."""
    from claimgraph.cli import app

    root = tmp_path_factory.mktemp("ncci-store") / "store"
    for args in (
        ["ncci-ptp", str(NCCI_TABLES / "ccipra-v320r0-f1.txt"), "--release", "2026Q1"],
        ["mue", str(NCCI_TABLES / "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv"),
         str(NCCI_TABLES / "MCR_MUE_DMESupplierServices_Eff_01-01-2026.csv")],
        ["aoc", str(NCCI_TABLES / "AOC_V2026Q1_01-MCR.txt")],
    ):  # fmt: skip
        result = CliRunner().invoke(app, ["import", *args, "--store", str(root)])
        assert result.exit_code == 0, result.output
    return root
