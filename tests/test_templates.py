"""Message templates: a shipped rule's sh:message may name the values that triggered it
({?var}: codes, never patient data), filled the same way by both engines; each distinct set of
values is a finding of its own. A user's rules file may not use them (refused before use)."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimgraph.engine.common import fill_template, template_facts, template_vars
from claimgraph.ingest.model import ClaimData, LineData
from claimgraph.knowledge import Knowledge
from claimgraph.validation import validate_files

# A rule over the claim's diagnoses that names each one (codes are no patient data), installed
# the way shipped rules are: added to the rules graph, without the user-rule screening.
RULES = '''
@prefix sh:    <http://www.w3.org/ns/shacl#> .
@prefix cg:    <https://w3id.org/claimgraph/ontology/> .
@prefix rule:  <https://w3id.org/claimgraph/rule/> .
@prefix src:   <https://w3id.org/claimgraph/source/> .
@prefix topic: <https://w3id.org/claimgraph/topic/> .
@prefix dct:   <http://purl.org/dc/terms/> .

src:tpl-test a cg:Source ; dct:title "template test policy" .

rule:TPL-01 a sh:NodeShape, cg:Rule ;
    dct:identifier "TPL-01" ;
    sh:name "every diagnosis is named"@en ;
    sh:message "Diagnosis {?dx} is on the claim; {?dx} is named twice."@en ;
    sh:severity sh:Info ;
    dct:source src:tpl-test ;
    cg:topic topic:codes ;
    sh:targetClass cg:Claim ;
    sh:sparql [
        sh:prefixes <https://w3id.org/claimgraph/shapes/prefixes> ;
        sh:select """
SELECT $this ?dx WHERE {
  $this a cg:Claim ; cg:hasDiagnosis ?d .
  BIND (STRAFTER(STR(?d), "icd10cm/") AS ?dx)
}""" ] .
'''

CLAIMS = """{"claims": [{"id": "CLM-T1", "payer": "medicare", "patient": "PT-T1",
  "diagnoses": ["J44.9", "M54.59"],
  "lines": [{"code": "E1392", "modifiers": ["RR"], "units": 1, "service_date": "2026-03-02"}]}]}"""


def test_template_helpers() -> None:
    template = "Diagnosis {?dx} is on line {?n}; {?dx} again."
    assert template_vars(template) == ("dx", "n")
    filled = fill_template(template, {"dx": "M54.5", "n": "2"})
    assert filled == "Diagnosis M54.5 is on line 2; M54.5 again."
    assert template_facts(template, filled) == (("dx", "M54.5"), ("n", "2"))
    assert template_facts(template, "something else") == ()


def bundled_style_rules(tmp_path: Path) -> Knowledge:
    """The bundled rules plus RULES as one of them (a shipped rule file, not a user's)."""
    from claimgraph.resources import turtle_files

    rules = tmp_path / "rules.ttl"
    rules.write_text(RULES, encoding="utf-8")
    shapes = [*turtle_files("shapes"), rules]
    return Knowledge.from_files(list(turtle_files("ontology")), shapes)


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_both_engines_fill_templates_and_keep_each_value(tmp_path: Path, engine: str) -> None:
    claims = tmp_path / "claims.json"
    claims.write_text(CLAIMS, encoding="utf-8")
    knowledge = bundled_style_rules(tmp_path)
    result = validate_files([claims], knowledge=knowledge, engine=engine, rules=["TPL-01"], jobs=1)
    got = sorted((f.claim, f.message, f.facts) for f in result.findings)
    assert got == [
        ("CLM-T1", "Diagnosis J44.9 is on the claim; J44.9 is named twice.", (("dx", "J44.9"),)),
        ("CLM-T1", "Diagnosis M54.59 is on the claim; M54.59 is named twice.",
         (("dx", "M54.59"),)),
    ]  # fmt: skip
    assert {f.file for f in result.findings} == {str(claims)}
    assert {f.position for f in result.findings} == {"claim 1"}


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_user_rules_may_not_substitute_data_values(tmp_path: Path, engine: str) -> None:
    from typer.testing import CliRunner

    from claimgraph.cli import app

    rules = tmp_path / "rules.ttl"
    rules.write_text(RULES, encoding="utf-8")
    claims = tmp_path / "claims.json"
    claims.write_text(CLAIMS, encoding="utf-8")
    args = ["validate", str(claims), "--shapes", str(rules), "--engine", engine]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and result.stdout == "", result.output
    assert result.stderr.count("\n") == 1
    assert str(rules) in result.stderr and "substitutes a value from the data" in result.stderr
    assert "PT-T1" not in result.output


def test_two_claims_with_one_id_stay_two_claims(tmp_path: Path) -> None:
    from claimgraph.engine import fast

    def claim(index: int, code: str) -> ClaimData:
        line = LineData(code=code, modifiers=[], units=1, service_date="2026-03-02")
        return ClaimData(index=index, id="CLM-SAME", payer="medicare", patient=f"PT-{index}",
                         diagnoses=[("icd10cm", "J44.9")], lines=[line])  # fmt: skip

    found = fast.validate_claims([claim(1, "E1392"), claim(2, "E0431")], jobs=1)
    oxy02 = sorted((f.claim, f.code, f.position) for f in found if f.rule == "OXY-02")
    assert oxy02 == [("CLM-SAME", "E0431", "record 2"), ("CLM-SAME", "E1392", "record 1")]
