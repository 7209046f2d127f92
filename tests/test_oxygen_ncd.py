"""OXY-05 by NCD 240.2 v2 (ontology/oxygen-criteria.ttl) on both engines: group I on the test
alone, group II (PaO2 56-59 mm Hg or SpO2 89 %) with one of its conditions documented or
diagnosed, group III never; the rule cites the NCD version and its effective date."""

from __future__ import annotations

import pytest

from claimgraph.engine import fast, reference
from claimgraph.ingest.model import ClaimData, DocumentData, LineData
from claimgraph.knowledge import Knowledge

# (test fields, condition document fields, diagnoses, OXY-05 fires)
CASES = [
    ({"spo2": 88}, {}, (), False),  # group I
    ({"pao2": 55.0}, {}, (), False),
    ({"spo2": 89}, {}, (), True),  # group II without a condition
    ({"spo2": 89}, {"pulmonary_hypertension": True}, (), False),
    ({"spo2": 89}, {"pulmonary_hypertension": False}, (), True),
    ({"pao2": 56}, {}, ("I50.9",), False),  # heart failure: dependent edema diagnosed
    ({"pao2": 59}, {}, ("R60.0",), False),
    ({"pao2": 59}, {}, ("I26.09",), False),  # pulmonary embolism with acute cor pulmonale
    ({"pao2": 59}, {}, ("D75.1",), True),  # polycythemia without a hematocrit
    ({"pao2": 58}, {"hematocrit": 56.5}, (), False),
    ({"pao2": 58}, {"hematocrit": "high"}, (), True),
    ({"spo2": 90}, {"dependent_edema": True}, ("I27.81",), True),  # group III
    ({"pao2": 60}, {"dependent_edema": True}, (), True),
]


def _claims() -> list[ClaimData]:
    claims = []
    for n, (test, condition, dx, _fires) in enumerate(CASES, start=1):
        docs = [DocumentData(type="oxygen-test", fields={"date": "2026-02-18", **test})]
        if condition:
            docs.append(DocumentData(type="medical-history", fields={"date": "2026-02-18",
                                                                      **condition}))  # fmt: skip
        claims.append(ClaimData(
            index=n, id=f"CLM-G{n}", payer="medicare", patient=f"TEST-PT-G{n}",
            diagnoses=[("icd10cm", d) for d in ("J44.9", *dx)],
            lines=[LineData(code="E1390", modifiers=["RR", "KX"], units=1,
                            service_date="2026-03-02")],
            documents=docs))  # fmt: skip
    return claims


def test_ncd_240_2_groups_on_both_engines() -> None:
    claims = _claims()
    found = {(f.claim, f.line) for f in fast.validate_claims(claims, jobs=1) if f.rule == "OXY-05"}
    ref = {(f.claim, f.line) for f in reference.validate_claims(claims) if f.rule == "OXY-05"}
    want = {(f"CLM-G{n}", 1) for n, case in enumerate(CASES, start=1) if case[3]}
    assert found == ref == want


@pytest.mark.parametrize("field", ["dependent_edema", "pulmonary_hypertension"])
def test_group_2_conditions_are_data(field: str) -> None:
    """The criteria live in the graph: each group-II condition names its claim field."""
    from claimgraph.ingest.model import DOCUMENT_FIELDS
    from claimgraph.namespaces import CG

    kg = Knowledge.bundled().graph
    assert (None, CG.shownByField, DOCUMENT_FIELDS[field]) in kg
    group2 = next(c for c in kg.subjects(CG.minSpO2, None))
    assert len(set(kg.objects(group2, CG.requiresCondition))) == 3


def test_test_source_and_timing_from_a_csv_with_documents(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """OXY-09 (the supplier performed the test) and OXY-10 (an inpatient test more than two
    days before discharge) read the `performer` and `discharge_date` document columns, on both
    engines; a test by a laboratory within the days passes both."""
    from claimgraph.ingest import read_claims

    claims = tmp_path / "oxygen.csv"
    claims.write_text(
        "claim_id,payer,patient,diagnoses,provider,code,modifiers,units,service_date\n"
        + "".join(f"C{n},medicare,TEST-PT-{n},J44.9,1999999984,E1392,RR;KX,1,2026-03-02\n"
                  for n in (1, 2, 3)),
        encoding="utf-8",
    )  # fmt: skip
    docs = ["claim_id,type,line,date,signed,duration_months,spo2,performer,discharge_date"]
    lab = "1234567893"
    tests = {1: ("1999999984", ""), 2: (lab, "2026-02-25"), 3: (lab, "2026-02-19")}
    for n, (performer, discharged) in tests.items():
        docs += [f"C{n},order,,2026-02-20,true,12,,,",
                 f"C{n},oxygen-test,,2026-02-18,,,86,{performer},{discharged}",
                 f"C{n},portable-justification,,2026-02-20,,,,,"]  # fmt: skip
    (tmp_path / "oxygen.documents.csv").write_text("\n".join(docs) + "\n", encoding="utf-8")
    read = list(read_claims([str(claims)]))
    want = {("C1", "OXY-09"), ("C2", "OXY-10")}
    for found in (fast.validate_claims(read, jobs=1), reference.validate_claims(read)):
        got = {(str(f.claim), f.rule) for f in found if f.rule in ("OXY-09", "OXY-10")}
        assert got == want
