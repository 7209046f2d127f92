"""DME-01: rental, purchase and capped-rental month modifiers against how the DMEPOS fee
schedule pays the code, on both engines: the imported schedule whose quarter covers the service
date (the real January 2025 CMS file when ../shared/data is there, and the made-up
tests/data/cms/DMEPOS26_APR.csv), else the curated January 2025 defaults
(ontology/dmepos-defaults.ttl, rebuilt here from the real file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimgraph.cli import app
from claimgraph.engine import fast, reference
from claimgraph.ingest.model import ClaimData, LineData
from claimgraph.knowledge import Knowledge

ROOT = Path(__file__).resolve().parents[1]
SMALL = Path(__file__).parent / "data" / "cms" / "DMEPOS26_APR.csv"
REAL = "cms-coverage/DMEPOS25_JAN_fee_schedule.csv"


def _import(path: Path, store: Path) -> None:
    result = CliRunner().invoke(app, ["import", "dmepos", str(path), "--store", str(store)])
    assert result.exit_code == 0, result.output


def _claims(lines: list[tuple[str, list[str], str]]) -> list[ClaimData]:
    return [ClaimData(index=n, id=f"CLM-F{n}", payer="medicaid", patient=f"TEST-PT-F{n}",
                      diagnoses=[("icd10cm", "J44.9")],
                      lines=[LineData(code=code, modifiers=mods, units=1, service_date=date)])
            for n, (code, mods, date) in enumerate(lines, start=1)]  # fmt: skip


def _dme01(claims: list[ClaimData], knowledge: Knowledge) -> dict[str, str]:
    """claim -> the DME-01 message, once both engines agree on every DME-01 finding."""
    found = [f for f in fast.validate_claims(claims, knowledge=knowledge, jobs=1)
             if f.rule == "DME-01"]  # fmt: skip
    ref = [f for f in reference.validate_claims(claims, knowledge=knowledge)
           if f.rule == "DME-01"]  # fmt: skip
    assert {(f.ident, f.message) for f in found} == {(f.ident, f.message) for f in ref}
    return {str(f.claim): f.message for f in found}


def test_the_real_january_2025_schedule(shared_data: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    _import(shared_data / REAL, store)
    kn = Knowledge.bundled().with_codesets(store)
    claims = _claims([
        ("E1392", ["NU"], "2025-02-03"),  # oxygen (OX): rental only
        ("E0766", ["NU"], "2025-02-03"),  # frequent and substantial servicing: rental only
        ("E0720", ["RR"], "2025-02-03"),  # TENS (TE): purchase only
        ("E1390", ["RR", "KH"], "2025-02-03"),  # oxygen is no capped rental
        ("E0745", ["RR", "KH"], "2025-02-03"),  # capped rental (CR)
        ("E0747", ["UE"], "2025-02-03"),  # inexpensive (IN): NU, UE and RR
        ("E0720", ["NU"], "2025-02-03"),
        ("E1392", ["RR", "NU"], "2025-02-03"),  # both: MOD-03's contradiction, not DME-01
    ])  # fmt: skip
    found = _dme01(claims, kn)
    assert set(found) == {"CLM-F1", "CLM-F2", "CLM-F3", "CLM-F4"}
    assert "(imported, 2025Q1) pays E1392 only as a rental" in found["CLM-F1"]
    assert "pays E0720 only as a purchase" in found["CLM-F3"]


def test_the_curated_defaults_are_the_january_2025_schedule(shared_data: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("build", ROOT / "scripts" /
                                                  "build_dmepos_defaults.py")  # fmt: skip
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    bundled = (ROOT / "ontology" / "dmepos-defaults.ttl").read_text(encoding="utf-8")
    assert build.build(shared_data / REAL) == bundled


def test_curated_defaults_without_a_schedule() -> None:
    claims = _claims([("E1392", ["NU"], "2026-03-02"), ("E0766", ["UE"], "2026-03-02"),
                      ("E0730", ["RR"], "2026-03-02"), ("E0766", ["RR", "KI"], "2026-03-02"),
                      ("E0762", ["RR", "KI"], "2026-03-02"), ("E0711", ["NU"], "2026-03-02")])
    found = _dme01(claims, Knowledge.bundled())
    assert set(found) == {"CLM-F1", "CLM-F2", "CLM-F3", "CLM-F4"}
    assert "(curated defaults, 2025Q1)" in found["CLM-F1"]


def test_an_imported_schedule_replaces_the_defaults_for_its_quarter(tmp_path: Path) -> None:
    store = tmp_path / "store"
    _import(SMALL, store)  # 2026Q2, made-up codes E99xx
    kn = Knowledge.bundled().with_codesets(store)
    claims = _claims([
        ("E9901", ["NU"], "2026-05-04"),  # CR, RR only
        ("E9902", ["RR", "KH"], "2026-05-04"),  # IN: no capped rental
        ("E9904", ["RR", "KJ"], "2026-05-04"),  # OX
        ("E9901", ["RR", "KJ"], "2026-05-04"),  # capped rental: fine
        ("E9902", ["RR"], "2026-05-04"),  # IN pays RR, NU and UE
        ("E1392", ["NU"], "2026-05-04"),  # not on the imported schedule: not judged
        ("E1392", ["NU"], "2026-08-03"),  # no schedule for 2026Q3: the curated defaults
        ("E9901", ["NU"], "2026-08-03"),  # ... which do not price E9901
    ])  # fmt: skip
    found = _dme01(claims, kn)
    assert set(found) == {"CLM-F1", "CLM-F2", "CLM-F3", "CLM-F7"}
    assert "(imported, 2026Q2)" in found["CLM-F1"]
    assert "(curated defaults, 2025Q1)" in found["CLM-F7"]


@pytest.mark.parametrize("engine", [fast, reference], ids=["fast", "reference"])
def test_mod03_keeps_the_contradiction_only(engine) -> None:  # type: ignore[no-untyped-def]
    claims = _claims([("E1392", ["RR", "NU"], "2026-03-02"), ("E1392", ["NU"], "2026-03-02")])
    found = {(f.claim, f.rule) for f in engine.validate_claims(claims)
             if f.rule in ("MOD-03", "DME-01")}  # fmt: skip
    assert found == {("CLM-F1", "MOD-03"), ("CLM-F2", "DME-01")}
