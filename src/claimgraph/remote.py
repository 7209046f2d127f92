"""SPARQL servers: the SPARQL 1.1 Protocol (queries) and the Graph Store Protocol (uploads).

This is the ONLY module of claimgraph that opens network connections, and only to the URL the
user gave: no proxies from the environment, no redirects followed.

Endpoint URLs (`--endpoint`): the server's SPARQL query URL. A bare server root such as
`http://localhost:7878` is taken as an Oxigraph server (query at `/query`, Graph Store at
`/store`); an endpoint ending in `/query` gets its Graph Store URL by replacing that with `/store`
(Oxigraph's layout). Any other server needs `--gsp`:
  Apache Jena Fuseki  --endpoint http://host:3030/DS/query  --gsp http://host:3030/DS/data
  GraphDB             --endpoint http://host:7200/repositories/REPO
                      --gsp http://host:7200/repositories/REPO/rdf-graphs/service
User name and password may be given in the URL (`http://user:pass@host/...`): they are sent as
HTTP Basic authentication and never appear in messages.

Parameters are bound with a trailing `VALUES (?a ?b) { (<iri> "lit") }` clause built from rdflib's
`.n3()`, never by editing the query body. That clause is joined after GROUP BY, so on an
aggregating query only group keys may be bound (anything else is refused, not silently ignored).
"""

from __future__ import annotations

import base64
import io
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ClaimgraphError, QueryError

if TYPE_CHECKING:
    from rdflib.term import Node

    from .query import QueryResult

DEFAULT_TIMEOUT = 60.0
MAX_RESPONSE_BYTES = 256 * 1024 * 1024

SELECT_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.5"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"

# response media type -> rdflib parser name (results and graphs)
_RESULT_FORMATS = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
}
_GRAPH_FORMATS = {
    "application/n-triples": "nt",
    "text/plain": "nt",
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "application/n-quads": "nquads",
}


@dataclass(frozen=True)
class Endpoint:
    """A server URL split into what is sent (`url`) and what may be shown (`shown`)."""

    url: str  # without user info
    shown: str  # scheme://host[:port]/path, for messages
    auth: str | None  # "Basic ..." header value, never shown


def endpoint(url: str) -> Endpoint:
    """Check an http(s) URL and take any user:password out of it."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise ClaimgraphError("the endpoint URL is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ClaimgraphError("the endpoint URL must be an http:// or https:// URL with a host")
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host + (f":{port}" if port is not None else "")
    auth = None
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    clean = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    shown = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    from .netguard import allow

    allow(clean)  # the one host:port this run may contact (netguard refuses all others)
    return Endpoint(clean, shown, auth)


def query_url(url: str) -> Endpoint:
    """The SPARQL query URL: a bare server root means Oxigraph's `/query`."""
    ep = endpoint(url)
    if urllib.parse.urlsplit(ep.url).path in ("", "/"):
        return _with_path(ep, "/query")
    return ep


def gsp_url(url: str, gsp: str | None = None) -> Endpoint:
    """The Graph Store Protocol URL: `gsp` when given, else derived for an Oxigraph server."""
    if gsp:
        return endpoint(gsp)
    ep = endpoint(url)
    path = urllib.parse.urlsplit(ep.url).path
    if path in ("", "/"):
        return _with_path(ep, "/store")
    if path.rstrip("/").endswith("/query"):
        return _with_path(ep, path.rstrip("/")[: -len("query")] + "store")
    raise ClaimgraphError(
        f"cannot derive the Graph Store URL from {ep.shown}; pass --gsp URL "
        "(Fuseki: .../DATASET/data, GraphDB: .../repositories/REPO/rdf-graphs/service)"
    )


def _with_path(ep: Endpoint, path: str) -> Endpoint:
    def swap(u: str) -> str:
        p = urllib.parse.urlsplit(u)
        return urllib.parse.urlunsplit((p.scheme, p.netloc, path, p.query, ""))

    return Endpoint(swap(ep.url), swap(ep.shown), ep.auth)


