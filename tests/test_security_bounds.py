"""Bounded runs: every reproduction of issue 7 ends within its limit with one line and exit 2.

User queries run in a child process (claimgraph.sandbox) that is killed at `--timeout`, keeps at
most `--max-rows` rows and has an address-space limit; claim inputs refuse RDF/XML and
DOCTYPE/ENTITY; nesting too deep for the parsers is a one-line error. SECURITY.md ("Bounded")
points here.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimgraph import sandbox
from claimgraph.errors import QueryError
from security_support import one_line_error, run

SLACK = 10.0  # seconds on top of a limit: child start, knowledge graph load, a busy machine


def timed_query(
    runner: CliRunner, tmp_path: Path, text: str, *options: str
) -> tuple[object, float]:
    rq = tmp_path / "user.rq"
    rq.write_text(text, encoding="utf-8")
    start = time.monotonic()
    result = run(runner, "query", str(rq), *options)
    return result, time.monotonic() - start


def no_children_left() -> bool:
    return not multiprocessing.active_children()


# --- wall clock --------------------------------------------------------------------------------


def test_cartesian_query_is_stopped_at_the_timeout(runner: CliRunner, tmp_path: Path) -> None:
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    result, elapsed = timed_query(runner, tmp_path, text, "--timeout", "2")
    one_line_error(result, "did not finish within 2 s", "--timeout")
    assert elapsed < 2 + SLACK
    assert no_children_left()


def _cartesian_on_generated_graph(size: int) -> int:
    """In the child: a generated graph of `size` triples and a 3-way cartesian count over it."""
    from rdflib import Graph, Literal, URIRef

    g = Graph()
    for i in range(size):
        g.add((URIRef(f"urn:s{i}"), URIRef(f"urn:p{i % 7}"), Literal(i)))
    rows = g.query("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
    return int(next(iter(rows))[0])


def test_cartesian_over_a_big_generated_graph_is_stopped() -> None:
    start = time.monotonic()
    with pytest.raises(QueryError, match="did not finish within 2 s"):
        sandbox.call(_cartesian_on_generated_graph, 20_000, timeout=2)
    assert time.monotonic() - start < 2 + SLACK
    assert no_children_left()


def test_catastrophic_regex_is_stopped(runner: CliRunner, tmp_path: Path) -> None:
    text = 'ASK { FILTER(REGEX("aaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "^(a+)+$")) }'
    result, elapsed = timed_query(runner, tmp_path, text, "--timeout", "2")
    one_line_error(result, "did not finish within 2 s")
    assert elapsed < 2 + SLACK


def test_concat_growth_is_stopped_by_the_memory_limit(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each BIND doubles a string: 16 * 2**40 bytes if nothing stopped it."""
    monkeypatch.setattr(sandbox, "MEMORY_HEADROOM", 256 << 20)
    binds = "\n".join(f"  BIND(CONCAT(?a{i - 1}, ?a{i - 1}) AS ?a{i})" for i in range(1, 41))
    text = f'SELECT (STRLEN(?a40) AS ?n) WHERE {{\n  BIND("aaaaaaaaaaaaaaaa" AS ?a0)\n{binds}\n}}'
    result, elapsed = timed_query(runner, tmp_path, text, "--timeout", "20")
    err = one_line_error(result)
    assert "256 MiB" in err or "did not finish" in err, err
    assert elapsed < 20 + SLACK
    assert no_children_left()


