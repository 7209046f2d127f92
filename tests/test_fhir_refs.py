"""FHIR references, payer evidence, ExplanationOfBenefit, preauthorization and bulk NDJSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claimgraph.errors import InputError
from claimgraph.ingest import detect_format, read_claims
from claimgraph.ingest.payers import payer_from_name

HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
SOPT = "https://nahdo.org/sopt"
BB = "https://bluebutton.cms.gov/resources/codesystem/"
SNOMED = "http://snomed.info/sct"
CANARY = "ZZCANARY Doe"
PLACE = "http://terminology.hl7.org/CodeSystem/ex-serviceplace"


def coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def claim(rid: str = "c1", **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Claim", "id": rid, "use": "claim",
        "item": [{"sequence": 1, "productOrService": coding(HCPCS, "E1392"),
                  "quantity": {"value": 1.0}, "servicedDate": "2026-01-05"}],
    }  # fmt: skip
    res.update(extra)
    return res


def bundle(*resources: dict[str, Any], base: str = "urn:uuid:") -> dict[str, Any]:
    entries = []
    for res in resources:
        url = (
            f"{base}{res['id']}"
            if base == "urn:uuid:"
            else f"{base}{res['resourceType']}/{res['id']}"
        )
        entries.append({"fullUrl": url, "resource": res})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def read(tmp_path: Path, doc: Any, name: str = "in.json", **kw: Any) -> tuple[list, list[str]]:
    path = tmp_path / name
    if isinstance(doc, list):  # NDJSON lines
        path.write_text("".join(json.dumps(r) + "\n" for r in doc))
    else:
        path.write_text(json.dumps(doc, indent=1))
    warnings: list[str] = []
    return list(read_claims([path], warnings.append, **kw)), warnings


PATIENT = {"resourceType": "Patient", "id": "p1", "name": [{"text": CANARY}],
           "identifier": [{"system": "urn:mbi", "value": "1EG4"}]}  # fmt: skip


# --- payer evidence -------------------------------------------------------------------------


def test_insurer_reference_to_an_organization_in_the_bundle(tmp_path: Path) -> None:
    org = {"resourceType": "Organization", "id": "o1", "name": "Aetna Better Health"}
    (c,), _ = read(tmp_path, bundle(claim(insurer={"reference": "urn:uuid:o1"}), org))
    assert (c.payer_name, c.payer) == ("Aetna Better Health", "aetna")


def test_relative_references_resolve_against_the_entry_base(tmp_path: Path) -> None:
    org = {"resourceType": "Organization", "id": "o1", "name": "Blue Cross of Idaho"}
    doc = bundle(claim(insurer={"reference": "Organization/o1"},
                       patient={"reference": "Patient/p1"}), org, PATIENT,
                 base="https://payer.example/fhir/")  # fmt: skip
    (c,), warnings = read(tmp_path, doc)
    assert (c.payer, c.patient) == ("bcbs", "urn:mbi|1EG4")
    assert not any("references" in w for w in warnings)


def test_focal_coverage_payor_and_type(tmp_path: Path) -> None:
    org = {"resourceType": "Organization", "id": "o2", "name": "Texas Medicaid"}
    cov = {"resourceType": "Coverage", "id": "v1", "payor": [{"reference": "urn:uuid:o2"}]}
    other = {"resourceType": "Coverage", "id": "v2", "payor": [{"display": "Cigna"}]}
    c1 = claim(
        insurance=[
            {"sequence": 2, "focal": False, "coverage": {"reference": "urn:uuid:v2"}},
            {"sequence": 1, "focal": True, "coverage": {"reference": "urn:uuid:v1"}},
        ]
    )
    (c,), _ = read(tmp_path, bundle(c1, org, cov, other))
    assert (c.payer_name, c.payer) == ("Texas Medicaid", "medicaid")


@pytest.mark.parametrize(
    ("code", "payor", "payer"),
    [("121", None, "medicare"),  # SOPT hierarchy: 121 Medicare FFS is under 1 Medicare
     ("2", "Acme Health Plan", "medicaid"),  # a programme code beats an unknown name
     ("5", "Aetna", "aetna"),  # private insurance: the name says which payer
     ("5", None, "commercial")],
)  # fmt: skip
def test_coverage_type_codes_say_the_programme(
    tmp_path: Path, code: str, payor: str | None, payer: str
) -> None:
    cov: dict[str, Any] = {"resourceType": "Coverage", "id": "v1", "type": coding(SOPT, code)}
    if payor:
        cov["payor"] = [{"display": payor}]
    c1 = claim(insurance=[{"focal": True, "coverage": {"reference": "urn:uuid:v1"}}])
    (c,), _ = read(tmp_path, bundle(c1, cov))
    assert c.payer == payer


def test_coverage_display_and_insurer_identifier(tmp_path: Path) -> None:
    (a,), _ = read(
        tmp_path, claim(insurance=[{"focal": True, "coverage": {"display": "Medicare"}}])
    )
    (b,), _ = read(tmp_path, claim(insurer={"identifier": {"value": "BCBS-TX"}}), name="b.json")
    assert (a.payer, b.payer_name, b.payer) == ("medicare", "BCBS-TX", "bcbs")
    assert payer_from_name(a.payer_name) == "medicare"


def test_blue_button_systems_make_a_medicare_claim(tmp_path: Path) -> None:
    eob = claim(
        resourceType="ExplanationOfBenefit",
        insurer={"identifier": {"value": "CMS"}},
        type=coding(BB + "eob-type", "DME"),
    )
    (c,), _ = read(tmp_path, eob)
    assert (c.payer, c.payer_name) == ("medicare", "CMS")
    plain = claim(insurer={"identifier": {"value": "CMS"}})
    (d,), _ = read(tmp_path, plain, name="d.json")
    assert d.payer != "medicare"  # a name alone says nothing here


def test_unresolved_references_are_reported_with_the_entry(tmp_path: Path) -> None:
    c1 = claim(
        insurer={"reference": "Organization/nowhere", "display": "Aetna"},
        patient={"reference": "Patient/p-404", "display": CANARY},
        diagnosis=[{"sequence": 1, "diagnosisReference": {"reference": "urn:uuid:x"}}],
    )
    (_, c), warnings = read(tmp_path, bundle(claim("c0"), c1))
    (note,) = [w for w in warnings if "not followed" in w]
    assert "entry 2: Claim.insurer" in note and "entry 2: Claim.patient" in note
    assert "entry 2: Claim.diagnosis.diagnosisReference" in note
    assert "nowhere" not in note and "p-404" not in note and CANARY not in note
    # not guessed: the display is a payer name; the patient keeps the server's resource id
    assert (c.payer_name, c.patient, c.diagnoses) == ("Aetna", "p-404", [])


# --- patients -------------------------------------------------------------------------------


def test_patient_key_is_the_identifier_never_a_name(tmp_path: Path) -> None:
    doc = bundle(claim(patient={"reference": "urn:uuid:p1", "display": CANARY}), PATIENT)
    (c,), warnings = read(tmp_path, doc)
    assert c.patient == "urn:mbi|1EG4"
    only_name = claim(patient={"display": CANARY})
    (d,), _ = read(tmp_path, only_name, name="d.json")
    assert d.patient is None and CANARY not in " ".join(warnings)


def test_two_contained_patients_are_two_patients_unless_identifiers_match(tmp_path: Path) -> None:
    anon = {"resourceType": "Patient", "id": "patient", "name": [{"text": CANARY}]}
    known = {"resourceType": "Patient", "id": "patient",
             "identifier": [{"system": "urn:mbi", "value": "9X"}]}  # fmt: skip
    ref = {"reference": "#patient"}
    doc = bundle(
        claim("a", contained=[anon], patient=ref),
        claim("b", contained=[anon], patient=ref),
        claim("c", contained=[known], patient=ref),
        claim("d", contained=[known], patient=ref),
    )
    a, b, c, d = read(tmp_path, doc)[0]
    assert a.patient != b.patient and a.patient and b.patient
    assert c.patient == d.patient == "urn:mbi|9X"
    nameless = claim(contained=[], patient=ref)  # '#patient' not contained
    (e,), warnings = read(tmp_path, nameless, name="e.json")
    assert e.patient is None and any("Claim.patient" in w for w in warnings)


# --- diagnoses, lines, EOB ------------------------------------------------------------------


def test_diagnosis_reference_to_a_condition(tmp_path: Path) -> None:
    cond = {"resourceType": "Condition", "id": "k1",
            "code": {"coding": [{"system": SNOMED, "code": "13645005"},
                                {"system": ICD10, "code": "J44.9"}]}}  # fmt: skip
    snomed_only = {
        "resourceType": "Condition",
        "id": "k2",
        "code": coding(SNOMED, "1"),
    }
    c1 = claim(
        diagnosis=[
            {"sequence": 1, "diagnosisReference": {"reference": "urn:uuid:k1"}},
            {"sequence": 2, "diagnosisReference": {"reference": "urn:uuid:k2"}},
        ]
    )
    (c,), warnings = read(tmp_path, bundle(c1, cond, snomed_only))
    assert c.diagnoses == [("icd10cm", "J44.9")]
    assert any("codes of 1 code system(s) claimgraph does not read" in w for w in warnings)


def test_line_elements(tmp_path: Path) -> None:
    item = {"sequence": 1, "productOrService": coding(BB + "hcpcs", "E0766"),
            "modifier": [coding(HCPCS, "RR")], "quantity": {"value": "2"},
            "servicedPeriod": {"end": "2026-02-03"},
            "locationCodeableConcept": coding(PLACE, "12"),
            "bodySite": {"coding": [{"system": SNOMED, "code": "41695006",
                                     "display": "Scalp structure"}]}}  # fmt: skip
    (c,), _ = read(tmp_path, claim(item=[item]))
    (ln,) = c.lines
    assert (ln.code, ln.modifiers, ln.units, ln.service_date, ln.place_of_service) == (
        "E0766", ["RR"], 2, "2026-02-03", "12")  # fmt: skip
    assert (ln.body_site, ln.body_site_code) == (
        "Scalp structure",
        "http://snomed.info/id/41695006",
    )


def test_explanation_of_benefit_reads_like_a_claim_and_keeps_adjudication(tmp_path: Path) -> None:
    eob = claim(resourceType="ExplanationOfBenefit", identifier=[
        {"value": "other"},
        {"type": coding("http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType", "uc"),
         "value": "EOB-1"}])  # fmt: skip
    eob["item"][0]["adjudication"] = [
        {"category": coding("http://terminology.hl7.org/CodeSystem/adjudication", "benefit"),
         "amount": {"value": 37.5}},
        {"category": coding("x", "denialreason"), "reason": coding("y", "CO-50")}]  # fmt: skip
    (c,), _ = read(tmp_path, eob)
    assert (c.id, c.format, c.lines[0].units) == ("EOB-1", "fhir", 1)
    assert c.lines[0].adjudication == [("benefit", 37.5), ("denialreason", "CO-50")]


# --- not claims -----------------------------------------------------------------------------


def test_a_bundle_of_a_preauthorization_and_a_claim_checks_one_claim(tmp_path: Path) -> None:
    pa = claim("pa", use="preauthorization")
    doc = bundle(
        pa,
        claim("real"),
        {"resourceType": "ClaimResponse", "id": "r"},
        claim("pd", use="predetermination"),
    )
    claims, warnings = read(tmp_path, doc)
    assert [c.id for c in claims] == ["real"]
    (note,) = [w for w in warnings if "not claims" in w]
    assert "1 Claim with use preauthorization" in note and "1 ClaimResponse" in note
    assert "1 Claim with use predetermination" in note
    both, _ = read(tmp_path, doc, include_preauthorization=True)
    assert [(c.id, c.use) for c in both] == [
        ("pa", "preauthorization"), ("real", "claim"), ("pd", "predetermination")]  # fmt: skip


# --- NDJSON ---------------------------------------------------------------------------------


def test_ndjson_one_claim_a_line(tmp_path: Path) -> None:
    claims, _ = read(tmp_path, [claim("a"), claim("b"), claim("c")], name="Claim.ndjson")
    assert [(c.id, c.position) for c in claims] == [
        ("a", "line 1"),
        ("b", "line 2"),
        ("c", "line 3"),
    ]
    assert {c.format for c in claims} == {"fhir-ndjson"}


def test_ndjson_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "Claim.ndjson"
    path.write_text(
        json.dumps(claim("a")) + "\n" + '{"resourceType": "Claim", "id": "' + CANARY + "\n"
    )
    with pytest.raises(InputError) as e:
        list(read_claims([path]))
    assert e.value.position and e.value.position.startswith("2:") and CANARY not in str(e.value)
    path.write_text(json.dumps(claim("a")) + "\n[1, 2]\n")
    with pytest.raises(InputError) as e:
        list(read_claims([path]))
    assert e.value.position == "2"


def test_ndjson_references_across_files(tmp_path: Path) -> None:
    """Bulk data: Claims in one file, their Patients, Coverages, Organizations and Conditions in
    others, given in the same run in any order."""
    dx = [{"sequence": 1, "diagnosisReference": {"reference": "Condition/k1"}}]
    cov = [{"focal": True, "coverage": {"reference": "Coverage/v1"}}]
    claims = [
        claim("a", patient={"reference": "Patient/p1"}, insurance=cov, diagnosis=dx),
        claim("b", patient={"reference": "Patient/p2"}),
    ]
    p2 = {"resourceType": "Patient", "id": "p2", "name": [{"text": CANARY}]}
    files = {
        "Claim.ndjson": claims,
        "Patient.ndjson": [PATIENT, p2],
        "Coverage.ndjson": [
            {"resourceType": "Coverage", "id": "v1", "payor": [{"reference": "Organization/o1"}]}
        ],
        "Organization.ndjson": [
            {"resourceType": "Organization", "id": "o1", "name": "Medicare Part B"}
        ],
        "Condition.ndjson": [
            {"resourceType": "Condition", "id": "k1", "code": coding(ICD10, "M54.50")}
        ],
    }
    for name, lines in files.items():
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in lines))
    warnings: list[str] = []
    a, b = read_claims([tmp_path], warnings.append)  # a folder: sorted, Claim.ndjson first
    assert (a.patient, a.payer, a.diagnoses) == (
        "urn:mbi|1EG4",
        "medicare",
        [("icd10cm", "M54.50")],
    )
    assert b.patient == "p2"  # no identifier: the resource id, never the name
    assert warnings == []  # every reference found; reference files are not "not claims"
    claims_only = list(read_claims([tmp_path / "Claim.ndjson"], warnings.append))
    assert claims_only[0].payer is None and any("not followed" in w for w in warnings)


# --- detection ------------------------------------------------------------------------------


def test_detection_tells_ndjson_from_a_pretty_printed_resource(tmp_path: Path) -> None:
    one = json.dumps(claim())
    for name, text, fmt in (("a.txt", one + "\n" + one + "\n", "fhir-ndjson"),
                            ("b.txt", json.dumps(claim(), indent=2), "fhir"),
                            ("c.txt", one, "fhir")):  # fmt: skip
        (tmp_path / name).write_text(text)
        assert detect_format(tmp_path / name) == fmt
    for name, text in (("d.txt", '{"claims": []}'), ("e.txt", "ISA*00*")):
        (tmp_path / name).write_text(text)
        assert detect_format(tmp_path / name) != "fhir"


def test_ndjson_detected_by_content(tmp_path: Path) -> None:
    lines = "".join(json.dumps(claim(str(i))) + "\n" for i in range(3))
    for name in ("export.ndjson", "export.jsonl", "export.json"):
        (tmp_path / name).write_text(lines)
        assert detect_format(tmp_path / name) == "fhir-ndjson"
    (tmp_path / "contract.jsonl").write_text('{"id": "A", "payer": "medicare"}\n')
    assert detect_format(tmp_path / "contract.jsonl") == "jsonl"
