"""X12 837P: segments, envelopes as findings, transaction types, identity and the mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimgraph.errors import InputError
from claimgraph.ingest import ReadLog, read_claims
from claimgraph.namespaces import icd9cm_dotted

FIXTURE = Path(__file__).parent / "data" / "formats" / "claims.837"
CANARY = "ZZCANARY"
ISA = "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260601*1200*^*00501*000000001*0*T*:"  # noqa: E501

# The public examples in ../shared/data/x12/: claim id, payer (SBR09: MB Medicare Part B, AM
# automobile medical, CI commercial), first line code and modifiers, number of lines, diagnoses
# (ICD-9-CM: all are 2004-2006 claims).
EXPECTED = {
    "demo.ambulance.example5.837": ("051068", "medicare", ("A0427", ["RH"]), 4,
                                    ["862.8", "E888.8", "959.2", "854.0"]),
    "demo.autoaccident.837": ("900000032", "auto", ("99201", []), 2, ["854.0"]),
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


def transaction(control: str, body: list[str], guide: str = "005010X222A2") -> list[str]:
    """ST ... SE with the right segment count."""
    segs = [f"ST*837*{control}*{guide}", *body]
    return [*segs, f"SE*{len(segs) + 1}*{control}"]


def claim_loop(cid: str, *, provider: str = "1234567893", patient: str = "PT-1",
               filing: str = "MB", payer: str = "MEDICARE", hl: int = 1,
               lines: tuple[str, ...] = ("SV1*HC:E0431:RR*250.00*UN*1",)) -> list[str]:  # fmt: skip
    """A billing provider loop (2000A) with one subscriber and one claim."""
    segs = [f"HL*{hl}**20*1", f"NM1*85*2*SUPPLIER*****XX*{provider}",
            f"HL*{hl + 1}*{hl}*22*0", f"SBR*P*18*******{filing}",
            f"NM1*IL*1*{CANARY}*TESTY****MI*{patient}", f"NM1*PR*2*{payer}*****PI*P1",
            f"CLM*{cid}*100.00***12:B:1*Y*A*Y*Y", "HI*ABK:J449"]  # fmt: skip
    for n, sv1 in enumerate(lines, start=1):
        segs += [f"LX*{n}", sv1, "DTP*472*D8*20260302"]
    return segs


def interchange(*transactions: list[str], groups: int = 1) -> str:
    segs = [ISA, "GS*HC*SUBMITTER*RECEIVER*20260601*1200*1*X*005010X222A2"]
    for t in transactions:
        segs += t
    segs += [f"GE*{len(transactions)}*1", f"IEA*{groups}*000000001"]
    return "~\n".join(segs) + "~\n"


def read(tmp_path: Path, text: str, name: str = "c.txt") -> tuple[list, ReadLog, list[str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    log, warnings = ReadLog(), []
    claims = list(read_claims([path], warnings.append, log=log))
    return claims, log, warnings


def defects(log: ReadLog) -> list[tuple[str | None, str]]:
    return [(f.position, f.values["defect"]) for f in log.findings]


# --- the public examples ---------------------------------------------------------------------


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
    assert [icd9cm_dotted(c) for c in ("496", "51881", "E8888", "V7389", "0340")] == [
        "496", "518.81", "E888.8", "V73.89", "034.0"
    ]  # fmt: skip


# --- identity: position, billing provider, envelope ------------------------------------------


def test_claims_carry_segment_position_provider_and_envelope() -> None:
    claims = list(read_claims([FIXTURE]))
    assert [(c.position, c.provider) for c in claims] == [
        ("segment 18", "1234567893"), ("segment 32", "1234567893"),
        ("segment 45", "1234567893"), ("segment 55", "1234567893"),
    ]  # fmt: skip
    assert {c.envelope for c in claims} == {"ISA 000000001/GS 1/ST 0001/HL 1"}
    assert len({c.uid for c in claims}) == 4


def test_one_claim_id_from_two_billing_providers_is_two_claims(tmp_path: Path) -> None:
    text = interchange(
        transaction(
            "0001",
            claim_loop("CLM-SAME", provider="1111111111")
            + claim_loop("CLM-SAME", provider="2222222222", hl=3),
        )
    )
    claims, _, _ = read(tmp_path, text)
    assert [(c.id, c.provider, c.repeats_id) for c in claims] == [
        ("CLM-SAME", "1111111111", False), ("CLM-SAME", "2222222222", False)
    ]  # fmt: skip
    assert claims[0].uid != claims[1].uid


def test_a_claim_id_repeated_for_one_provider_is_flagged_across_patients_and_files(
    tmp_path: Path,
) -> None:
    first = tmp_path / "a.txt"
    first.write_text(interchange(transaction("0001", claim_loop("CLM-R", patient="PT-1"))))
    second = tmp_path / "b.txt"
    second.write_text(interchange(transaction("0001", claim_loop("CLM-R", patient="PT-2"))))
    claims = list(read_claims([first, second]))
    assert [(c.source, c.repeats_id) for c in claims] == [(str(first), False), (str(second), True)]


# --- transaction types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("st01", "guide", "what"),
    [
        ("837", "005010X223A2", "an 837I institutional claim"),
        ("837", "005010X224A2", "an 837D dental claim"),
        ("837", "004010X098A1", "a version 4010 837P professional claim"),
        ("835", "005010X221A1", "an 835 payment and remittance advice"),
        ("999", "005010X231A1", "a 999 implementation acknowledgment"),
        ("277", "005010X214", "a 277 claim status response"),
        ("837", "999999X999X9", "an 837 transaction of an unrecognised version (999999X999X9)"),
        ("850", "004010", "an X12 850 transaction set that is not a claim"),
    ],
)
def test_other_transactions_are_refused_by_name_and_the_837p_ones_read(
    tmp_path: Path, st01: str, guide: str, what: str
) -> None:
    other = [f"ST*{st01}*0002*{guide}", "BHT*0019*00*1", "SE*3*0002"]
    text = interchange(transaction("0001", claim_loop("CLM-A")), other,
                       transaction("0003", claim_loop("CLM-B")))  # fmt: skip
    claims, log, warnings = read(tmp_path, text)
    assert [c.id for c in claims] == ["CLM-A", "CLM-B"] and log.findings == []
    (warning,) = warnings
    assert f":segment {3 + len(transaction('0001', claim_loop('CLM-A')))}: not read: " in warning
    assert what in warning and "claimgraph reads 837P professional claims" in warning
    alone = tmp_path / "alone.txt"
    alone.write_text(interchange(other))
    with pytest.raises(InputError) as e:
        list(read_claims([alone]))
    assert "no claims found" in e.value.message and what in e.value.message


def test_st03_decides_over_gs08(tmp_path: Path) -> None:
    # OopFactory's 837I examples say 005010X222 in GS08 and 005010X223 in ST03
    text = interchange(transaction("0001", claim_loop("CLM-I"), guide="005010X223A2"))
    with pytest.raises(InputError, match="837I institutional"):
        read(tmp_path, text)
    text = interchange(transaction("0001", claim_loop("CLM-P"))).replace(
        "*X*005010X222A2", "*X*005010X223A2")  # fmt: skip
    assert [c.id for c in read(tmp_path, text)[0]] == ["CLM-P"]


# --- envelopes are findings, not walls -------------------------------------------------------


def test_a_stale_se_count_gives_the_claims_and_a_finding(tmp_path: Path) -> None:
    text = FIXTURE.read_text().replace("SE*57*0001", "SE*25*0001")
    claims, log, _ = read(tmp_path, text)
    assert [c.id for c in claims] == ["CLM-P1", "CLM-P2", "CLM-P3", "CLM-P4"]
    assert defects(log) == [
        ("segment 59", "SE01 says 25 segments, the transaction set has 57 (ST to SE)")
    ]
    assert {(f.rule, f.file, f.claim) for f in log.findings} == {("STRUCT-04", log.findings[0].file,
                                                                 None)}  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("SE*57*0001~\n", "", [("segment 59", "the transaction set that starts at segment 3 has "
                                "no SE")]),
        ("SE*57*0001", "SE*57*0009", [("segment 59", "SE02 does not repeat the control number "
                                       "of its ST (segment 3)")]),
        ("GE*1*1", "GE*2*1", [("segment 60", "GE01 says 2 transaction sets, the group has 1")]),
        ("GE*1*1", "GE*1*7", [("segment 60", "GE02 does not repeat the control number of its "
                               "GS (segment 2)")]),
        ("GE*1*1~\n", "", [("segment 60", "the functional group that starts at segment 2 has "
                            "no GE")]),
        ("IEA*1*000000001", "IEA*3*000000001", [("segment 61", "IEA01 says 3 functional groups, "
                                                 "the interchange has 1")]),
        ("IEA*1*000000001~\n", "", [("segment 60", "the interchange that starts at segment 1 "
                                     "has no IEA")]),
        ("IEA*1*000000001~\n", "IEA*1*000000001", [("segment 61", "the last segment has no "
                                                    "segment terminator")]),
        ("*SUBMITTER      *", "*SUBMITTER*", [("segment 1", "the ISA segment is 100 characters "
                                               "long, not 106")]),
    ],
)  # fmt: skip
def test_envelope_defects_are_findings_with_the_segment(
    tmp_path: Path, old: str, new: str, expected: list[tuple[str, str]]
) -> None:
    text = FIXTURE.read_text()
    assert old in text
    claims, log, _ = read(tmp_path, text.replace(old, new, 1))
    assert [c.id for c in claims] == ["CLM-P1", "CLM-P2", "CLM-P3", "CLM-P4"]
    assert defects(log) == expected


def test_a_broken_claim_is_reported_and_the_others_read(tmp_path: Path) -> None:
    text = FIXTURE.read_text().replace("HI*ABK:M5459*ABF:G8929", "H%I*\x01garbage")
    claims, log, _ = read(tmp_path, text)
    assert [c.id for c in claims] == ["CLM-P1", "CLM-P3", "CLM-P4"]
    (finding,) = log.findings
    assert (finding.rule, finding.part, finding.claim, finding.position) == (
        "STRUCT-04",
        "STRUCT-04-unreadable-claim",
        "CLM-P2",
        "segment 33",
    )
    assert "garbage" not in finding.values["defect"]


def test_unreadable_data_is_an_error_naming_the_segment(tmp_path: Path) -> None:
    def error(text: str) -> InputError:
        path = tmp_path / "bad.837"
        path.write_text(text.replace("TESTY", CANARY))
        with pytest.raises(InputError) as e:
            list(read_claims([path]))
        assert CANARY not in str(e.value) and str(path) in str(e.value)
        return e.value

    text = FIXTURE.read_text()
    e = error(text.replace(text.split("~")[0] + "~\n", ""))  # no ISA: starts with GS
    assert "segment 1: not an X12 interchange" in e.message and "ISA" in e.message
    e = error(text.replace("*ZZ*RECEIVER       *260601", "*ZZ*RECEIVER       :260601"))
    assert (e.position, "separators" in e.message) == ("segment 1", True)  # ':' twice
    e = error("ISA*00*" + CANARY + "*00~")
    assert e.position == "segment 1"


def test_the_segment_reader_is_linear_in_segment_length(tmp_path: Path) -> None:
    """A segment spanning many chunks is scanned once: each character is looked at a bounded
    number of times (the reader once cut a growing buffer again at every chunk)."""
    import io

    from claimgraph.ingest import x12segments

    scanned = 0

    class Chunk(str):
        def find(self, sub, start=0, *args):  # type: ignore[no-untyped-def,override]
            nonlocal scanned
            found = str.find(self, sub, start, *args)
            scanned += (found if found >= 0 else len(self)) - start + 1
            return found

    class Stream(io.StringIO):
        def read(self, size=-1):  # type: ignore[no-untyped-def,override]
            return Chunk(super().read(64))

    long = "9" * 200_000
    text = FIXTURE.read_text().replace("IEA*1*000000001~\n", f"IEA*1*{long}")
    seps = x12segments.read_isa(text, "x")
    stream = x12segments.SegmentStream(Stream(text), "x", seps)
    segs = list(stream)
    assert segs[-1].elements[-1] == long and stream.unterminated
    assert scanned < 2 * len(text)
    claims, log, _ = read(tmp_path, text)
    assert len(claims) == 4
    assert defects(log)[-1] == ("segment 61", "the last segment has no segment terminator")


# --- the mapping -----------------------------------------------------------------------------


def test_payer_from_filing_indicator_and_name(tmp_path: Path) -> None:
    text = FIXTURE.read_text()
    assert [c.payer for c in read_claims([FIXTURE])] == ["medicare", "aetna", "bcbs", "medicaid"]
    for sbr09, payer in (("HM", "hmo"), ("CH", "tricare"), ("VA", "va"), ("WC",
                         "workers-compensation"), ("16", "medicare-advantage"), ("MA",
                         "medicare-part-a"), ("AM", "auto"), ("XX", "medicare")):  # fmt: skip
        other = tmp_path / f"c{sbr09}.837"
        other.write_text(text.replace("SBR*P*18*******MB", f"SBR*P*18*******{sbr09}"))
        assert next(iter(read_claims([other]))).payer == payer, sbr09  # XX: by the name
    other.write_text(text.replace("SBR*P*18*******MB", "SBR*P*18*******XX")
                     .replace("MEDICARE PART B", "ACME MUTUAL"))  # fmt: skip
    assert next(iter(read_claims([other]))).payer == "unrecognised"


def test_minutes_are_minutes_not_units(tmp_path: Path) -> None:
    lines = ("SV1*HC:00142:AA*800.00*MJ*88", "SV1*HC:E0431:RR*250.00*UN*2")
    claims, _, _ = read(tmp_path, interchange(transaction("0001", claim_loop("C", lines=lines))))
    (claim,) = claims
    assert [(ln.code, ln.unit_basis, ln.units, ln.minutes) for ln in claim.lines] == [
        ("00142", "MJ", None, 88), ("E0431", "UN", 2, None)
    ]  # fmt: skip


def test_segments_may_come_without_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "flat.edi"
    path.write_text(FIXTURE.read_text().replace("~\n", "~"))
    assert [c.id for c in read_claims([path])] == ["CLM-P1", "CLM-P2", "CLM-P3", "CLM-P4"]


def test_one_segment_a_line_without_terminator_character(tmp_path: Path) -> None:
    text = FIXTURE.read_text().replace("~\n", "\n")
    claims, log, _ = read(tmp_path, text)
    assert [c.id for c in claims] == ["CLM-P1", "CLM-P2", "CLM-P3", "CLM-P4"]
    assert log.findings == []
