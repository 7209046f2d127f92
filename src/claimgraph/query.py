"""Named SPARQL queries and the read-only query engine.

A named query is a `.rq` file of `queries/` (not `queries/qc/`) whose leading comments are its
header (STYLE.md):

    # title: Modifiers a payer expects on a code
    # description: For one procedure code and one payer, the modifiers the rules require or forbid.
    # param: code  (required) procedure code, e.g. E1392
    # param: payer (optional) payer id, e.g. medicare

`run()` refuses anything that is not a read-only query over the local graph, checked on the
parsed algebra (never by matching text): updates, SERVICE and FROM / FROM NAMED.

Parameters are bound with rdflib `initBindings`, never pasted into the text. Parameters named
`code`, `diagnosis`, `modifier`, `payer`, `source` and `topic` become IRIs (`code=E1392` is the
HCPCS code IRI, `97112` the CPT one, `M54.59` the ICD-10-CM one, `payer=medicare` the payer IRI);
`hcpcs:E1392` style prefixed names and full `https://` IRIs are accepted for every parameter;
any other parameter is a plain literal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import QueryError
from .resources import data_dir

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.plugins.sparql.sparql import Query
    from rdflib.term import Identifier

    from .knowledge import Knowledge

IRI_PARAMS = ("code", "diagnosis", "modifier", "payer", "source", "topic")

_HEADER_RE = re.compile(r"^#\s*(title|description|param)\s*:\s*(.*?)\s*$")
_PARAM_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\((required|optional)\)\s*(.*)$")
_ICD10_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")


@dataclass(frozen=True)
class Param:
    name: str
    required: bool
    text: str


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    title: str
    description: str
    params: tuple[Param, ...]
    text: str


@dataclass
class QueryResult:
    """SELECT: `columns` and `rows` (rdflib terms or None); ASK: `boolean`; else `graph`."""

    kind: str  # "select" | "ask" | "graph"
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Identifier | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    graph: Graph | None = None

    def dicts(self) -> list[dict[str, Identifier | None]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


# --------------------------------------------------------------------------- headers


def parse_header(text: str, path: str = "<query>") -> tuple[str, str, tuple[Param, ...]]:
    """Title, description and parameters from the leading comment lines; QueryError if invalid."""
    fields: dict[str, str] = {}
    params: list[Param] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        m = _HEADER_RE.match(stripped)
        if not m:
            continue
        key, value = m.groups()
        if key == "param":
            pm = _PARAM_RE.match(value)
            if not pm:
                raise QueryError(
                    "a param line must read 'name (required|optional) text'",
                    path=path,
                    position=str(number),
                )
            params.append(Param(pm.group(1), pm.group(2) == "required", pm.group(3)))
        elif key in fields:
            raise QueryError(f"the header has two '{key}:' lines", path=path, position=str(number))
        else:
            fields[key] = value
    for key in ("title", "description"):
        if not fields.get(key):
            raise QueryError(f"the query header has no '# {key}:' line", path=path)
    if len({p.name for p in params}) != len(params):
        raise QueryError("the query header declares a parameter twice", path=path)
    return fields["title"], fields["description"], tuple(params)


def _read_text(path: Path) -> str:
    from .fileio import MAX_QUERY_BYTES, read_input

    data = read_input(path, what="query file", max_bytes=MAX_QUERY_BYTES)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise QueryError("cannot read the query file (not UTF-8 text)", path=str(path)) from None


def read_query_file(path: Path, name: str | None = None) -> NamedQuery:
    text = _read_text(path)
    title, description, params = parse_header(text, str(path))
    return NamedQuery(name or path.stem, path, title, description, params, text)


def named_queries() -> dict[str, NamedQuery]:
    """The bundled named queries by name (file stem), sorted."""
    root = data_dir("queries")
    return {p.stem: read_query_file(p) for p in sorted(root.glob("*.rq"))}


def get_query(name_or_path: str) -> NamedQuery:
    """A bundled query by name, or a `.rq` file (its header is optional)."""
    if name_or_path.endswith(".rq") or "/" in name_or_path:
        path = Path(name_or_path)
        if not path.exists():
            raise QueryError("no such query file", path=name_or_path)
        text = _read_text(path)
        try:
            title, description, params = parse_header(text, str(path))
        except QueryError:  # an ad-hoc file without a full header is still runnable
            title, description, params = path.stem, "", _header_params(text)
        return NamedQuery(path.stem, path, title, description, params, text)
    root = data_dir("queries")
    path = root / f"{name_or_path}.rq"
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name_or_path) or not path.is_file():
        known = ", ".join(sorted(p.stem for p in root.glob("*.rq")))
        raise QueryError(f"no named query '{name_or_path}'; known queries: {known}")
    return read_query_file(path)


def _header_params(text: str) -> tuple[Param, ...]:
    out = []
    for line in text.splitlines():
        m = _HEADER_RE.match(line.strip())
        if m and m.group(1) == "param" and (pm := _PARAM_RE.match(m.group(2))):
            out.append(Param(pm.group(1), pm.group(2) == "required", pm.group(3)))
    return tuple(out)


# --------------------------------------------------------------------------- checking


def check(query_text: str) -> Query:
    """Parse and translate `query_text`; refuse what is not a local read-only query."""
    return _check(query_text)


@lru_cache(maxsize=64)
def _check(query_text: str) -> Query:
    """check() memoised: rdflib's SPARQL parser is slow, and a translated query is reusable."""
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    from .namespaces import PREFIXES

    try:
        parsed = parseQuery(query_text)
    except ParseBaseException as e:
        try:
            parseUpdate(query_text)
        except ParseBaseException:
            raise QueryError(
                "SPARQL syntax error; check the query near this position",
                path="query",
                position=f"{e.lineno}:{e.col}",
            ) from None
        raise QueryError(
            "updates (INSERT, DELETE, LOAD, CLEAR, DROP ...) are not allowed"
        ) from None
    try:
        translated = translateQuery(parsed, initNs=PREFIXES)
    except Exception as e:  # undefined prefixes and the like
        raise QueryError(f"the query cannot be compiled ({type(e).__name__}: {e})") from None
    if translated.algebra.get("datasetClause"):
        raise QueryError("FROM and FROM NAMED are not allowed; queries read the local graph only")
    if any(_service_parts(translated.algebra)):
        raise QueryError(
            "SERVICE (federated query) is not allowed; queries read the local graph only"
        )
    return translated