def test_the_limit_does_not_stop_a_normal_query(runner: CliRunner) -> None:
    result = run(runner, "query", "rules-for-code", "-p", "code=E1392", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert '"ruleId"' in result.stdout


# --- rows -------------------------------------------------------------------------------------


def test_row_limit_refuses_without_partial_output(runner: CliRunner, tmp_path: Path) -> None:
    result, _ = timed_query(
        runner, tmp_path, "SELECT ?s ?o WHERE { ?s ?p ?o }", "--max-rows", "25", "-f", "csv"
    )
    one_line_error(result, "more than 25 rows", "--max-rows")


def test_row_limit_counts_exactly(runner: CliRunner, tmp_path: Path) -> None:
    ok, _ = timed_query(
        runner, tmp_path, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 25", "--max-rows", "25", "-f", "csv"
    )
    assert ok.exit_code == 0, ok.stderr  # type: ignore[attr-defined]
    assert len(ok.stdout.splitlines()) == 26  # type: ignore[attr-defined]  # header + 25 rows
    over, _ = timed_query(
        runner, tmp_path, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 26", "--max-rows", "25"
    )
    one_line_error(over, "more than 25 rows")


def test_row_limit_applies_to_construct(runner: CliRunner, tmp_path: Path) -> None:
    result, _ = timed_query(
        runner, tmp_path, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "--max-rows", "10"
    )
    one_line_error(result, "more than 10 triples")


def test_row_limit_stops_a_construct_while_it_runs(runner: CliRunner, tmp_path: Path) -> None:
    """A cartesian CONSTRUCT would build billions of triples first: it stops at the limit."""
    text = "CONSTRUCT { ?a <urn:x:pair> ?d } WHERE { ?a ?b ?c . ?d ?e ?f }"
    result, elapsed = timed_query(runner, tmp_path, text, "--max-rows", "10", "--timeout", "60")
    one_line_error(result, "more than 10 triples")
    assert elapsed < SLACK


def test_row_limit_stops_a_describe_while_it_runs(runner: CliRunner, tmp_path: Path) -> None:
    text = "DESCRIBE ?s WHERE { ?s ?p ?o }"
    result, elapsed = timed_query(runner, tmp_path, text, "--max-rows", "10", "--timeout", "60")
    one_line_error(result, "more than 10 triples")
    assert elapsed < SLACK


def test_construct_and_describe_within_the_limit_are_whole(
    runner: CliRunner, tmp_path: Path
) -> None:
    text = "CONSTRUCT { ?s a ?t } WHERE { ?s a ?t . FILTER (?t = cg:Rule) }"
    limited, _ = timed_query(runner, tmp_path, text, "--max-rows", "100000", "-f", "nt")
    from claimgraph.query import run as run_query

    whole = run_query(text)  # no limit: rdflib's own evaluation
    assert limited.exit_code == 0
    assert len(limited.stdout.strip().splitlines()) == len(whole.graph or ()) > 40
    rule = "<https://w3id.org/claimgraph/rule/OXY-01>"
    described, _ = timed_query(runner, tmp_path, f"DESCRIBE {rule}", "-f", "nt")
    assert described.exit_code == 0
    assert len(described.stdout.strip().splitlines()) == len(
        run_query(f"DESCRIBE {rule}").graph or ()
    )


@pytest.mark.parametrize("where", ["local", "endpoint"])
def test_slow_to_parse_query_is_stopped_at_the_timeout(
    runner: CliRunner, tmp_path: Path, where: str
) -> None:
    """rdflib needs minutes to parse 200,000 VALUES; parsing happens in the bounded child."""
    values = " ".join(f'"v{i}"' for i in range(200_000))
    text = f"SELECT ?v WHERE {{ VALUES ?v {{ {values} }} }}"
    extra = ["--endpoint", "http://127.0.0.1:9"] if where == "endpoint" else []
    result, elapsed = timed_query(runner, tmp_path, text, "--timeout", "1", *extra)
    one_line_error(result, "did not finish within")
    assert elapsed < 1 + SLACK
    assert no_children_left()


def test_child_errors_come_back_as_one_line(runner: CliRunner, tmp_path: Path) -> None:
    result, _ = timed_query(runner, tmp_path, "SELECT ?x WHERE { ?x cg:nope ?y }", "-p", "z=1")
    one_line_error(result, "unknown parameter 'z'")


# --- recursion --------------------------------------------------------------------------------


def test_long_property_path_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    path = "/".join(["(rdfs:subClassOf|^rdfs:subClassOf)"] * 2000)
    result, elapsed = timed_query(runner, tmp_path, f"ASK {{ ?s {path} ?o }}", "--timeout", "20")
    one_line_error(result, "nested too deeply")
    assert elapsed < 20 + SLACK


def test_deeply_nested_query_expression_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    expr = "(" * 3000 + "1" + ")" * 3000
    result, _ = timed_query(runner, tmp_path, f"SELECT * WHERE {{ BIND({expr} AS ?x) }}")
    one_line_error(result, "nested too deeply")


DEPTH = 5000
NESTED = {
    "blank-nodes.ttl": "@prefix cg: <https://w3id.org/claimgraph/ontology/> .\n<a> cg:x "
    + "[ cg:x " * 250
    + "1"
    + " ]" * 250
    + " .\n",
    "collections.ttl": "@prefix cg: <https://w3id.org/claimgraph/ontology/> .\n<a> cg:x "
    + "( " * 300
    + "1"
    + " )" * 300
    + " .\n",
    "claims.json": '{"claims": [{"id": "C1", "lines": ' + "[" * DEPTH + "]" * DEPTH + "}]}",
    "claims.jsonl": '{"id": "C1", "patient": ' + '{"a": ' * DEPTH + "1" + "}" * DEPTH + "}\n",
    "claims.jsonld": '{"@context": {"cg": "https://w3id.org/claimgraph/ontology/"}, '
    '"@id": "urn:x:1", "cg:p": ' + '{"cg:p": ' * DEPTH + "1" + "}" * DEPTH + "}",
    "claims.fhir.json": '{"resourceType": "Claim", "item": ' + "[" * DEPTH + "]" * DEPTH + "}",
}


@pytest.mark.parametrize("name", sorted(NESTED))
def test_deep_nesting_in_claim_inputs_is_one_line(
    name: str, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_text(NESTED[name], encoding="utf-8")
    out = tmp_path / "out.ttl"
    one_line_error(run(runner, "convert", str(path), "-o", str(out)), name)
    assert not out.exists()


# --- RDF/XML and entities ---------------------------------------------------------------------

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:cg="https://w3id.org/claimgraph/ontology/">
  <rdf:Description rdf:about="https://w3id.org/claimgraph/claim/C1">
    <cg:claimId>&lol9;</cg:claimId>
  </rdf:Description>
</rdf:RDF>
"""


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("laughs.rdf", LAUGHS),
        ("laughs.xml", LAUGHS),
        ("laughs.owl", LAUGHS),
        ("laughs.ttl", LAUGHS),
        ("no-declaration.rdf", LAUGHS.split("\n", 1)[1]),
        ("plain.rdf", LAUGHS.split("]>\n", 1)[1]),  # RDF/XML without entities: refused too
        ("entity-in.ttl", '<!ENTITY x "y">\n<a:b> <a:c> <a:d> .\n'),
    ],
)
def test_rdf_xml_and_entities_are_refused_quickly(
    name: str, text: str, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    start = time.monotonic()
    err = one_line_error(run(runner, "convert", str(path)))
    assert time.monotonic() - start < 5
    assert "RDF/XML" in err or "unknown claim file type" in err, err
    assert "lol" not in err
