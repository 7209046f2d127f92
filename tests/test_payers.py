"""One payer mapping for every format: X12 claim filing indicators, payer names, payer ids;
categories no rule targets get only payer-independent rules; unknown payers are STRUCT-05."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimgraph.ingest import read_claims
from claimgraph.ingest.payers import name_payer, resolve
from claimgraph.validation import validate_files

FORMATS = Path(__file__).parent / "data" / "formats"

# The X12 claim filing indicator list (837 SBR09, element 1032) and the category each means.
FILING_INDICATORS = {
    "11": "other", "12": "ppo", "13": "pos", "14": "epo", "15": "indemnity",
    "16": "medicare-advantage", "17": "commercial", "AM": "auto", "BL": "bcbs", "CH": "tricare",
    "CI": "commercial", "DS": "other", "FI": "other-federal", "HM": "hmo", "LM": "other",
    "MA": "medicare-part-a", "MB": "medicare", "MC": "medicaid", "OF": "other-federal",
    "TV": "other-federal", "VA": "va", "WC": "workers-compensation", "ZZ": "other",
}  # fmt: skip


@pytest.mark.parametrize(("code", "payer"), sorted(FILING_INDICATORS.items()))
def test_every_filing_indicator_has_its_category(code: str, payer: str) -> None:
    assert resolve(None, "SOME PLAN", code, None) == payer
    assert resolve(None, None, code.lower(), None) == payer


@pytest.mark.parametrize(
    ("name", "payer"),
    [
        ("Blue Cross Blue Shield", "bcbs"), ("BLUE CROSS OF IDAHO", "bcbs"), ("Anthem", "bcbs"),
        ("Aetna Life Insurance", "aetna"), ("Aetna Medicare Advantage", "medicare-advantage"),
        ("MEDICARE PART B", "medicare"), ("Noridian Healthcare Solutions", "medicare"),
        ("Medicare Part A", "medicare-part-a"), ("Texas Medicaid", "medicaid"),
        ("Medi-Cal", "medicaid"), ("TRICARE East", "tricare"), ("CHAMPVA", "va"),
        ("Workers' Comp Fund", "workers-compensation"), ("UnitedHealthcare", "commercial"),
        ("Self-Pay", "self-pay"), ("ACME MUTUAL", None), ("Vanguard", None),  # "va" is no word
    ],
)  # fmt: skip
def test_payer_names(name: str, payer: str | None) -> None:
    assert name_payer(name) == payer


def test_a_carrier_name_narrows_a_commercial_plan_type_only() -> None:
    assert resolve(None, "AETNA", "CI", None) == "aetna"
    assert resolve(None, "Aetna HMO", "HM", None) == "aetna"
    assert resolve(None, "UNITEDHEALTHCARE", "HM", None) == "hmo"  # names no more than HM
    assert resolve(None, "AETNA", "MB", None) == "medicare"  # a government indicator stays
    assert resolve(None, "BLUE CROSS", "CH", None) == "tricare"
    assert resolve(None, "Medicare", "ZZ", None) == "medicare"  # ZZ names no kind of plan


def test_ids_names_defaults_and_nothing() -> None:
    assert resolve("BCBS", None, None, None) == "bcbs"  # ids are case-insensitive
    assert resolve("Blue Cross Blue Shield", None, None, None) == "bcbs"  # a name in "payer"
    assert resolve("acme-health", None, None, "medicare") == "unrecognised"  # stated, unknown
    assert resolve(None, None, None, "medicaid") == "medicaid"  # nothing stated: the default
    assert resolve(None, None, None, None) is None  # STRUCT-01: no payer
    assert resolve(None, None, "QQ", None) == "unrecognised"


def test_the_same_name_maps_the_same_in_json_csv_x12(tmp_path: Path) -> None:
    claim = {"id": "C1", "payer": "Blue Cross Blue Shield", "patient": "P", "diagnoses": ["J44.9"],
             "lines": [{"code": "97112", "units": 1, "service_date": "2026-03-02"}]}  # fmt: skip
    js = tmp_path / "c.json"
    js.write_text(json.dumps({"claims": [claim]}))
    csv = tmp_path / "c.csv"
    csv.write_text("claim_id,payer,code,units,service_date\nC1,Blue Cross Blue Shield,97112,1,"
                   "2026-03-02\n")  # fmt: skip
    x12 = tmp_path / "c.837"
    x12.write_text((FORMATS / "claims.837").read_text().replace("SBR*P*18*******BL", "SBR*P*18")
                   .replace("EXAMPLE BLUE PLAN", "BLUE CROSS BLUE SHIELD OF TEXAS"))  # fmt: skip
    assert [c.payer for c in read_claims([js, csv])] == ["bcbs", "bcbs"]
    assert [c.payer for c in read_claims([x12]) if c.id == "CLM-P3"] == ["bcbs"]


def _rules(tmp_path: Path, payer: str, code: str, engine: str, **kw: object) -> set[str]:
    claim = {"id": "C1", "payer": payer, "patient": "P", "diagnoses": ["J44.9", "R09.02"],
             "lines": [{"code": code, "modifiers": ["RR"], "units": 1,
                        "service_date": "2026-03-02"}]}  # fmt: skip
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"claims": [claim]}))
    result = validate_files([path], engine=engine, jobs=1, **kw)  # type: ignore[arg-type]
    return {f.rule for f in result.findings}


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_categories_no_rule_targets_get_only_payer_independent_rules(
    tmp_path: Path, engine: str
) -> None:
    commercial = _rules(tmp_path, "commercial", "E1392", engine)
    assert "OXY-08" in commercial  # prior authorization: a commercial-payer rule
    for payer in ("tricare", "va", "workers-compensation", "auto"):
        found = _rules(tmp_path, payer, "E1392", engine)
        assert "OXY-08" not in found and "STRUCT-05" not in found, payer
        assert "OXY-02" not in found  # a Medicare rule either
        assert {"OXY-03", "OXY-04"} <= found  # rules for every payer still run (no order, test)


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_a_bcbs_name_gets_bcbs_rules_and_an_unknown_one_structure_05(
    tmp_path: Path, engine: str
) -> None:
    assert "NMR-03" in _rules(tmp_path, "Blue Cross Blue Shield", "97112", engine)
    unknown = _rules(tmp_path, "Acme Mutual", "97112", engine)
    assert "STRUCT-05" in unknown and "STRUCT-01" not in unknown and "NMR-03" not in unknown
    assert "NMR-04" in unknown  # a rule for every payer still applies


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_default_payer_for_inputs_that_name_none(tmp_path: Path, engine: str) -> None:
    assert "STRUCT-01" in _rules(tmp_path, "", "E1392", engine)
    found = _rules(tmp_path, "", "E1392", engine, default_payer="commercial")
    assert "STRUCT-01" not in found and "OXY-08" in found
