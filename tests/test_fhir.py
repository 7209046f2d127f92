"""FHIR R4 Claim and Bundle: the mapping, the supportingInfo convention, unknown systems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, URIRef

from claimgraph.errors import InputError
from claimgraph.ingest import read_claims
from claimgraph.ingest.fhir import DOCUMENT_TYPE_SYSTEM
from claimgraph.ingest.fhir_terms import fhir_terms

ROOT = Path(__file__).parent.parent
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"  # https spelling accepted
CANARY = "ZZCANARY-Doe"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
ICD9 = "http://hl7.org/fhir/sid/icd-9-cm"
UCUM = "http://unitsofmeasure.org"


def coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def claim_resource(**extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Claim",
        "id": "server-1",
        "patient": {"reference": "Patient/PT-9", "display": CANARY},
        "insurer": {"identifier": {"value": "BCBS-TX"}},
        "diagnosis": [
            {"sequence": 2, "diagnosisCodeableConcept": coding(ICD9, "496")},
            {"sequence": 1, "diagnosisCodeableConcept": coding(ICD10, "J44.9")},
            {"sequence": 3, "diagnosisCodeableConcept": coding("http://snomed.info/sct", "1")},
        ],
        "item": [
            {"sequence": 2, "productOrService": coding("urn:example:local", "X1"),
             "servicedPeriod": {"start": "2026-01-02"}},
            {"sequence": 1, "productOrService": coding(HCPCS, "E1392"),
             "modifier": [coding(HCPCS, "RR")], "quantity": {"value": 1},
             "servicedDate": "2026-01-01", "bodySite": {"coding": [{"code": "LT"}]},
             "informationSequence": [7]},
        ],
        "supportingInfo": [
            {"sequence": 7, "category": coding(DOCUMENT_TYPE_SYSTEM, "oxygen-test"),
             "timingDate": "2025-12-20",
             "valueQuantity": {"value": 55, "system": UCUM, "code": "mm[Hg]"}},
            {"sequence": 8, "category": coding(
                "http://terminology.hl7.org/CodeSystem/claiminformationcategory", "attachment")},
        ],
    }  # fmt: skip
    res.update(extra)
    return res


def read(tmp_path: Path, doc: dict[str, Any]) -> tuple[list, list[str]]:
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(doc))
    warnings: list[str] = []
    return list(read_claims([path], warnings.append)), warnings


def test_single_claim_mapping(tmp_path: Path) -> None:
    (claim,), warnings = read(tmp_path, claim_resource())
    assert (claim.id, claim.payer, claim.patient) == ("server-1", "bcbs", "PT-9")
    assert claim.diagnoses == [("icd10cm", "J44.9"), ("icd9cm", "496")]
    first, second = claim.lines
    assert (first.code, first.modifiers, first.units, first.service_date, first.body_site) == (
        "E1392", ["RR"], 1, "2026-01-01", "LT"
    )  # fmt: skip
    assert (second.code, second.service_date) == (None, "2026-01-02")
    (doc,) = claim.documents
    assert (doc.type, doc.line, doc.fields) == (
        "oxygen-test",
        1,
        {"date": "2025-12-20", "pao2": 55},
    )
    text = " ".join(warnings)
    assert "codes of 2 code system(s) claimgraph does not read were ignored" in text  # counted
    assert "http://snomed.info/sct" not in text and "urn:example:local" not in text  # not named
    assert "supportingInfo" in text and CANARY not in text


def test_business_identifier_wins_over_resource_id(tmp_path: Path) -> None:
    res = claim_resource(identifier=[{"system": "urn:x", "value": "CLM-77"}],
                         insurer={"display": "AETNA Better Health"})  # fmt: skip
    (claim,), _ = read(tmp_path, res)
    assert (claim.id, claim.payer) == ("CLM-77", "aetna")


@pytest.mark.parametrize(
    ("insurer", "payer"),
    [("Medicare Part B", "medicare"), ("Texas Medicaid", "medicaid"), ("BLUE CROSS of X", "bcbs"),
     ("Cigna", "commercial"), ("Acme Health Plan", "unrecognised")],
)  # fmt: skip
def test_insurer_names(tmp_path: Path, insurer: str, payer: str) -> None:
    (claim,), _ = read(tmp_path, claim_resource(insurer={"display": insurer}))
    assert claim.payer == payer  # an unknown name: STRUCT-05 says payer rules were not applied


def test_bundle_reads_only_claims_in_order(tmp_path: Path) -> None:
    bundle = {"resourceType": "Bundle", "entry": [
        {"resource": claim_resource(id="a")}, {"resource": {"resourceType": "Patient"}},
        {"resource": {"resourceType": "Observation"}},
        {"resource": claim_resource(id="b")}]}  # fmt: skip
    claims, warnings = read(tmp_path, bundle)
    assert [(c.index, c.id, c.position) for c in claims] == [
        (1, "a", "entry 1"), (2, "b", "entry 4")]  # fmt: skip
    (note,) = [w for w in warnings if "not claims" in w]
    assert "1 Observation" in note and "Patient" not in note  # a Patient is read for references


def test_other_resources_are_reported_not_read(tmp_path: Path) -> None:
    # a file holding no claim: no claims found (exit 2), saying what it holds instead
    with pytest.raises(InputError, match="not claims: 1 ClaimResponse"):
        read(tmp_path, {"resourceType": "ClaimResponse", "id": "r1"})
    with pytest.raises(InputError, match="not claims: 1 [?]") as e:
        read(tmp_path, {"resourceType": CANARY, "name": [{"text": CANARY}]})
    assert CANARY not in str(e.value)
    # beside a claim: one warning, the claim is read
    both = {
        "resourceType": "Bundle",
        "entry": [{"resource": claim_resource()}, {"resource": {"resourceType": "ClaimResponse"}}],
    }
    claims, warnings = read(tmp_path, both)
    assert len(claims) == 1 and "1 ClaimResponse" in " ".join(warnings)
    with pytest.raises(InputError) as e:
        read(tmp_path, {"resourceType": 7, "note": CANARY})
    assert CANARY not in str(e.value)


def test_code_systems_agree_with_the_ontology() -> None:
    """The systems the reader knows are the cg:fhirSystem values of ontology/codes/schemes.ttl
    plus the cg:FhirCodeSystem facts of ontology/fhir.ttl: data, not Python constants."""
    g = Graph().parse(ROOT / "ontology" / "codes" / "schemes.ttl")
    known = {
        str(o).split("://", 1)[1]
        for o in g.objects(None, URIRef("https://w3id.org/claimgraph/ontology/fhirSystem"))
    }
    terms = fhir_terms()
    assert known <= set(terms.procedure) | set(terms.diagnosis)
    assert terms.diagnosis["hl7.org/fhir/sid/icd-9-cm"] == "icd9cm"  # from fhir.ttl
    assert terms.procedure["bluebutton.cms.gov/resources/codesystem/hcpcs"] == "hcpcs"
