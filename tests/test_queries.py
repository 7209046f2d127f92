"""Named queries: exact rows on fixture graphs, on rdflib and on pyoxigraph; headers; refusals."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, Literal, URIRef

from claimgraph import query as Q
from claimgraph.errors import QueryError
from claimgraph.resources import data_dir, turtle_files
from termnorm import norm as norm_rdflib

KG = Path(__file__).parent / "data" / "kg"


def fixture_files(name: str) -> list[Path]:
    return [KG / "payers.ttl", KG / f"{name}.ttl"]


def rdflib_graph(files: list[Path]) -> Graph:
    g = Graph()
    for f in files:
        g.parse(f, format="turtle")
    return g


def norm_ox(term: Any) -> tuple[str, ...] | None:
    import pyoxigraph as ox

    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode",)
    if term.language:
        return ("lit", term.value, "@" + term.language.lower())
    return ("lit", term.value, term.datatype.value)


def run_rdflib(name: str, files: list[Path], params: dict[str, str]) -> list[tuple]:
    result = Q.run_named(name, params, rdflib_graph(files))
    return [tuple(norm_rdflib(v) for v in row) for row in result.rows]


def run_oxigraph(name: str, files: list[Path], params: dict[str, str]) -> list[tuple]:
    """The same query text on pyoxigraph; parameters bound with `substitutions=`."""
    import pyoxigraph as ox

    store = ox.Store()
    for f in files:
        store.load(path=str(f), format=ox.RdfFormat.TURTLE)
    q = Q.get_query(name)
    terms = Q.bind_params(params, q.params, rdflib_graph(files))
    subs = {ox.Variable(k): ox.NamedNode(str(v)) for k, v in terms.items()}
    solutions = store.query(q.text, substitutions=subs)
    names = [v.value for v in solutions.variables]
    return [tuple(norm_ox(sol[n]) for n in names) for sol in solutions]


def readable(rows: list[tuple]) -> list[tuple[str, ...]]:
    """Normalised rows as people write them: prefixed IRIs, lexical forms, '' for unbound."""
    out = []
    for row in rows:
        cells = []
        for v in row:
            if v is None:
                cells.append("")
            elif v[0] == "iri":
                cells.append(Q.compact(URIRef(v[1])))
            else:
                cells.append(v[1])
        out.append(tuple(cells))
    return sorted(out)


# (query, fixture, params, exact expected rows in the query's column order)
CASES: list[tuple[str, str, dict[str, str], list[tuple[str, ...]]]] = [
    (
        "rules-for-code",
        "rules-for-code",
        {"code": "E1392", "payer": "aetna"},
        [
            (
                "hcpcs:E1392",
                "payer:aetna",
                "T-AETNA",
                "Warning",
                "aetna until",
                "",
                "2025-10-29",
                "",
                "",
            ),
            (
                "hcpcs:E1392",
                "payer:aetna",
                "T-ALL",
                "Violation",
                "every payer",
                "",
                "",
                "src:s1",
                "Source one",
            ),
            ("hcpcs:E1392", "payer:aetna", "T-COM", "Info", "commercial", "", "", "", ""),
            ("hcpcs:E1392", "payer:aetna", "T-NOTMCR", "Info", "all but medicare", "", "", "", ""),
        ],
    ),
    (
        "rules-for-code",
        "rules-for-code",
        {"code": "E1392", "payer": "medicare"},
        [
            (
                "hcpcs:E1392",
                "payer:medicare",
                "T-ALL",
                "Violation",
                "every payer",
                "",
                "",
                "src:s1",
                "Source one",
            ),
            (
                "hcpcs:E1392",
                "payer:medicare",
                "T-MCR",
                "Warning",
                "medicare only",
                "",
                "",
                "src:s1",
                "Source one",
            ),
            (
                "hcpcs:E1392",
                "payer:medicare",
                "T-MCR",
                "Warning",
                "medicare only",
                "",
                "",
                "src:s2",
                "",
            ),
            (
                "hcpcs:E1392",
                "payer:medicare",
                "T-NOTCOM",
                "Warning",
                "not commercial",
                "",
                "",
                "",
                "",
            ),
        ],
    ),
    (
        "rules-for-code",
        "rules-for-code",
        {"code": "E1392", "payer": "medicaid"},
        [
            (
                "hcpcs:E1392",
                "payer:medicaid",
                "T-ALL",
                "Violation",
                "every payer",
                "",
                "",
                "src:s1",
                "Source one",
            ),
            (
                "hcpcs:E1392",
                "payer:medicaid",
                "T-NOTCOM",
                "Warning",
                "not commercial",
                "",
                "",
                "",
                "",
            ),
            (
                "hcpcs:E1392",
                "payer:medicaid",
                "T-NOTMCR",
                "Info",
                "all but medicare",
                "",
                "",
                "",
                "",
            ),
        ],
    ),
    (
        "modifiers",
        "modifiers",
        {"code": "E1392", "payer": "medicare"},
        [
            (
                "hcpcs:E1392",
                "payer:medicare",
                "GA",
                "required",
                "T-MOD",
                "Violation",
                "src:s1",
                "Source one",
            ),
            (
                "hcpcs:E1392",
                "payer:medicare",
                "KX",
                "required",
                "T-MOD",
                "Violation",
                "src:s1",
                "Source one",
            ),
            ("hcpcs:E1392", "payer:medicare", "NU", "forbidden", "T-RENT", "Violation", "", ""),
            ("hcpcs:E1392", "payer:medicare", "RR", "required", "T-RENT", "Violation", "", ""),
        ],
    ),
    (
        "modifiers",
        "modifiers",
        {"code": "E1392", "payer": "bcbs"},
        [("hcpcs:E1392", "payer:bcbs", "GA", "forbidden", "T-COM", "Warning", "", "")],
    ),
    (
        "documentation-checklist",
        "documentation-checklist",
        {"code": "E1392", "payer": "aetna"},
        [
            (
                "hcpcs:E1392",
                "payer:aetna",
                "doctype:order",
                "signed order",
                "expected for the code",
                "",
                "",
                "",
                "",
            ),
            (
                "hcpcs:E1392",
                "payer:aetna",
                "doctype:order",
                "signed order",
                "rule",
                "T-ORDER",
                "Violation",
                "src:s1",
                "Source one",
            ),
            (
                "hcpcs:E1392",
                "payer:aetna",
                "doctype:prior-authorization",
                "prior authorization",
                "rule",
                "T-PA",
                "Warning",
                "",
                "",
            ),
        ],
    ),
    (
        "documentation-checklist",
        "documentation-checklist",
        {"code": "E1392", "payer": "medicare"},
        [
            (
                "hcpcs:E1392",
                "payer:medicare",
                "doctype:order",
                "signed order",
                "expected for the code",
                "",
                "",
                "",
                "",
            ),
            (
                "hcpcs:E1392",
                "payer:medicare",
                "doctype:order",
                "signed order",
                "rule",
                "T-ORDER",
                "Violation",
                "src:s1",
                "Source one",
            ),
            (
                "hcpcs:E1392",
                "payer:medicare",
                "doctype:oxygen-test",
                "",
                "rule",
                "T-TEST",
                "Violation",
                "",
                "",
            ),
        ],
    ),
    (
        "code-card",
        "code-card",
        {"code": "E1392"},
        [
            (
                "hcpcs:E1392",
                "E1392",
                "scheme:hcpcs",
                "HCPCS Level II",
                "Portable concentrator",
                "Portable concentrator, rental",
                "Port conc",
                "2006-01-01",
                "",
                "",
                "",
                "true",
                "",
                "",
                "src:cms",
                "HCPCS file",
            ),
            (
                "hcpcs:E1392",
                "E1392",
                "scheme:hcpcs",
                "HCPCS Level II",
                "Portable concentrator",
                "Portable concentrator, rental",
                "Port conc",
                "2006-01-01",
                "",
                "",
                "",
                "true",
                "",
                "",
                "src:untitled",
                "",
            ),
        ],
    ),
    (
        "code-card",
        "code-card",
        {"code": "M54.5"},
        [
            (
                "icd10cm:M54.5",
                "M54.5",
                "",
                "",
                "",
                "Low back pain",
                "",
                "",
                "",
                "false",
                "2021-09-30",
                "",
                "",
                "",
                "",
                "",
            )
        ],
    ),
    (
        "denial-reasons",
        "denial-reasons",
        {"code": "E1392"},
        [
            (
                "hcpcs:E1392",
                "denial:missing-modifier",
                "missing modifier",
                "the line lacks a modifier the payer expects",
                "src:s1",
                "Article one",
            ),
            (
                "hcpcs:E1392",
                "denial:no-prior-authorization",
                "no-prior-authorization",
                "no authorization on file",
                "",
                "",
            ),
        ],
    ),
    (
        "related-codes",
        "related-codes",
        {"code": "E0745"},
        [
            ("hcpcs:E0745", "confusable with", "hcpcs:E0720", "E0720", "", "", "", ""),
            (
                "hcpcs:E0745",
                "confusable with",
                "hcpcs:E0744",
                "E0744",
                "Stimulator for scoliosis",
                "scoliosis device",
                "src:s1",
                "Article one",
            ),
            ("hcpcs:E0745", "confusable with", "hcpcs:E0766", "E0766", "", "cancer device", "", ""),
            ("hcpcs:E0745", "preferredAlternative", "cpt:97110", "97110", "", "", "", ""),
        ],
    ),
    (
        "related-codes",
        "related-codes",
        {"code": "97014"},
        [
            (
                "cpt:97014",
                "medicare equivalent",
                "hcpcs:G0283",
                "G0283",
                "",
                "Medicare code",
                "src:s1",
                "Article one",
            )
        ],
    ),
    ("related-codes", "related-codes", {"code": "G0283"}, []),
    (
        "diagnoses",
        "diagnoses",
        {"code": "64555"},
        [
            (
                "cpt:64555",
                "red flag",
                "icd10cm:R52",
                "R52",
                "Pain, unspecified",
                "too vague",
                "src:s1",
                "Article three",
            ),
            (
                "cpt:64555",
                "supporting",
                "icd10cm:M54.59",
                "M54.59",
                "Other low back pain",
                "specific diagnosis",
                "src:s1",
                "Article three",
            ),
            ("cpt:64555", "supporting", "icd10cm:M79.604", "M79.604", "", "", "", ""),
        ],
    ),
    (
        "article-disagreements",
        "article-disagreements",
        {},
        [
            (
                "hcpcs:E0745",
                "E0745",
                "Neuromuscular stimulator",
                "a scoliosis unit",
                "hcpcs:E0744",
                "E0744",
                "Stimulator for scoliosis",
                "src:a0",
                "Article zero",
            ),
            (
                "hcpcs:E0745",
                "E0745",
                "Neuromuscular stimulator",
                "a scoliosis unit",
                "hcpcs:E0744",
                "E0744",
                "Stimulator for scoliosis",
                "src:a1",
                "Article one",
            ),
            (
                "hcpcs:E2120",
                "E2120",
                "Pulse generator for the inner ear",
                "an NMES unit",
                "hcpcs:E0745",
                "E0745",
                "Neuromuscular stimulator",
                "src:a0",
                "Article zero",
            ),
        ],
    ),
    (
        "article-disagreements",
        "article-disagreements",
        {"code": "E2120"},
        [
            (
                "hcpcs:E2120",
                "E2120",
                "Pulse generator for the inner ear",
                "an NMES unit",
                "hcpcs:E0745",
                "E0745",
                "Neuromuscular stimulator",
                "src:a0",
                "Article zero",
            )
        ],
    ),
    (
        "rules-by-source",
        "rules-by-source",
        {},
        [
            ("src:art", "", "T-1", "Violation", "one"),
            ("src:ncd", "NCD", "T-1", "Violation", "one"),
            ("src:ncd", "NCD", "T-2", "Info", ""),
        ],
    ),
    (
        "rules-by-source",
        "rules-by-source",
        {"source": "art"},
        [("src:art", "", "T-1", "Violation", "one")],
    ),
    (
        "rules-by-carc",
        "rules-by-carc",
        {},
        [
            (
                "16",
                "information missing",
                "N29",
                "documentation missing",
                "CO",
                "T-1",
                "Violation",
                "one",
            ),
            ("4", "", "", "", "CO", "T-2", "Warning", ""),
        ],
    ),
    (
        "code-group-members",
        "code-group-members",
        {"group": "neuro"},
        [
            ("group:neuro", "cord", "S14.0-S14.1", "cord", "", ""),
            ("group:neuro", "stroke", "I60-I69", "stroke", "src:bulletin", "A bulletin"),
        ],
    ),
    (
        "code-group-members",
        "code-group-members",
        {},
        [
            ("group:cord", "cord", "S14.0-S14.1", "cord", "", ""),
            ("group:neuro", "cord", "S14.0-S14.1", "cord", "", ""),
            ("group:neuro", "stroke", "I60-I69", "stroke", "src:bulletin", "A bulletin"),
            ("group:stroke", "stroke", "I60-I69", "stroke", "src:bulletin", "A bulletin"),
            ("group:tens", "tens", "E0720", "", "", ""),
            ("group:vague", "vague", "R52", "", "", ""),
            ("group:vague", "vague", "title says: unspecified", "", "", ""),
        ],
    ),
    (
        "prior-authorization",
        "prior-authorization",
        {},
        [
            (
                "cpt:97112",
                "97112",
                "",
                "T-AETNA",
                "payer:aetna",
                "Info",
                "src:aetna",
                "Aetna bulletin",
            ),
            ("hcpcs:E0745", "E0745", "", "T-PA", "payer:commercial", "Warning", "", ""),
            (
                "hcpcs:E1392",
                "E1392",
                "Portable concentrator",
                "T-PA",
                "payer:commercial",
                "Warning",
                "",
                "",
            ),
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "fixture", "params", "expected"),
    CASES,
    ids=[f"{c[0]}-{'-'.join(c[2].values()) or 'all'}" for c in CASES],
)
def test_named_query_rows(name: str, fixture: str, params: dict, expected: list) -> None:
    files = fixture_files(fixture)
    rows = run_rdflib(name, files, params)
    assert readable(rows) == sorted(expected)
    # the same text gives the same rows (terms, datatypes, languages) on pyoxigraph
    assert sorted(run_oxigraph(name, files, params), key=repr) == sorted(rows, key=repr)


def test_every_named_query_has_a_fixture_case() -> None:
    assert {c[0] for c in CASES} == set(Q.named_queries())


def test_rules_without_payer_list_every_payer() -> None:
    rows = readable(
        run_rdflib("rules-for-code", fixture_files("rules-for-code"), {"code": "E1392"})
    )
    by_rule: dict[str, set[str]] = {}
    for row in rows:
        by_rule.setdefault(row[2], set()).add(row[1].removeprefix("payer:"))
    assert by_rule == {
        "T-ALL": {"medicare", "medicaid", "commercial", "aetna", "bcbs"},
        "T-MCR": {"medicare"},
        "T-COM": {"commercial", "aetna", "bcbs"},
        "T-NOTMCR": {"medicaid", "commercial", "aetna", "bcbs"},
        "T-NOTCOM": {"medicare", "medicaid"},
        "T-AETNA": {"aetna"},
    }


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize("path", sorted(data_dir("queries").glob("*.rq")), ids=lambda p: p.stem)
def test_header_is_valid(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    title, description, params = Q.parse_header(text, str(path))
    assert title and description
    assert text.startswith("# title:")
    projected = set(re.findall(r"\?(\w+)", text.split("WHERE")[0].split("SELECT", 1)[-1]))
    for p in params:
        assert re.search(r"e\.g\. \S", p.text), f"{p.name}: the param text gives no example"
        # bound parameters are projected (pyoxigraph substitutions need them in the projection)
        assert p.name in projected
    Q.check(text)  # parses, read-only


def test_header_errors() -> None:
    with pytest.raises(QueryError, match="title"):
        Q.parse_header("# description: x\nSELECT * {}")
    with pytest.raises(QueryError, match="param"):
        Q.parse_header("# title: t\n# description: d\n# param: code maybe\nSELECT * {}")


# --------------------------------------------------------------------------- refusals and errors

REFUSED = {
    "insert": "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "delete": "DELETE WHERE { ?s ?p ?o }",
    "load": "LOAD <http://example.org/data.ttl>",
    "clear": "CLEAR ALL",
    "drop": "DROP GRAPH <urn:g>",
    "service": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "service-mixed-case": "SELECT * WHERE { sErViCe <http://example.org/sparql> { ?s ?p ?o } }",
    "service-in-exists": (
        "SELECT ?s WHERE { ?s ?p ?o FILTER EXISTS { SERVICE SILENT <http://x.org/> { ?s ?p ?o } } }"
    ),
    "service-in-subquery": (
        "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <http://x.org/> { ?s ?p ?o } } } }"
    ),
    "from": "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }",
    "from-named": "SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "construct-from": "CONSTRUCT { ?s ?p ?o } FROM <http://example.org/g> WHERE { ?s ?p ?o }",
}


@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_refused(text: str) -> None:
    g = Graph()
    with pytest.raises(QueryError) as info:
        Q.run(text, {}, g)
    assert "\n" not in str(info.value)
    assert len(g) == 0


def test_text_that_only_looks_like_service_is_allowed() -> None:
    g = Graph()
    g.add((URIRef("urn:a"), URIRef("urn:serviceDate"), Literal("SERVICE <x> FROM <y>")))
    text = 'SELECT ?o WHERE { ?s <urn:serviceDate> ?o FILTER (CONTAINS(?o, "SERVICE")) } # FROM <z>'
    assert Q.run(text, {}, g).rows == [(Literal("SERVICE <x> FROM <y>"),)]


def test_syntax_error_gives_line_and_column() -> None:
    text = "SELECT ?s\nWHERE {\n  ?s ?p ?o .\n  FILTER (?s = )\n}"
    with pytest.raises(QueryError) as info:
        Q.run(text, {}, Graph())
    assert info.value.position is not None
    line, col = info.value.position.split(":")
    assert 1 <= int(line) <= 5 and int(col) >= 1
    assert re.search(r":\d+:\d+: ", str(info.value))


def test_syntax_error_position_points_at_the_error() -> None:
    with pytest.raises(QueryError) as info:
        Q.check("SELECT ?s WHERE {\n  ?s ?p ?o\n  ?? }")
    assert info.value.position == "3:3"


def test_parameters() -> None:
    g = rdflib_graph(fixture_files("rules-for-code"))
    with pytest.raises(QueryError, match="missing required parameter 'code'"):
        Q.run_named("rules-for-code", {}, g)
    with pytest.raises(QueryError, match="unknown parameter 'colour'"):
        Q.run_named("rules-for-code", {"code": "E1392", "colour": "red"}, g)
    with pytest.raises(QueryError, match="no named query"):
        Q.get_query("no-such-query")


@pytest.mark.parametrize(
    ("name", "value", "iri"),
    [
        ("code", "E1392", "https://w3id.org/claimgraph/code/hcpcs/E1392"),
        ("code", "97112", "https://w3id.org/claimgraph/code/cpt/97112"),
        ("code", "M54.59", "https://w3id.org/claimgraph/code/icd10cm/M54.59"),
        ("code", "hcpcs:E0431", "https://w3id.org/claimgraph/code/hcpcs/E0431"),
        ("diagnosis", "M5459", "https://w3id.org/claimgraph/code/icd10cm/M54.59"),
        ("payer", "Medicare", "https://w3id.org/claimgraph/payer/medicare"),
        ("modifier", "kx", "https://w3id.org/claimgraph/modifier/KX"),
        ("source", "ncd-240-2", "https://w3id.org/claimgraph/source/ncd-240-2"),
        ("topic", "oxygen", "https://w3id.org/claimgraph/topic/oxygen"),
    ],
)
def test_param_terms(name: str, value: str, iri: str) -> None:
    assert Q.param_term(name, value) == URIRef(iri)


def test_other_params_are_literals_and_never_pasted() -> None:
    g = Graph()
    g.add((URIRef("urn:a"), URIRef("urn:p"), Literal("x")))
    text = (
        "# title: t\n# description: d\n# param: v (required) a value, e.g. x\n"
        "SELECT ?v ?s WHERE { ?s <urn:p> ?v }"
    )
    assert Q.run(text, {"v": "x"}, g).rows == [(Literal("x"), URIRef("urn:a"))]
    assert Q.run(text, {"v": '"} ?s ?p ?o {'}, g).rows == []


def test_code_param_prefers_a_code_the_graph_knows() -> None:
    g = Graph()
    g.add(
        (
            URIRef("https://w3id.org/claimgraph/code/icd10cm/M54.59"),
            URIRef("http://www.w3.org/2004/02/skos/core#notation"),
            Literal("M54.59"),
        )
    )
    assert Q.code_iri("M5459", g) == URIRef("https://w3id.org/claimgraph/code/icd10cm/M54.59")
    assert Q.code_iri("M5459") == URIRef("https://w3id.org/claimgraph/code/hcpcs/M5459")


def test_ask_and_construct() -> None:
    g = rdflib_graph(fixture_files("code-card"))
    ask = Q.run('ASK { ?c <http://www.w3.org/2004/02/skos/core#notation> "E1392" }', {}, g)
    assert ask.kind == "ask" and ask.boolean is True
    built = Q.run(
        "CONSTRUCT { ?c <urn:seen> true }"
        " WHERE { ?c <http://www.w3.org/2004/02/skos/core#notation> ?n }",
        {},
        g,
    )
    assert built.kind == "graph" and built.graph is not None and len(built.graph) == 3


# --------------------------------------------------------------------------- the shipped graph


def _shipped_rows(name: str, params: dict[str, str]) -> list[tuple[str, ...]]:
    return readable([tuple(norm_rdflib(v) for v in row) for row in Q.run_named(name, params).rows])


def test_shipped_rules_for_e1392_medicare_include_oxy01() -> None:

    rows = _shipped_rows("rules-for-code", {"code": "E1392", "payer": "medicare"})
    ids = {r[2] for r in rows}
    assert "OXY-01" in ids
    assert all(r[1] == "payer:medicare" for r in rows)
    # OXY-08 is for commercial payers: Aetna (a commercial payer) gets it, Medicare not
    assert "OXY-08" not in ids
    aetna = _shipped_rows("rules-for-code", {"code": "E1392", "payer": "aetna"})
    assert "OXY-08" in {r[2] for r in aetna}
    assert "OXY-01" not in {r[2] for r in aetna}


def test_shipped_code_card_e1392() -> None:
    rows = _shipped_rows("code-card", {"code": "E1392"})
    assert rows
    assert {r[5] for r in rows} == {"Portable oxygen concentrator, rental"}


def test_shipped_disagreements_name_the_correct_codes() -> None:
    rows = _shipped_rows("article-disagreements", {})
    assert rows
    pairs = {(r[1], r[5]) for r in rows}
    assert ("E2120", "E0745") in pairs
    assert ("E0711", "E0766") in pairs


def _example(text: str) -> str:
    m = re.search(r"e\.g\. (\S+?)[;,]?(\s|$)", text)
    assert m
    return m.group(1)


@pytest.mark.parametrize("name", sorted(Q.named_queries()))
def test_shipped_graph_same_rows_on_both_engines(name: str) -> None:
    """Each named query, with its header's example values, on the bundled graph: equal rows."""
    files = turtle_files("ontology") + turtle_files("shapes")
    q = Q.named_queries()[name]
    params = {p.name: _example(p.text) for p in q.params if p.required}
    rows = run_rdflib(name, files, params)
    assert sorted(run_oxigraph(name, files, params), key=repr) == sorted(rows, key=repr)


