"""The claim RDF every input format becomes (docs/claim-rdf.md), built from plain values.

Readers turn their format into `ClaimData` (plain Python values); `claim_triples` turns that
into triples of the claimgraph vocabulary. One mapping, so the findings cannot depend on the
input format.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.term import Node

from ..errors import InputError
from ..namespaces import (
    CG,
    claim_iri,
    diagnosis_iri,
    doctype_iri,
    modifier_iri,
    payer_iri,
    procedure_code_iri,
    snomed_concept_iri,
)

Triple = tuple[Node, Node, Node]

# Document fields of the JSON contract and the property each becomes. Data, not code.
DOCUMENT_FIELDS: dict[str, URIRef] = {
    "date": CG.documentDate,
    "signed": CG.signed,
    "duration_months": CG.durationMonths,
    "duration_weeks": CG.durationWeeks,
    "duration_days": CG.durationDays,
    "dependent_edema": CG.dependentEdema,
    "pulmonary_hypertension": CG.pulmonaryHypertension,
    "hematocrit": CG.hematocrit,
    "spo2": CG.spo2,
    "pao2": CG.pao2,
    "functional_goals": CG.functionalGoals,
    "expected_improvement": CG.expectedImprovement,
    "shows_benefit": CG.showsBenefit,
    "number": CG.authorizationNumber,
    "minutes": CG.minutes,
    "one_on_one": CG.oneOnOne,
    "failed": CG.failed,
    "performer": CG.performer,
    "discharge_date": CG.dischargeDate,
}

# The value kind of each document field, for formats whose cells are text (CSV, X12, FHIR).
BOOLEAN_FIELDS = frozenset(
    {"signed", "functional_goals", "expected_improvement", "shows_benefit", "one_on_one", "failed",
     "dependent_edema", "pulmonary_hypertension"}
)
DATE_FIELDS = frozenset({"date", "discharge_date"})
NUMBER_FIELDS = frozenset(
    {"duration_months", "duration_weeks", "duration_days", "spo2", "pao2", "minutes",
     "hematocrit"}
)


def payer_ids() -> frozenset[str]:
    """The payer ids a claim may name: the skos:notation of each cg:Payer of the ontology
    (ontology/payers.ttl)."""
    from ..knowledge import Knowledge
    from ..namespaces import SKOS

    g = Knowledge.bundled().ontology
    return frozenset(
        str(n) for p in g.subjects(RDF.type, CG.Payer) for n in g.objects(p, SKOS.notation)
    )


def __getattr__(name: str) -> Any:
    # PAYERS (ingest/payers.py imports it): read from the ontology when first used
    if name == "PAYERS":
        return payer_ids()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def document_types() -> frozenset[str]:
    """The documentation types a claim's documents may have: the skos:notation of each
    cg:DocumentationType of the ontology (ontology/documentation.ttl)."""
    from ..knowledge import Knowledge
    from ..namespaces import SKOS

    g = Knowledge.bundled().ontology
    types = g.subjects(RDF.type, CG.DocumentationType)
    return frozenset(str(n) for t in types for n in g.objects(t, SKOS.notation))


# Diagnosis code systems a claim file may name ("system" field or "icd9:" prefix); a diagnosis
# without one is ICD-9-CM when it starts with a digit, ICD-10-CM when it starts with a letter
# other than E or V (ICD-9-CM has only E and V codes with letters), else by the claim's dates:
# ICD-9-CM when its earliest service date is before 2015-10-01 (docs/formats.md).
DIAGNOSIS_SYSTEMS = {
    "icd10cm": "icd10cm", "icd10": "icd10cm", "icd-10-cm": "icd10cm",
    "icd9cm": "icd9cm", "icd9": "icd9cm", "icd-9-cm": "icd9cm",
}  # fmt: skip
ICD10_START = "2015-10-01"
_DX_PREFIX = re.compile(r"^\s*(icd-?10(?:-?cm)?|icd-?9(?:-?cm)?)\s*:\s*", re.I)


def diagnosis_system(name: Any) -> str | None:
    """'icd9cm', 'ICD-9-CM', 'icd9' -> 'icd9cm' (likewise ICD-10-CM); None for anything else."""
    return DIAGNOSIS_SYSTEMS.get(name.strip().lower()) if isinstance(name, str) else None


def split_diagnosis(text: str) -> tuple[str, str]:
    """'icd9:250.00' -> ('icd9cm', '250.00'); 'M54.5' -> ('', 'M54.5') (system not stated)."""
    m = _DX_PREFIX.match(text)
    if m:
        return diagnosis_system(m[1]) or "", text[m.end() :].strip()
    return "", text.strip()


def resolve_diagnoses(claim: ClaimData) -> None:
    """Give each diagnosis without a stated system ('') its system (see DIAGNOSIS_SYSTEMS)."""
    if all(system for system, _code in claim.diagnoses):
        return
    dates = [
        iso for ln in claim.lines if isinstance(ln.service_date, str)
        if (iso := _iso_date(ln.service_date))
    ]  # fmt: skip
    by_date = "icd9cm" if dates and min(dates) < ICD10_START else "icd10cm"
    out = []
    for system, code in claim.diagnoses:
        if not system:
            first = code.strip()[:1].upper()
            system = "icd9cm" if first.isdigit() else by_date if first in "EV" else "icd10cm"
        out.append((system, code))
    claim.diagnoses = out


@dataclass
class LineData:
    code: Any = None
    modifiers: list[Any] = field(default_factory=list)
    units: Any = None  # service units as given (whole numbers however written are integers)
    service_date: Any = None
    body_site: Any = None
    description: Any = None
    unit_basis: str | None = None  # X12 SV103: "UN" units (default), "MJ" minutes
    minutes: Any = None  # anesthesia/timed minutes when the input gives minutes, not units
    place_of_service: str | None = None  # CMS place-of-service code (FHIR location, RIF)
    body_site_code: str | None = None  # SNOMED CT concept IRI of a coded body site
    # FHIR ExplanationOfBenefit item.adjudication as (category code, amount or reason code):
    # kept for reports, never part of the claim RDF (the rules check what was billed)
    adjudication: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class DocumentData:
    type: Any = None
    line: Any = None  # 1-based line number the document concerns, or None for the claim
    fields: dict[str, Any] = field(default_factory=dict)  # keys of DOCUMENT_FIELDS


@dataclass
class ClaimData:
    """One claim as plain values; `index` is its 1-based position in its file.

    Identity: a claim is where it came from (`source` file, `position` in it) plus its id, never
    its id alone (claim ids repeat across billing providers and files). `uid` is that identity
    as a short hash, set by `ingest.read_claims` (or `assign_uid`): the claim's IRI is built
    from it, so two claims with one id are two claims.
    """

    index: int
    id: Any = None
    payer: Any = None
    patient: Any = None
    diagnoses: list[tuple[str, str]] = field(default_factory=list)  # (system, code)
    lines: list[LineData] = field(default_factory=list)
    documents: list[DocumentData] = field(default_factory=list)
    source: str | None = None  # the input file as given ('-' for stdin)
    position: str | None = None  # where in it: "segment 12", "entry 3", "line 7", "claim 2"
    provider: str | None = None  # billing provider (X12 2010AA NPI, FHIR provider, JSON field)
    uid: str = ""
    # What the input says about the payer, before the one payer mapping resolves `payer` (a
    # claimgraph payer id) from it: a name (NM1*PR, Organization.name, insurer.display, a JSON
    # "payer" that is not an id), an X12 SBR09 claim filing indicator or its FHIR equivalent.
    payer_name: str | None = None
    filing_indicator: str | None = None
    format: str | None = None  # input format the claim was read from (what it can carry)
    use: str | None = None  # "claim" (default), "preauthorization", "predetermination"
    # X12: the interchange, transaction and billing-provider loop the claim sits in
    # ("ISA 000000905/ST 0021/HL 1"); part of the identity with source and position.
    envelope: str | None = None
    # Set by ingest.read_claims: an earlier claim of the same billing provider in the input has
    # the same id (STRUCT-03, a resubmission or a duplicate).
    repeats_id: bool = False

    @property
    def key(self) -> str:
        """The claim's id, or '#<position>' when it has none (so it can still be reported)."""
        return str(self.id) if isinstance(self.id, str) and self.id else f"#{self.index}"

    @property
    def node(self) -> str:
        """What the claim's IRI is built from: its uid, else (outside a run) its key."""
        return self.uid or self.key


