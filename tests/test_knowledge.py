"""`Knowledge`: one immutable value per rule set and code-set source, nothing in module state."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from claimgraph.engine import fast, reference
from claimgraph.ingest.json_claims import claim_from_json
from claimgraph.knowledge import Knowledge
from claimgraph.validation import validate_files

RULE = '''
@prefix sh:    <http://www.w3.org/ns/shacl#> .
@prefix cg:    <https://w3id.org/claimgraph/ontology/> .
@prefix hcpcs: <https://w3id.org/claimgraph/code/hcpcs/> .
@prefix mod:   <https://w3id.org/claimgraph/modifier/> .
@prefix rule:  <https://w3id.org/claimgraph/rule/> .
@prefix src:   <https://w3id.org/claimgraph/source/> .
@prefix topic: <https://w3id.org/claimgraph/topic/> .
@prefix dct:   <http://purl.org/dc/terms/> .

src:house-policy-{n} a cg:Source ; dct:title "House policy {n} (example)" .

rule:HSE-0{n} a sh:NodeShape, cg:Rule ;
    dct:identifier "HSE-0{n}" ;
    sh:name "E1392 line lacks {mod}"@en ;
    sh:message "House policy {n}: E1392 lines carry {mod}; add {mod} to the line."@en ;
    sh:severity sh:Warning ;
    dct:source src:house-policy-{n} ;
    cg:topic topic:oxygen ;
    cg:appliesToCode hcpcs:E1392 ;
    cg:requiresModifier mod:{mod} ;
    sh:targetClass cg:ClaimLine ;
    sh:sparql [
        sh:prefixes <https://w3id.org/claimgraph/shapes/prefixes> ;
        sh:select """
SELECT $this WHERE {{
  $this cg:procedureCode ?code .
  $currentShape cg:appliesToCode ?code .
  FILTER NOT EXISTS {{ $currentShape cg:requiresModifier ?m . $this cg:modifier ?m }}
}}""" ] .
'''

CLAIM = {"id": "CLM-K1", "payer": "aetna", "patient": "TEST-PT-K1", "diagnoses": ["J44.9"],
         "lines": [{"code": "E1392", "modifiers": ["RR"], "units": 1,
                    "service_date": "2026-03-02"}]}  # fmt: skip


@pytest.fixture
def two(tmp_path: Path) -> tuple[Knowledge, Knowledge]:
    values = []
    for n, mod in ((1, "NU"), (2, "KX")):
        path = tmp_path / f"house-{n}.ttl"
        path.write_text(RULE.format(n=n, mod=mod), encoding="utf-8")
        values.append(Knowledge.bundled().with_rules([path]))
    return values[0], values[1]


def house(findings: list) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(f.rule, f.message) for f in findings if f.rule.startswith("HSE")}


def test_two_values_with_different_rules_validate_side_by_side(
    two: tuple[Knowledge, Knowledge], tmp_path: Path
) -> None:
    first, second = two
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps({"claims": [CLAIM]}), encoding="utf-8")
    one = "House policy 1: E1392 lines carry NU; add NU to the line."
    other = "House policy 2: E1392 lines carry KX; add KX to the line."
    for engine in ("fast", "reference"):  # interleaved in one process
        a = validate_files([claims], knowledge=first, engine=engine)
        b = validate_files([claims], knowledge=second, engine=engine)
        plain = validate_files([claims], engine=engine)
        assert house(a.findings) == {("HSE-01", one)}
        assert house(b.findings) == {("HSE-02", other)}
        assert house(plain.findings) == set()
        assert "HSE-01" in first.rulebook.rules and "HSE-01" not in second.rulebook.rules
        assert "HSE-01" not in Knowledge.bundled().rulebook.rules
        assert a.run["rules_fingerprint"] == first.fingerprint
        assert b.run["rules_fingerprint"] == second.fingerprint != first.fingerprint
        assert a.run["user_rules"] == ["house-1.ttl"] and plain.run["user_rules"] == []
        assert first.rules_files == (str(tmp_path / "house-1.ttl"),)


def test_worker_processes_get_the_value_they_were_given(two: tuple[Knowledge, Knowledge]) -> None:
    first, second = two
    claims = [claim_from_json(dict(CLAIM, id=f"CLM-K{i}"), i, set()) for i in range(1, 401)]
    for knowledge, rule in ((first, "HSE-01"), (second, "HSE-02")):
        found = fast.validate_claims(claims, knowledge=knowledge, jobs=2, batch_size=100)
        assert {f.rule for f in found if f.rule.startswith("HSE")} == {rule}
        assert sum(f.rule == rule for f in found) == 400
    small = claims[:4]
    found = reference.validate_claims(small, knowledge=second, jobs=2)  # one batch a worker
    assert {f.rule for f in found if f.rule.startswith("HSE")} == {"HSE-02"}


def test_payload_and_pickle_round_trip(two: tuple[Knowledge, Knowledge], tmp_path: Path) -> None:
    first, _ = two
    again = Knowledge.from_payload(first.payload())
    assert again == first and again.fingerprint == first.fingerprint
    assert again.checks.queries == first.checks.queries  # shipped, not recompiled
    assert set(again.rulebook.rules) == set(first.rulebook.rules)
    assert pickle.loads(pickle.dumps(first)) == first
    assert len(first.payload()) < len(first.checks.kg_nt)  # compressed


def test_fingerprint_follows_the_rules_files(tmp_path: Path) -> None:
    path = tmp_path / "house.ttl"
    path.write_text(RULE.format(n=1, mod="NU"), encoding="utf-8")
    a = Knowledge.bundled().with_rules([path])
    b = Knowledge.bundled().with_rules([path])
    assert a == b and a.fingerprint == b.fingerprint != Knowledge.bundled().fingerprint
    path.write_text(RULE.format(n=1, mod="KX"), encoding="utf-8")
    assert Knowledge.bundled().with_rules([path]).fingerprint != a.fingerprint
    assert Knowledge.bundled() is Knowledge.bundled()  # one value per installed content


def test_code_sets_are_part_of_the_value(tmp_path: Path) -> None:
    from claimgraph import codestore
    from claimgraph.importers import hcpcs
    from test_codesets import record, write_fixed

    release = write_fixed(tmp_path / "HCPC2026_ANWEB.txt", [record("E1392", "Test text", "T")])
    root = tmp_path / "store"
    codestore.import_release(hcpcs.read(release), root)
    bundled = Knowledge.bundled()
    with_codes = bundled.with_codesets(root)
    assert with_codes.releases == ("cms-hcpcs-2026-01",) and bundled.releases == ()
    assert with_codes.fingerprint == bundled.fingerprint  # the rule set is the same
    assert bundled.with_codesets(tmp_path / "no-store").codesets is None
    from claimgraph.runinfo import run_info

    imported = [c for c in run_info(with_codes, "fast")["code_sets"] if c["origin"] == "imported"]
    assert [c["id"] for c in imported] == ["cms-hcpcs-2026-01"] and imported[0]["title"]
    assert Knowledge.from_payload(with_codes.payload(checks=False)) == with_codes
