"""SPARQL servers: publish the bundled graph to a live Oxigraph server, then every named query
gives the same rows there as on the embedded graph; parameters, errors, URL handling."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.compare import isomorphic
from typer.testing import CliRunner

from claimgraph import query as Q
from claimgraph import remote
from claimgraph.cli import app
from claimgraph.errors import ClaimgraphError, QueryError
from claimgraph.knowledge import Knowledge
from claimgraph.resources import data_dir
from termnorm import norm

pytestmark = pytest.mark.slow  # starts a server

HCPCS = "https://w3id.org/claimgraph/code/hcpcs/"
NAMED_QUERIES = sorted(p.stem for p in data_dir("queries").glob("*.rq"))
EXAMPLE_RE = re.compile(r"e\.g\.\s+([^\s;,]+)")
GRAPH_IRI = "https://example.org/claimgraph-test"


def rows_of(result: Q.QueryResult) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(norm(v) for v in row) for row in result.rows)


def example_params(q: Q.NamedQuery, optional: bool) -> dict[str, str]:
    """Each parameter's `e.g.` value from the query header (optional ones only if asked)."""
    params = {}
    for p in q.params:
        m = EXAMPLE_RE.search(p.text)
        if p.required or optional:
            assert m, f"{q.name}: parameter '{p.name}' has no 'e.g.' example in its header"
            params[p.name] = m.group(1)
    return params


@pytest.fixture(scope="module")
def endpoint(oxigraph_server: str) -> str:
    """The server with the bundled graph in its default graph (published by the CLI)."""
    result = CliRunner().invoke(app, ["publish", "--endpoint", oxigraph_server])
    assert result.exit_code == 0, result.output
    assert f"published {len(Knowledge.bundled().graph)} triples" in result.stderr
    return oxigraph_server


# --------------------------------------------------------------------------- publish


def test_publish_sends_the_whole_graph(endpoint: str) -> None:
    on_server = remote.get_graph(endpoint, None)
    assert len(on_server) == len(Knowledge.bundled().graph)
    assert isomorphic(on_server, Knowledge.bundled().graph)


def test_publish_replaces_a_named_graph(endpoint: str) -> None:
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH_IRI}> {{ ?s ?p ?o }} }}"
    remote.put_graph(
        endpoint, GRAPH_IRI, b'<https://example.org/a> <https://example.org/b> "1" .\n'
    )
    assert remote.run_query(endpoint, count).rows[0][0] == Literal(1)
    runner = CliRunner()
    for _ in range(2):  # twice: PUT replaces, it does not add
        result = runner.invoke(app, ["publish", "-e", endpoint + "/query", "--graph", GRAPH_IRI])
        assert result.exit_code == 0, result.output
    assert int(remote.run_query(endpoint, count).rows[0][0]) == len(Knowledge.bundled().graph)
    assert len(remote.get_graph(endpoint, None)) == len(Knowledge.bundled().graph), (
        "default graph kept"
    )


# --------------------------------------------------------------------------- named queries


def query_cases() -> list[Any]:
    """Each named query with its required parameters, and with all when some are optional."""
    cases = []
    for name, q in Q.named_queries().items():
        cases.append(pytest.param(name, False, id=f"{name}-required"))
        if not all(p.required for p in q.params):
            cases.append(pytest.param(name, True, id=f"{name}-all"))
    return cases


@pytest.mark.parametrize(("name", "optional"), query_cases())
def test_named_query_same_rows_embedded_and_remote(
    endpoint: str, name: str, optional: bool
) -> None:
    q = Q.get_query(name)
    params = example_params(q, optional)
    embedded = Q.run(q.text, params, None, q.params)
    served = Q.run_remote(endpoint, q.text, params, q.params)
    assert served.kind == embedded.kind
    if embedded.kind == "select":
        assert served.columns == embedded.columns
        assert rows_of(served) == rows_of(embedded)
    elif embedded.kind == "ask":
        assert served.boolean == embedded.boolean
    else:
        assert served.graph is not None and embedded.graph is not None
        assert isomorphic(served.graph, embedded.graph)


