"""`claimgraph export`: every format read back by a real consumer (csv, json, networkx, rdflib),
compared with the bundled graph; stable output; atomic, symlink-safe writing."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from typer.testing import CliRunner

from claimgraph import export as X
from claimgraph.cli import app
from claimgraph.knowledge import Knowledge

CG = "https://w3id.org/claimgraph/ontology/"
HCPCS = "https://w3id.org/claimgraph/code/hcpcs/"
PREFIXES = f"""
PREFIX cg: <{CG}>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
RDF_FORMATS = {"turtle": "turtle", "nt": "nt", "jsonld": "json-ld"}


def run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["export", *args])
    return result.exit_code, result.stdout, result.stderr


def graph_relationships() -> set[tuple[str, str, str]]:
    """(subject notation, relation IRI, object notation) of every stated relationship."""
    rows = Knowledge.bundled().graph.query(
        PREFIXES
        + """SELECT ?s ?rel ?o WHERE {
            ?st a cg:CodeRelationship ; cg:subjectCode/skos:notation ?s ; cg:relation ?rel ;
                cg:objectCode/skos:notation ?o }"""
    )
    return {(str(s), str(rel), str(o)) for s, rel, o in rows}


def label(iri: str) -> str:
    return str(
        Knowledge.bundled().graph.value(
            URIRef(iri), URIRef("http://www.w3.org/2000/01/rdf-schema#label")
        )
    )


# --------------------------------------------------------------------------- relations


def test_relations_csv_edge_list(runner: CliRunner) -> None:
    code, out, _ = run(runner, "relations", "--format", "csv")
    assert code == 0
    reader = csv.DictReader(io.StringIO(out))
    assert tuple(reader.fieldnames or ()) == (
        "source_code", "relation", "target_code", "reason", "source", "source_title"
    )  # fmt: skip
    rows = list(reader)
    expected = graph_relationships()
    assert len(rows) == len(expected) > 0
    assert {(r["source_code"], r["relation"], r["target_code"]) for r in rows} == {
        (s, label(rel), o) for s, rel, o in expected
    }
    confusable = [r for r in rows if (r["source_code"], r["target_code"]) == ("E0745", "E0744")]
    assert len(confusable) == 1
    row = confusable[0]
    assert row["relation"] == label(CG + "confusableWith")
    assert "scoliosis" in row["reason"]
    assert "article-000-e2120" in row["source"].split()
    assert row["source_title"]
    assert all(r["reason"] and r["source"] for r in rows), (
        "every relationship has reason and source"
    )


