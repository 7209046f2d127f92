"""The reference engine: pyshacl over each batch of claims (the SHACL semantics, slow).

Data graph = the batch's claims + `Knowledge.graph` (ontology and shapes, which the rules read
through $currentShape) + enrichment facts; shapes graph = `Knowledge.shapes`; no inference (it
would hide violations, ENGINES.md). pyshacl hands every sh:select to rdflib once per focus node and
rdflib re-parses it each time; `_memoised_sparql` caches parse and algebra by query text while
a validation runs (~10x), and puts rdflib's functions back afterwards.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from rdflib import Graph, URIRef
from rdflib.term import Node

from ..findings import Finding
from ..ingest.model import ClaimData
from ..namespaces import SH
from .common import (
    claim_context,
    enrichment,
    finalize,
    focus_index,
    patient_batches,
    run_finding,
    template_facts,
    with_uids,
)

if TYPE_CHECKING:
    from ..knowledge import Knowledge

BATCH = 100  # claims per pyshacl run (memory stays bounded; each run costs ~10 ms fixed)


# Parsed and translated sh:select texts, kept for the life of the process (a few dozen rules).
_PARSED: dict[str, Any] = {}
_TRANSLATED: dict[tuple[int, Any, frozenset[tuple[str, str]]], tuple[Any, Any]] = {}


@contextlib.contextmanager
def _memoised_sparql() -> Iterator[None]:
    """Cache rdflib's SPARQL parse and algebra by query text while pyshacl runs."""
    from rdflib.plugins.sparql import processor

    parse: Callable[..., Any] = processor.parseQuery
    translate: Callable[..., Any] = processor.translateQuery

    def cached_parse(q: Any) -> Any:
        if not isinstance(q, str):
            return parse(q)
        tree = _PARSED.get(q)
        if tree is None:
            tree = _PARSED[q] = parse(q)
        return tree

    def cached_translate(tree: Any, base: Any = None, initNs: Any = None) -> Any:  # noqa: N803
        key = (id(tree), base, frozenset((k, str(v)) for k, v in (initNs or {}).items()))
        hit = _TRANSLATED.get(key)
        if hit is None or hit[0] is not tree:
            hit = _TRANSLATED[key] = (tree, translate(tree, base, initNs))
        return hit[1]

    processor.parseQuery = cached_parse
    processor.translateQuery = cached_translate  # type: ignore[assignment]
    try:
        yield
    finally:
        processor.parseQuery = parse
        processor.translateQuery = translate


def data_graph(claims: list[ClaimData], knowledge: Knowledge) -> Graph:
    """The batch's claims, the knowledge graph and the enrichment facts, in one graph."""
    from ..ingest.model import to_graph
    from ..kg import new_graph

    cg = to_graph(claims)
    data = new_graph()
    for t in knowledge.graph:
        data.add(t)
    for t in cg:
        data.add(t)
    for t in enrichment(cg, knowledge.codesets):
        data.add(t)
    return data


def shape_results(
    claims: list[ClaimData], knowledge: Knowledge
) -> list[tuple[URIRef, Node, str | None]]:
    """pyshacl's results on a batch as (shape, focus node, message of its own or None)."""
    import pyshacl

    from ..privacy import quiet_libraries
    from ..shapecheck import check_report, mapped_errors

    book = knowledge.rulebook
    data = data_graph(claims, knowledge)
    shapes = knowledge.checked_shapes  # recursive shapes would silently conform
    quiet_libraries()  # pyshacl adds a stderr handler on every call; its logger is disabled
    with _memoised_sparql(), mapped_errors():  # one ShapesError for re/pyparsing/... errors
        _conforms, report, _text = pyshacl.validate(
            data,
            shacl_graph=shapes,
            inference="none",
            abort_on_first=False,
            allow_warnings=True,
            meta_shacl=False,
            advanced=True,  # SHACL-AF: the rules' cg:ScopedLines targets (shapes/scope.ttl)
            inplace=True,  # the batch's own graph: no copy (advanced mode would clone it)
            js=False,
        )
        check_report(report)  # pyshacl returns a ValidationFailure instead of raising
    out: list[tuple[URIRef, Node, str | None]] = []
    for result in report.subjects(SH.sourceShape, None):
        shape = report.value(result, SH.sourceShape)
        focus = report.value(result, SH.focusNode)
        if not isinstance(shape, URIRef) or focus is None or shape not in book.shapes:
            continue
        entry = book.entry(shape)
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        own = [m for m in messages if " ".join(m.split()) != entry.message]
        out.append((shape, focus, own[0] if own else None))
    return out


def validate_batch(claims: list[ClaimData], knowledge: Knowledge) -> list[Finding]:
    """Findings of one batch (claims of one patient always in the same batch)."""
    book = knowledge.rulebook
    payers = knowledge.payer_categories.keys()
    index = focus_index(claim_context(c, payers) for c in claims)
    out = []
    for shape, focus, own in shape_results(claims, knowledge):
        pos = index.get(str(focus))
        if pos is None:
            continue  # not a claim or line of this batch
        ctx, line = pos
        entry = book.entry(shape)
        if entry.per_run:  # a condition of the run (cg:reportedPerRun), reported once
            out.append(run_finding(entry.rule.id, entry.severity, entry.message,
                                   entry.rule.source))  # fmt: skip
            continue
        message = " ".join(own.split()) if own else entry.message
        facts = template_facts(entry.message, message) if own else ()
        out.append(ctx.finding(line, entry.rule.id, entry.severity, message, entry.rule.source,
                               facts))  # fmt: skip
    return out


_worker: Knowledge | None = None  # in a worker process: the knowledge the parent sent


def _init_worker(payload: bytes) -> None:
    global _worker
    from ..knowledge import Knowledge

    _worker = Knowledge.from_payload(payload)


def _validate_in_worker(claims: list[ClaimData]) -> list[Finding]:
    assert _worker is not None
    return validate_batch(claims, _worker)


def validate_claims(
    claims: Iterable[ClaimData],
    *,
    knowledge: Knowledge | None = None,
    jobs: int = 1,
    progress: bool = False,
) -> list[Finding]:
    """All findings of `claims` under `knowledge` (default: the bundled rules, no code sets)
    with pyshacl, batch by batch (`jobs` processes)."""
    from ..knowledge import Knowledge
    from ..patients import unjoined

    knowledge = knowledge or Knowledge.bundled()
    claims = unjoined(claims, knowledge.placeholder_patients, lambda: None)
    batches = list(patient_batches(with_uids(claims), BATCH))
    total = sum(len(b) for b in batches)
    findings: list[Finding] = []
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            print(f"\rvalidated {done}/{total} claims", end="", file=sys.stderr, flush=True)

    if jobs > 1 and len(batches) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(
            max_workers=jobs, initializer=_init_worker, initargs=(knowledge.payload(checks=False),)
        ) as pool:
            found_all = pool.map(_validate_in_worker, batches)
            for batch, found in zip(batches, found_all, strict=True):
                findings.extend(found)
                tick(len(batch))
    else:
        for batch in batches:
            findings.extend(validate_batch(batch, knowledge))
            tick(len(batch))
    if progress and total:
        print(file=sys.stderr)
    return finalize(findings)