def test_named_query_examples_give_rows(endpoint: str) -> None:
    """The comparison above means something only if each header example finds rows."""
    assert NAMED_QUERIES, "queries/*.rq holds no named query"
    empty = []
    for name in NAMED_QUERIES:
        q = Q.get_query(name)
        params = example_params(q, optional=True)
        if not Q.run_remote(endpoint, q.text, params, q.params).rows:
            empty.append(f"{name} {params}")
    assert not empty, f"header examples that find no rows on the server: {empty}"


def test_cli_query_with_endpoint(endpoint: str) -> None:
    args = ["query", "related-codes", "-p", "code=E0745", "--format", "csv"]
    local = CliRunner().invoke(app, args)
    served = CliRunner().invoke(app, [*args, "--endpoint", endpoint])
    assert served.exit_code == 0, served.output
    assert sorted(served.stdout.splitlines()) == sorted(local.stdout.splitlines())
    assert "E0744" in served.stdout


# --------------------------------------------------------------------------- parameters


SELECT_RELATED = """
PREFIX cg: <https://w3id.org/claimgraph/ontology/>
SELECT ?code ?related WHERE {
  ?st a cg:CodeRelationship ; cg:subjectCode ?code ; cg:objectCode ?related .
}"""


def test_select_with_a_bound_parameter(endpoint: str) -> None:
    code = URIRef(HCPCS + "E0745")
    served = remote.run_query(endpoint, SELECT_RELATED, {"code": code})
    embedded = Knowledge.bundled().graph.query(SELECT_RELATED, initBindings={"code": code})
    assert served.columns == ["code", "related"]
    assert Counter((r[0], r[1]) for r in served.rows) == Counter((r[0], r[1]) for r in embedded)
    assert {r[0] for r in served.rows} == {code}
    assert (code, URIRef(HCPCS + "E0744")) in served.rows
    unbound = remote.run_query(endpoint, SELECT_RELATED)
    assert len(unbound.rows) > len(served.rows)


def test_literal_parameter_cannot_change_the_query(endpoint: str) -> None:
    text = "SELECT ?s WHERE { ?s <http://www.w3.org/2004/02/skos/core#notation> ?n }"
    hostile = Literal('E0745" } } ; DROP ALL ; SELECT * { ?s ?p "')
    assert remote.run_query(endpoint, text, {"n": hostile}).rows == []
    found = remote.run_query(endpoint, text, {"n": Literal("E0745")}).rows
    assert found == [(URIRef(HCPCS + "E0745"),)]
    assert len(remote.get_graph(endpoint, None)) == len(Knowledge.bundled().graph)


def test_ask_and_construct_have_the_embedded_shapes(endpoint: str) -> None:
    ask = "ASK { ?s <http://www.w3.org/2004/02/skos/core#notation> ?n }"
    assert remote.run_query(endpoint, ask, {"n": Literal("E1392")}).boolean is True
    assert remote.run_query(endpoint, ask, {"n": Literal("Z9999")}).boolean is False
    construct = "CONSTRUCT { ?c ?p ?o } WHERE { ?c ?p ?o }"
    served = remote.run_query(endpoint, construct, {"c": URIRef(HCPCS + "E1392")})
    embedded = Q.run(construct, {"c": HCPCS + "E1392"})
    assert served.kind == "graph" and len(served.graph or []) > 3
    assert isomorphic(served.graph, embedded.graph)


def test_values_clause_uses_n3() -> None:
    clause = remote.values_clause({"payer": URIRef("https://w3id.org/claimgraph/payer/medicare"),
                                   "code": Literal('a "b"')})  # fmt: skip
    assert clause == (
        'VALUES (?code ?payer) { ("a \\"b\\"" <https://w3id.org/claimgraph/payer/medicare>) }'
    )
    with pytest.raises(QueryError):
        remote.values_clause({"x": URIRef("https://example.org/a> <b")})
    with pytest.raises(QueryError):
        remote.values_clause({"x": BNode()})