def assign_uid(claim: ClaimData, source: str) -> ClaimData:
    """Set `source`, a default `position` and the `uid` (a hash of source, envelope and
    position)."""
    import hashlib

    claim.source = claim.source or source
    claim.position = claim.position or f"claim {claim.index}"
    where = f"{claim.source}\0{claim.envelope or ''}\0{claim.position}"
    digest = hashlib.blake2b(where.encode(), digest_size=8)
    claim.uid = digest.hexdigest()
    return claim


# The mapping, once: `plain_triples` yields (subject IRI, predicate IRI, object) as plain
# strings, the object an IRI (str) or a literal (lexical form, datatype IRI or None for a
# plain string). `claim_triples` wraps them in rdflib terms; engine/ntriples.py formats them.
PlainObject = str | tuple[str, str | None]
PlainTriple = tuple[str, str, PlainObject]

_XSD = str(XSD)
_TYPE = str(RDF.type)
_T = {name: str(CG[name]) for name in (
    "Claim", "ClaimLine", "DocumentationArtifact", "claimId", "payer", "patientId",
    "billingProvider",
    "hasDiagnosis", "primaryDiagnosis", "hasLine", "lineNumber", "procedureCode", "modifier",
    "units", "unitBasis", "serviceDate", "bodySite", "description", "hasDocument",
    "documentType", "forLine", "placeOfService", "bodySiteCode", "repeatsClaimId",
    "billedMinutes",
)}  # fmt: skip
_FIELD = {name: str(iri) for name, iri in DOCUMENT_FIELDS.items()}
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_WHOLE = re.compile(r"^\s*[+-]?[0-9]{1,15}(\.0*)?\s*$")
_iris: dict[tuple[Any, ...], str] = {}


