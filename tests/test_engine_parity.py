"""The fast engine (compiled SPARQL on pyoxigraph) gives exactly the reference's findings.

Compared on (claim, line, rule, severity): every shipped shape compiles; every rule fixture
and a generated set of 2,000 claims covering every rule give the same findings as pyshacl;
batching (a patient's claims far apart in the file), --jobs and the N-Triples formatting of
the one claim mapping (ingest.model.plain_triples) change nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from claimgraph.engine import fast, reference
from claimgraph.engine.compile import CompileError, compile_shapes, lateral_exists, validate_queries
from claimgraph.engine.ntriples import claim_ntriples
from claimgraph.ingest import read_claims
from claimgraph.ingest.json_claims import claim_from_json
from claimgraph.ingest.model import ClaimData, DocumentData, LineData, plain_triples, to_graph
from claimgraph.kg import knowledge_graph, shapes_graph
from claimgraph.namespaces import CG, document_iri, line_iri
from synthetic import generate, write_json

FIXTURES = sorted((Path(__file__).parent / "data" / "claims").glob("*.json"))
PARITY_CLAIMS = 2000


def keys(findings: list) -> set[tuple]:
    return {f.ident for f in findings}


def claims_of(path: Path) -> list[ClaimData]:
    return list(read_claims([path]))


# ------------------------------------------------------------------------------ compiling


def test_every_shipped_shape_compiles() -> None:
    from claimgraph.engine.common import rulebook

    checks = compile_shapes(knowledge_graph(), shapes_graph())
    validate_queries(checks)
    for c in checks:  # the Oxigraph rewriting parses too
        validate_queries(
            [type(c)(c.rule, c.shape, c.severity, c.component, lateral_exists(c.query))]
        )
    compiled = {c.shape for c in checks}
    by_reader = set(knowledge_graph().subjects(CG.checkedBy, CG.Reader))  # no SPARQL: STRUCT-04
    missing = sorted(str(s) for s in rulebook().shapes if str(s) not in compiled
                     and s not in by_reader)  # fmt: skip
    assert not missing, f"rules without a compiled check: {missing}"


@pytest.mark.parametrize(
    "select, problem",
    [
        ("SELECT $this WHERE { $this ?p ?o MINUS { $this a ?c } }", "MINUS"),
        ("SELECT $this WHERE { $this ?p $shapesGraph }", "shapesGraph"),
        ("SELECT $this WHERE { $this ?p ?o } LIMIT 1", "LIMIT"),
        ("SELECT $this WHERE { { SELECT ?o WHERE { $this ?p ?o } } }", "pre-bound"),
    ],
)
def test_unsupported_sparql_is_refused(select: str, problem: str) -> None:
    sg = _shape_graph(f'sh:sparql [ sh:select """{select}""" ]')
    with pytest.raises(CompileError):
        compile_shapes(knowledge_graph(), sg)


def test_unsupported_core_constraint_is_refused() -> None:
    sg = _shape_graph("sh:property [ sh:path cg:units ; sh:or ( [ sh:datatype xsd:integer ] ) ]")
    with pytest.raises(CompileError, match="or"):
        compile_shapes(knowledge_graph(), sg)


def _shape_graph(body: str) -> Graph:
    g = Graph()
    g.parse(
        data=f"""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix cg: <https://w3id.org/claimgraph/ontology/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://w3id.org/claimgraph/rule/TEST-01> a sh:NodeShape ; sh:targetClass cg:ClaimLine ;
    {body} .""",
        format="turtle",
    )
    return g


def test_core_constraints_match_pyshacl() -> None:
    """SHACL core shapes (none shipped yet) compile to queries with pyshacl's semantics."""
    import pyoxigraph as ox
    import pyshacl

    sg = _shape_graph(
        "sh:property [ sh:path cg:units ; sh:minCount 1 ; sh:maxCount 1 ; "
        "sh:datatype xsd:integer ; sh:minInclusive 1 ] , "
        "[ sh:path cg:serviceDate ; sh:datatype xsd:date ] , "
        '[ sh:path cg:procedureCode ; sh:nodeKind sh:IRI ; sh:pattern "E[0-9]+$" ]'
    )
    odd = [1, 0, -1, "two", 1.5, True, "1", None, 3]
    claims = [
        ClaimData(
            index=i,
            id=f"C{i}",
            lines=[
                LineData(
                    code=["E1392", "97112", None][i % 3],
                    units=odd[i % len(odd)],
                    service_date=["2026-01-02", "bad", None][i % 3],
                )
            ],
        )  # fmt: skip
        for i in range(27)
    ]
    data = to_graph(claims)
    _ok, report, _ = pyshacl.validate(data, shacl_graph=sg)
    from rdflib.namespace import SH

    expected = {str(f) for f in report.objects(None, SH.focusNode)}
    store = ox.Store()
    store.load(data.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    got = {
        row[0].value for c in compile_shapes(knowledge_graph(), sg) for row in store.query(c.query)
    }
    assert expected and got == expected


# ------------------------------------------------------------------------------ N-Triples


def test_ntriples_writer_matches_claim_triples() -> None:
    """The fast path (N-Triples text) and the rdflib path give the same graph."""
    odd = ClaimData(
        index=7, id='CLM "odd"\\ \n id', payer=" Medicare ", patient=12,
        diagnoses=[("icd10cm", "m5459"), ("icd9cm", "724.2")],
        lines=[
            LineData(code=" e1392 ", modifiers=["rr", " ", 3], units=1.5, service_date="2026-02-30",
                     body_site="left knee \u00e9", description="tab\there"),
            LineData(code=5, units=True, service_date=20260101),
            LineData(code="97112", units="two", service_date="2026-03-02"),
        ],
        documents=[DocumentData(type="order", line=1, fields={"date": "2026-01-01", "signed": False,
                                                             "duration_months": 12}),
                   DocumentData(type=None, line=True, fields={"spo2": 87.5, "minutes": None})],
    )  # fmt: skip
    claims = [odd, ClaimData(index=3)]
    for path in FIXTURES:
        claims += claims_of(path)
    claims += [claim_from_json(c, i, set()) for i, c in enumerate(generate(300, seed=3), 1)]
    for claim in claims:
        ours = Graph().parse(data=claim_ntriples(claim), format="nt")
        assert set(ours) == set(to_graph([claim])), claim.key
    # the mapping writes line and document IRIs itself: the same as the namespaces builders
    subjects = {s for s, _p, _o in plain_triples(odd)}
    assert {str(line_iri(odd.key, n)) for n in (1, 2, 3)} <= subjects
    assert {str(document_iri(odd.key, n)) for n in (1, 2)} <= subjects
    assert ("1", None) not in {o for _s, _p, o in plain_triples(odd)}  # typed, not plain


def test_ntriples_escapes_literals() -> None:
    claim = ClaimData(index=1, id='a"b\\c\nd\x01', patient="\ud800x")
    text = claim_ntriples(claim)
    assert '"a\\"b\\\\c\\nd\\u0001"' in text  # quote, backslash, newline, control
    assert '"\ufffdx"' in text  # a lone surrogate (not UTF-8) becomes U+FFFD
    ids = {str(o) for _s, p, o in Graph().parse(data=text, format="nt") if p == CG.claimId}
    assert ids == {'a"b\\c\nd\x01'}


# ------------------------------------------------------------------------------ parity


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_rule_fixture_parity(path: Path) -> None:
    claims = claims_of(path)
    assert keys(fast.validate_claims(claims, jobs=1)) == keys(reference.validate_claims(claims))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic") / "claims.json"
    write_json(path, PARITY_CLAIMS, seed=11)
    return path


@pytest.fixture(scope="module")
def fast_findings(synthetic: Path) -> set[tuple]:
    return keys(fast.validate_claims(read_claims([synthetic]), jobs=1))


@pytest.mark.slow
def test_generated_claims_parity(synthetic: Path, fast_findings: set[tuple]) -> None:

    expected = keys(reference.validate_claims(read_claims([synthetic]), jobs=2))
    assert fast_findings == expected
    assert {k[2] for k in expected} == engine_rules(), "the set must cover every rule"


def engine_rules() -> set[str]:
    """The rules the engines check (the reader checks STRUCT-04, about X12 envelopes)."""
    from claimgraph.engine.common import rulebook

    by_reader = set(knowledge_graph().subjects(CG.checkedBy, CG.Reader))
    return {r.id for r in rulebook().rules.values() if r.iri not in by_reader}


def test_generated_claims_cover_every_rule(fast_findings: set[tuple]) -> None:
    assert {k[2] for k in fast_findings} == engine_rules()


def test_small_batches_keep_every_finding(synthetic: Path, fast_findings: set[tuple]) -> None:
    """Patients' claims far apart in the file (NMR-02) still meet: batches of 7 claims."""
    claims = list(read_claims([synthetic]))
    first: dict[str, int] = {}
    spread = 0
    for i, c in enumerate(claims):
        spread = max(spread, i - first.setdefault(str(c.patient), i))
    assert spread > 500  # some patient's claims are hundreds of claims apart
    assert any(k[2] == "NMR-02" for k in fast_findings)
    assert keys(fast.validate_claims(claims, jobs=1, batch_size=7)) == fast_findings


def test_two_jobs_equal_one(synthetic: Path, fast_findings: set[tuple]) -> None:
    found = fast.validate_claims(read_claims([synthetic]), jobs=2, batch_size=150)
    assert keys(found) == fast_findings


def test_findings_say_what_the_rulebook_says(synthetic: Path) -> None:
    from claimgraph.engine.common import rulebook

    claims = list(read_claims([synthetic]))[:200]
    book = rulebook()
    for f in fast.validate_claims(claims, jobs=1):
        rule = book.rules[f.rule]
        assert f.message and f.source == rule.source
        if f.line is not None:
            claim = next(c for c in claims if c.key == f.claim)
            code = claim.lines[f.line - 1].code
            assert f.code == (
                code.strip().upper() if isinstance(code, str) and code.strip() else None
            )