@pytest.mark.parametrize("payer", [None, "medicare", "aetna"])
def test_code_card_same_on_both_engines(payer: str | None) -> None:
    """The card reads pyoxigraph by default; rdflib must give the same card."""
    from claimgraph.card import build_card
    from claimgraph.knowledge import Knowledge

    codes = ["E1392", "E0745", "E2120", "E0711", "64555", "97112", "97014", "G0283", "M54.5"]
    graph = Knowledge.bundled().graph
    present = [c for c in codes if (Q.code_iri(c, graph), None, None) in graph]
    assert present == codes
    for code in present:
        on_oxigraph = build_card(code, payer, store=Knowledge.bundled().store).as_dict()
        on_rdflib = build_card(code, payer, graph=graph).as_dict()
        assert _sorted_card(on_oxigraph) == _sorted_card(on_rdflib), code


def _sorted_card(card: dict) -> dict:
    """Row order inside a card section follows engine order; compare sections as sorted lists."""
    out = {}
    for key, value in card.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            value = sorted(
                ({k: sorted(v) if isinstance(v, list) else v for k, v in e.items()} for e in value),
                key=repr,
            )
        elif isinstance(value, list):
            value = sorted(value)
        out[key] = value
    return out


def test_graph_cache_roundtrip_is_private_and_refuses_foreign_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import stat

    from claimgraph import kg

    monkeypatch.setenv("CLAIMGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CLAIMGRAPH_NO_CACHE", raising=False)
    files = fixture_files("code-card")
    target = kg._cache_file(files)
    assert target is not None and target.parent == tmp_path / "cache"
    g = rdflib_graph(files)
    kg._write_cache(target, g)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    again = kg._read_cache(target)
    assert isinstance(again, Graph) and set(again) == set(g)
    os.chmod(target, 0o622)  # writable by others: never loaded
    assert kg._read_cache(target) is None
    os.chmod(target, 0o600)
    target.write_bytes(b"not a pickle")
    assert kg._read_cache(target) is None
    # the key follows the bundled files: another file set, another cache file
    assert kg._cache_file(fixture_files("modifiers")) != target
    monkeypatch.setenv("CLAIMGRAPH_NO_CACHE", "1")
    assert kg._cache_file(files) is None
