"""FHIR references: the resources a Claim points at, found in the file or the run, never guessed.

A reference is resolved, in this order, to a resource `contained` in the claim (`#id`), to a
Bundle entry (by `fullUrl`, or `Type/id` relative to the entry's base), or to a resource of the
FHIR NDJSON files given in the same run (`Type/id`). Only what the claim mapping needs is kept of
each referenced resource (a `Summary`), so memory is bounded by the number of Patients,
Coverages, Organizations and Conditions, never by their size. A Patient is known by its
identifier (system|value) or its resource id, never by a name or a display text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .fhir_terms import FhirTerms, fhir_terms, system_key

CLAIM_TYPES = frozenset({"Claim", "ExplanationOfBenefit"})
REFERENCE_TYPES = frozenset({"Patient", "Organization", "Practitioner", "Coverage", "Condition"})
_RELATIVE = re.compile(r"^(?:(.*/))?([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
_CONDITIONAL = re.compile(r"^([A-Z][A-Za-z]+)\?identifier=(?:([^|&]*)\|)?([^&]+)$")
_NPI = "hl7.org/fhir/sid/us-npi"


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def codings(concept: Any) -> list[dict[str, Any]]:
    """The Coding dicts of a CodeableConcept (hot: called for every code of every line)."""
    found = concept.get("coding") if type(concept) is dict else None
    return [c for c in found if type(c) is dict] if type(found) is list else []


def identifier_key(identifier: Any) -> str | None:
    """`system|value` of an Identifier (just the value when it has no system)."""
    ident = as_dict(identifier)
    value = text(ident.get("value"))
    if value is None:
        return None
    system = text(ident.get("system"))
    return f"{system}|{value}" if system else value


@dataclass(slots=True)
class Summary:
    """What the claim mapping needs of one referenced resource."""

    type: str
    key: str | None = None  # Patient: identifier system|value
    name: str | None = None  # Organization.name
    npi: str | None = None  # Organization/Practitioner: NPI (else first identifier value)
    payer: str | None = None  # a payer a code says (Coverage.type, a Blue Button system)
    # lists only where the type has them (Patients are the many: they stay small)
    payer_names: list[str] | tuple[()] = ()  # Coverage: payor names / displays
    payors: list[dict[str, Any]] | tuple[()] = ()  # Coverage.payor references
    diagnosis: tuple[str, str] | None = None  # Condition: (scheme, code)
    systems: list[str] | tuple[()] = ()  # Condition: code systems not known


def summarise(res: dict[str, Any], terms: FhirTerms | None = None) -> Summary | None:
    """The Summary of a Patient, Organization, Coverage or Condition (None for other types)."""
    terms = terms or fhir_terms()
    rtype = res.get("resourceType")
    if rtype == "Patient":
        keys = [k for i in as_list(res.get("identifier")) if (k := identifier_key(i))]
        return Summary("Patient", key=keys[0] if keys else None)
    if rtype in ("Organization", "Practitioner"):
        return Summary(rtype, name=text(res.get("name")), npi=provider_id(res.get("identifier")),
                       payer=_system_payer(res.get("identifier"), terms))  # fmt: skip
    if rtype == "Coverage":
        payer: str | None = None
        names: list[str] = []
        payors: list[dict[str, Any]] = []
        for c in codings(res.get("type")):
            payer = payer or terms.payer_of_code(c.get("system"), c.get("code"))
        for ident in as_list(res.get("identifier")):
            ident = as_dict(ident)
            if system_key(ident.get("system")) in terms.payer_name_systems:
                names.extend(n for n in [text(ident.get("value"))] if n)
        for p in as_list(res.get("payor")):
            p = as_dict(p)
            if text(p.get("reference")):
                payors.append({"reference": p["reference"]})
            names.extend(n for n in [text(p.get("display"))] if n)
        for cls in as_list(res.get("class")):
            kind = {c.get("code") for c in codings(as_dict(cls).get("type"))}
            name = text(as_dict(cls).get("name"))
            if name and kind & {"plan", "group"}:
                names.append(name)
        return Summary("Coverage", payer=payer, payer_names=names, payors=payors)
    if rtype == "Condition":
        s = Summary("Condition")
        for c in codings(res.get("code")):
            scheme = terms.diagnosis.get(system_key(c.get("system")))
            code = text(c.get("code"))
            if scheme and code and s.diagnosis is None:
                s.diagnosis = (scheme, code)
        if s.diagnosis is None:
            s.systems = [str(c.get("system") or "(no system)") for c in codings(res.get("code"))]
        return s
    return None


def provider_id(identifiers: Any) -> str | None:
    """The NPI among Identifiers (a system ending in npi), else the first identifier's value."""
    values = [as_dict(i) for i in as_list(identifiers) if text(as_dict(i).get("value"))]
    for ident in values:
        key = system_key(ident.get("system"))
        if key == _NPI or key.endswith("npi_num") or key.endswith("/npi"):
            return text(ident["value"])
    return text(values[0]["value"]) if values else None