# --------------------------------------------------------------------------- HTTP


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Connections go to the URL the user gave and nowhere else."""

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> None:
        raise ClaimgraphError(
            f"the server answered HTTP {code} (a redirect); pass the final URL instead"
        )


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _request(
    ep: Endpoint,
    method: str,
    body: bytes | None,
    headers: Mapping[str, str],
    timeout: float,
) -> tuple[bytes, str]:
    """Send one request; return the body and its media type, or raise a one-line error."""
    req = urllib.request.Request(ep.url, data=body, method=method, headers=dict(headers))
    req.add_header("User-Agent", "claimgraph")
    if ep.auth:
        req.add_header("Authorization", ep.auth)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            data = resp.read(MAX_RESPONSE_BYTES + 1)
            media = resp.headers.get_content_type()
    except urllib.error.HTTPError as e:
        detail = _error_detail(e)
        hint = " (check the user name and password)" if e.code in (401, 403) else ""
        raise ClaimgraphError(f"HTTP {e.code} from {ep.shown}{hint}{detail}") from None
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, TimeoutError):
            raise ClaimgraphError(f"{ep.shown} did not answer within {timeout:g} s") from None
        what = type(reason).__name__ if isinstance(reason, BaseException) else "network error"
        if isinstance(reason, ConnectionRefusedError):
            what = "connection refused"
        raise ClaimgraphError(f"cannot reach endpoint {ep.shown} ({what})") from None
    except TimeoutError:
        raise ClaimgraphError(f"{ep.shown} did not answer within {timeout:g} s") from None
    except (ConnectionError, OSError) as e:
        raise ClaimgraphError(f"cannot reach endpoint {ep.shown} ({type(e).__name__})") from None
    if len(data) > MAX_RESPONSE_BYTES:
        raise ClaimgraphError(f"the answer of {ep.shown} is larger than {MAX_RESPONSE_BYTES} bytes")
    return data, media


def _error_detail(e: urllib.error.HTTPError) -> str:
    """The server's own explanation, first line, shortened (servers explain syntax errors)."""
    try:
        text = e.read(2000).decode("utf-8", "replace")
    except Exception:
        return ""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line or line.lstrip().startswith("<"):  # an HTML error page says nothing useful
        return ""
    return ": " + (line[:200] + "..." if len(line) > 200 else line)


# --------------------------------------------------------------------------- queries


def query_kind(query_text: str) -> tuple[str, set[str], bool]:
    """("select"|"ask"|"construct"|"describe", declared prefixes, has trailing VALUES)."""
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        prologue, body = parseQuery(query_text)
    except ParseBaseException as e:
        raise QueryError(
            "SPARQL syntax error; check the query near this position",
            path="query",
            position=f"{e.lineno}:{e.col}",
        ) from None
    declared = {str(p.prefix or "") for p in prologue if p.name == "PrefixDecl"}
    kind = body.name.removesuffix("Query").lower()
    return kind, declared, "valuesClause" in body


def values_clause(bindings: Mapping[str, Node]) -> str:
    """`VALUES (?a ?b) { (<iri> "lit") }` from rdflib terms (their `.n3()`)."""
    from rdflib.term import BNode, Literal, URIRef

    names = sorted(bindings)
    for name in names:
        if not name.isidentifier():
            raise QueryError(f"'{name}' is not a valid SPARQL variable name")
        term = bindings[name]
        if isinstance(term, BNode) or not isinstance(term, URIRef | Literal):
            raise QueryError(f"parameter '{name}' must be an IRI or a literal")
        if isinstance(term, URIRef) and any(c in str(term) for c in '<>"{}|^`\\ \n'):
            raise QueryError(f"parameter '{name}' is not a valid IRI")
    variables = " ".join(f"?{n}" for n in names)
    row = " ".join(bindings[n].n3() for n in names)
    return f"VALUES ({variables}) {{ ({row}) }}"


def prepared_text(query_text: str, bindings: Mapping[str, Node] | None = None) -> tuple[str, str]:
    """The query kind and the text to send: claimgraph's prefixes it uses without declaring
    them (the embedded engine knows them) put in front, the parameters as a trailing VALUES."""
    from .namespaces import PREFIXES

    kind, declared, has_values = query_kind(query_text)
    head = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items() if p not in declared)
    text = head + query_text.rstrip() + "\n"
    if bindings:
        if has_values:
            raise QueryError("a query with its own trailing VALUES clause cannot take parameters")
        keys = group_keys(text)
        for name in sorted(bindings):
            if keys is not None and name not in keys:
                raise QueryError(
                    f"parameter '{name}' cannot be bound on an endpoint: the query aggregates "
                    f"and ?{name} is not a GROUP BY key; group by it or run the query locally"
                )
        text += values_clause(bindings) + "\n"
    return kind, text


_PASS_THROUGH = {
    "SelectQuery", "AskQuery", "ConstructQuery", "DescribeQuery",
    "Slice", "Project", "Distinct", "Reduced", "OrderBy", "Extend", "Filter",
}  # fmt: skip