def test_aggregate_binds_only_group_keys(endpoint: str) -> None:
    """A trailing VALUES joins after GROUP BY: binding a non-key would count everything."""
    count = (
        "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/2004/02/skos/core#notation> ?n2 }"
    )
    with pytest.raises(QueryError, match="GROUP BY"):
        remote.run_query(endpoint, count, {"s": URIRef(HCPCS + "E0745")})
    grouped = (
        "SELECT ?s (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/2004/02/skos/core#notation> ?x }"
        " GROUP BY ?s"
    )
    served = remote.run_query(endpoint, grouped, {"s": URIRef(HCPCS + "E0745")})
    assert served.rows == [(URIRef(HCPCS + "E0745"), Literal(1))]


def test_query_with_its_own_values_refuses_parameters() -> None:
    text = "SELECT ?s WHERE { ?s ?p ?o } VALUES ?s { <https://example.org/a> }"
    with pytest.raises(QueryError):
        remote.prepared_text(text, {"p": URIRef("https://example.org/p")})


# --------------------------------------------------------------------------- errors and URLs


def closed_port() -> int:
    from oxigraph_server import free_port

    return free_port()


def test_connection_refused_is_a_one_line_error() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    for args in (
        ["publish", "--endpoint", url],
        ["query", "code-card", "-p", "code=E1392", "--endpoint", url],
    ):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot reach endpoint" in lines[0]
        assert "Traceback" not in result.output


def test_http_error_names_status_without_credentials(endpoint: str) -> None:
    secret_url = endpoint.replace("http://", "http://analyst:s3cret@") + "/nope"
    with pytest.raises(ClaimgraphError) as info:
        remote.run_query(secret_url, "ASK {}")
    message = str(info.value)
    assert "HTTP 404" in message and "\n" not in message
    assert "s3cret" not in message and "analyst" not in message


def test_server_side_error_is_one_line(endpoint: str) -> None:
    with pytest.raises(ClaimgraphError) as info:
        remote.run_query(
            endpoint, "SELECT ?x WHERE { ?x ?p ?o FILTER(<https://example.org/f>(?x)) }"
        )
    assert str(info.value).startswith("HTTP ") and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "gsp", "query_url", "store_url"),
    [
        ("http://h:7878", None, "http://h:7878/query", "http://h:7878/store"),
        ("http://h:7878/", None, "http://h:7878/query", "http://h:7878/store"),
        ("http://h:7878/query", None, "http://h:7878/query", "http://h:7878/store"),
        ("https://h/sparql/ds/query", None, "https://h/sparql/ds/query", "https://h/sparql/ds/store"),
        ("http://h:3030/ds/sparql", "http://h:3030/ds/data", "http://h:3030/ds/sparql",
         "http://h:3030/ds/data"),
    ],
)  # fmt: skip
def test_endpoint_urls(url: str, gsp: str | None, query_url: str, store_url: str) -> None:
    assert remote.query_url(url).url == query_url
    assert remote.gsp_url(url, gsp).url == store_url


def test_graph_store_target_query_strings() -> None:
    assert (
        remote.graph_store_target("http://h:7878", None, None).url == "http://h:7878/store?default"
    )
    named = remote.graph_store_target("http://h:7878", None, "https://example.org/g?x=1")
    assert named.url == "http://h:7878/store?graph=https%3A%2F%2Fexample.org%2Fg%3Fx%3D1"


@pytest.mark.parametrize(
    "url", ["ftp://h/query", "file:///etc/passwd", "not a url", "http://h:99999/query"]
)
def test_bad_endpoint_urls(url: str) -> None:
    with pytest.raises(ClaimgraphError):
        remote.query_url(url)


def test_graphdb_needs_gsp() -> None:
    with pytest.raises(ClaimgraphError, match="--gsp"):
        remote.gsp_url("http://h:7200/repositories/kg")


def test_credentials_become_basic_auth() -> None:
    ep = remote.endpoint("http://analyst:s%40cret@h:7878/query")
    assert ep.url == "http://h:7878/query" and ep.shown == "http://h:7878/query"
    assert ep.auth == "Basic YW5hbHlzdDpzQGNyZXQ="
