"""The ontology: it parses, the OWL reasoner finds it consistent, the QC queries find no defect
(on rdflib and pyoxigraph alike) and do find the defects of their broken fixtures, and the
curated facts agree with the official CMS and CDC data."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from claimgraph.ingest.model import document_types, payer_ids
from claimgraph.knowledge import Knowledge
from claimgraph.namespaces import (
    CG,
    CPT,
    DCT,
    HCPCS,
    ICD10CM,
    MODIFIER,
    PAYER,
    SKOS,
    doctype_iri,
    payer_iri,
)

# xsd:date and xsd:anyURI as plain IRIs: pytest probes module-level names, and rdflib's XSD
# namespace object warns on attributes it does not define.
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
XSD_ANYURI = URIRef("http://www.w3.org/2001/XMLSchema#anyURI")

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology"
SHAPES = ROOT / "shapes"
QC = ROOT / "queries" / "qc"
QC_FIXTURES = ROOT / "tests" / "data" / "qc"

Row = tuple[str | None, ...]


def qc_queries() -> list[Path]:
    return sorted(QC.glob("*.rq"))


def _rdflib_value(term: object) -> str | None:
    if term is None:
        return None
    if isinstance(term, BNode):
        return "_:blank"
    return str(term)


def _oxigraph_value(term: object) -> str | None:
    if term is None:
        return None
    if isinstance(term, ox.BlankNode):
        return "_:blank"
    return str(term.value)  # type: ignore[attr-defined]


def rows_rdflib(graph: Graph, query: str) -> list[Row]:
    return sorted(
        (tuple(_rdflib_value(v) for v in row) for row in graph.query(query)),  # type: ignore[union-attr]
        key=repr,
    )


def oxigraph_store(graph: Graph) -> ox.Store:
    store = ox.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return store


def rows_oxigraph(store: ox.Store, query: str) -> list[Row]:
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    names = [v.value for v in solutions.variables]
    return sorted((tuple(_oxigraph_value(s[n]) for n in names) for s in solutions), key=repr)


@pytest.fixture(scope="module")
def onto() -> Graph:
    return Knowledge.bundled().ontology


@pytest.fixture(scope="module")
def onto_store(onto: Graph) -> ox.Store:
    return oxigraph_store(onto)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    sorted([*ONTOLOGY.rglob("*.ttl"), *SHAPES.rglob("*.ttl")]),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_turtle_file_parses(path: Path) -> None:
    g = Graph()
    g.parse(path, format="turtle")
    assert len(g) > 0


def test_ontology_has_no_imports(onto: Graph) -> None:
    """No owl:imports: loading the ontology (and reasoning over it) never needs the network."""
    assert list(onto.triples((None, OWL.imports, None))) == []


# --------------------------------------------------------------------------------------------
# OWL reasoning (HermiT through owlready2)
# --------------------------------------------------------------------------------------------


def _hermit(graph: Graph) -> list[object]:
    """Run HermiT on `graph` in a private world and temp dir; the inconsistent classes.

    owlready2 reads N-Triples, not Turtle, so the graph is converted with rdflib first. The
    reasoner's temporary files go to a private directory that is removed afterwards. xsd:date is
    outside the OWL 2 datatype map HermiT supports, so unsupported datatypes are ignored (dates
    are checked by the SHACL rules instead)."""
    owlready2 = pytest.importorskip("owlready2")
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is not installed; HermiT needs it")
    owlready2.JAVA_EXE = java
    workdir = Path(tempfile.mkdtemp(prefix="claimgraph-owl-"))
    saved_tempdir = tempfile.tempdir
    try:
        source = workdir / "claimgraph.nt"
        graph.serialize(source, format="nt", encoding="utf-8")
        world = owlready2.World()
        world.get_ontology(source.as_uri()).load()
        tempfile.tempdir = str(workdir)
        owlready2.sync_reasoner_hermit(
            world, infer_property_values=False, debug=0, ignore_unsupported_datatypes=True
        )
        inconsistent = list(world.inconsistent_classes())
        world.close()
        return inconsistent
    finally:
        tempfile.tempdir = saved_tempdir
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.slow
def test_hermit_finds_the_ontology_consistent(onto: Graph) -> None:
    assert _hermit(onto) == []


@pytest.mark.slow
def test_hermit_detects_an_inconsistent_fact(onto: Graph) -> None:
    """Control: the reasoning test can fail. A code that is both a procedure code and a
    diagnosis code contradicts the disjointness axioms of the model."""
    owlready2 = pytest.importorskip("owlready2")
    broken = Graph()
    for t in onto:
        broken.add(t)
    broken.add((HCPCS.E1392, RDF.type, CG.ICD10CMCode))
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        _hermit(broken)


# --------------------------------------------------------------------------------------------
# QC queries
# --------------------------------------------------------------------------------------------

ONTO = "https://w3id.org/claimgraph/ontology/"
SRC = "https://w3id.org/claimgraph/source/"
EX = "https://example.org/qc/"
STMT = "https://w3id.org/claimgraph/statement/"
REL = "https://w3id.org/claimgraph/relation/"
DENIAL = "https://w3id.org/claimgraph/denial/"
CODE_DENIAL = "https://w3id.org/claimgraph/code-denial/"


def h(code: str) -> str:
    return str(HCPCS) + code


# For each QC query, the rows its broken fixture (tests/data/qc/<query>.ttl, loaded together with
# ontology/claimgraph.ttl) must return: exactly these, on both engines.
EXPECTED: dict[str, set[Row]] = {
    "term-label-not-one": {(ONTO + "BrokenNoLabel", "0"), (ONTO + "brokenTwoLabels", "2")},
    "term-missing-definition": {(ONTO + "NoDefinition",), (ONTO + "noDefinitionProperty",)},
    "term-undeclared": {(ONTO + "HCPCSCod", "class"), (ONTO + "isRentl", "property")},
    "code-notation-not-one": {(h("E0001"), "0"), (h("E0002"), "2"), (str(MODIFIER) + "ZZ", "0")},
    "code-missing-scheme": {(h("E0001"),), (h("E0002"),), (str(MODIFIER) + "ZZ",)},
    "code-missing-source": {(str(ICD10CM) + "Z00.00",), (str(MODIFIER) + "ZZ",)},
    "code-iri-pattern": {
        (h("E0001"), h("E0002")),
        (h("97112"), str(CPT) + "97112"),
        ("https://w3id.org/claimgraph/code/hcpcs-modifiers/KX", str(MODIFIER) + "KX"),
    },
    "code-undeclared": {(h("E9999"),), (str(MODIFIER) + "KZ",)},
    "statement-incomplete": {
        (STMT + "no-source", "no dct:source"),
        (STMT + "no-about", "no cg:aboutCode"),
        (STMT + "undeclared-code", "cg:aboutCode is not a declared code"),
        (STMT + "no-stated", "no cg:statedDescription"),
        (STMT + "string-flag", "no boolean cg:agreesWithOfficial"),
        (STMT + "no-correct", "disagrees but names no cg:correctCode"),
    },
    "relationship-incomplete": {
        (REL + "no-subject", "no cg:subjectCode"),
        (REL + "no-relation", "no cg:relation"),
        (REL + "no-object", "no cg:objectCode"),
        (REL + "no-reason", "no cg:reason"),
        (REL + "no-source", "no dct:source"),
        (REL + "bad-relation", "cg:relation is not one of the five code relations"),
        (REL + "no-triple", "the direct triple subject-relation-object is missing"),
        (REL + "two-subjects", "more than one cg:subjectCode"),
    },
    "relation-triple-undocumented": {
        (h("E0001"), ONTO + "medicareEquivalent", h("E0002")),
        (str(CPT) + "64555", ONTO + "supportingDiagnosis", str(ICD10CM) + "M54.59"),
    },
    "source-undeclared": {
        (EX + "c", SRC + "typo"),
        (EX + "d", "a string, not a source"),
    },
    "source-missing-title": {
        (SRC + "no-title", "no dct:title"),
        (SRC + "nowhere", "neither cg:url nor cg:fileName"),
        (SRC + "bare", "no dct:title"),
        (SRC + "bare", "neither cg:url nor cg:fileName"),
    },
    "individual-missing-annotation": {
        (str(PAYER) + "nolabel", "no rdfs:label"),
        ("https://w3id.org/claimgraph/doctype/twolabels", "more than one rdfs:label"),
        ("https://w3id.org/claimgraph/doctype/twolanguages", "more than one rdfs:label"),
        ("https://w3id.org/claimgraph/denial/nodefinition", "no skos:definition"),
        (h("E0001"), "not typed owl:NamedIndividual"),
        (CODE_DENIAL + "E0001-a", "no skos:definition"),
    },
    "code-denial-incomplete": {
        (CODE_DENIAL + "no-code", "no cg:deniedCode"),
        (CODE_DENIAL + "two-codes", "more than one cg:deniedCode"),
        (CODE_DENIAL + "no-reason", "no cg:denialReason"),
        (CODE_DENIAL + "two-reasons", "more than one cg:denialReason"),
        (CODE_DENIAL + "undeclared-reason", "cg:denialReason is not a declared cg:DenialReason"),
        (CODE_DENIAL + "no-source", "no dct:source"),
        (CODE_DENIAL + "no-triple", "the direct triple code-commonDenialReason-reason is missing"),
    },
    "denial-triple-undocumented": {
        (h("E0001"), DENIAL + "b"),
        (h("E0002"), DENIAL + "a"),
    },
}


def test_every_qc_query_has_a_fixture_and_expected_rows() -> None:
    names = {p.stem for p in qc_queries()}
    assert names, "queries/qc/ holds no query"
    assert names == set(EXPECTED)
    assert names == {p.stem for p in QC_FIXTURES.glob("*.ttl")}


@pytest.mark.parametrize("query", qc_queries(), ids=lambda p: p.stem)
def test_qc_query_has_header(query: Path) -> None:
    lines = query.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# title: ") and lines[0][len("# title: ") :].strip()
    assert lines[1].startswith("# description: ") and lines[1][len("# description: ") :].strip()


@pytest.mark.parametrize("query", qc_queries(), ids=lambda p: p.stem)
def test_qc_query_finds_no_defect_in_the_ontology(
    query: Path, onto: Graph, onto_store: ox.Store
) -> None:
    text = query.read_text(encoding="utf-8")
    assert rows_rdflib(onto, text) == []
    assert rows_oxigraph(onto_store, text) == []


@pytest.mark.parametrize("query", qc_queries(), ids=lambda p: p.stem)
def test_qc_query_finds_the_defects_of_its_fixture(query: Path) -> None:
    g = Graph()
    g.parse(ONTOLOGY / "claimgraph.ttl", format="turtle")
    g.parse(QC_FIXTURES / f"{query.stem}.ttl", format="turtle")
    text = query.read_text(encoding="utf-8")
    expected = sorted(EXPECTED[query.stem], key=repr)
    assert rows_rdflib(g, text) == expected
    assert rows_oxigraph(oxigraph_store(g), text) == expected


# --------------------------------------------------------------------------------------------
# Curated facts against the official data
# --------------------------------------------------------------------------------------------


def _one(graph: Graph, s: URIRef, p: URIRef) -> object:
    values = list(graph.objects(s, p))
    assert len(values) == 1, f"{s} has {len(values)} values of {p}"
    return values[0]


def _codes_of(graph: Graph, cls: URIRef) -> list[URIRef]:
    return sorted(s for s in graph.subjects(RDF.type, cls) if isinstance(s, URIRef))


def _cms_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return {r["hcpc"]: r for r in csv.DictReader(f)}


def _cms_date(value: str) -> Literal:
    return Literal(dt.date(int(value[:4]), int(value[4:6]), int(value[6:])), datatype=XSD_DATE)


def _assert_descriptors(graph: Graph, code: URIRef, long: str, short: str, added: str) -> None:
    assert str(_one(graph, code, RDFS.label)) == short
    assert str(_one(graph, code, SKOS.definition)) == long
    assert str(_one(graph, code, CG.shortDescriptor)) == short
    assert _one(graph, code, CG.effectiveFrom) == _cms_date(added)


def test_hcpcs_descriptors_are_the_official_cms_text(onto: Graph, shared_data: Path) -> None:
    cms = _cms_rows(shared_data / "hcpcs" / "selected-codes-2025-10.csv")
    codes = _codes_of(onto, CG.HCPCSCode)
    assert HCPCS.E1392 in codes and HCPCS.E0745 in codes
    for code in codes:
        notation = str(_one(onto, code, SKOS.notation))
        row = cms[notation]
        _assert_descriptors(onto, code, row["long"], row["short"], row["add_dt"])
    assert str(_one(onto, HCPCS.E1392, SKOS.definition)) == "Portable oxygen concentrator, rental"
    assert str(_one(onto, HCPCS.E0745, SKOS.definition)) == (
        "Neuromuscular stimulator, electronic shock unit"
    )


def test_modifier_descriptors_are_the_official_cms_text(onto: Graph, shared_data: Path) -> None:
    cms = _cms_rows(shared_data / "hcpcs" / "modifiers-2025-10.csv")
    hcpcs_modifiers = URIRef("https://w3id.org/claimgraph/scheme/hcpcs-modifiers")
    modifiers = [
        m for m in _codes_of(onto, CG.Modifier) if (m, SKOS.inScheme, hcpcs_modifiers) in onto
    ]
    assert len(modifiers) == 19
    for mod in modifiers:
        row = cms[str(_one(onto, mod, SKOS.notation))]
        long, short = row["long"], row["short"]
        if short.startswith(")"):  # the CSV moves RT's closing parenthesis into the short text
            long, short = long + ")", short[1:]
        _assert_descriptors(onto, mod, long, short, row["add_dt"])


def test_icd10cm_curated_facts_match_the_bundled_releases(onto: Graph) -> None:
    """Every curated ICD-10-CM code: label = its title, cg:billable = billable in the latest
    release, and its dates = the billable span of the bundled history (claimgraph.icd)."""
    from claimgraph import icd

    codes = _codes_of(onto, CG.ICD10CMCode)
    assert len(codes) >= 14
    for code in codes:
        notation = str(_one(onto, code, SKOS.notation))
        entry = icd.find(notation)
        assert entry is not None, notation
        assert _one(onto, code, CG.billable) == Literal(entry.billable_now), notation
        assert str(_one(onto, code, RDFS.label)) == entry.title, notation
        span = entry.span(icd.BILLABLE)
        until = onto.value(code, CG.billableUntil)
        assert (until.toPython() if until is not None else None) == (
            span.end if span is not None and span.end else None
        ), notation
        added = onto.value(code, CG.effectiveFrom)
        if added is not None:
            assert span is not None and added.toPython() == span.start, notation
    assert _one(onto, ICD10CM["M54.5"], CG.billable) == Literal(False)
    assert _one(onto, ICD10CM["M54.5"], CG.billableUntil) == Literal(
        dt.date(2021, 9, 30), datatype=XSD_DATE
    )
    assert _one(onto, ICD10CM["M54.59"], CG.billable) == Literal(True)


def test_code_flags_the_rules_read(onto: Graph) -> None:
    def flagged(prop: URIRef) -> set[str]:
        return {str(_one(onto, s, SKOS.notation)) for s in onto.subjects(prop, Literal(True))}

    assert flagged(CG.isRental) == {"E1392", "E0431"}
    assert flagged(CG.isTimed) == {"97032", "97110", "97112"}
    assert flagged(CG.isAttended) == {"97032", "97112"}
    assert (CPT["97812"], None, None) not in onto  # there is no CPT 97812


# The article statements of DOMAIN.md section 1: code -> (agrees?, correct codes per statement).
WRONG = {
    "E2120": [{"E0745"}],
    "E0711": [{"E0766"}],
    "E0745": [{"E0744"}, {"E0720", "E0730"}],
    "E0747": [{"E0720", "E0730"}],
}
RIGHT = ["E1392", "E1390", "E0431", "E0760", "G0283"]


def _statements_about(graph: Graph, notation: str) -> list[URIRef]:
    return sorted(s for s in graph.subjects(CG.aboutCode, HCPCS[notation]) if isinstance(s, URIRef))


def test_wrong_article_descriptions_are_marked_as_disagreeing(onto: Graph) -> None:
    for notation, corrections in WRONG.items():
        statements = _statements_about(onto, notation)
        assert statements, notation
        found = []
        for st in statements:
            assert _one(onto, st, CG.agreesWithOfficial) == Literal(False), st
            assert isinstance(_one(onto, st, DCT.source), URIRef)
            found.append(
                {str(_one(onto, c, SKOS.notation)) for c in onto.objects(st, CG.correctCode)}
            )
        assert sorted(found, key=sorted) == sorted(corrections, key=sorted), notation


def test_right_article_descriptions_are_marked_as_agreeing(onto: Graph) -> None:
    for notation in RIGHT:
        statements = _statements_about(onto, notation)
        assert statements, notation
        for st in statements:
            assert _one(onto, st, CG.agreesWithOfficial) == Literal(True), st


def test_statements_never_replace_the_official_descriptor(onto: Graph) -> None:
    """Every HCPCS code keeps exactly one definition, and it is not an article's wording."""
    stated = {str(o) for o in onto.objects(None, CG.statedDescription)}
    for code in _codes_of(onto, CG.HCPCSCode):
        assert str(_one(onto, code, SKOS.definition)) not in stated