def _iri(fn: Any, *args: Any) -> str:
    """A builder's IRI as a str, memoised (codes, modifiers and payers repeat a lot)."""
    key = (fn, *args)
    iri = _iris.get(key)
    if iri is None:
        if len(_iris) > 100_000:
            _iris.clear()
        iri = _iris[key] = str(fn(*args))
    return iri


def value_term(value: Any) -> tuple[str, str | None]:
    """A JSON value as (lexical form, datatype): bool, integer, decimal or string, as sent."""
    if isinstance(value, bool):
        return ("true" if value else "false"), _XSD + "boolean"
    if isinstance(value, int):
        return str(value), _XSD + "integer"
    if isinstance(value, float | Decimal):
        return str(value), _XSD + "decimal"
    return str(value), None


def whole_units(value: Any) -> Any:
    """Units as an integer when they are a whole number however written (1, 1.0, "2", "1.00");
    anything else as given, so STRUCT-02 reports it (DOMAIN.md 7)."""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float | Decimal):
        with suppress(ValueError, ArithmeticError):
            if value == int(value):
                return int(value)
        return value
    if isinstance(value, str) and _WHOLE.match(value):
        return int(Decimal(value.strip()))
    return value


def date_term(value: Any) -> tuple[str, str | None]:
    """An ISO date (YYYY-MM-DD) as xsd:date; anything else as sent (which the shapes reject)."""
    iso = _iso_date(value) if isinstance(value, str) else None
    return (iso, _XSD + "date") if iso else value_term(value)


@lru_cache(maxsize=4096)
def _iso_date(value: str) -> str | None:
    if _ISO_DATE.match(value):
        with suppress(ValueError):
            return dt.date.fromisoformat(value).isoformat()
    return None


def _body_site_code(claim: ClaimData, line: int, value: Any) -> str:
    """The line's body site IRI, refused unless it is a SNOMED CT concept IRI: it is the one
    IRI written as the input gives it (namespaces.snomed_concept_iri)."""
    iri = snomed_concept_iri(value)
    if iri is None:
        raise InputError(
            f"line {line}: the body site code is not a SNOMED CT concept IRI "
            "(http://snomed.info/id/ and digits)",
            path=claim.source,
            position=claim.position,
        )
    return iri


