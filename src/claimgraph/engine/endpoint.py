"""The compiled checks run in a SPARQL server where the claims already are (`--endpoint`).

Where things live:
- the claims: one named graph of the server (`--graph IRI`), in the claim RDF of
  docs/claim-rdf.md. claimgraph never writes to it.
- the knowledge graph and the enrichment facts (ICD-10-CM billable flags, code schemes and
  imported code-set facts for the codes the claims use): claimgraph puts its own copy, for this
  run only, into a fresh claimgraph-owned named graph `https://w3id.org/claimgraph/graph/run/<id>`
  (Graph Store Protocol PUT), and deletes that graph when the run ends, even on failure. So the
  checks always match the rules of this claimgraph version, whatever was published before.
- the checks (compile.py) are sent a few at a time: each query is the UNION of up to `CHUNK`
  checks, every branch marked with its check number (`?_k`), with the claim id, line number,
  code and date of each focus node joined once outside the UNION. The queries go with
  `default-graph-uri` = the claims graph + the run graph, so the server evaluates them over all
  the claims at once (cross-claim rules included); up to `jobs` queries run at the same time.
- the form of the checks: a server that evaluates SEP-0006 `LATERAL` (Oxigraph; a probe query
  asks) gets the fast engine's form, whose EXISTS groups are nested with LATERAL so each is
  answered by index lookups; any other server gets standard SPARQL 1.1, whose EXISTS groups
  some planners evaluate without the outer bindings (cost grows with the square of the claims).
- every request ends by one deadline for the whole run (`--timeout`).

The SPARQL Protocol cannot merge the server's unnamed default graph with another graph, so the
claims must be in a named graph: `--graph` is required.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ClaimgraphError
from ..findings import Finding
from ..namespaces import BASE, CG
from ..remote import Deadline

if TYPE_CHECKING:
    from ..knowledge import CodeSets, Knowledge

RUN_GRAPH = BASE + "graph/run/"
TIMEOUT = 300.0  # seconds for a whole run, unless --timeout says otherwise
CLEANUP_TIMEOUT = 30.0  # seconds to delete the run graph, even after the deadline
CHUNK = 14  # checks per query
_PREFIX = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^<>\"{}|^`\\\s]*)>", re.IGNORECASE)
_HEAD = "SELECT DISTINCT ?this"
_LATERAL_PROBE = "SELECT ?b WHERE { BIND (1 AS ?a) LATERAL { BIND (?a AS ?b) } }"


def _deadline(timeout: float | Deadline) -> Deadline:
    return timeout if isinstance(timeout, Deadline) else Deadline(timeout)


def _select(
    url: str, query: str, graphs: list[str], timeout: float | Deadline
) -> Iterator[dict[str, str]]:
    """Rows of a SELECT (variable -> value) over the merge of `graphs`."""
    from ..remote import parse_results, query_url, request

    ep = query_url(url)
    form = [("query", query)] + [("default-graph-uri", g) for g in graphs]
    data, media = request(
        ep,
        "POST",
        urllib.parse.urlencode(form).encode("ascii"),
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json",
        },
        timeout,
    )
    doc = parse_results(data, media, ep.shown)
    if "boolean" in doc:
        raise ClaimgraphError(f"{ep.shown} did not answer a SELECT query with rows")
    for row in doc["bindings"]:
        yield {k: v["value"] for k, v in row.items()}


def _facts(url: str, graph: str, timeout: float | Deadline, codesets: CodeSets | None) -> bytes:
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
        if "p" not in row or "o" not in row:
            raise _malformed(url)
        g.add((holder, URIRef(row["p"]), URIRef(row["o"])))
    try:
        facts = enrichment(g, codesets)
        return "".join(f"{s.n3()} {p.n3()} {o.n3()} .\n" for s, p, o in facts).encode()
    except Exception:  # an IRI the server sent that is no IRI
        raise _malformed(url) from None


def _malformed(url: str) -> ClaimgraphError:
    from ..remote import query_url

    return ClaimgraphError(f"{query_url(url).shown} sent a malformed answer (unexpected rows)")


def count_claims(url: str, graph: str | None, *, timeout: float | Deadline = TIMEOUT) -> int:
    """How many claims the claims graph holds."""
    if not graph:
        return 0
    query = f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c a <{CG.Claim}> }}"
    for row in _select(url, query, [graph], timeout):
        n = row.get("n", "0") or "0"
        if not n.isdigit() or len(n) > 18:
            raise _malformed(url)
        return int(n)
    return 0


def accepts_lateral(url: str, timeout: float | Deadline) -> bool:
    """Whether the server evaluates SEP-0006 LATERAL (a query it refuses: HTTP 4xx)."""
    from ..remote import HttpStatusError

    try:
        rows = list(_select(url, _LATERAL_PROBE, [], timeout))
    except HttpStatusError as e:
        if 400 <= e.status < 500 and e.status not in (401, 403):
            return False
        raise
    return rows == [{"b": "1"}]


# --------------------------------------------------------------------------------------------
# Batched queries


def _parts(query: str) -> tuple[dict[str, str], str] | None:
    """(prefixes, the SELECT) of a compiled check; None when its prologue is anything else."""
    at = query.find(_HEAD)
    if at < 0:
        return None
    prologue = query[:at]
    prefixes = {m.group(1) or "": m.group(2) for m in _PREFIX.finditer(prologue)}
    if _PREFIX.sub("", prologue).strip():
        return None
    return prefixes, query[at:]


_CONTEXT = """ OPTIONAL {{ ?_owner <{cg}hasLine> ?this }}
  BIND (COALESCE(?_owner, ?this) AS ?_claim)
  OPTIONAL {{ ?_claim <{cg}claimId> ?_cid }}
  OPTIONAL {{ ?this <{cg}lineNumber> ?_ln }}
  OPTIONAL {{ ?this <{cg}procedureCode> ?_code }}
  OPTIONAL {{ ?this <{cg}serviceDate> ?_date }}"""


def batch_queries(
    checks: Sequence[tuple[str, tuple[str, ...]]], chunk: int = CHUNK
) -> list[tuple[str, list[int]]]:
    """The checks (query, message-template variables) as a few queries, each with the indexes
    of the checks it answers: the UNION of up to `chunk` checks whose prefixes agree, each
    branch binding `?_k` to its index, with the focus node's context joined once. A check that
    cannot share a query (another prologue, a clashing prefix) gets one of its own."""
    context = _CONTEXT.format(cg=str(CG))
    out: list[tuple[str, list[int]]] = []
    groups: list[tuple[dict[str, str], list[tuple[int, str, tuple[str, ...]]]]] = []
    for k, (query, project) in enumerate(checks):
        parts = _parts(query)
        if parts is None or any(v.startswith("_") for v in project):
            out.append((_single(query, project, k, context), [k]))
            continue
        prefixes, select = parts
        for known, members in groups:
            clash = any(known.get(p, ns) != ns for p, ns in prefixes.items())
            if not clash and len(members) < chunk:
                known.update(prefixes)
                members.append((k, select, project))
                break
        else:
            groups.append((dict(prefixes), [(k, select, project)]))
    for prefixes, members in groups:
        head = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(prefixes.items()))
        names = sorted({v for _, _, project in members for v in project})
        projected = "".join(f" ?{v}" for v in names)
        union = "\n  UNION\n  ".join(
            f"{{ {{ {select} }} BIND ({k} AS ?_k) }}" for k, select, _ in members
        )
        text = (
            f"{head}SELECT ?_k ?this ?_claim ?_cid ?_ln ?_code ?_date{projected} WHERE {{\n"
            f"  {union}\n {context} }}"
        )
        out.append((text, [k for k, _, _ in members]))
    return out


def _single(query: str, project: tuple[str, ...], k: int, context: str) -> str:
    """One check as its own query, with the same columns as a batch."""
    at = query.index(_HEAD)
    where = query.index(" WHERE {", at)
    projected = query[at + len(_HEAD) : where]
    return (
        query[:at]
        + f"SELECT ?_k ?this ?_claim ?_cid ?_ln ?_code ?_date{projected} WHERE {{ {{ "
        + query[where + len(" WHERE {") :]
        + f" BIND ({k} AS ?_k) {context} }}"
    )


def _finding(row: dict[str, str], e: Any, project: tuple[str, ...]) -> Finding:
    from .common import fill_template

    claim = row.get("_claim", "")
    line = int(row["_ln"]) if row.get("_ln", "").isdigit() and len(row["_ln"]) < 10 else None
    code = urllib.parse.unquote(row["_code"].rsplit("/", 1)[-1]) if row.get("_code") else None
    values = {v: row[v] for v in project if v in row}
    return Finding(
        claim=row.get("_cid") or urllib.parse.unquote(claim.rstrip("/").rsplit("/", 1)[-1]),
        line=line, rule=e.rule, severity=e.severity, code=code if line is not None else None,
        message=fill_template(e.message, values), source=e.source,
        service_date=row.get("_date") or None, facts=tuple(sorted(values.items())), uid=claim,
    )  # fmt: skip


def _in_parallel(tasks: Sequence[Callable[[], Any]], jobs: int) -> list[Any]:
    """The results of `tasks`, at most `jobs` running at once (threads: each waits on the
    server). The first failure is raised at once; requests still running end by the run's
    deadline (their threads are daemons)."""
    if jobs <= 1 or len(tasks) <= 1:
        return [t() for t in tasks]
    results: list[Any] = [None] * len(tasks)
    failures: list[BaseException] = []
    done = threading.Semaphore(0)
    lock = threading.Lock()
    pending = list(range(len(tasks)))

    def worker() -> None:
        while not failures:
            with lock:
                if not pending:
                    return
                i = pending.pop(0)
            try:
                results[i] = tasks[i]()
            except BaseException as e:  # handed to the caller's thread
                failures.append(e)
            done.release()

    for _ in range(min(jobs, len(tasks))):
        threading.Thread(target=worker, daemon=True).start()
    for _ in tasks:
        done.acquire()
        if failures:
            raise failures[0]
    return results


def validate_endpoint(
    url: str,
    graph: str | None,
    *,
    knowledge: Knowledge | None = None,
    timeout: float | Deadline = TIMEOUT,
    gsp: str | None = None,
    jobs: int = 2,
) -> list[Finding]:
    """All findings of the claims in `graph` of the server at `url` under `knowledge`
    (default: the bundled rules, no code sets), within `timeout`."""
    from ..knowledge import Knowledge
    from ..remote import graph_store_target, put_graph, request
    from .common import finalize, run_finding, template_vars
    from .oxigraph import lateral_exists

    if not graph:
        raise ClaimgraphError("--endpoint needs --graph IRI: the named graph that holds the claims")
    deadline = _deadline(timeout)
    graph_store_target(url, gsp, graph)  # validates the IRI
    knowledge = knowledge or Knowledge.bundled()
    engine = knowledge.checks
    checks, entries, kg_nt = engine.standard, engine.entries, engine.kg_nt
    lateral = accepts_lateral(url, deadline)
    shapes = [shape for shape, _ in checks]
    projects = [template_vars(entries[shape].message) for shape in shapes]
    texts = [lateral_exists(q) if lateral else q for _, q in checks]
    queries = batch_queries(list(zip(texts, projects, strict=True)))
    run_graph = RUN_GRAPH + uuid.uuid4().hex
    facts = _facts(url, graph, deadline, knowledge.codesets)
    put_graph(url, run_graph, kg_nt + facts, gsp=gsp, timeout=deadline)
    try:

        def answer(text: str, members: list[int]) -> list[Finding]:
            found = []
            for row in _select(url, text, [graph, run_graph], deadline):
                k = row.get("_k", "")
                if not k.isdigit() or int(k) not in members or "this" not in row:
                    raise _malformed(url)
                e = entries[shapes[int(k)]]
                if e.per_run:  # cg:reportedPerRun (a table not loaded): one finding for the run
                    found.append(run_finding(e.rule, e.severity, e.message, e.source))
                else:
                    found.append(_finding(row, e, projects[int(k)]))
            return found

        tasks = [functools.partial(answer, text, members) for text, members in queries]
        findings = [f for part in _in_parallel(tasks, jobs) for f in part]
        return finalize(findings)
    finally:
        ep = graph_store_target(url, gsp, run_graph)
        with contextlib.suppress(ClaimgraphError):  # else it stays; its name says what it is
            request(ep, "DELETE", None, {}, min(CLEANUP_TIMEOUT, deadline.seconds))