def test_relations_json(runner: CliRunner) -> None:
    code, out, _ = run(runner, "relations", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    rels = doc["relationships"]
    assert {(r["source_code"], r["relation_iri"], r["target_code"]) for r in rels} == (
        graph_relationships()
    )
    codes = {c["id"]: c for c in doc["codes"]}
    assert codes["hcpcs:E0745"]["scheme"] == "hcpcs"
    assert codes["hcpcs:E0745"]["iri"] == HCPCS + "E0745"
    assert codes["hcpcs:E0744"]["label"] == label(HCPCS + "E0744")
    assert {r["source"] for r in rels} | {r["target"] for r in rels} == set(codes)


def test_relations_graphml_reads_in_networkx(runner: CliRunner, tmp_path: Path) -> None:
    nx = pytest.importorskip("networkx")
    target = tmp_path / "relations.graphml"
    code, _, err = run(runner, "relations", "-o", str(target))  # format from the suffix
    assert code == 0, err
    g = nx.read_graphml(target)
    assert g.is_directed()
    expected = graph_relationships()
    assert g.number_of_edges() == len(expected)
    node = g.nodes["hcpcs:E0745"]
    assert node["label"] == node["code"] == "E0745"  # viewers show `label`: the code
    assert node["scheme"] == "hcpcs"
    assert node["descriptor"] == label(HCPCS + "E0745")
    assert node["iri"] == HCPCS + "E0745"
    edges = g.get_edge_data("hcpcs:E0745", "hcpcs:E0744")
    edges = edges.values() if g.is_multigraph() else [edges]
    (edge,) = [e for e in edges if e["relation"] == label(CG + "confusableWith")]
    assert edge["label"] == edge["relation"]
    assert "scoliosis" in edge["reason"]
    assert "article-000-e2120" in edge["source"].split()
    triples = {
        (g.nodes[s]["code"], d["relation"], g.nodes[t]["code"]) for s, t, d in (g.edges(data=True))
    }
    assert triples == {(s, label(rel), o) for s, rel, o in expected}


@pytest.mark.parametrize("fmt", sorted(RDF_FORMATS))
def test_relations_rdf_formats_parse_back(runner: CliRunner, fmt: str) -> None:
    code, out, _ = run(runner, "relations", "--format", fmt)
    assert code == 0
    parsed = Graph().parse(data=out, format=RDF_FORMATS[fmt])
    kg = Knowledge.bundled().graph
    assert len(parsed) > 0
    assert all(t in kg for t in parsed), "every exported triple is in the knowledge graph"
    statement = URIRef("https://w3id.org/claimgraph/relation/E0745-confusableWith-E0744")
    assert (statement, URIRef(CG + "objectCode"), URIRef(HCPCS + "E0744")) in parsed
    assert (URIRef(HCPCS + "E0744"), URIRef("http://www.w3.org/2004/02/skos/core#notation"),
            Literal("E0744")) in parsed  # fmt: skip
    assert isomorphic(parsed, X.relations_graph(kg))


# --------------------------------------------------------------------------- whole graph


@pytest.mark.parametrize("fmt", sorted(RDF_FORMATS))
def test_graph_export_is_the_knowledge_graph(runner: CliRunner, fmt: str) -> None:
    code, out, _ = run(runner, "graph", "--format", fmt)
    assert code == 0
    if fmt == "jsonld":
        context = json.loads(out)["@context"]
        assert isinstance(context, dict), "the JSON-LD context is inline, never fetched"
    parsed = Graph().parse(data=out, format=RDF_FORMATS[fmt])
    assert len(parsed) == len(Knowledge.bundled().graph)
    assert isomorphic(parsed, Knowledge.bundled().graph)


def test_nt_export_is_sorted_lines(runner: CliRunner) -> None:
    _, out, _ = run(runner, "graph", "--format", "nt")
    lines = out.splitlines()
    assert lines == sorted(set(lines))


def test_graph_export_is_stable_across_processes(tmp_path: Path) -> None:
    """Same graph, same bytes, whatever the hash seed (blank nodes, set order)."""
    outputs = []
    for seed in ("1", "2"):
        target = tmp_path / f"kg-{seed}.ttl"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        code = "from claimgraph.cli import main; main()"
        subprocess.run(
            [sys.executable, "-c", code, "export", "graph", "-o", str(target)],
            env=env,
            check=True,
            timeout=120,
            capture_output=True,
        )
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0].startswith(b"@prefix")


# --------------------------------------------------------------------------- rules


def graph_rules() -> dict[str, tuple[str, set[str]]]:
    rows = Knowledge.bundled().graph.query(
        PREFIXES
        + """SELECT ?id ?sev ?payer WHERE {
            ?r a cg:Rule ; dct:identifier ?id ; sh:severity ?sev .
            OPTIONAL { ?r cg:appliesToPayer ?payer } }"""
    )
    out: dict[str, tuple[str, set[str]]] = {}
    for rid, sev, payer in rows:
        entry = out.setdefault(str(rid), (str(sev).rsplit("#", 1)[1].lower(), set()))
        if payer is not None:
            entry[1].add(str(payer).rsplit("/", 1)[1])
    return out


