"""X12 837P: the segment reader, envelope checks, and the mapping to ClaimData."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimgraph.errors import InputError
from claimgraph.ingest import read_claims
from claimgraph.ingest.x12 import icd9_dotted

FIXTURE = Path(__file__).parent / "data" / "formats" / "claims.837"
CANARY = "ZZCANARY"

# The public examples in ../shared/data/x12/: claim id, payer, first line code and modifiers,
# number of lines, diagnoses (ICD-9-CM: all are 2004-2006 claims).
EXPECTED = {
    "demo.ambulance.example5.837": ("051068", "medicare", ("A0427", ["RH"]), 4,
                                    ["862.8", "E888.8", "959.2", "854.0"]),
    "demo.autoaccident.837": ("900000032", "commercial", ("99201", []), 2, ["854.0"]),
    "demo.cob.example3.A.837": ("26407789", "commercial", ("99213", []), 3,
                                ["477.9", "272.4", "278.0", "530.81"]),
    "demo.drug.example10.1.837": ("CLMNO12345", "commercial", ("90782", []), 2, ["035.91"]),
    "demo.example1.837": ("26463774", "commercial", ("99213", []), 4, ["034.0", "V73.89"]),
    "demo.example11.837": ("ABC123-RI", "commercial", ("E0570", ["RR"]), 2, ["496", "250.00"]),
    "demo.example12.837": ("TS234H3", "commercial", ("99284", []), 1, ["995.1"]),
    "demo.example7.837": ("R03996273 #01", "medicare", ("E1390", ["RR"]), 2,
                          ["496", "518.81", "285.9"]),
    "demo.example8.837": ("SMI123", "medicare", ("K0001", ["RR", "KH", "BR"]), 1,
                          ["436", "344.9"]),
}  # fmt: skip


def test_every_public_example_parses(shared_data: Path) -> None:
    files = sorted((shared_data / "x12").glob("*.837"))
    assert {f.name for f in files} == set(EXPECTED)
    for f in files:
        warnings: list[str] = []
        (claim,) = read_claims([f], warnings.append)
        cid, payer, (code, mods), nlines, dx = EXPECTED[f.name]
        assert (claim.id, claim.payer, claim.index) == (cid, payer, 1), f.name
        assert (claim.lines[0].code, claim.lines[0].modifiers) == (code, mods), f.name
        assert len(claim.lines) == nlines, f.name
        assert claim.diagnoses == [("icd9cm", d) for d in dx], f.name
        assert all(ln.service_date and ln.service_date[:2] == "20" for ln in claim.lines), f.name
        assert claim.patient, f.name
        if f.name in ("demo.example11.837", "demo.example12.837"):  # '>' although ISA16 is ':'
            assert any("separator" in w for w in warnings)


def test_dme_oxygen_example_gives_rental_and_cmn(shared_data: Path) -> None:
    (claim,) = read_claims([shared_data / "x12" / "demo.example7.837"])
    assert [(ln.code, ln.modifiers, ln.units, ln.service_date) for ln in claim.lines] == [
        ("E1390", ["RR"], 1, "2005-03-21"),
        ("E0431", ["RR"], 1, "2005-03-21"),
    ]
    docs = [(d.type, d.line, d.fields) for d in claim.documents]
    assert docs == [
        ("order", 1, {"duration_months": 99}),
        ("oxygen-test", 1, {"pao2": 56, "date": "2005-02-28"}),
        ("order", 2, {"duration_months": 99}),
        ("oxygen-test", 2, {"pao2": 56, "date": "2005-02-28"}),
    ]
    assert claim.patient == "111222333A"


def test_dependent_patients_are_kept_apart_from_the_subscriber(shared_data: Path) -> None:
    (claim,) = read_claims([shared_data / "x12" / "demo.example1.837"])
    assert claim.patient.startswith("JS00111223333:") and claim.patient != "JS00111223333"


def test_icd9_dots() -> None:
    assert [icd9_dotted(c) for c in ("496", "51881", "E8888", "V7389", "0340")] == [
        "496", "518.81", "E888.8", "V73.89", "034.0"
    ]  # fmt: skip


def test_payer_from_filing_indicator_and_name(tmp_path: Path) -> None:
    text = FIXTURE.read_text()
    assert [c.payer for c in read_claims([FIXTURE])] == ["medicare", "aetna", "bcbs", "medicaid"]
    other = tmp_path / "c.837"
    other.write_text(text.replace("SBR*P*18*******MB", "SBR*P*18*******HM"))
    assert next(iter(read_claims([other]))).payer == "commercial"


def _broken(tmp_path: Path, old: str, new: str, count: int = 1) -> InputError:
    text = FIXTURE.read_text()
    assert old in text
    path = tmp_path / "bad.837"
    path.write_text(text.replace(old, new, count).replace("TESTY", CANARY))
    with pytest.raises(InputError) as e:
        list(read_claims([path]))
    assert CANARY not in str(e.value) and str(path) in str(e.value)
    return e.value


def test_malformed_interchanges_name_the_segment(tmp_path: Path) -> None:
    e = _broken(tmp_path, "*SUBMITTER      *", "*SUBMITTER*")
    assert (e.position, "106" in e.message) == ("segment 1", True)
    e = _broken(tmp_path, "*ZZ*RECEIVER       *260601", "*ZZ*RECEIVER       |260601")
    assert e.position == "segment 1"
    e = _broken(tmp_path, "SE*", "XX*")  # SE missing: GE arrives inside the transaction
    assert "SE missing" in e.message and e.position == "segment 60"
    e = _broken(tmp_path, "LX*2~\n", "")  # one segment fewer than SE counts
    assert "SE segment count" in e.message and e.position == "segment 58"
    e = _broken(tmp_path, "IEA*1*000000001~\n", "")
    assert "truncated" in e.message
    e = _broken(tmp_path, "GE*1*1", "GE*2*1")
    assert e.position == "segment 60"
    e = _broken(tmp_path, "005010X222A2", "005010X223A2")  # an 837I, not 837P
    assert e.position == "segment 2"


def test_segments_may_come_without_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "flat.edi"
    path.write_text(FIXTURE.read_text().replace("~\n", "~"))
    assert [c.id for c in read_claims([path])] == ["CLM-P1", "CLM-P2", "CLM-P3", "CLM-P4"]
