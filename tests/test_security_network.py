"""claimgraph never reaches out: every way in is aimed at a loopback server that must see nothing.

Each test starts an HTTP server on 127.0.0.1 (a thread) that counts the connections it
accepts, feeds claimgraph an input that would make it fetch from that server (SERVICE, FROM,
FROM NAMED, a URL as input path, a JSON-LD @context URL, owl:imports), and checks for a one-line
error, exit 2 and zero connections. SECURITY.md ("Offline") points here.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimgraph import netguard
from security_support import Server, one_line_error, run, serve

COMMANDS = ["convert", "validate"]


@pytest.fixture
def server() -> Iterator[Server]:
    yield from serve()


# --- queries: SERVICE, FROM, FROM NAMED anywhere in the algebra ------------------------------

SERVICE_SHAPES = {
    "plain": "SELECT * WHERE {{ SERVICE <{u}/sparql> {{ ?s ?p ?o }} }}",
    "silent-lowercase": "select * where {{ service silent <{u}/sparql> {{ ?s ?p ?o }} }}",
    "variable": "SELECT * WHERE {{ BIND(<{u}/sparql> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
    "optional": "SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ SERVICE <{u}/q> {{ ?a ?p ?o }} }} }}",
    "union": "SELECT * WHERE {{ {{ ?a ?b ?c }} UNION {{ SERVICE <{u}/q> {{ ?a ?p ?o }} }} }}",
    "subquery": "SELECT * WHERE {{ {{ SELECT ?s WHERE {{ SERVICE <{u}/q> {{ ?s ?p ?o }} }} }} }}",
    "exists": "SELECT * WHERE {{ ?a ?b ?c FILTER EXISTS {{ SERVICE <{u}/q> {{ ?a ?p ?o }} }} }}",
    "not-exists-in-bind": "SELECT * WHERE {{ ?a ?b ?c "
    "BIND(NOT EXISTS {{ SERVICE <{u}/q> {{ ?a ?p ?o }} }} AS ?x) }}",
    "minus": "SELECT * WHERE {{ ?a ?b ?c MINUS {{ SERVICE <{u}/q> {{ ?a ?p ?o }} }} }}",
    "unicode-escaped": "SELECT * WHERE {{ \\u0053ERVICE <{u}/q> {{ ?s ?p ?o }} }}",
    "ask": "ASK {{ SERVICE <{u}/q> {{ ?s ?p ?o }} }}",
    "construct": "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{u}/q> {{ ?s ?p ?o }} }}",
}


@pytest.mark.parametrize("shape", sorted(SERVICE_SHAPES))
def test_service_is_refused_anywhere(
    shape: str, server: Server, runner: CliRunner, tmp_path: Path
) -> None:
    rq = tmp_path / "federated.rq"
    rq.write_text(SERVICE_SHAPES[shape].format(u=server.url), encoding="utf-8")
    one_line_error(run(runner, "query", str(rq)), "SERVICE")
    assert server.connections == 0
    assert server.reachable()  # the server was up all along; the guard is off between runs


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM <{u}/x> WHERE {{ ?s ?p ?o }}",
        "SELECT * FROM NAMED <{u}/x> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        "ASK FROM <{u}/x> {{ ?s ?p ?o }}",
        "CONSTRUCT {{ ?s ?p ?o }} FROM <file:///etc/hostname> WHERE {{ ?s ?p ?o }}",
        "DESCRIBE <{u}/a> FROM NAMED <{u}/x>",
    ],
    ids=["from", "from-named", "ask-from", "from-file", "describe-from-named"],
)
def test_from_and_from_named_are_refused(
    text: str, server: Server, runner: CliRunner, tmp_path: Path
) -> None:
    rq = tmp_path / "dataset.rq"
    rq.write_text(text.format(u=server.url), encoding="utf-8")
    one_line_error(run(runner, "query", str(rq)), "FROM")
    assert server.connections == 0


def test_load_update_is_refused(server: Server, runner: CliRunner, tmp_path: Path) -> None:
    rq = tmp_path / "load.rq"
    rq.write_text(f"LOAD <{server.url}/x.ttl>", encoding="utf-8")
    one_line_error(run(runner, "query", str(rq)), "updates")
    assert server.connections == 0


# --- claim inputs: URLs, JSON-LD contexts, owl:imports ---------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", ["claims.json", "claims.ttl", "x.jsonld"])
def test_url_as_input_path_is_refused(
    command: str, name: str, server: Server, runner: CliRunner
) -> None:
    one_line_error(run(runner, command, f"{server.url}/{name}"), "local files")
    assert server.connections == 0


JSONLD_CLAIM = {
    "@id": "https://w3id.org/claimgraph/claim/C1",
    "@type": "cg:Claim",
    "cg:claimId": "C1",
}


@pytest.mark.parametrize(
    "context",
    [
        "{u}/context.jsonld",
        ["{u}/context.jsonld"],
        [{"cg": "https://w3id.org/claimgraph/ontology/"}, "{u}/context.jsonld"],
        {"@import": "{u}/context.jsonld", "cg": "https://w3id.org/claimgraph/ontology/"},
        {
            "cg": "https://w3id.org/claimgraph/ontology/",
            "cg:claimId": {"@id": "cg:claimId", "@context": "{u}/scoped.jsonld"},
        },
    ],
    ids=["string", "list", "mixed-list", "import", "scoped"],
)
@pytest.mark.parametrize("command", COMMANDS)
def test_jsonld_remote_context_is_refused(
    context: object, command: str, server: Server, runner: CliRunner, tmp_path: Path
) -> None:
    text = json.dumps({"@context": context, **JSONLD_CLAIM}).replace("{u}", server.url)
    path = tmp_path / "claims.jsonld"
    path.write_text(text, encoding="utf-8")
    one_line_error(run(runner, command, str(path)), "@")
    assert server.connections == 0


def test_jsonld_nested_remote_context_is_refused(
    server: Server, runner: CliRunner, tmp_path: Path
) -> None:
    node = {"@context": f"{server.url}/inner.jsonld", **JSONLD_CLAIM}
    doc = {"@context": {"cg": "https://w3id.org/claimgraph/ontology/"}, "@graph": [node]}
    path = tmp_path / "nested.json"  # .json with @context: sniffed as JSON-LD
    path.write_text(json.dumps(doc), encoding="utf-8")
    one_line_error(run(runner, "convert", str(path)), "@context")
    assert server.connections == 0


@pytest.mark.parametrize("command", COMMANDS)
def test_owl_imports_in_claims_are_refused(
    command: str, server: Server, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "claims.ttl"
    path.write_text(
        f"""@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix cg: <https://w3id.org/claimgraph/ontology/> .