def test_rules_csv(runner: CliRunner) -> None:
    code, out, _ = run(runner, "rules")
    assert code == 0
    reader = csv.DictReader(io.StringIO(out))
    assert tuple(reader.fieldnames or ()) == X.RULE_COLUMNS
    rows = list(reader)
    expected = graph_rules()
    assert len(rows) == len(expected) > 0
    assert [r["id"] for r in rows] == sorted(expected)
    for r in rows:
        severity, payers = expected[r["id"]]
        assert r["severity"] == severity
        assert set(r["payers"].split()) == payers
        assert r["message"] and r["source"] and r["source_title"], r["id"]


def test_rules_json(runner: CliRunner) -> None:
    code, out, _ = run(runner, "rules", "--format", "json")
    assert code == 0
    records = json.loads(out)
    expected = graph_rules()
    assert {r["id"]: (r["severity"], set(r["payers"])) for r in records} == expected
    assert all(isinstance(r["codes"], list) and isinstance(r["source"], list) for r in records)


# --------------------------------------------------------------------------- usage and writing


def test_format_not_allowed_for_kind(runner: CliRunner) -> None:
    code, out, err = run(runner, "graph", "--format", "csv")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "turtle" in err


def test_refuses_to_overwrite_without_force(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "relations.csv"
    target.write_bytes(b"old\n")
    code, _, err = run(runner, "relations", "-o", str(target))
    assert code == 2 and "--force" in err
    assert target.read_bytes() == b"old\n"
    code, _, _ = run(runner, "relations", "-o", str(target), "--force")
    assert code == 0
    assert target.read_text(encoding="utf-8").startswith("source_code,relation,target_code")


def test_failure_midway_leaves_old_file_identical(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "relations.csv"
    old = b"the previous export\n" * 100
    target.write_bytes(old)
    real_rows = X.relation_rows

    def failing_rows(g: Graph):  # type: ignore[no-untyped-def]
        rows = real_rows(g)
        yield next(rows)
        yield next(rows)
        raise ValueError("serialization failed half way")

    monkeypatch.setattr(X, "relation_rows", failing_rows)
    code, _, err = run(runner, "relations", "-o", str(target), "--force")
    assert code == 3 and "ValueError" in err
    assert target.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["relations.csv"], "no temp file left"


def test_refuses_symlink(runner: CliRunner, tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_bytes(b"keep me\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    code, _, err = run(runner, "relations", "-o", str(link), "--force")
    assert code == 2 and "symbolic link" in err
    assert real.read_bytes() == b"keep me\n"
    assert link.is_symlink()


def test_stdout_is_the_default(runner: CliRunner, tmp_path: Path) -> None:
    code, out, _ = run(runner, "relations", "-o", "-", "--format", "nt")
    assert code == 0
    assert len(Graph().parse(data=out, format="nt")) > 0
    assert list(tmp_path.iterdir()) == []


def test_relations_graphml_for_yed_reads_in_networkx(runner: CliRunner, tmp_path: Path) -> None:
    nx = pytest.importorskip("networkx")
    target = tmp_path / "relations.graphml"
    code, _, err = run(runner, "relations", "-o", str(target), "--yed")
    assert code == 0, err
    text = target.read_text(encoding="utf-8")
    assert 'yfiles.type="nodegraphics"' in text and 'yfiles.type="edgegraphics"' in text
    assert "<y:NodeLabel>E0745</y:NodeLabel>" in text
    g = nx.read_graphml(target)
    assert g.nodes["hcpcs:E0745"]["label"] == "E0745"
    assert g.nodes["hcpcs:E0745"]["descriptor"] == label(HCPCS + "E0745")
    assert g.number_of_edges() == len(graph_relationships())
    assert all(d["label"] == d["relation"] for _, _, d in g.edges(data=True))
    code, _, err = run(runner, "relations", "-f", "csv", "--yed")
    assert code == 2 and "graphml" in err
