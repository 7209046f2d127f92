"""Claims written as RDF (Turtle, N-Triples, JSON-LD with an inline context).

The file is parsed with a fixed base IRI (never its path), nothing is fetched, RDF/XML and
DOCTYPE/ENTITY declarations are refused, and syntax errors name the line only (rdflib's own
messages quote the text). The claims are then read back out of the graph into `ClaimData`, so
RDF input goes through the same mapping as every other format.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

from rdflib import OWL, RDF, XSD, Graph, Literal, URIRef
from rdflib.term import Node

from ..errors import InputError
from ..namespaces import BASE, CG, CLAIM, CODE, DOCTYPE, MODIFIER, PAYER
from ..unicodecheck import SURROGATE_ESCAPE, line_of, rdf_surrogate_escape
from .jsonstream import loads
from .model import DOCUMENT_FIELDS, ClaimData, DocumentData, LineData
from .screen import listed
from .source import Input

INPUT_BASE = BASE + "input/"
FORMATS = {"turtle": "Turtle", "nt": "N-Triples", "json-ld": "JSON-LD"}

_XML = re.compile(r"<!\s*(DOCTYPE|ENTITY)|<\?xml|<rdf:RDF", re.IGNORECASE)
_INTEGER_TYPES = {
    XSD.integer, XSD.int, XSD.long, XSD.short, XSD.byte, XSD.nonNegativeInteger,
    XSD.positiveInteger, XSD.nonPositiveInteger, XSD.negativeInteger, XSD.unsignedInt,
    XSD.unsignedLong, XSD.unsignedShort, XSD.unsignedByte,
}  # fmt: skip
_NUMBERED = re.compile(r"/([0-9]+)$")
_NO_ID = re.compile(r"^" + re.escape(str(CLAIM)) + r"%23([0-9]+)$")

# cg:repeatsClaimId is known but not read: the reader of this run decides repeats.
CLAIM_PROPS = {RDF.type, CG.claimId, CG.payer, CG.patientId, CG.billingProvider, CG.hasDiagnosis,
               CG.primaryDiagnosis, CG.hasLine, CG.hasDocument, CG.repeatsClaimId}  # fmt: skip
LINE_PROPS = {RDF.type, CG.lineNumber, CG.procedureCode, CG.modifier, CG.units, CG.serviceDate,
              CG.bodySite, CG.description, CG.placeOfService, CG.bodySiteCode,
              CG.billedMinutes}  # fmt: skip
DOCUMENT_PROPS = {RDF.type, CG.documentType, CG.forLine, *DOCUMENT_FIELDS.values()}

Warn = Callable[[str], None] | None


def _read_text(path: Input, fmt: str) -> str:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=str(path)) from None
    if not text.strip():
        raise InputError(f"empty file: expected {FORMATS[fmt]}", path=str(path))
    m = _XML.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        raise InputError(
            "RDF/XML, DOCTYPE and ENTITY declarations are not accepted for claims; "
            "use Turtle, N-Triples or JSON-LD",
            path=str(path),
            position=str(line),
        )
    bad = rdf_surrogate_escape(text) if fmt != "json-ld" else None
    if bad is not None:  # decodes to a string no output can encode
        raise InputError(SURROGATE_ESCAPE, path=str(path), position=str(line_of(text, bad)))
    return text


def _why(e: Exception) -> str:
    """An rdflib failure in words that quote nothing (its message may quote the input)."""
    if isinstance(e, ValueError) and "digits" in str(e):
        return "a number is too long"
    return type(e).__name__


def remote_context(node: Any) -> str | None:
    """What in a JSON-LD document would make a parser fetch or read a file: "a remote @context"
    (a @context that is or lists a string, a URL) or "@import"; None when contexts are inline."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            for k, v in n.items():
                if k == "@context" and any(isinstance(c, str) for c in (
                        v if isinstance(v, list) else [v])):  # fmt: skip
                    return "a remote @context"
                if k == "@import":
                    return "@import"
                stack.append(v)
        elif isinstance(n, list):
            stack.extend(n)
    return None


def _check_contexts(node: Any, path: Input) -> None:
    """Refuse any @context that is (or lists) a URL string, and @import: nothing is fetched."""
    refused = remote_context(node)
    if refused == "@import":
        raise InputError("JSON-LD @import is not accepted", path=str(path))
    if refused:
        raise InputError(
            "JSON-LD with a remote @context is not accepted; put the context inline (an object)",
            path=str(path),
        )


