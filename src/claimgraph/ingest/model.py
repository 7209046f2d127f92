"""The claim RDF every input format becomes (docs/claim-rdf.md), built from plain values.

Readers turn their format into `ClaimData` (plain Python values); `claim_triples` turns that
into triples of the claimgraph vocabulary. One mapping, so the findings cannot depend on the
input format.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.term import Node

from ..namespaces import (
    CG,
    claim_iri,
    diagnosis_iri,
    doctype_iri,
    document_iri,
    line_iri,
    modifier_iri,
    payer_iri,
    procedure_code_iri,
)

Triple = tuple[Node, Node, Node]

# Document fields of the JSON contract and the property each becomes. Data, not code.
DOCUMENT_FIELDS: dict[str, URIRef] = {
    "date": CG.documentDate,
    "signed": CG.signed,
    "duration_months": CG.durationMonths,
    "duration_weeks": CG.durationWeeks,
    "spo2": CG.spo2,
    "pao2": CG.pao2,
    "functional_goals": CG.functionalGoals,
    "expected_improvement": CG.expectedImprovement,
    "shows_benefit": CG.showsBenefit,
    "number": CG.authorizationNumber,
    "minutes": CG.minutes,
    "one_on_one": CG.oneOnOne,
    "failed": CG.failed,
}

# The value kind of each document field, for formats whose cells are text (CSV, X12, FHIR).
BOOLEAN_FIELDS = frozenset(
    {"signed", "functional_goals", "expected_improvement", "shows_benefit", "one_on_one", "failed"}
)
NUMBER_FIELDS = frozenset({"duration_months", "duration_weeks", "spo2", "pao2", "minutes"})

DOCUMENT_TYPES = (
    "order", "abn", "oxygen-test", "medical-history", "plan-of-care", "progress-note",
    "prior-authorization", "informed-consent", "follow-up-evaluation", "medical-necessity-note",
    "time-record", "conservative-treatment", "distinct-site-note", "portable-justification",
)  # fmt: skip

PAYERS = ("medicare", "medicaid", "commercial", "aetna", "bcbs")


@dataclass
class LineData:
    code: Any = None
    modifiers: list[Any] = field(default_factory=list)
    units: Any = None
    service_date: Any = None
    body_site: Any = None
    description: Any = None


@dataclass
class DocumentData:
    type: Any = None
    line: Any = None  # 1-based line number the document concerns, or None for the claim
    fields: dict[str, Any] = field(default_factory=dict)  # keys of DOCUMENT_FIELDS


@dataclass
class ClaimData:
    """One claim as plain values; `index` is its 1-based position in the input."""

    index: int
    id: Any = None
    payer: Any = None
    patient: Any = None
    diagnoses: list[tuple[str, str]] = field(default_factory=list)  # (system, code)
    lines: list[LineData] = field(default_factory=list)
    documents: list[DocumentData] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The claim's id, or '#<position>' when it has none (so it can still be reported)."""
        return str(self.id) if isinstance(self.id, str) and self.id else f"#{self.index}"


def value_literal(value: Any) -> Literal:
    """A JSON value as a typed literal: bool, integer, decimal or string, as sent."""
    if isinstance(value, bool):
        return Literal(value)
    if isinstance(value, int):
        return Literal(value, datatype=XSD.integer)
    if isinstance(value, float | Decimal):
        return Literal(str(value), datatype=XSD.decimal)
    return Literal(str(value))


_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def date_literal(value: Any) -> Literal:
    """An ISO date (YYYY-MM-DD) as xsd:date; anything else as sent (which the shapes reject)."""
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return Literal(dt.date.fromisoformat(value).isoformat(), datatype=XSD.date)
        except ValueError:
            pass
    return value_literal(value)


def claim_triples(claim: ClaimData) -> Iterator[Triple]:
    """The triples of one claim in the claimgraph vocabulary."""
    c = claim_iri(claim.key)
    yield c, RDF.type, CG.Claim
    if isinstance(claim.id, str) and claim.id:
        yield c, CG.claimId, Literal(claim.id)
    if isinstance(claim.payer, str) and claim.payer.strip():
        yield c, CG.payer, payer_iri(claim.payer)
    if claim.patient not in (None, ""):
        yield c, CG.patientId, Literal(str(claim.patient))
    for i, (system, code) in enumerate(claim.diagnoses):
        dx = diagnosis_iri(code, system)
        yield c, CG.hasDiagnosis, dx
        if i == 0:
            yield c, CG.primaryDiagnosis, dx
    for n, line in enumerate(claim.lines, start=1):
        ln = line_iri(claim.key, n)
        yield c, CG.hasLine, ln
        yield ln, RDF.type, CG.ClaimLine
        yield ln, CG.lineNumber, Literal(n)
        if isinstance(line.code, str) and line.code.strip():
            yield ln, CG.procedureCode, procedure_code_iri(line.code.strip().upper())
        for m in line.modifiers:
            if isinstance(m, str) and m.strip():
                yield ln, CG.modifier, modifier_iri(m)
        if line.units is not None:
            yield ln, CG.units, value_literal(line.units)
        if line.service_date is not None:
            yield ln, CG.serviceDate, date_literal(line.service_date)
        if line.body_site:
            yield ln, CG.bodySite, Literal(str(line.body_site))
        if line.description:
            yield ln, CG.description, Literal(str(line.description))
    for n, doc in enumerate(claim.documents, start=1):
        d = document_iri(claim.key, n)
        yield c, CG.hasDocument, d
        yield d, RDF.type, CG.DocumentationArtifact
        if isinstance(doc.type, str) and doc.type:
            yield d, CG.documentType, doctype_iri(doc.type)
        if isinstance(doc.line, int) and not isinstance(doc.line, bool):
            yield d, CG.forLine, line_iri(claim.key, doc.line)
        for name, value in doc.fields.items():
            if value is None:
                continue
            prop = DOCUMENT_FIELDS[name]
            yield d, prop, date_literal(value) if name == "date" else value_literal(value)


def to_graph(claims: Iterable[ClaimData], graph: Graph | None = None) -> Graph:
    """All claims in one rdflib graph (with the claimgraph prefixes bound)."""
    from ..namespaces import PREFIXES

    g = graph if graph is not None else Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    for claim in claims:
        for t in claim_triples(claim):
            g.add(t)
    return g
