"""What the reading adds to the findings: X12 envelope defects (STRUCT-04, about the file),
documentation a format cannot carry (not in this input), --documents for any format,
--strict, and messages that name the part at fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimgraph.cli import app
from claimgraph.intake import NOT_IN_INPUT
from claimgraph.validation import validate_files

FORMATS = Path(__file__).parent / "data" / "formats"


@pytest.fixture(autouse=True)
def _no_user_code_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(tmp_path_factory.getbasetemp() / "no-store"))


def stale(tmp_path: Path) -> Path:
    path = tmp_path / "stale.txt"
    path.write_text((FORMATS / "claims.837").read_text().replace("SE*57*0001", "SE*25*0001"))
    return path


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_envelope_defects_come_with_the_claims_findings(tmp_path: Path, engine: str) -> None:
    path = stale(tmp_path)
    clean = validate_files([FORMATS / "claims.837"], engine=engine, jobs=1).findings
    found = validate_files([path], engine=engine, jobs=1).findings
    (envelope,) = [f for f in found if f.rule == "STRUCT-04"]
    assert (envelope.claim, envelope.line, envelope.severity) == (None, None, "warning")
    assert (envelope.file, envelope.position) == (str(path), "segment 59")
    assert envelope.message == ("The X12 interchange is not well formed: SE01 says 25 segments, "
                                "the transaction set has 57 (ST to SE); its claims were still "
                                "read and checked.")  # fmt: skip
    assert envelope.source.startswith("ASC X12")
    others = sorted((f.ident for f in found if f.rule != "STRUCT-04"), key=str)
    assert others == sorted((f.ident for f in clean), key=str) and others


def test_strict_makes_envelope_defects_errors(tmp_path: Path) -> None:
    path = stale(tmp_path)
    result = CliRunner().invoke(app, ["validate", str(path), "--strict", "-f", "json", "-q"])
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert f"{path}:segment 59: STRUCT-04: The X12 interchange is not well formed" in line
    assert "(--strict)" in line
    ok = CliRunner().invoke(app, ["validate", str(FORMATS / "claims.837"), "--strict", "-q"])
    assert ok.exit_code == 1  # violations, no envelope defect


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_findings_resting_on_documents_x12_cannot_carry_say_so(engine: str) -> None:
    found = validate_files([FORMATS / "claims.837"], engine=engine, jobs=1).findings
    ther02 = [f for f in found if f.rule == "THER-02" and f.claim == "CLM-P2"]
    assert ther02 and all(f.not_in_input for f in ther02)
    assert all(NOT_IN_INPUT in f.message and "time-record" in f.message for f in ther02)
    # an oxygen test and an order are what an 837P can carry: their absence is a real finding
    assert not [f for f in found if f.rule in ("OXY-03", "OXY-04") and f.not_in_input]
    json_found = validate_files([FORMATS / "claims.x12-subset.json"], engine=engine, jobs=1)
    assert not [f for f in json_found.findings if f.not_in_input]  # JSON could have carried it
    assert sum(f.not_in_input for f in json_found.findings) == 0


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_documents_attach_to_claims_of_any_format(tmp_path: Path, engine: str) -> None:
    docs = tmp_path / "docs.csv"
    docs.write_text("claim_id,type,line,minutes,one_on_one\nCLM-P2,time-record,1,30,true\n"
                    "CLM-P2,time-record,2,30,true\n")  # fmt: skip
    before = validate_files([FORMATS / "claims.837"], engine=engine, jobs=1)
    after = validate_files([FORMATS / "claims.837"], engine=engine, jobs=1, documents=docs)
    assert any(f.rule == "THER-02" and f.claim == "CLM-P2" for f in before.findings)
    assert not any(f.rule == "THER-02" and f.claim == "CLM-P2" for f in after.findings)
    assert not any(f.not_in_input for f in after.findings)  # documents were given: all real
    assert sum(f.not_in_input for f in before.findings) > 0


def test_documents_naming_no_claim_are_a_warning(tmp_path: Path) -> None:
    docs = tmp_path / "docs.csv"
    docs.write_text("claim_id,type\nCLM-NONE,order\n")
    warnings: list[str] = []
    validate_files([FORMATS / "claims.json"], jobs=1, documents=docs, warn=warnings.append)
    assert any("1 documents name a claim_id that is not in the input" in w for w in warnings)


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_structure_messages_name_the_part(tmp_path: Path, engine: str) -> None:
    claims = [
        {"id": "CLM-M1", "patient": "P1", "diagnoses": [],
         "lines": [{"code": "E1392", "units": 0, "service_date": "2026-02-30"},
                   {"units": 1.5},
                   {"code": "E1392", "units": "Zebulon", "service_date": "2026-03-02"}]},
    ]  # fmt: skip
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"claims": claims}))
    found = validate_files([path], engine=engine, jobs=1, rules=["STRUCT-01", "STRUCT-02"])
    got = sorted(((f.line, f.message.split(";")[0]) for f in found.findings), key=str)
    assert got == [
        (1, "The line is incomplete: the date it gives is not a valid date (YYYY-MM-DD)"),
        (1, "The line is incomplete: units 0 are not a whole number of at least 1"),
        (2, "The line is incomplete: it has no date of service"),
        (2, "The line is incomplete: it has no procedure code"),
        (2, "The line is incomplete: units 1.5 are not a whole number of at least 1"),
        (3, "The line is incomplete: its units are not a number"),
        (None, "The claim is incomplete: it has no diagnosis"),
        (None, "The claim is incomplete: it names no payer"),
    ]  # fmt: skip  (sorted as text)
    assert "Zebulon" not in " ".join(f.message for f in found.findings)


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_billed_minutes_stand_in_for_units(tmp_path: Path, engine: str) -> None:
    line = {"code": "00142", "minutes": 88, "service_date": "2026-03-02"}
    claims = [{"id": "CLM-A1", "payer": "medicare", "patient": "P1", "diagnoses": ["J44.9"],
               "lines": [line]}]  # fmt: skip
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"claims": claims}))
    found = validate_files([path], engine=engine, jobs=1, rules=["STRUCT-02"])
    assert found.findings == []


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_two_claims_with_one_clm01_keep_their_own_findings(tmp_path: Path, engine: str) -> None:
    text = (FORMATS / "claims.837").read_text()
    # CLM-P3's id on CLM-P1 too, under another billing provider loop: two claims, two findings
    text = text.replace("CLM*CLM-P1*", "CLM*CLM-P3*").replace(
        "HL*4*1*22*0~", "HL*9**20*1~\nNM1*85*2*OTHER SUPPLIER*****XX*1999999992~\nHL*4*9*22*0~"
    )
    path = tmp_path / "same-id.txt"
    path.write_text(text.replace("SE*57*0001", "SE*59*0001"))
    found = validate_files([path], engine=engine, jobs=1).findings
    p3 = {(f.position, f.rule) for f in found if f.claim == "CLM-P3"}
    assert {pos for pos, _ in p3} == {"segment 18", "segment 47"}
    assert ("segment 47", "STRUCT-03") not in p3  # another billing provider: no repeat
    assert not [f for f in found if f.rule == "STRUCT-04"]
    same = path.with_name("same-provider.txt")
    same.write_text((FORMATS / "claims.837").read_text().replace("CLM*CLM-P1*", "CLM*CLM-P3*"))
    found = validate_files([same], engine=engine, jobs=1).findings
    assert [(f.claim, f.position) for f in found if f.rule == "STRUCT-03"] == [
        ("CLM-P3", "segment 45")
    ]