def test_payers_and_documentation_types_match_the_claim_format(onto: Graph) -> None:
    payers = {str(_one(onto, p, SKOS.notation)): p for p in _codes_of(onto, CG.Payer)}
    assert {"medicare", "medicaid", "commercial", "aetna", "bcbs", "tricare", "va"} <= set(payers)
    assert set(payers) == set(payer_ids())
    assert all(iri == payer_iri(n) for n, iri in payers.items())
    assert set(onto.objects(PAYER.aetna, CG.inCategory)) == {PAYER.commercial}
    assert set(onto.objects(PAYER.bcbs, CG.inCategory)) == {PAYER.commercial}
    doctypes = {str(_one(onto, d, SKOS.notation)): d for d in _codes_of(onto, CG.DocumentationType)}
    assert set(doctypes) == document_types()  # what the readers accept
    assert len(doctypes) == 14
    assert all(iri == doctype_iri(n) for n, iri in doctypes.items())


def test_code_schemes_carry_their_fhir_system(onto: Graph) -> None:
    fhir = {
        "hcpcs": "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "cpt": "http://www.ama-assn.org/go/cpt",
        "icd10cm": "http://hl7.org/fhir/sid/icd-10-cm",
        "hcpcs-modifiers": "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "cpt-modifiers": "http://www.ama-assn.org/go/cpt",
    }
    for name, system in fhir.items():
        scheme = URIRef("https://w3id.org/claimgraph/scheme/" + name)
        assert _one(onto, scheme, CG.fhirSystem) == Literal(system, datatype=XSD_ANYURI)