def _service_parts(node: Any) -> Iterator[Any]:
    """Every ServiceGraphPattern anywhere in the algebra (also inside EXISTS and subqueries)."""
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, CompValue):
            if item.name == "ServiceGraphPattern":
                yield item
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set):
            stack.extend(item)


# --------------------------------------------------------------------------- parameters


def param_term(name: str, value: str, graph: Graph | None = None) -> Identifier:
    """The RDF term a parameter value stands for (see the module docstring)."""
    from rdflib import Literal, URIRef

    from .namespaces import PREFIXES, SOURCE, TOPIC, modifier_iri, payer_iri

    value = value.strip()
    if value.startswith(("http://", "https://", "urn:")):
        return URIRef(value)
    prefix, sep, local = value.partition(":")
    if sep and prefix in PREFIXES and name in IRI_PARAMS:
        return URIRef(PREFIXES[prefix] + local)
    if name not in IRI_PARAMS:
        return Literal(value)
    if not value:
        raise QueryError(f"parameter '{name}' is empty")
    if name == "code":
        return code_iri(value, graph)
    if name == "diagnosis":
        from .namespaces import diagnosis_iri

        return diagnosis_iri(value)
    if name == "modifier":
        return modifier_iri(value)
    if name == "payer":
        return payer_iri(value)
    return URIRef(str(SOURCE if name == "source" else TOPIC) + value)


def code_candidates(notation: str) -> list[Identifier]:
    """IRIs a bare code string may denote, most likely first."""
    from .namespaces import code_system, diagnosis_iri, modifier_iri, procedure_code_iri

    text = notation.strip().upper()
    out: list[Identifier] = []
    if code_system(text):
        out.append(procedure_code_iri(text))
    if _ICD10_RE.match(text):
        out.append(diagnosis_iri(text))
    if len(text) == 2:
        out.append(modifier_iri(text))
    return out or [procedure_code_iri(text)]


def code_iri(notation: str, graph: Graph | None = None) -> Identifier:
    """The IRI of a code string; with a graph, the first candidate that the graph knows."""
    from .namespaces import SKOS

    candidates = code_candidates(notation)
    if graph is not None:
        for iri in candidates:
            if (iri, SKOS.notation, None) in graph:
                return iri
    return candidates[0]


def bind_params(
    params: Mapping[str, str], declared: tuple[Param, ...], graph: Graph | None = None
) -> dict[str, Identifier]:
    """Check parameters against the declared ones and turn them into RDF terms."""
    known = {p.name for p in declared}
    for name in params:
        if name not in known:
            hint = ", ".join(sorted(known)) or "none"
            raise QueryError(f"unknown parameter '{name}'; this query takes: {hint}")
    for p in declared:
        if p.required and not params.get(p.name):
            raise QueryError(
                f"missing required parameter '{p.name}' ({p.text}); pass -p {p.name}=..."
            )
    return {name: param_term(name, value, graph) for name, value in params.items() if value != ""}


# --------------------------------------------------------------------------- running


