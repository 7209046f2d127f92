"""SPARQL servers: the SPARQL 1.1 Protocol (queries) and the Graph Store Protocol (uploads).

This is the ONLY module of claimgraph that opens network connections, and only to the URL the
user gave: no proxies from the environment, no redirects followed.

Every request has a total deadline (`--timeout`: connect, send and the whole answer), reads at
most `MAX_RESPONSE_BYTES`, and never shows what a server says in an error body. Answers are
checked before use: SPARQL JSON results (XML results are not asked for), N-Triples, Turtle or
JSON-LD with inline contexts only (a `@context` URL, `file:` included, is refused, never
fetched); escapes that decode to lone surrogates and any other malformed answer are a one-line
error (exit 2).

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
import contextlib
import json
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ClaimgraphError, QueryError

if TYPE_CHECKING:
    from rdflib.term import Identifier, Node

    from .query import QueryResult

DEFAULT_TIMEOUT = 60.0
MAX_RESPONSE_BYTES = 256 * 1024 * 1024

SELECT_ACCEPT = "application/sparql-results+json"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/ld+json;q=0.5"

# response media types read (XML formats are not: entity expansion, external entities)
_RESULT_MEDIA = ("application/sparql-results+json", "application/json")
_GRAPH_FORMATS = {
    "application/n-triples": "nt",
    "text/plain": "nt",
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/ld+json": "json-ld",
}
_TERM_TYPES = ("uri", "literal", "typed-literal", "bnode")


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


class Deadline:
    """A total time budget shared by the requests of one operation (`--timeout` seconds)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


class HttpStatusError(ClaimgraphError):
    """The server answered with an HTTP error status (`status`); its body is not shown."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def _late(ep: Endpoint, deadline: Deadline) -> ClaimgraphError:
    return ClaimgraphError(f"{ep.shown} did not answer within {deadline.seconds:g} s")


def request(
    ep: Endpoint,
    method: str,
    body: bytes | None,
    headers: Mapping[str, str],
    timeout: float | Deadline,
    *,
    limit: int = MAX_RESPONSE_BYTES,
) -> tuple[bytes, str]:
    """Send one request; return the body and its media type, or raise a one-line error.

    The whole exchange (connect, send, status line, headers, body) ends by the deadline: a
    watchdog shuts the socket down when it passes, so a server that sends one byte at a time
    cannot keep the request alive. At most `limit` bytes are read. Redirects are refused; a
    server's error body is never read or shown (it may echo the query or the data)."""
    import http.client
    import socket
    import threading

    deadline = timeout if isinstance(timeout, Deadline) else Deadline(timeout)
    left = deadline.left()
    if left <= 0:
        raise _late(ep, deadline)
    parts = urllib.parse.urlsplit(ep.url)
    https = parts.scheme == "https"
    conn_type = http.client.HTTPSConnection if https else http.client.HTTPConnection
    conn = conn_type(parts.hostname or "", parts.port, timeout=left)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sent = {"User-Agent": "claimgraph", "Accept-Encoding": "identity", **headers}
    if ep.auth:
        sent["Authorization"] = ep.auth
    expired = threading.Event()

    def stop() -> None:  # the watchdog: a blocked read returns at once
        expired.set()
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(left, stop)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request(method, target, body=body, headers=sent)
        resp = conn.getresponse()
        if 300 <= resp.status < 400:
            raise ClaimgraphError(
                f"the server answered HTTP {resp.status} (a redirect, not followed); "
                "pass the final URL instead"
            )
        if resp.status >= 400:
            hint = " (check the user name and password)" if resp.status in (401, 403) else ""
            raise HttpStatusError(f"HTTP {resp.status} from {ep.shown}{hint}", resp.status)
        media = resp.headers.get_content_type()
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(ep, limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            left = deadline.left()
            if left <= 0 or expired.is_set():
                raise _late(ep, deadline)
            if conn.sock is not None:
                conn.sock.settimeout(left)
            chunk = resp.read1(1 << 16)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise _too_large(ep, limit)
            chunks.append(chunk)
        if expired.is_set():  # the watchdog's shutdown looks like the end of the body
            raise _late(ep, deadline)
        if resp.length:  # fewer bytes than Content-Length announced
            raise ClaimgraphError(f"the answer of {ep.shown} was cut short")
        return b"".join(chunks), media
    except ClaimgraphError:
        raise
    except TimeoutError:
        raise _late(ep, deadline) from None
    except (http.client.HTTPException, OSError, ValueError) as e:
        if expired.is_set():
            raise _late(ep, deadline) from None
        if isinstance(e, http.client.HTTPException) and not isinstance(
            e, http.client.RemoteDisconnected
        ):
            raise ClaimgraphError(
                f"{ep.shown} sent a malformed HTTP answer ({type(e).__name__})"
            ) from None
        what = "connection refused" if isinstance(e, ConnectionRefusedError) else type(e).__name__
        raise ClaimgraphError(f"cannot reach endpoint {ep.shown} ({what})") from None
    finally:
        watchdog.cancel()
        conn.close()


def _too_large(ep: Endpoint, limit: int) -> ClaimgraphError:
    return ClaimgraphError(f"the answer of {ep.shown} is larger than {limit} bytes")


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
    timeout: float | Deadline = DEFAULT_TIMEOUT,
) -> QueryResult:
    """Run a query on a SPARQL 1.1 Protocol endpoint; the result has the shape `query.run` gives:
    SELECT columns and rows of rdflib terms (None when unbound), ASK a boolean, else a Graph."""
    from .query import QueryResult

    kind, text = prepared_text(query_text, bindings)
    ep = query_url(url)
    accept = GRAPH_ACCEPT if kind in ("construct", "describe") else SELECT_ACCEPT
    data, media = request(
        ep,
        "POST",
        text.encode("utf-8"),
        {"Content-Type": "application/sparql-query; charset=utf-8", "Accept": accept},
        timeout,
    )
    if kind in ("construct", "describe"):
        return QueryResult("graph", graph=parse_graph(data, media, ep.shown))
    doc = parse_results(data, media, ep.shown)
    if kind == "ask":
        if "boolean" not in doc:
            raise ClaimgraphError(f"{ep.shown} did not answer the ASK query with a boolean")
        return QueryResult("ask", boolean=doc["boolean"])
    if "boolean" in doc:
        raise _malformed(ep.shown)
    columns = doc["vars"]
    try:
        rows = [tuple(_term(row.get(v)) for v in columns) for row in doc["bindings"]]
    except Exception:  # rdflib refuses the term (a bad language tag ...)
        raise _malformed(ep.shown) from None
    return QueryResult("select", columns=columns, rows=rows)


