"""No claim file can add facts to another claim (issue 16, point 1).

The red team's file: a claim whose diagnosis IRI hides percent-encoded text that, decoded and
written back raw into the N-Triples the fast engine loads, closed the triple and signed another
file's oxygen order (CLM-2003 lost OXY-03 and OXY-07; the engines disagreed). Every IRI the
writer emits is now built from percent-encoded parts, the one IRI taken as given (a body site's
SNOMED CT concept) is refused unless it is one, and the fast engine loads strictly.

Each injection file is validated together with the victim's file on both engines: the
victim's findings are those it has alone, and the engines agree on every finding.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claimgraph.ingest.model import ClaimData, assign_uid
from claimgraph.namespaces import CLAIM
from security_support import one_line_error, run

EXAMPLES = Path(__file__).parent.parent / "examples"
CG = "https://w3id.org/claimgraph/ontology/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
EVIL = "https://w3id.org/claimgraph/claim/evil"
CODE = "https://w3id.org/claimgraph/code/"
ENGINES = ("fast", "reference")


def victim_document(victim: Path) -> str:
    """The IRI of CLM-2003's unsigned order (claim 3, document 1) in a run given `victim`."""
    uid = assign_uid(ClaimData(index=3), str(victim)).uid
    return f"{CLAIM}{uid}/document/1"


def payload(victim: Path) -> str:
    """N-Triples that would sign the victim's order and give it a duration (OXY-03, OXY-07)."""
    doc = victim_document(victim)
    return (f'J44.9> .\n<{doc}> <{CG}signed> "true"^^<{XSD}boolean> .\n'
            f'<{doc}> <{CG}durationMonths> "12"^^<{XSD}integer> .\n'
            "<urn:a> <urn:b> <urn:c")  # fmt: skip


def percent(text: str) -> str:
    return "".join(f"%{b:02X}" if chr(b) in ' <>"\n^%' else chr(b) for b in text.encode())


def uchar(text: str) -> str:
    """The escapes N-Triples and Turtle decode inside an IRI."""
    return "".join(f"\\u{ord(c):04X}" if c in ' <>"\n^' else c for c in text)


def evil_nt(diagnosis: str, procedure: str = "E1392", site: str | None = None) -> str:
    lines = [
        f"<{EVIL}> <{RDF_TYPE}> <{CG}Claim> .",
        f'<{EVIL}> <{CG}claimId> "CLM-EVIL" .',
        f'<{EVIL}> <{CG}payer> <https://w3id.org/claimgraph/payer/medicare> .',
        f"<{EVIL}> <{CG}hasDiagnosis> <https://w3id.org/claimgraph/code/icd10cm/{diagnosis}> .",
        f"<{EVIL}> <{CG}hasLine> <{EVIL}/line/1> .",
        f'<{EVIL}/line/1> <{CG}lineNumber> "1"^^<{XSD}integer> .',
        f"<{EVIL}/line/1> <{CG}procedureCode> <{CODE}hcpcs/{procedure}> .",
        f'<{EVIL}/line/1> <{CG}serviceDate> "2026-03-02"^^<{XSD}date> .',
    ]  # fmt: skip
    if site is not None:
        lines.append(f"<{EVIL}/line/1> <{CG}bodySiteCode> <http://snomed.info/id/{site}> .")
    return "\n".join(lines) + "\n"


def evil_turtle(diagnosis: str) -> str:
    return (f"@prefix cg: <{CG}> .\n<{EVIL}> a cg:Claim ; cg:claimId \"CLM-EVIL\" ;\n"
            f"  cg:hasDiagnosis <https://w3id.org/claimgraph/code/icd10cm/{diagnosis}> ;\n"
            f"  cg:hasLine <{EVIL}/line/1> .\n<{EVIL}/line/1> cg:lineNumber 1 ;\n"
            f"  cg:procedureCode <https://w3id.org/claimgraph/code/hcpcs/E1392> .\n")  # fmt: skip


def evil_jsonld(diagnosis: str) -> str:
    return json.dumps({"@context": {"cg": CG}, "@graph": [
        {"@id": EVIL, "@type": "cg:Claim", "cg:claimId": "CLM-EVIL",
         "cg:hasDiagnosis": {"@id": f"https://w3id.org/claimgraph/code/icd10cm/{diagnosis}"},
         "cg:hasLine": {"@id": f"{EVIL}/line/1"}},
        {"@id": f"{EVIL}/line/1", "cg:lineNumber": 1,
         "cg:procedureCode": {"@id": "https://w3id.org/claimgraph/code/hcpcs/E1392"}},
    ]})  # fmt: skip


def findings(*paths: Path, engine: str) -> set[tuple[Any, ...]]:
    result = run(CliRunner(), "validate", *map(str, paths), "-f", "json", "--engine", engine)
    assert result.exit_code in (0, 1), (engine, result.output)
    report = json.loads(result.stdout)
    return {(f["claim"], f["line"], f["rule"], f["severity"]) for f in report["findings"]}


@pytest.fixture(scope="module")
def victim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, set[Any]]]:
    """examples/oxygen.json and the findings of CLM-2003 alone, per engine."""
    path = tmp_path_factory.mktemp("victim") / "oxygen.json"
    shutil.copy(EXAMPLES / "oxygen.json", path)
    alone = {e: {f for f in findings(path, engine=e) if f[0] == "CLM-2003"} for e in ENGINES}
    assert {"OXY-03", "OXY-07"} <= {f[2] for f in alone["fast"]}
    return path, alone