def _parse_ntriples(text: str, path: Input, graph: Graph) -> None:
    """Line by line, so an error can name its line."""
    from rdflib.plugins.parsers.ntriples import NTGraphSink, W3CNTriplesParser

    parser = W3CNTriplesParser(sink=NTGraphSink(graph))
    bnodes: dict[str, Node] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            parser.parse(io.StringIO(line + "\n"), bnode_context=bnodes)  # type: ignore[arg-type]
        except Exception:
            raise InputError("not valid N-Triples", path=str(path), position=str(lineno)) from None


@contextlib.contextmanager
def quiet_rdflib() -> Iterator[None]:
    """Silence rdflib's logger: its warnings quote IRIs and literal values (patient data)."""
    logger = logging.getLogger("rdflib")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def parse_rdf(path: Input, fmt: str) -> Graph:
    """The triples of an RDF claim file; errors name file and line, never content."""
    with quiet_rdflib():
        return _parse_rdf(path, fmt)


def _parse_rdf(path: Input, fmt: str) -> Graph:
    text = _read_text(path, fmt)
    graph = Graph()
    try:
        if fmt == "nt":
            _parse_ntriples(text, path, graph)
        elif fmt == "json-ld":
            data = loads(text, path)  # syntax, long numbers, lone surrogates: one line
            _check_contexts(data, path)
            try:
                graph.parse(data=text, format="json-ld", publicID=INPUT_BASE, base=INPUT_BASE)
            except (InputError, RecursionError):
                raise
            except Exception as e:
                raise InputError(
                    f"not valid JSON-LD ({type(e).__name__})", path=str(path)
                ) from None
        else:
            from rdflib.plugins.parsers.notation3 import BadSyntax

            try:
                graph.parse(data=text, format="turtle", publicID=INPUT_BASE)
            except BadSyntax as e:
                raise InputError(
                    "not valid Turtle", path=str(path), position=str(e.lines + 1)
                ) from None
            except RecursionError:
                raise
            except Exception as e:
                raise InputError(f"not valid Turtle ({_why(e)})", path=str(path)) from None
    except RecursionError:
        raise InputError(f"{FORMATS[fmt]} is nested too deeply", path=str(path)) from None
    if (None, OWL.imports, None) in graph:  # never followed (SECURITY.md): say so, do not skip
        raise InputError(
            "owl:imports is not followed; claim files must be self-contained "
            "(merge the imported data into this file)",
            path=str(path),
        )
    return graph


# --- the graph back into ClaimData ------------------------------------------------------------


def plain(node: Node) -> Any:
    """An RDF term as the plain value a JSON claim would hold."""
    if not isinstance(node, Literal):
        return str(node)
    if getattr(node, "ill_typed", False):
        return str(node)
    dt = node.datatype
    if dt == XSD.boolean:
        return bool(node.toPython())
    if dt in _INTEGER_TYPES:
        return int(node.toPython())
    if dt == XSD.decimal:
        try:
            return Decimal(str(node))
        except InvalidOperation:
            return str(node)
    if dt in (XSD.double, XSD.float):
        return float(node.toPython())
    return str(node)


def _local(node: Node, ns: str) -> str:
    """The unquoted name after a namespace (`.../payer/aetna` -> 'aetna'), else the term."""
    s = str(node)
    return unquote(s[len(ns) :]) if isinstance(node, URIRef) and s.startswith(ns) else s


def _code(node: Node) -> tuple[str, str]:
    """(system, notation) of a code IRI such as `.../code/icd10cm/M54.59`."""
    rest = _local(node, str(CODE))
    if rest != str(node) and "/" in rest:
        system, notation = rest.split("/", 1)
        return system, notation
    return "unknown", str(node)


def _order(node: Node) -> tuple[int, str]:
    m = _NUMBERED.search(str(node))
    return (int(m.group(1)) if m else 1 << 30, str(node))