def _triples(pairs: Iterable[tuple[URIRef, URIRef, URIRef]], graph: Graph) -> list[tuple]:
    return [t for t in pairs if t not in graph]


def test_domain_relationships_are_present(onto: Graph) -> None:
    """DOMAIN.md section 5: the relationships every query and export relies on."""
    required = [
        (HCPCS.E0745, CG.confusableWith, HCPCS.E0744),
        (HCPCS.E0745, CG.confusableWith, HCPCS.E0720),
        (HCPCS.E0745, CG.confusableWith, HCPCS.E0730),
        (HCPCS.E0766, CG.confusableWith, HCPCS.E0745),
        (HCPCS.E0766, CG.confusableWith, HCPCS.E0760),
        (HCPCS.E1392, CG.confusableWith, HCPCS.E0431),
        (HCPCS.E1392, CG.confusableWith, HCPCS.E1390),
        (CPT["97014"], CG.medicareEquivalent, HCPCS.G0283),
        (CPT["97112"], CG.preferredAlternative, CPT["97110"]),
        (CPT["64555"], CG.supportingDiagnosis, ICD10CM["M54.59"]),
        (CPT["64555"], CG.supportingDiagnosis, ICD10CM["M79.604"]),
        (CPT["64555"], CG.redFlagDiagnosis, ICD10CM["R52"]),
    ]
    assert _triples(required, onto) == []
    # confusable with is symmetric, and stated in both directions for plain queries
    for s, p, o in required:
        if p == CG.confusableWith:
            assert (o, p, s) in onto
    assert set(onto.objects(HCPCS.E1392, CG.commonDenialReason))
    assert set(onto.objects(HCPCS.E1392, CG.expectsDocumentation)) >= {
        doctype_iri("order"),
        doctype_iri("oxygen-test"),
    }


def test_denial_reasons_are_sourced_per_code(onto: Graph) -> None:
    """Each code's denial reasons cite the article that names them for that code (E1392's come
    from article 002 only), not every article that names the reason."""
    nodes = [n for n in onto.subjects(CG.deniedCode, HCPCS.E1392) if isinstance(n, URIRef)]
    reasons = {_one(onto, n, CG.denialReason) for n in nodes}
    assert reasons == set(onto.objects(HCPCS.E1392, CG.commonDenialReason))
    assert URIRef(DENIAL + "criteria-not-met") in reasons
    assert {_one(onto, n, DCT.source) for n in nodes} == {URIRef(SRC + "article-002-e1392")}