CASES = {
    "nt-percent-diagnosis": ("evil.nt", lambda p: evil_nt(percent(p))),
    "nt-percent-procedure": ("evil.nt", lambda p: evil_nt("J44.9", procedure=percent(p))),
    "nt-uchar-diagnosis": ("evil.nt", lambda p: evil_nt(uchar(p))),
    "turtle-percent-diagnosis": ("evil.ttl", lambda p: evil_turtle(percent(p))),
    "turtle-uchar-diagnosis": ("evil.ttl", lambda p: evil_turtle(uchar(p))),
    "jsonld-percent-diagnosis": ("evil.jsonld", lambda p: evil_jsonld(percent(p))),
    "jsonld-raw-diagnosis": ("evil.jsonld", lambda p: evil_jsonld(p)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_injected_code_iris_do_not_reach_another_claim(
    tmp_path: Path, victim: tuple[Path, dict[str, set[Any]]], case: str
) -> None:
    path, alone = victim
    name, make = CASES[case]
    evil = tmp_path / name
    evil.write_text(make(payload(path)), encoding="utf-8")
    both = {e: findings(path, evil, engine=e) for e in ENGINES}
    assert both["fast"] == both["reference"], case
    for e in ENGINES:
        assert {f for f in both[e] if f[0] == "CLM-2003"} == alone[e], (case, e)


@pytest.mark.parametrize("fmt", ["nt", "ttl"])
@pytest.mark.parametrize("engine", ENGINES)
def test_a_body_site_that_is_not_a_snomed_concept_is_refused(
    tmp_path: Path, victim: tuple[Path, dict[str, set[Any]]], fmt: str, engine: str
) -> None:
    """The one IRI taken as the input gives it: an escape that decodes to `>` is refused."""
    path, _alone = victim
    evil = tmp_path / f"evil.{fmt}"  # N-Triples is Turtle: .ttl goes through the Turtle parser
    text = evil_nt("J44.9", site="1" + uchar(payload(path)[5:]))
    evil.write_text(text, encoding="utf-8")
    result = run(CliRunner(), "validate", str(path), str(evil), "--engine", engine)
    one_line_error(result, f"{evil}:claim 1: line 1: the body site code is not a SNOMED CT")
    assert run(CliRunner(), "convert", str(evil), "-f", "nt").exit_code == 2


def test_a_snomed_body_site_is_kept(tmp_path: Path) -> None:
    evil = tmp_path / "site.nt"
    evil.write_text(evil_nt("J44.9", site="72696002"), encoding="utf-8")
    result = run(CliRunner(), "convert", str(evil), "-f", "nt")
    assert result.exit_code == 0, result.output
    assert f"<{CG}bodySiteCode> <http://snomed.info/id/72696002> ." in result.stdout


HOSTILE = ["J44.9> .\n<urn:a> <urn:b> <urn:c", 'x" .\n<a> <b> "c', "a b{c}|d^e`f\\g", "%3E%20%0A",
           "\u2028\x00\x7f\u0085", "\U0001f600<", "urn:x>", ""]  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE)
def test_every_part_the_writer_emits_stays_in_its_term(text: str) -> None:
    """Hostile text in every field of a claim: the N-Triples parse strictly (Oxigraph, no
    `lenient`), say what the rdflib mapping says, and every subject is the claim's own."""
    from pyoxigraph import RdfFormat, parse
    from rdflib import Graph

    from claimgraph.engine.ntriples import claim_ntriples
    from claimgraph.ingest.model import DocumentData, LineData, to_graph

    fields = ("code", "units", "service_date", "body_site", "description", "unit_basis",
              "place_of_service")  # fmt: skip
    line = LineData(modifiers=[text, "KX"], **dict.fromkeys(fields, text))
    claim = assign_uid(ClaimData(
        index=1, id=text, payer=text, patient=text, provider=text,
        diagnoses=[("icd10cm", text), ("icd9cm", text), (text, text)], lines=[line],
        documents=[DocumentData(type=text, line=1, fields={"date": text, "number": text})],
    ), "hostile.json")  # fmt: skip
    nt = claim_ntriples(claim)
    triples = list(parse(nt.encode(), format=RdfFormat.N_TRIPLES))
    assert len(triples) == nt.count("\n")  # one triple a line: nothing closed a term early
    own = f"{CLAIM}{claim.uid}"
    assert all(t.subject.value == own or t.subject.value.startswith(own + "/") for t in triples)
    assert set(Graph().parse(data=nt, format="nt")) == set(to_graph([claim]))


@pytest.mark.parametrize("iri", ["urn:x{y}", "urn:x\\u0020y", "urn:x%zz"])
@pytest.mark.parametrize("engine", ENGINES)
def test_user_rules_with_an_iri_that_is_not_one_are_refused(
    tmp_path: Path, iri: str, engine: str
) -> None:
    """The fast engine loads the rules strictly too: an IRI rdflib lets through but no strict
    reader takes is one line naming the file (it was an internal error), on both engines."""
    from test_user_shapes import USER_RULES

    rules = tmp_path / "rules.ttl"
    rules.write_text(USER_RULES.replace("cg:appliesToPayer payer:aetna ;",
                                        f"cg:appliesToPayer payer:aetna, <{iri}> ;"))  # fmt: skip
    result = run(CliRunner(), "validate", str(EXAMPLES / "oxygen.json"), "--shapes", str(rules),
                 "--engine", engine)  # fmt: skip
    one_line_error(result, f"{rules}: an IRI is not valid")