def _system_payer(identifiers: Any, terms: FhirTerms) -> str | None:
    for ident in as_list(identifiers):
        payer = terms.payer_of_system(as_dict(ident).get("system"))
        if payer:
            return payer
    return None


class ReferenceIndex:
    """Summaries of referenced resources by `fullUrl` and by `Type/id`."""

    def __init__(self) -> None:
        self.by_key: dict[str, Summary] = {}

    def __len__(self) -> int:
        return len(self.by_key)

    def add(self, res: dict[str, Any], full_url: str | None = None) -> bool:
        """Index `res` when it is a type claims refer to; whether it was."""
        rtype = res.get("resourceType")
        if rtype not in REFERENCE_TYPES:
            return False
        summary = summarise(res)
        if summary is None:
            return False
        rid = text(res.get("id"))
        if summary.type == "Patient" and summary.key is None:
            summary.key = rid or full_url  # no identifier: the resource id
        if rid:
            self.by_key[f"{rtype}/{rid}"] = summary
        if full_url:
            self.by_key[full_url] = summary
        return True


@dataclass
class Outcome:
    """A resolved reference: the Summary found (or None) and whether a lookup failed."""

    summary: Summary | None = None
    missing: bool = False  # the reference names a resource that is not in the input
    identifier: str | None = None  # system|value the reference itself gives
    display: str | None = None  # the reference's display text (names; never a patient key)
    resource_id: str | None = None  # 'Type/id' when the reference names one


class Scope:
    """Where the references of one claim resolve: its contained resources, its Bundle, the run."""

    def __init__(
        self,
        contained: list[Any],
        base: str | None,
        local: ReferenceIndex | None,
        shared: ReferenceIndex | None,
        terms: FhirTerms,
    ) -> None:
        self.contained: dict[str, dict[str, Any]] = {}
        for res in contained:
            res = as_dict(res)
            rid = text(res.get("id"))
            if rid and rid not in self.contained:
                self.contained[rid] = res
        self.base = base
        self.local = local
        self.shared = shared
        self.terms = terms

    def resolve(self, ref: Any) -> Outcome:
        ref = as_dict(ref)
        out = Outcome(identifier=identifier_key(ref.get("identifier")),
                      display=text(ref.get("display")))  # fmt: skip
        target = text(ref.get("reference"))
        if target is None:
            return out
        if target.startswith("#"):
            res = self.contained.get(target[1:])
            out.summary = summarise(res, self.terms) if res is not None else None
            out.missing = out.summary is None
            return out
        cond = _CONDITIONAL.match(target)
        if cond:  # Type?identifier=system|value: a search, answered by the identifier
            system, value = cond.group(2), cond.group(3)
            out.identifier = out.identifier or (f"{system}|{value}" if system else value)
            return out
        keys = [target]
        m = _RELATIVE.match(target)
        if m:
            rel = f"{m.group(2)}/{m.group(3)}"
            out.resource_id = rel
            if m.group(1) is None and self.base:  # relative: against the entry's base URL
                keys.insert(0, self.base + rel)
            keys.append(rel)
        for index in (self.local, self.shared):
            for key in keys if index is not None else ():
                found = index.by_key.get(key)  # type: ignore[union-attr]
                if found is not None:
                    out.summary = found
                    return out
        out.missing = True
        return out


def entry_base(full_url: Any) -> str | None:
    """The base URL a Bundle entry's relative references resolve against (FHIR 3.3.1)."""
    url = text(full_url)
    m = _RELATIVE.match(url) if url and "://" in url else None
    return m.group(1) if m and m.group(1) else None