def run(
    query_text: str,
    params: Mapping[str, str] | None = None,
    graph: Graph | None = None,
    declared: tuple[Param, ...] | None = None,
    max_rows: int | None = None,
    knowledge: Knowledge | None = None,
) -> QueryResult:
    """Run a read-only SPARQL query on `graph` (default: `knowledge.graph`, by default the
    bundled knowledge graph).

    `declared` are the allowed parameters (default: those of the query's header, or every
    variable of the query when the header declares none). With `max_rows`, evaluation stops
    after max_rows + 1 rows (the caller can tell the limit was passed; see sandbox.py).
    """
    translated = check(query_text)
    if graph is None:
        from .knowledge import Knowledge

        graph = (knowledge or Knowledge.bundled()).graph
    bindings = bind_params(params or {}, _declared(query_text, declared, translated), graph)
    if max_rows is not None and translated.algebra.name in ("ConstructQuery", "DescribeQuery"):
        return _graph_result(graph, translated, bindings, max_rows)
    result = graph.query(translated, initBindings=bindings)
    return _result(result, max_rows)


def _graph_result(
    graph: Graph, translated: Query, bindings: Mapping[str, Identifier], max_rows: int
) -> QueryResult:
    """CONSTRUCT / DESCRIBE as rdflib evaluates them (evaluate.evalQuery), but stopping once
    the answer holds more than `max_rows` triples instead of building all of it first."""
    from rdflib.plugins.sparql.evaluate import _fillTemplate, evalPart
    from rdflib.plugins.sparql.sparql import QueryContext
    from rdflib.term import URIRef, Variable

    from .kg import new_graph

    main = translated.algebra
    init: Any = {Variable(k): v for k, v in bindings.items()}  # as evalQuery passes them
    ctx = QueryContext(graph, initBindings=init, datasetClause=main.datasetClause)
    ctx.prologue = translated.prologue
    out = new_graph()
    if main.name == "ConstructQuery":
        template = main.template or main.p.p.triples  # CONSTRUCT WHERE: the pattern itself
        for solution in evalPart(ctx, main.p):
            for triple in _fillTemplate(template, solution):
                out.add(triple)
            if len(out) > max_rows:
                break
        return QueryResult("graph", graph=out)
    seen: set[Identifier] = set()
    from itertools import chain

    resources: Iterator[Any] = (iri for iri in main.PV if isinstance(iri, URIRef))
    if main.p is not None:
        found = (v for solution in evalPart(ctx, main.p) for v in solution.values())
        resources = chain(resources, found)
    for resource in resources:
        if resource in seen:
            continue
        seen.add(resource)
        graph.cbd(resource, target_graph=out)
        if len(out) > max_rows:
            break
    return QueryResult("graph", graph=out)


def run_named(
    name: str,
    params: Mapping[str, str] | None = None,
    graph: Graph | None = None,
    knowledge: Knowledge | None = None,
) -> QueryResult:
    q = get_query(name)
    return run(q.text, params, graph, q.params, knowledge=knowledge)


def _declared(
    text: str, declared: tuple[Param, ...] | None, translated: Query
) -> tuple[Param, ...]:
    if declared is not None:
        return declared
    header = _header_params(text)
    if header:
        return header
    names = sorted(str(v) for v in (translated.algebra.get("_vars") or ()))
    return tuple(Param(n, False, "") for n in names)


def _result(result: Any, max_rows: int | None = None) -> QueryResult:
    if result.type == "ASK":
        return QueryResult("ask", boolean=bool(result.askAnswer))
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        from .kg import new_graph

        g = new_graph()
        for t in result.graph or []:
            g.add(t)
        return QueryResult("graph", graph=g)
    columns = [str(v) for v in (result.vars or [])]
    from itertools import islice

    rows = [tuple(row) for row in islice(result, None if max_rows is None else max_rows + 1)]
    return QueryResult("select", columns=columns, rows=rows)


def run_remote(
    url: str,
    query_text: str,
    params: Mapping[str, str] | None,
    declared: tuple[Param, ...] | None,
    *,
    timeout: float = 60.0,
) -> Any:
    """The same checks, then `claimgraph.remote.run_query` (the interop module) within
    `timeout` seconds in all."""
    translated = check(query_text)
    bindings = bind_params(params or {}, _declared(query_text, declared, translated))
    from . import remote

    return remote.run_query(url, query_text, bindings, timeout=timeout)


def compact(term: object) -> str:
    """A term for people: prefixed name for our IRIs, lexical form for literals."""
    from rdflib import URIRef

    if term is None:
        return ""
    if isinstance(term, URIRef):
        return compact_iri(str(term))
    return str(term)


def compact_iri(text: str) -> str:
    """`https://w3id.org/claimgraph/code/hcpcs/E1392` -> `hcpcs:E1392` (other IRIs unchanged)."""
    from .namespaces import PREFIXES

    best = max(
        ((p, ns) for p, ns in PREFIXES.items() if text.startswith(ns)),
        key=lambda item: len(item[1]),
        default=None,
    )
    return f"{best[0]}:{text[len(best[1]) :]}" if best else text
