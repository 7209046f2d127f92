"""`claimgraph validate --endpoint URL --graph IRI` against a real `oxigraph serve`.

The claims are put into a named graph of a fresh server on a loopback port (fixture in
tests/oxigraph_server.py; skipped only when the binary is missing). The checks run in the
server give the same findings as the embedded fast engine; the user's graph is not changed
and claimgraph's run graph is gone afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimgraph.cli import app
from claimgraph.engine import fast
from claimgraph.engine.common import with_uids
from claimgraph.engine.endpoint import RUN_GRAPH, _select, validate_endpoint
from claimgraph.engine.ntriples import claim_ntriples
from claimgraph.ingest import read_claims
from claimgraph.ingest.json_claims import claim_from_json
from claimgraph.knowledge import Knowledge
from claimgraph.remote import put_graph
from synthetic import generate

FIXTURES = sorted((Path(__file__).parent / "data" / "claims").glob("*.json"))
GRAPH = "https://example.org/claims/batch-1"


@pytest.fixture(scope="module")
def loaded(oxigraph_server: str) -> tuple[str, list]:
    claims = [claim_from_json(c, i, set()) for i, c in enumerate(generate(400, seed=5), 1)]
    for path in FIXTURES[:20]:  # a few rule fixtures, with fresh claim ids
        n = FIXTURES.index(path) + 1
        for c in read_claims([path]):  # fresh ids: fixtures reuse claim ids across files
            c.index += 10_000 * n
            if isinstance(c.id, str) and c.id:
                c.id = f"{c.id}-F{n}"
            claims.append(c)
    claims = list(with_uids(claims))  # one IRI per claim: fixtures repeat claim ids
    text = "".join(claim_ntriples(c) for c in claims).encode()
    put_graph(oxigraph_server, GRAPH, text)
    return oxigraph_server, claims


def _count(url: str, graph: str) -> int:
    rows = list(_select(url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", [graph], 30))
    return int(rows[0]["n"])


def test_endpoint_findings_equal_embedded(loaded: tuple[str, list]) -> None:
    url, claims = loaded
    before = _count(url, GRAPH)
    # claims that share an id are two claims: compare every finding, not one per id
    remote = sorted((str(f.ident), f.code or "") for f in validate_endpoint(url, GRAPH))
    local = sorted((str(f.ident), f.code or "") for f in fast.validate_claims(claims, jobs=1))
    assert remote and remote == local
    assert _count(url, GRAPH) == before  # the claims graph is not modified
    graphs = _select(url, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", [], 30)
    assert not [g for g in graphs if g["g"].startswith(RUN_GRAPH)]  # the run graph is gone


def test_cli_endpoint(loaded: tuple[str, list]) -> None:
    url, claims = loaded
    result = CliRunner().invoke(
        app,
        ["validate", "--endpoint", url, "--graph", GRAPH, "--format", "json", "--fail-on", "info"],
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["claims"] == len(claims)  # claims sharing an id (STRUCT-03 fixtures) count twice
    assert report["findings"]


def test_cli_endpoint_needs_graph(oxigraph_server: str) -> None:
    result = CliRunner().invoke(app, ["validate", "--endpoint", oxigraph_server])
    assert result.exit_code == 2
    assert "--graph" in result.stderr and "Traceback" not in result.output


def test_cli_endpoint_unreachable() -> None:
    from oxigraph_server import free_port

    result = CliRunner().invoke(
        app, ["validate", "--endpoint", f"http://127.0.0.1:{free_port()}", "--graph", GRAPH]
    )
    assert result.exit_code == 2
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cannot reach" in lines[0]


def test_standard_queries_give_the_same_findings(
    loaded: tuple[str, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server without LATERAL gets standard SPARQL 1.1: the same findings."""
    from claimgraph.engine import endpoint

    url, claims = loaded
    assert endpoint.accepts_lateral(url, 30)  # oxigraph serve evaluates LATERAL
    monkeypatch.setattr(endpoint, "accepts_lateral", lambda url, timeout: False)
    sent: list[str] = []
    real = endpoint._select

    def spy(url: str, query: str, graphs: list[str], timeout: object) -> object:
        sent.append(query)
        return real(url, query, graphs, timeout)  # type: ignore[arg-type]

    monkeypatch.setattr(endpoint, "_select", spy)
    remote = sorted((str(f.ident), f.code or "") for f in validate_endpoint(url, GRAPH))
    local = sorted((str(f.ident), f.code or "") for f in fast.validate_claims(claims, jobs=1))
    assert remote == local
    assert not any("LATERAL" in q for q in sent)


def test_checks_are_sent_a_few_per_query(
    loaded: tuple[str, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    from claimgraph.engine import endpoint

    url, _ = loaded
    sent: list[str] = []
    real = endpoint._select

    def spy(url: str, query: str, graphs: list[str], timeout: object) -> object:
        sent.append(query)
        return real(url, query, graphs, timeout)  # type: ignore[arg-type]

    monkeypatch.setattr(endpoint, "_select", spy)
    assert validate_endpoint(url, GRAPH, jobs=1)
    checks = Knowledge.bundled().checks.standard
    batches = [q for q in sent if "?_k" in q]
    assert len(checks) > 40 and len(batches) == -(-len(checks) // endpoint.CHUNK)
    assert len(sent) <= len(batches) + 2  # + the LATERAL probe and the codes of the claims
    assert any("LATERAL" in q for q in batches)


def test_batches_keep_checks_apart() -> None:
    """Branches of one query carry their check number; clashing prefixes split the batch."""
    from claimgraph.engine.endpoint import batch_queries

    a = "PREFIX ex: <https://example.org/a#>\nSELECT DISTINCT ?this WHERE { ?this ex:p ?v }"
    b = "PREFIX ex: <https://example.org/b#>\nSELECT DISTINCT ?this ?n WHERE { ?this ex:p ?n }"
    c = "PREFIX ex: <https://example.org/a#>\nSELECT DISTINCT ?this WHERE { ?this ex:q ?v }"
    queries = batch_queries([(a, ()), (b, ("n",)), (c, ())])
    assert [members for _, members in queries] == [[0, 2], [1]]
    first, second = queries[0][0], queries[1][0]
    assert "BIND (0 AS ?_k)" in first and "BIND (2 AS ?_k)" in first and "UNION" in first
    assert "?n" in second and "https://example.org/b#" in second
    from pyoxigraph import Store

    store = Store()
    for text, _ in queries:
        list(store.query(text))  # each batch parses
