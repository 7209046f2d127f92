"""FHIR R4 Claim and ExplanationOfBenefit resources as ClaimData (docs/formats.md).

Plain JSON with careful checks: only the elements claimgraph needs are read, a wrong JSON type
counts as absent, codes of systems claimgraph does not know are reported (by system URI)
rather than guessed, and references (insurer, coverage, patient, provider, diagnosisReference)
are followed through `fhir_refs.Scope` or reported when they lead nowhere. What the systems
mean (procedure, diagnosis, place-of-service systems; systems and codes that say the payer) is
data: `fhir_terms` reads it from the graph. File handling (Bundles, NDJSON) is in fhir_read.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .fhir_refs import Scope, Summary, as_dict, as_list, codings, text
from .fhir_terms import SNOMED_CONCEPT, FhirTerms, fhir_terms, system_key
from .model import (
    BOOLEAN_FIELDS,
    DOCUMENT_FIELDS,
    ClaimData,
    DocumentData,
    LineData,
    document_types,
    whole_units,
)
from .source import Input

Warn = Callable[[str], None] | None

CG_FHIR = "https://w3id.org/claimgraph/fhir/"
DOCUMENT_TYPE_SYSTEM = CG_FHIR + "document-type"
DOCUMENT_FIELD_EXTENSION = CG_FHIR + "document-field/"  # + field name, e.g. .../signed
LINE_DESCRIPTION_EXTENSION = CG_FHIR + "line-description"
NOT_CLAIM_USES = frozenset({"preauthorization", "predetermination"})
UNIQUE_CLAIM_ID = "uc"  # CARIN C4BBIdentifierType: the payer's unique claim id

# A document's value[x] quantity by UCUM unit, and valueBoolean by document type (the
# claimgraph supportingInfo convention, docs/formats.md).
QUANTITY_UNITS = {
    "%": "spo2",
    "mm[Hg]": "pao2",
    "min": "minutes",
    "mo": "duration_months",
    "wk": "duration_weeks",
}
BOOLEAN_VALUE = {
    "order": "signed",
    "abn": "signed",
    "progress-note": "shows_benefit",
    "conservative-treatment": "failed",
    "time-record": "one_on_one",
}
STRING_VALUE = {"prior-authorization": "number"}


def use_of(res: dict[str, Any]) -> str:
    """Claim.use / ExplanationOfBenefit.use: claim (default), preauthorization, predetermination."""
    return text(res.get("use")) or "claim"


def _by_sequence(items: Any) -> list[dict[str, Any]]:
    """Dicts ordered by their `sequence` (stable for equal or missing sequences)."""
    found = [i for i in as_list(items) if isinstance(i, dict)]
    return sorted(found, key=lambda i: i["sequence"] if isinstance(i.get("sequence"), int) else 0)


def _number(value: Any) -> Any:
    return Decimal(str(value)) if isinstance(value, float) else value


class Mapper:
    """Maps Claim/ExplanationOfBenefit resources of one file; collects what it could not read
    (unknown code systems, references that lead nowhere) for one warning each per file."""

    def __init__(self, path: Input, warn: Warn, fmt: str = "fhir") -> None:
        self.path = path
        self.warn = warn
        self.fmt = fmt
        self.terms: FhirTerms = fhir_terms()
        self.systems: set[str] = set()  # unknown code systems met
        self.untyped = 0  # supportingInfo entries without a claimgraph document type
        self.document_types = document_types()  # from the ontology
        self.unused: set[str] = set()
        self.missing: list[str] = []  # "entry 3: Claim.insurer" (no values)
        self.missing_count = 0

    # ----------------------------------------------------------------------------- codes

    def coded(self, concept: Any, systems: dict[str, str]) -> tuple[str, str] | None:
        """(scheme, code) of the first coding in a known system; unknown systems are noted."""
        found = codings(concept)
        for c in found:
            code = text(c.get("code"))
            scheme = systems.get(system_key(c.get("system")))
            if scheme and code:
                return scheme, code
        for c in found:
            system = c.get("system")
            self.systems.add(system if isinstance(system, str) else "(no system)")
        return None

    def note_missing(self, where: str | None, element: str) -> None:
        self.missing_count += 1
        if len(self.missing) < 8:
            self.missing.append(f"{where}: {element}" if where else element)

    # ----------------------------------------------------------------------------- claims

    def claim(
        self, res: dict[str, Any], index: int, scope: Scope, where: str | None = None
    ) -> ClaimData:
        """One Claim or ExplanationOfBenefit; `where` is its position ('entry 3', 'line 7')."""
        rtype = str(res.get("resourceType"))
        claim = ClaimData(index=index, position=where, format=self.fmt, use=use_of(res))
        claim.id = self.claim_id(res)
        self.payer(claim, res, scope, where, rtype)
        claim.patient = self.patient(res, scope, where, rtype)
        claim.provider = self.provider(res.get("provider"), scope, where, rtype)
        for dx in _by_sequence(res.get("diagnosis")):
            coded = self.diagnosis(dx, scope, where, rtype)
            if coded:
                claim.diagnoses.append(coded)
        info_line: dict[int, int] = {}  # supportingInfo sequence -> line position
        for n, item in enumerate(_by_sequence(res.get("item")), start=1):
            claim.lines.append(self.line(item))
            for seq in as_list(item.get("informationSequence")):
                if isinstance(seq, int):
                    info_line.setdefault(seq, n)
        for info in _by_sequence(res.get("supportingInfo")):
            doc = self.document(info)
            if doc is not None:
                seq = info.get("sequence")
                doc.line = info_line.get(seq) if isinstance(seq, int) else None
                claim.documents.append(doc)
        return claim

    def claim_id(self, res: dict[str, Any]) -> str | None:
        """The business claim number (CARIN 'uc' identifier first), else the resource id."""
        idents = [i for i in as_list(res.get("identifier")) if isinstance(i, dict)]
        unique = [i for i in idents if any(c.get("code") == UNIQUE_CLAIM_ID
                                           for c in codings(i.get("type")))]  # fmt: skip
        for ident in unique + idents:
            value = text(ident.get("value"))
            if value:
                return value
        return text(res.get("id"))

    def payer(
        self, claim: ClaimData, res: dict[str, Any], scope: Scope, where: str | None, rtype: str
    ) -> None:
        """Payer evidence for the one payer mapping (`payers.resolve_payer`): a payer a system
        or code says (set as `payer`) and a name (`payer_name`), which narrows a category the
        code says to a payer of it (private insurance + "Aetna": aetna)."""
        terms = self.terms
        implied: str | None = None
        for c in codings(res.get("type")):
            implied = implied or terms.payer_of_code(c.get("system"), c.get("code"))
        for ident in as_list(res.get("identifier")):
            implied = implied or terms.payer_of_system(as_dict(ident).get("system"))
        names: list[str] = []
        insurer = res.get("insurer")
        if isinstance(insurer, dict):
            found = scope.resolve(insurer)
            if found.missing:
                self.note_missing(where, f"{rtype}.insurer")
            if found.summary is not None:
                implied = implied or found.summary.payer
                names += [n for n in [found.summary.name] if n]
            names += [n for n in [found.display] if n]
            ident = as_dict(insurer.get("identifier"))
            implied = implied or terms.payer_of_system(ident.get("system"))
            names += [n for n in [text(ident.get("value"))] if n]
        coverage = self.focal_coverage(res)
        if coverage is not None:
            found = scope.resolve(coverage)
            if found.missing:
                self.note_missing(where, f"{rtype}.insurance.coverage")
            if found.summary is not None:
                implied = implied or found.summary.payer
                names += self.coverage_names(found.summary, scope, where, rtype)
            ident = as_dict(coverage.get("identifier"))
            implied = implied or terms.payer_of_system(ident.get("system"))
            if system_key(ident.get("system")) in terms.payer_name_systems:
                names += [n for n in [text(ident.get("value"))] if n]
            names += [n for n in [found.display] if n]
        claim.payer_name = names[0] if names else None
        claim.payer = implied

    def focal_coverage(self, res: dict[str, Any]) -> dict[str, Any] | None:
        """insurance[focal = true].coverage, else the first insurance's."""
        insurance = _by_sequence(res.get("insurance"))
        focal = [i for i in insurance if i.get("focal") is True] or insurance
        cov = focal[0].get("coverage") if focal else None
        return cov if isinstance(cov, dict) else None

    def coverage_names(
        self, cov: Summary, scope: Scope, where: str | None, rtype: str
    ) -> list[str]:
        names: list[str] = []
        for payor in cov.payors:
            found = scope.resolve(payor)
            if found.missing:
                self.note_missing(where, f"{rtype}.insurance.coverage: Coverage.payor")
            if found.summary is not None and found.summary.name:
                names.append(found.summary.name)
        return [*names, *cov.payer_names]

    def patient(
        self, res: dict[str, Any], scope: Scope, where: str | None, rtype: str
    ) -> str | None:
        """The patient key: the Patient's identifier (system|value), else its resource id.

        A contained Patient without an identifier is known only inside its claim, so its key
        is scoped to that claim: two claims' `#patient`s are two patients. Names and display
        texts are never keys."""
        ref = res.get("patient")
        if not isinstance(ref, dict):
            return None
        found = scope.resolve(ref)
        if found.missing:
            self.note_missing(where, f"{rtype}.patient")
        s = found.summary
        if s is not None and s.type == "Patient":
            if s.key:
                return s.key
            local = text(ref.get("reference")) or ""
            owner = text(res.get("id"))
            if owner:
                return f"{rtype}/{owner}{local}"
            seed = f"{self.path}\0{where}\0{local}".encode()
            return "contained:" + hashlib.blake2b(seed, digest_size=8).hexdigest()
        if found.identifier:
            return found.identifier
        if found.resource_id and found.resource_id.startswith("Patient/"):
            return found.resource_id.split("/", 1)[1]  # the id of a Patient not in the input
        target = text(ref.get("reference"))
        if target and target.startswith("urn:uuid:"):
            return target
        return None

    def provider(self, ref: Any, scope: Scope, where: str | None, rtype: str) -> str | None:
        """The billing provider: its NPI (or first identifier), else its resource id."""
        if not isinstance(ref, dict):
            return None
        found = scope.resolve(ref)
        if found.missing:
            self.note_missing(where, f"{rtype}.provider")
        if found.summary is not None and found.summary.npi:
            return found.summary.npi
        if found.identifier:
            return found.identifier.rsplit("|", 1)[-1]
        return found.resource_id or text(ref.get("reference"))

    def diagnosis(
        self, dx: dict[str, Any], scope: Scope, where: str | None, rtype: str
    ) -> tuple[str, str] | None:
        if "diagnosisCodeableConcept" in dx:
            return self.coded(dx.get("diagnosisCodeableConcept"), self.terms.diagnosis)
        ref = dx.get("diagnosisReference")
        if not isinstance(ref, dict):
            return None
        found = scope.resolve(ref)
        if found.missing:
            self.note_missing(where, f"{rtype}.diagnosis.diagnosisReference")
        s = found.summary
        if s is None or s.type != "Condition":
            return None
        self.systems.update(s.systems)
        return s.diagnosis

    # ----------------------------------------------------------------------------- lines

    def line(self, item: dict[str, Any]) -> LineData:
        terms = self.terms
        coded = self.coded(item.get("productOrService"), terms.procedure)
        mods = [self.coded(m, terms.procedure) for m in as_list(item.get("modifier"))]
        qty = as_dict(item.get("quantity")).get("value")
        period = as_dict(item.get("servicedPeriod"))
        description = None
        for ext in as_list(item.get("extension")):
            if isinstance(ext, dict) and ext.get("url") == LINE_DESCRIPTION_EXTENSION:
                description = text(ext.get("valueString"))
        site = item.get("bodySite")
        site_text, site_code = self.body_site(site) if site else (None, None)
        location = item.get("locationCodeableConcept")
        adjudication = item.get("adjudication")
        return LineData(
            code=coded[1] if coded else None,
            modifiers=[m[1] for m in mods if m],
            units=whole_units(qty) if isinstance(qty, int | float | str) else None,
            service_date=text(item.get("servicedDate"))
            or text(period.get("start"))
            or text(period.get("end")),
            body_site=site_text,
            body_site_code=site_code,
            description=description,
            place_of_service=self.place_of_service(location) if location else None,
            adjudication=self.adjudication(adjudication) if adjudication else [],
        )

    def place_of_service(self, location: Any) -> str | None:
        """The code of the first coding in a CMS place-of-service system."""
        for c in codings(location):
            code = text(c.get("code"))
            if code and system_key(c.get("system")) in self.terms.place_of_service:
                return code
        return None

    def body_site(self, site: Any) -> tuple[str | None, str | None]:
        """(text, SNOMED CT concept IRI): the site's text, else a coding's display or code."""
        site = as_dict(site)
        found = codings(site)
        first = found[0] if found else {}
        snomed = next((text(c.get("code")) for c in found
                       if system_key(c.get("system")) in self.terms.body_site
                       and text(c.get("code"))), None)  # fmt: skip
        label = text(site.get("text")) or text(first.get("display")) or text(first.get("code"))
        return label, SNOMED_CONCEPT + snomed if snomed and snomed.isdigit() else None

    def adjudication(self, items: Any) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        for adj in as_list(items):
            adj = as_dict(adj)
            category = next((text(c.get("code")) for c in codings(adj.get("category"))), None)
            amount = as_dict(adj.get("amount")).get("value")
            reason = next((text(c.get("code")) for c in codings(adj.get("reason"))), None)
            value = amount if isinstance(amount, int | float) else reason
            if category and value is not None:
                out.append((category, value))
        return out

    # ----------------------------------------------------------------------------- documents

    def document(self, info: dict[str, Any]) -> DocumentData | None:
        dtype = None
        for c in codings(info.get("category")):
            if c.get("system") == DOCUMENT_TYPE_SYSTEM and c.get("code") in self.document_types:
                dtype = c["code"]
        if dtype is None:
            self.untyped += 1
            return None
        fields: dict[str, Any] = {}
        date = text(info.get("timingDate")) or text(as_dict(info.get("timingPeriod")).get("start"))
        if date:
            fields["date"] = date
        if "valueBoolean" in info and dtype in BOOLEAN_VALUE:
            fields[BOOLEAN_VALUE[dtype]] = info["valueBoolean"]
        if "valueString" in info and dtype in STRING_VALUE:
            fields[STRING_VALUE[dtype]] = info["valueString"]
        qty = as_dict(info.get("valueQuantity"))
        if qty:
            name = QUANTITY_UNITS.get(qty.get("code") or qty.get("unit") or "")
            if name is not None and "value" in qty:
                fields[name] = qty["value"]
            else:
                self.unused.add("supportingInfo.valueQuantity (unit not known)")
        for ext in as_list(info.get("extension")):
            url = as_dict(ext).get("url")
            if isinstance(url, str) and url.startswith(DOCUMENT_FIELD_EXTENSION):
                name = url[len(DOCUMENT_FIELD_EXTENSION) :]
                value = [v for k, v in ext.items() if k.startswith("value")]
                if name in DOCUMENT_FIELDS and value:
                    fields[name] = _number(value[0]) if name not in BOOLEAN_FIELDS else value[0]
        if "modifierExtension" in info:
            self.unused.add("supportingInfo.modifierExtension")
        return DocumentData(type=dtype, fields=fields)

    # ----------------------------------------------------------------------------- warnings

    def report(self) -> None:
        """One warning per kind of thing not read (by element or count, never a value)."""
        if not self.warn:
            return
        if self.systems:  # counted, not named: a system URI is input text and may hold data
            named = len(self.systems - {"(no system)"})
            what = [f"{named} code system(s) claimgraph does not read"] if named else []
            what += ["codings without a system"] if "(no system)" in self.systems else []
            self.warn(f"{self.path}: codes of {' and '.join(what)} were ignored")
        if self.missing_count:
            more = self.missing_count - len(self.missing)
            self.warn(
                f"{self.path}: {self.missing_count} references lead to resources that are not "
                f"in the input and were not followed: {'; '.join(self.missing)}"
                + (f"; and {more} more" if more > 0 else "")
                + " (give them in the Bundle, contained, or as NDJSON files in the same run)"
            )
        if self.untyped:
            self.warn(
                f"{self.path}: {self.untyped} supportingInfo entries have no category in "
                f"{DOCUMENT_TYPE_SYSTEM} and were ignored"
            )
        if self.unused:
            self.warn(f"{self.path}: ignored: {', '.join(sorted(self.unused))}")


__all__ = ["Mapper", "NOT_CLAIM_USES", "use_of"]