class _Reader:
    def __init__(self, graph: Graph):
        self.g = graph
        self.several: set[str] = set()
        self.unknown: set[str] = set()

    def one(self, s: Node, p: URIRef) -> Node | None:
        values = sorted(self.g.objects(s, p), key=str)
        if len(values) > 1:
            self.several.add(self.g.qname(p))
        return values[0] if values else None

    def note_unknown(self, s: Node, known: set[URIRef]) -> None:
        for p in self.g.predicates(s, None):
            if p not in known:
                self.unknown.add(str(p))

    def line_key(self, ln: Node) -> tuple[int, str]:
        number = self.one(ln, CG.lineNumber)
        value = plain(number) if number is not None else None
        return (value if isinstance(value, int) else 1 << 30, str(ln))

    def line_of(self, node: Node | None, position: dict[Node, int]) -> int | None:
        if node is None:
            return None
        if node in position:
            return position[node]
        n = _order(node)[0]
        return n if n < 1 << 30 else None

    def claim(self, c: Node, index: int) -> ClaimData:
        g = self.g
        self.note_unknown(c, CLAIM_PROPS)
        cid = self.one(c, CG.claimId)
        payer = self.one(c, CG.payer)
        patient = self.one(c, CG.patientId)
        provider = self.one(c, CG.billingProvider)
        claim = ClaimData(
            index=index,
            id=plain(cid) if cid is not None else None,
            payer=_local(payer, str(PAYER)) if payer is not None else None,
            patient=plain(patient) if patient is not None else None,
            provider=str(plain(provider)) if provider is not None else None,
        )
        primary = self.one(c, CG.primaryDiagnosis)
        dx = sorted(g.objects(c, CG.hasDiagnosis), key=lambda n: (n != primary, str(n)))
        if primary is not None and primary not in dx:
            dx.insert(0, primary)
        claim.diagnoses = [_code(d) for d in dx]
        lines = sorted(g.objects(c, CG.hasLine), key=self.line_key)
        position = {ln: n for n, ln in enumerate(lines, start=1)}
        for ln in lines:
            self.note_unknown(ln, LINE_PROPS)
            code = self.one(ln, CG.procedureCode)
            units = self.one(ln, CG.units)
            date = self.one(ln, CG.serviceDate)
            site = self.one(ln, CG.bodySite)
            text = self.one(ln, CG.description)
            pos = self.one(ln, CG.placeOfService)
            site_code = self.one(ln, CG.bodySiteCode)
            minutes = self.one(ln, CG.billedMinutes)
            claim.lines.append(
                LineData(
                    code=_code(code)[1] if code is not None else None,
                    modifiers=sorted(_local(m, str(MODIFIER)) for m in g.objects(ln, CG.modifier)),
                    units=plain(units) if units is not None else None,
                    minutes=plain(minutes) if minutes is not None else None,
                    service_date=plain(date) if date is not None else None,
                    body_site=plain(site) if site is not None else None,
                    description=plain(text) if text is not None else None,
                    place_of_service=str(pos) if pos is not None else None,
                    body_site_code=str(site_code) if isinstance(site_code, URIRef) else None,
                )
            )
        for d in sorted(g.objects(c, CG.hasDocument), key=_order):
            self.note_unknown(d, DOCUMENT_PROPS)
            dtype = self.one(d, CG.documentType)
            for_line = self.one(d, CG.forLine)
            fields = {}
            for name, prop in DOCUMENT_FIELDS.items():
                v = self.one(d, prop)
                if v is not None:
                    fields[name] = plain(v)
            claim.documents.append(
                DocumentData(
                    type=_local(dtype, str(DOCTYPE)) if dtype is not None else None,
                    line=self.line_of(for_line, position),
                    fields=fields,
                )
            )
        return claim


def claims_from_graph(graph: Graph, path: Input, warn: Warn = None) -> Iterator[ClaimData]:
    """The cg:Claim nodes of a graph as ClaimData, ordered by claim id (RDF has no order)."""
    reader = _Reader(graph)
    nodes = sorted(
        graph.subjects(RDF.type, CG.Claim),
        key=lambda c: (str(graph.value(c, CG.claimId) or ""), str(c)),
    )
    for n, c in enumerate(nodes, start=1):
        m = _NO_ID.match(str(c))
        index = int(m.group(1)) if m and graph.value(c, CG.claimId) is None else n
        yield reader.claim(c, index)
    if warn and reader.several:
        warn(f"{path}: several values for {', '.join(sorted(reader.several))}; one was used")
    if warn and reader.unknown:  # only claimgraph vocabulary terms by name: an IRI may be data
        from ..query import compact_iri

        vocabulary = {str(CG) + t for t in CG.__annotations__}
        names = sorted(compact_iri(p) for p in reader.unknown if p in vocabulary)
        others = len(reader.unknown) - len(names)
        what = names + ([f"{others} other IRI(s), not shown"] if others else [])
        warn(f"{path}: ignored {len(reader.unknown)} properties outside the claim vocabulary: "
             f"{listed(what)}")  # fmt: skip


def read_rdf(path: Input, fmt: str, warn: Warn = None) -> Iterator[ClaimData]:
    """The claims of an RDF file (`fmt`: turtle, nt or json-ld); positions "claim N"."""
    graph = parse_rdf(path, fmt)
    with quiet_rdflib():
        claims = list(claims_from_graph(graph, path, warn))
    yield from claims


def read_turtle(source: Input, warn: Warn = None) -> Iterator[ClaimData]:
    return read_rdf(source, "turtle", warn)


def read_ntriples(source: Input, warn: Warn = None) -> Iterator[ClaimData]:
    return read_rdf(source, "nt", warn)


def read_jsonld(source: Input, warn: Warn = None) -> Iterator[ClaimData]:
    return read_rdf(source, "json-ld", warn)
