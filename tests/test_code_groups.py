"""Rule vocabularies from the ICD-10-CM hierarchy and official titles (DOMAIN.md 7), and the
sided body-site vocabulary, at their edges on both engines: NMR-01's neuromuscular groups,
SRC-03's pain group, ENS-03's unspecified diagnoses, CANSTIM-04's sided sites; the named query
lists each group's parts, ranges, title words and sources."""

from __future__ import annotations

import pytest

from claimgraph.engine import fast, reference
from claimgraph.ingest.model import ClaimData, LineData
from claimgraph.knowledge import Knowledge


def _fired(rule: str, code: str, payer: str, cases: list[tuple[list[str], object]],
           site: bool = False) -> tuple[set[str], set[str]]:  # fmt: skip
    """(claims the rule fires on, claims the cases say it fires on), both engines agreeing."""
    claims = []
    for n, (value, _fires) in enumerate(cases, start=1):
        line = LineData(code=code, modifiers=["GP"] if not site else ["RR"], units=1,
                        service_date="2026-03-02", body_site=value if site else None)  # fmt: skip
        dx = ["C71.9"] if site else value
        claims.append(ClaimData(index=n, id=f"C{n}", payer=payer, patient=f"TEST-PT-{n}",
                                diagnoses=[("icd10cm", d) for d in dx],  # type: ignore[union-attr]
                                lines=[line]))  # fmt: skip
    got = {str(f.claim) for f in fast.validate_claims(claims, jobs=1) if f.rule == rule}
    ref = {str(f.claim) for f in reference.validate_claims(claims) if f.rule == rule}
    assert got == ref
    return got, {f"C{n}" for n, (_v, fires) in enumerate(cases, start=1) if fires}


NMR01 = [  # (diagnoses, NMR-01 fires: no neuromuscular impairment)
    (["I61.9"], False), (["I60.9"], False), (["I69.351"], False), (["I70.0"], True),
    (["G12.21"], False), (["G80.9"], False), (["G00.9"], False), (["G99.2"], False),
    (["S06.0X0S"], False), (["S14.109A"], False), (["S24.101A"], False), (["S34.139A"], False),
    (["S14.2XXA"], True), (["M54.59"], True), (["M54.59", "I63.9"], False), (["H00.011"], True),
]
SRC03 = [  # (diagnoses, SRC-03 fires: a pain diagnosis)
    (["R10.9"], True), (["R07.9"], True), (["G43.909"], True), (["G44.209"], True),
    (["R51.9"], True), (["M54.59"], True), (["M25.561"], True), (["M79.661"], True),
    (["G89.29"], True), (["H57.13"], True), (["J44.9"], False), (["M84.40XA"], False),
]
ENS03 = [  # (diagnoses, ENS-03 fires: a red flag or unspecified diagnoses only)
    (["M79.606"], True), (["R52"], True), (["M54.50"], True), (["M54.59"], False),
    (["M79.606", "M54.59"], False), (["M79.604"], False), (["J44.9"], True),
]
CANSTIM04 = [  # (body site, CANSTIM-04 fires: a sided site without LT or RT)
    ("left upper arm", True), ("Calves", True), ("great toe", True), ("right eye", True),
    ("lungs", True), ("kidney", True), ("scalp", False), ("head", False), ("chest wall", False),
    ("bilateral breasts", True), ("abdomen", False), ("fingers", True), ("Femoral region", True),
]


@pytest.mark.parametrize(("rule", "code", "payer", "cases"), [
    ("NMR-01", "97112", "aetna", NMR01), ("SRC-03", "E0747", "medicare", SRC03),
    ("ENS-03", "64555", "medicare", ENS03),
], ids=["NMR-01", "SRC-03", "ENS-03"])  # fmt: skip
def test_diagnosis_groups_by_hierarchy_and_title(rule, code, payer, cases) -> None:  # type: ignore[no-untyped-def]
    got, want = _fired(rule, code, payer, cases)
    assert got == want


def test_sided_body_sites() -> None:
    got, want = _fired("CANSTIM-04", "E0766", "medicaid", CANSTIM04, site=True)  # type: ignore[arg-type]
    assert got == want


def test_named_query_lists_group_parts_and_sources() -> None:
    from claimgraph.query import run_named

    rows = [{k: str(v) if v is not None else "" for k, v in r.items()} for r in run_named(
        "code-group-members", {"group": "neurological-diagnoses"},
        knowledge=Knowledge.bundled()).dicts()]  # fmt: skip
    parts = {r["part"]: r for r in rows}
    assert {"cerebrovascular-diseases", "nervous-system-diseases", "brain-injuries",
            "spinal-cord-injuries"} <= set(parts)  # fmt: skip
    assert parts["cerebrovascular-diseases"]["members"] == "I60-I69"
    assert all(r["source"] for r in rows)
    unspecified = run_named("code-group-members", {"group": "unspecified-diagnoses"},
                            knowledge=Knowledge.bundled()).dicts()  # fmt: skip
    assert {str(r["members"]) for r in unspecified} == {"R52", "title says: unspecified"}


SNOMED_SITES = [  # (SNOMED CT concept of a coded body site with no text, CANSTIM-04 fires)
    ("53840002", True),   # calf of leg
    ("82169009", True),   # left knee: a side, still no LT/RT on the line
    ("29707007", True),   # toe
    ("39607008", True),   # lung
    ("69536005", False),  # head: no side
    ("51185008", False),  # chest: no side
]


@pytest.mark.parametrize(("concept", "fires"), SNOMED_SITES)
def test_coded_body_sites_by_snomed_concept(concept: str, fires: bool) -> None:
    """A line whose body site is only a SNOMED CT concept (FHIR bodySite with a code and no
    text) is judged by the concepts of ontology/body-sites.ttl, on both engines."""
    def claim(mods: list[str]) -> ClaimData:
        line = LineData(code="E0766", modifiers=mods, units=1, service_date="2026-03-02",
                        body_site_code=f"http://snomed.info/id/{concept}")  # fmt: skip
        return ClaimData(index=1, id="C1", payer="medicaid", patient="TEST-PT-1",
                         diagnoses=[("icd10cm", "C71.9")], lines=[line])  # fmt: skip

    for mods, want in ((["RR"], fires), (["RR", "LT"], False)):
        got = {f.rule for f in fast.validate_claims([claim(mods)], jobs=1)}
        ref = {f.rule for f in reference.validate_claims([claim(mods)])}
        assert ("CANSTIM-04" in got) == ("CANSTIM-04" in ref) == want, (concept, mods)