def _malformed(shown: str, what: str = "SPARQL JSON results") -> ClaimgraphError:
    return ClaimgraphError(f"{shown} sent a malformed answer (not valid {what})")


def parse_results(data: bytes, media: str, shown: str = "the endpoint") -> dict[str, Any]:
    """SPARQL JSON results, checked: `{"boolean": b}` or `{"vars": [...], "bindings": [...]}`
    where each binding maps a variable to `{"type", "value", "xml:lang"?, "datatype"?}`, every
    string valid Unicode. Anything else is a one-line error (the server's text is not shown)."""
    from .unicodecheck import any_surrogate

    if media not in _RESULT_MEDIA:
        raise ClaimgraphError(f"{shown} answered with {media}, not SPARQL JSON results")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: also huge numbers
        raise _malformed(shown) from None
    if not isinstance(doc, dict) or any_surrogate(doc):
        raise _malformed(shown)
    if "boolean" in doc:
        if not isinstance(doc["boolean"], bool):
            raise _malformed(shown)
        return {"boolean": doc["boolean"]}
    head, results = doc.get("head"), doc.get("results")
    names = head.get("vars", []) if isinstance(head, dict) else None
    rows = results.get("bindings") if isinstance(results, dict) else None
    if not isinstance(names, list) or not all(isinstance(v, str) for v in names):
        raise _malformed(shown)
    if not isinstance(rows, list):
        raise _malformed(shown)
    for row in rows:
        if not isinstance(row, dict):
            raise _malformed(shown)
        for value in row.values():
            if not (
                isinstance(value, dict)
                and value.get("type") in _TERM_TYPES
                and isinstance(value.get("value"), str)
                and all(isinstance(value.get(k, ""), str) for k in ("xml:lang", "datatype"))
            ):
                raise _malformed(shown)
    return {"vars": names, "bindings": rows}


def _term(value: dict[str, str] | None) -> Identifier | None:
    from rdflib import BNode, Literal, URIRef

    if value is None:
        return None
    kind, text = value["type"], value["value"]
    if kind == "uri":
        return URIRef(text)
    if kind == "bnode":
        return BNode(text)
    datatype = value.get("datatype")
    return Literal(
        text, lang=value.get("xml:lang"), datatype=URIRef(datatype) if datatype else None
    )


def parse_graph(data: bytes, media: str, shown: str = "the endpoint") -> Any:
    """An answer graph: N-Triples, Turtle, or JSON-LD with inline contexts only (nothing is
    fetched or read: a `@context` or `@import` that names a URL, `file:` too, is refused)."""
    from .ingest.rdf_claims import INPUT_BASE, remote_context
    from .kg import new_graph
    from .unicodecheck import any_surrogate, rdf_surrogate_escape

    fmt = _GRAPH_FORMATS.get(media)
    if fmt is None:
        raise ClaimgraphError(f"{shown} answered with {media}, not an RDF graph")
    what = "JSON-LD" if fmt == "json-ld" else "N-Triples or Turtle"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed(shown, what) from None
    if fmt == "json-ld":
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            raise _malformed(shown, what) from None
        if any_surrogate(doc):
            raise _malformed(shown, what)
        refused = remote_context(doc)
        if refused:
            raise ClaimgraphError(
                f"the graph {shown} sent uses {refused}; only inline contexts are read"
            )
    elif rdf_surrogate_escape(text) is not None:
        raise _malformed(shown, what)
    g = new_graph()
    try:
        g.parse(data=text, format=fmt, publicID=INPUT_BASE)
    except Exception:
        raise _malformed(shown, what) from None
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
    timeout: float | Deadline = DEFAULT_TIMEOUT,
) -> str:
    """Replace one graph of the server (the default graph when `graph_iri` is None) with the
    N-Triples `ntriples` (HTTP PUT, Graph Store Protocol). Returns the URL shown to users."""
    ep = graph_store_target(url, gsp, graph_iri)
    request(ep, "PUT", ntriples, {"Content-Type": "application/n-triples"}, timeout)
    return ep.shown


def get_graph(
    url: str,
    graph_iri: str | None,
    *,
    gsp: str | None = None,
    timeout: float | Deadline = DEFAULT_TIMEOUT,
) -> Any:
    """One graph of the server as an rdflib Graph (HTTP GET, Graph Store Protocol)."""
    ep = graph_store_target(url, gsp, graph_iri)
    data, media = request(ep, "GET", None, {"Accept": GRAPH_ACCEPT}, timeout)
    return parse_graph(data, media, ep.shown)
