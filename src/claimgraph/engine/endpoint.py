"""The compiled checks run in a SPARQL server where the claims already are (`--endpoint`).

Where things live:
- the claims: one named graph of the server (`--graph IRI`), in the claim RDF of
  docs/claim-rdf.md. claimgraph never writes to it.
- the knowledge graph and the enrichment facts (ICD-10-CM billable flags, code schemes and
  imported code-set facts for the codes the claims use): claimgraph puts its own copy, for this
  run only, into a fresh claimgraph-owned named graph `https://w3id.org/claimgraph/graph/run/<id>`
  (Graph Store Protocol PUT), and deletes that graph when the run ends, even on failure. So the
  checks always match the rules of this claimgraph version, whatever was published before.
- every check is one standard SPARQL 1.1 SELECT (compile.py, without the Oxigraph-only
  rewriting), sent with `default-graph-uri` = the claims graph + the run graph, so the server
  evaluates it over all the claims at once (cross-claim rules included).

The SPARQL Protocol cannot merge the server's unnamed default graph with another graph, so the
claims must be in a named graph: `--graph` is required.
"""

from __future__ import annotations

import contextlib
import json
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

from ..errors import ClaimgraphError
from ..findings import Finding
from ..namespaces import BASE, CG

RUN_GRAPH = BASE + "graph/run/"
TIMEOUT = 300.0


def _select(url: str, query: str, graphs: list[str], timeout: float) -> Iterator[dict[str, str]]:
    """Rows of a SELECT (variable -> value) over the merge of `graphs`."""
    from ..remote import _request, query_url

    ep = query_url(url)
    form = [("query", query)] + [("default-graph-uri", g) for g in graphs]
    data, media = _request(
        ep,
        "POST",
        urllib.parse.urlencode(form).encode("ascii"),
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json",
        },
        timeout,
    )
    try:
        result = json.loads(data)
        rows = result["results"]["bindings"]
    except (ValueError, KeyError, TypeError):
        raise ClaimgraphError(f"{ep.shown} did not answer with SPARQL JSON results") from None
    for row in rows:
        yield {k: v.get("value", "") for k, v in row.items() if isinstance(v, dict)}


def _facts(url: str, graph: str, timeout: float) -> bytes:
    """The enrichment facts of the codes the claims graph uses, as N-Triples."""
    from rdflib import Graph, URIRef

    from .common import enrichment

    query = (
        "SELECT DISTINCT ?p ?o WHERE { ?s ?p ?o . FILTER (isIRI(?o) && ?p IN "
        f"(<{CG.procedureCode}>, <{CG.modifier}>, <{CG.hasDiagnosis}>)) }}"
    )
    g = Graph()
    holder = URIRef("urn:claimgraph:enrichment")
    for row in _select(url, query, [graph], timeout):
        g.add((holder, URIRef(row["p"]), URIRef(row["o"])))
    return "".join(f"{s.n3()} {p.n3()} {o.n3()} .\n" for s, p, o in enrichment(g)).encode()


def count_claims(url: str, graph: str | None, *, timeout: float = TIMEOUT) -> int:
    """How many claims the claims graph holds."""
    if not graph:
        return 0
    query = f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c a <{CG.Claim}> }}"
    for row in _select(url, query, [graph], timeout):
        return int(row.get("n", "0") or 0)
    return 0


def _with_context(query: str) -> str:
    """A compiled check that also returns its focus node's claim id, line number, code, date."""
    head = query.index("SELECT DISTINCT ?this")
    where = query.index(" WHERE {", head)
    projected = query[head + len("SELECT DISTINCT ?this") : where]
    cg = str(CG)
    return (
        query[:head]
        + f"SELECT ?this ?cg__claim ?cg__cid ?cg__ln ?cg__code ?cg__date{projected} WHERE {{ {{"
        + query[where + len(" WHERE {") :]
        + f""" OPTIONAL {{ ?cg__owner <{cg}hasLine> ?this }}
  BIND (COALESCE(?cg__owner, ?this) AS ?cg__claim)
  OPTIONAL {{ ?cg__claim <{cg}claimId> ?cg__cid }}
  OPTIONAL {{ ?this <{cg}lineNumber> ?cg__ln }}
  OPTIONAL {{ ?this <{cg}procedureCode> ?cg__code }}
  OPTIONAL {{ ?this <{cg}serviceDate> ?cg__date }} }}"""
    )


def _finding(row: dict[str, str], e: Any, project: tuple[str, ...]) -> Finding:
    from .common import fill_template

    claim = row.get("cg__claim", "")
    line = int(row["cg__ln"]) if row.get("cg__ln", "").isdigit() else None
    code = urllib.parse.unquote(row["cg__code"].rsplit("/", 1)[-1]) if row.get("cg__code") else None
    values = {v: row[v] for v in project if v in row}
    return Finding(
        claim=row.get("cg__cid") or urllib.parse.unquote(claim.rstrip("/").rsplit("/", 1)[-1]),
        line=line, rule=e.rule, severity=e.severity, code=code if line is not None else None,
        message=fill_template(e.message, values), source=e.source,
        service_date=row.get("cg__date") or None, facts=tuple(sorted(values.items())), uid=claim,
    )  # fmt: skip


def validate_endpoint(
    url: str, graph: str | None, *, timeout: float = TIMEOUT, gsp: str | None = None
) -> list[Finding]:
    """All findings of the claims in `graph` of the server at `url`."""
    from ..remote import _request, graph_store_target, put_graph
    from .common import finalize, template_vars
    from .fast import build_engine_checks

    if not graph:
        raise ClaimgraphError("--endpoint needs --graph IRI: the named graph that holds the claims")
    graph_store_target(url, gsp, graph)  # validates the IRI
    checks, entries, kg_nt = build_engine_checks()
    run_graph = RUN_GRAPH + uuid.uuid4().hex
    put_graph(url, run_graph, kg_nt + _facts(url, graph, timeout), gsp=gsp, timeout=timeout)
    try:
        findings: list[Finding] = []
        for shape, query in checks:
            e = entries[shape]
            project = template_vars(e.message)
            for row in _select(url, _with_context(query), [graph, run_graph], timeout):
                findings.append(_finding(row, e, project))
        return finalize(findings)
    finally:
        ep = graph_store_target(url, gsp, run_graph)
        with contextlib.suppress(ClaimgraphError):  # else it stays; its name says what it is
            _request(ep, "DELETE", None, {}, timeout)