def plain_triples(claim: ClaimData) -> Iterator[PlainTriple]:
    """The triples of one claim in the claimgraph vocabulary, as plain strings."""
    T = _T
    c = str(claim_iri(claim.node))
    yield c, _TYPE, T["Claim"]
    if isinstance(claim.id, str) and claim.id:
        yield c, T["claimId"], (claim.id, None)
    if claim.provider:
        yield c, T["billingProvider"], (str(claim.provider), None)
    if isinstance(claim.payer, str) and claim.payer.strip():
        yield c, T["payer"], _iri(payer_iri, claim.payer)
    if claim.patient not in (None, ""):
        yield c, T["patientId"], (str(claim.patient), None)
    if claim.repeats_id:
        yield c, T["repeatsClaimId"], ("true", _XSD + "boolean")
    for i, (system, code) in enumerate(claim.diagnoses):
        dx = _iri(diagnosis_iri, code, system)
        yield c, T["hasDiagnosis"], dx
        if i == 0:
            yield c, T["primaryDiagnosis"], dx
    for n, line in enumerate(claim.lines, start=1):
        ln = f"{c}/line/{n}"  # namespaces.line_iri
        yield c, T["hasLine"], ln
        yield ln, _TYPE, T["ClaimLine"]
        yield ln, T["lineNumber"], (str(n), _XSD + "integer")
        if isinstance(line.code, str) and line.code.strip():
            yield ln, T["procedureCode"], _iri(procedure_code_iri, line.code.strip().upper())
        for m in line.modifiers:
            if isinstance(m, str) and m.strip():
                yield ln, T["modifier"], _iri(modifier_iri, m)
        if line.units is not None:
            yield ln, T["units"], value_term(whole_units(line.units))
        if isinstance(line.unit_basis, str) and line.unit_basis.strip():
            yield ln, T["unitBasis"], (line.unit_basis.strip().upper(), None)
        if line.minutes is not None:
            yield ln, T["billedMinutes"], value_term(line.minutes)
        if line.service_date is not None:
            yield ln, T["serviceDate"], date_term(line.service_date)
        if line.body_site:
            yield ln, T["bodySite"], (str(line.body_site), None)
        if line.description:
            yield ln, T["description"], (str(line.description), None)
        if line.place_of_service:
            yield ln, T["placeOfService"], (str(line.place_of_service), None)
        if line.body_site_code:
            yield ln, T["bodySiteCode"], _body_site_code(claim, n, line.body_site_code)
    for n, doc in enumerate(claim.documents, start=1):
        d = f"{c}/document/{n}"  # namespaces.document_iri
        yield c, T["hasDocument"], d
        yield d, _TYPE, T["DocumentationArtifact"]
        if isinstance(doc.type, str) and doc.type:
            yield d, T["documentType"], _iri(doctype_iri, doc.type)
        if isinstance(doc.line, int) and not isinstance(doc.line, bool):
            yield d, T["forLine"], f"{c}/line/{doc.line}"
        for name, value in doc.fields.items():
            if value is not None:
                term = date_term(value) if name in DATE_FIELDS else value_term(value)
                yield d, _FIELD[name], term


def value_literal(value: Any) -> Literal:
    """A JSON value as a typed literal: bool, integer, decimal or string, as sent."""
    lexical, datatype = value_term(value)
    return Literal(lexical, datatype=datatype)


def date_literal(value: Any) -> Literal:
    """An ISO date (YYYY-MM-DD) as xsd:date; anything else as sent (which the shapes reject)."""
    lexical, datatype = date_term(value)
    return Literal(lexical, datatype=datatype)


def claim_triples(claim: ClaimData) -> Iterator[Triple]:
    """The triples of one claim (`plain_triples`) as rdflib terms."""
    for s, p, o in plain_triples(claim):
        obj = URIRef(o) if isinstance(o, str) else Literal(o[0], datatype=o[1])
        yield URIRef(s), URIRef(p), obj


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