def group_keys(query_text: str) -> set[str] | None:
    """The GROUP BY variables of an aggregating query, else None (every variable in scope).

    A trailing VALUES is joined after grouping (SPARQL 1.1, 18.2.4), so it restricts an
    aggregating query only through its group keys; the embedded engine binds a parameter before
    grouping. Binding anything else would silently give other rows, so it is refused."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.term import Variable

    node = translateQuery(parseQuery(query_text)).algebra
    while getattr(node, "name", None) in _PASS_THROUGH:
        node = node.get("p")
    if getattr(node, "name", None) != "AggregateJoin":
        return None
    return {str(v) for v in (node.p.get("expr") or []) if isinstance(v, Variable)}


def run_query(
    url: str,
    query_text: str,
    bindings: Mapping[str, Node] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> QueryResult:
    """Run a query on a SPARQL 1.1 Protocol endpoint; the result has the shape `query.run` gives:
    SELECT columns and rows of rdflib terms (None when unbound), ASK a boolean, else a Graph."""
    from .query import QueryResult

    kind, text = prepared_text(query_text, bindings)
    ep = query_url(url)
    accept = GRAPH_ACCEPT if kind in ("construct", "describe") else SELECT_ACCEPT
    data, media = _request(
        ep,
        "POST",
        text.encode("utf-8"),
        {"Content-Type": "application/sparql-query; charset=utf-8", "Accept": accept},
        timeout,
    )
    if kind in ("construct", "describe"):
        return QueryResult("graph", graph=parse_graph(data, media, ep.shown))
    fmt = _RESULT_FORMATS.get(media)
    if fmt is None:
        raise ClaimgraphError(f"{ep.shown} answered with {media}, not SPARQL results")
    from rdflib.query import Result

    try:
        result = Result.parse(io.BytesIO(data), format=fmt)
    except Exception as e:
        raise ClaimgraphError(
            f"cannot read the results of {ep.shown} ({type(e).__name__})"
        ) from None
    if kind == "ask":
        if result.type != "ASK":
            raise ClaimgraphError(f"{ep.shown} did not answer the ASK query with a boolean")
        return QueryResult("ask", boolean=bool(result.askAnswer))
    columns = [str(v) for v in (result.vars or [])]
    rows = [tuple(row.get(v) for v in (result.vars or [])) for row in result.bindings]
    return QueryResult("select", columns=columns, rows=rows)


def parse_graph(data: bytes, media: str, shown: str = "the endpoint") -> Any:
    from .kg import new_graph

    fmt = _GRAPH_FORMATS.get(media)
    if fmt is None:
        raise ClaimgraphError(f"{shown} answered with {media}, not an RDF graph")
    g = new_graph()
    try:
        g.parse(data=data, format=fmt)
    except Exception as e:
        raise ClaimgraphError(f"cannot read the graph {shown} sent ({type(e).__name__})") from None
    return g


# --------------------------------------------------------------------------- graph store


def graph_store_target(url: str, gsp: str | None, graph_iri: str | None) -> Endpoint:
    """The Graph Store URL of one graph: `?graph=IRI`, or `?default` for the default graph."""
    base = gsp_url(url, gsp)
    if graph_iri is not None:
        parts = urllib.parse.urlsplit(graph_iri)
        if not parts.scheme or any(c in graph_iri for c in '<>"{}|^`\\ \n'):
            raise ClaimgraphError("--graph must be an absolute IRI, e.g. https://example.org/kg")
        query = urllib.parse.urlencode({"graph": graph_iri})
    else:
        query = "default"

    def add(u: str) -> str:
        p = urllib.parse.urlsplit(u)
        q = f"{p.query}&{query}" if p.query else query
        return urllib.parse.urlunsplit((p.scheme, p.netloc, p.path, q, ""))

    return Endpoint(add(base.url), base.shown, base.auth)


def put_graph(
    url: str,
    graph_iri: str | None,
    ntriples: bytes,
    *,
    gsp: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """Replace one graph of the server (the default graph when `graph_iri` is None) with the
    N-Triples `ntriples` (HTTP PUT, Graph Store Protocol). Returns the URL shown to users."""
    ep = graph_store_target(url, gsp, graph_iri)
    _request(ep, "PUT", ntriples, {"Content-Type": "application/n-triples"}, timeout)
    return ep.shown


def get_graph(
    url: str, graph_iri: str | None, *, gsp: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Any:
    """One graph of the server as an rdflib Graph (HTTP GET, Graph Store Protocol)."""
    ep = graph_store_target(url, gsp, graph_iri)
    data, media = _request(ep, "GET", None, {"Accept": GRAPH_ACCEPT}, timeout)
    return parse_graph(data, media, ep.shown)
