"""The same claims in every input format give the same claim graph (isomorphic).

tests/data/formats/claims.json is the reference; every other file there writes the same four
claims in its own format. X12 carries fewer facts (no body site, description or most
documents), so claims.837 is compared with claims.x12-subset.json, which lists what it carries.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.compare import graph_diff, isomorphic

from claimgraph.ingest import read_claims, to_graph
from claimgraph.namespaces import CG

FORMATS = Path(__file__).parent / "data" / "formats"


def graph_of(*paths: Path, **kwargs: object) -> Graph:
    return to_graph(read_claims(list(paths), **kwargs))  # type: ignore[arg-type]


def by_claim_id(g: Graph) -> Graph:
    """`g` with each claim's IRI (a hash of where it came from) renamed after its claim id, so
    graphs read from different files compare."""
    from rdflib import URIRef

    from claimgraph.namespaces import CG, CLAIM

    names = {str(c): f"{CLAIM}{g.value(c, CG.claimId)}" for c in g.subjects(CG.claimId, None)}

    def rename(t: object) -> object:
        if isinstance(t, URIRef) and str(t).startswith(str(CLAIM)):
            head, sep, rest = str(t)[len(str(CLAIM)) :].partition("/")
            return URIRef(names.get(f"{CLAIM}{head}", str(t)) + sep + rest)
        return t

    out = Graph()
    for s, p, o in g:
        out.add((rename(s), p, rename(o)))  # type: ignore[arg-type]
    return out


def assert_same(expected: Graph, actual: Graph) -> None:
    expected, actual = by_claim_id(expected), by_claim_id(actual)
    if not isomorphic(expected, actual):
        _, only_expected, only_actual = graph_diff(expected, actual)
        pytest.fail(
            "graphs differ:\n"
            + "\n".join(f"- {t}" for t in sorted(only_expected))
            + "\n"
            + "\n".join(f"+ {t}" for t in sorted(only_actual))
        )


@pytest.fixture(scope="module")
def reference() -> Graph:
    g = graph_of(FORMATS / "claims.json")
    assert len(g) > 100  # the fixture really holds claims, lines and documents
    return g


@pytest.mark.parametrize(
    "name", ["claims.csv", "claims.ttl", "claims.nt", "claims.jsonld", "claims.fhir.json"]
)
def test_format_gives_the_reference_graph(name: str, reference: Graph) -> None:
    assert_same(reference, graph_of(FORMATS / name))


def test_csv_with_documents_given_explicitly(tmp_path: Path, reference: Graph) -> None:
    claims = tmp_path / "batch.csv"  # no batch.documents.csv next to it
    claims.write_bytes((FORMATS / "claims.csv").read_bytes())
    assert not isomorphic(reference, graph_of(claims))  # documents missing
    docs = FORMATS / "claims.documents.csv"
    assert_same(reference, graph_of(claims, documents=docs))


def test_json_lines_gives_the_reference_graph(tmp_path: Path, reference: Graph) -> None:
    data = json.loads((FORMATS / "claims.json").read_text())
    jsonl = tmp_path / "claims.jsonl"
    jsonl.write_text("\n".join(json.dumps(c) for c in data["claims"]) + "\n\n")
    assert_same(reference, graph_of(jsonl))


def test_x12_gives_the_facts_it_can_carry() -> None:
    x12 = graph_of(FORMATS / "claims.837")
    assert set(x12.objects(None, CG.unitBasis)) == {Literal("UN")}  # SV103, implicit in JSON
    x12.remove((None, CG.unitBasis, None))
    assert_same(graph_of(FORMATS / "claims.x12-subset.json"), x12)


def test_x12_subset_is_the_reference_without_what_x12_cannot_carry() -> None:
    """The subset file is the reference minus body site, description and documents."""
    full = json.loads((FORMATS / "claims.json").read_text())["claims"]
    subset = json.loads((FORMATS / "claims.x12-subset.json").read_text())["claims"]
    for f, s in zip(full, subset, strict=True):
        assert {k: f[k] for k in ("id", "payer", "patient", "diagnoses")} == {
            k: s[k] for k in ("id", "payer", "patient", "diagnoses")
        }
        for fl, sl in zip(f["lines"], s["lines"], strict=True):
            assert {k: v for k, v in fl.items() if k not in ("body_site", "description")} == sl


def test_convert_output_reads_back_to_the_same_graph(tmp_path: Path, reference: Graph) -> None:
    from claimgraph.cli.convert import RdfFormat, write_rdf
    from claimgraph.ingest import read_claims

    for fmt, suffix in ((RdfFormat.turtle, ".ttl"), (RdfFormat.ntriples, ".nt"),
                        (RdfFormat.jsonld, ".jsonld")):  # fmt: skip
        out = tmp_path / f"out{suffix}"
        with out.open("w") as f:
            assert write_rdf(read_claims([FORMATS / "claims.json"]), fmt, f) == 4
        assert_same(reference, graph_of(out))