<> a owl:Ontology ; owl:imports <{server.url}/more-claims.ttl> .
<claim/C1> a cg:Claim ; cg:claimId "C1" ; cg:payer <https://w3id.org/claimgraph/payer/medicare> .
""",
        encoding="utf-8",
    )
    one_line_error(run(runner, command, str(path)), "owl:imports")
    assert server.connections == 0


# --- the audit hook: the backstop behind the checks above ------------------------------------


def test_hook_refuses_everything_while_armed(server: Server) -> None:
    with netguard.offline():
        with pytest.raises(netguard.NetworkRefused):
            urllib.request.urlopen(server.url + "/x", timeout=5)
        with pytest.raises(netguard.NetworkRefused):
            socket.create_connection(("127.0.0.1", server.port), timeout=5)
        with pytest.raises(netguard.NetworkRefused):
            socket.getaddrinfo("localhost", server.port)
        with pytest.raises(netguard.NetworkRefused):
            urllib.request.urlopen("file:///etc/hostname")
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
            pytest.raises(netguard.NetworkRefused),
        ):
            udp.sendto(b"x", ("127.0.0.1", server.port))
    assert server.connections == 0
    assert not netguard.armed()
    assert server.reachable() and server.connections == 1  # off again after the block


def test_hook_lets_the_registered_url_through_only(server: Server) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other_port = other.getsockname()[1]
    with netguard.offline():
        netguard.allow(server.url + "/sparql")
        with urllib.request.urlopen(server.url + "/sparql", timeout=5) as r:
            assert r.status == 200
        with pytest.raises(netguard.NetworkRefused):  # same host, another port
            socket.create_connection(("127.0.0.1", other_port), timeout=5)
    assert server.connections == 1
    with netguard.offline(), pytest.raises(netguard.NetworkRefused):  # allowance ended
        urllib.request.urlopen(server.url + "/sparql", timeout=5)
    assert server.connections == 1


def test_hook_covers_threads_started_during_a_run(server: Server) -> None:
    caught: list[BaseException] = []

    def fetch() -> None:
        try:
            urllib.request.urlopen(server.url + "/from-thread", timeout=5)
        except BaseException as e:  # noqa: BLE001 (the test inspects it)
            caught.append(e)

    with netguard.offline():
        t = threading.Thread(target=fetch)
        t.start()
        t.join(10)
    assert caught and isinstance(caught[0], netguard.NetworkRefused)
    assert server.connections == 0


def test_cli_run_is_guarded_even_where_a_check_is_missing(
    server: Server, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that tries to fetch (a future bug) is stopped by the hook: exit 2, one line."""
    from claimgraph.ingest import rdf_claims

    def fetching_parse(path: Path, fmt: str) -> object:
        return urllib.request.urlopen(server.url + "/sneaky.ttl", timeout=5).read()

    monkeypatch.setattr(rdf_claims, "parse_rdf", fetching_parse)
    path = tmp_path / "claims.ttl"
    path.write_text("<a:b> <a:c> <a:d> .\n", encoding="utf-8")
    one_line_error(run(runner, "convert", str(path)), "network access refused")
    assert server.connections == 0


def test_endpoint_given_by_the_user_is_the_one_exception(
    server: Server, runner: CliRunner, tmp_path: Path
) -> None:
    rq = tmp_path / "q.rq"
    rq.write_text("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", encoding="utf-8")
    result = run(runner, "query", str(rq), "--endpoint", server.url + "/sparql", "-f", "json")
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    assert server.requests == ["/sparql"]


def test_endpoint_query_with_service_is_still_refused(
    server: Server, runner: CliRunner, tmp_path: Path
) -> None:
    """--endpoint allows that server only, and the query is still checked before sending."""
    rq = tmp_path / "q.rq"
    rq.write_text(f"SELECT * WHERE {{ SERVICE <{server.url}/other> {{ ?s ?p ?o }} }}")
    one_line_error(run(runner, "query", str(rq), "--endpoint", server.url + "/sparql"), "SERVICE")
    assert server.connections == 0
