"""FHIR R4 Claim resources (a Claim, or a Bundle of them) as ClaimData (docs/formats.md).

Plain JSON with careful checks: only the elements claimgraph needs are read, a wrong JSON type
counts as absent, and codes of systems claimgraph does not know are reported (by system URI)
rather than guessed. Bundles are read entry by entry (never loaded whole).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import InputError
from .json_claims import load_json
from .jsonstream import iter_array, top_level_value
from .model import (
    BOOLEAN_FIELDS,
    DOCUMENT_FIELDS,
    ClaimData,
    DocumentData,
    LineData,
    document_types,
)
from .payers import payer_from_name

Warn = Callable[[str], None] | None

CG_FHIR = "https://w3id.org/claimgraph/fhir/"
DOCUMENT_TYPE_SYSTEM = CG_FHIR + "document-type"
DOCUMENT_FIELD_EXTENSION = CG_FHIR + "document-field/"  # + field name, e.g. .../signed
LINE_DESCRIPTION_EXTENSION = CG_FHIR + "line-description"

# Code systems (as in ontology/codes/schemes.ttl cg:fhirSystem), compared without scheme and
# trailing slash so http/https spellings both match.
DIAGNOSIS_SYSTEMS = {
    "hl7.org/fhir/sid/icd-10-cm": "icd10cm",
    "hl7.org/fhir/sid/icd-9-cm": "icd9cm",
}
PROCEDURE_SYSTEMS = {
    "www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": "hcpcs",
    "www.ama-assn.org/go/cpt": "cpt",
}
# A document's value[x] quantity by UCUM unit, and valueBoolean by document type.
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
_RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,60}$")


def _key(system: Any) -> str:
    s = system if isinstance(system, str) else ""
    return s.split("://", 1)[-1].rstrip("/")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _by_sequence(items: list[Any]) -> list[dict[str, Any]]:
    """Dicts ordered by their `sequence` (stable for equal or missing sequences)."""
    found = [i for i in items if isinstance(i, dict)]
    return sorted(found, key=lambda i: i["sequence"] if isinstance(i.get("sequence"), int) else 0)


class _Mapper:
    def __init__(self, path: Path, warn: Warn):
        self.path = path
        self.warn = warn
        self.systems: set[str] = set()  # unknown code systems met
        self.untyped = 0  # supportingInfo entries without a claimgraph document type
        self.document_types = document_types()  # from the ontology
        self.unused: set[str] = set()

    def codings(self, concept: Any) -> list[dict[str, Any]]:
        return [c for c in _list(_dict(concept).get("coding")) if isinstance(c, dict)]

    def coded(self, concept: Any, systems: dict[str, str]) -> tuple[str, str] | None:
        """(scheme, code) of the first coding in a known system; unknown systems are noted."""
        for c in self.codings(concept):
            code = _str(c.get("code"))
            scheme = systems.get(_key(c.get("system")))
            if scheme and code:
                return scheme, code
        for c in self.codings(concept):
            system = c.get("system")
            self.systems.add(system if isinstance(system, str) else "(no system)")
        return None

    def claim(self, res: dict[str, Any], index: int) -> ClaimData:
        claim = ClaimData(index=index)
        ident = next(
            (_str(i.get("value")) for i in _list(res.get("identifier")) if isinstance(i, dict)),
            None,
        )
        claim.id = ident or _str(res.get("id"))
        insurer = _dict(res.get("insurer"))
        name = _str(insurer.get("display")) or _str(_dict(insurer.get("identifier")).get("value"))
        claim.payer = payer_from_name(name) if name else None
        patient = _dict(res.get("patient"))
        ref = _str(patient.get("reference"))
        claim.patient = _str(_dict(patient.get("identifier")).get("value")) or (
            ref.rsplit("/", 1)[-1] if ref else None
        )
        for dx in _by_sequence(_list(res.get("diagnosis"))):
            coded = self.coded(dx.get("diagnosisCodeableConcept"), DIAGNOSIS_SYSTEMS)
            if coded:
                claim.diagnoses.append(coded)
        info_line: dict[int, int] = {}  # supportingInfo sequence -> line position
        for n, item in enumerate(_by_sequence(_list(res.get("item"))), start=1):
            claim.lines.append(self.line(item))
            for seq in _list(item.get("informationSequence")):
                if isinstance(seq, int):
                    info_line.setdefault(seq, n)
        for info in _by_sequence(_list(res.get("supportingInfo"))):
            doc = self.document(info)
            if doc is not None:
                seq = info.get("sequence")
                doc.line = info_line.get(seq) if isinstance(seq, int) else None
                claim.documents.append(doc)
        return claim

    def line(self, item: dict[str, Any]) -> LineData:
        coded = self.coded(item.get("productOrService"), PROCEDURE_SYSTEMS)
        mods = [self.coded(m, PROCEDURE_SYSTEMS) for m in _list(item.get("modifier"))]
        qty = _dict(item.get("quantity")).get("value")
        site = _dict(item.get("bodySite"))
        site_coding = self.codings(site)[0] if self.codings(site) else {}
        description = None
        for ext in _list(item.get("extension")):
            if isinstance(ext, dict) and ext.get("url") == LINE_DESCRIPTION_EXTENSION:
                description = _str(ext.get("valueString"))
        return LineData(
            code=coded[1] if coded else None,
            modifiers=[m[1] for m in mods if m],
            units=qty if isinstance(qty, int | float | str) and not isinstance(qty, bool) else None,
            service_date=_str(item.get("servicedDate"))
            or _str(_dict(item.get("servicedPeriod")).get("start")),
            body_site=_str(site.get("text"))
            or _str(site_coding.get("display"))
            or _str(site_coding.get("code")),
            description=description,
        )

    def document(self, info: dict[str, Any]) -> DocumentData | None:
        dtype = None
        for c in self.codings(info.get("category")):
            if c.get("system") == DOCUMENT_TYPE_SYSTEM and c.get("code") in self.document_types:
                dtype = c["code"]
        if dtype is None:
            self.untyped += 1
            return None
        fields: dict[str, Any] = {}
        date = _str(info.get("timingDate")) or _str(_dict(info.get("timingPeriod")).get("start"))
        if date:
            fields["date"] = date
        if "valueBoolean" in info and dtype in BOOLEAN_VALUE:
            fields[BOOLEAN_VALUE[dtype]] = info["valueBoolean"]
        if "valueString" in info and dtype in STRING_VALUE:
            fields[STRING_VALUE[dtype]] = info["valueString"]
        qty = _dict(info.get("valueQuantity"))
        if qty:
            name = QUANTITY_UNITS.get(qty.get("code") or qty.get("unit") or "")
            if name is not None and "value" in qty:
                fields[name] = qty["value"]
            else:
                self.unused.add("supportingInfo.valueQuantity (unit not known)")
        for ext in _list(info.get("extension")):
            url = _dict(ext).get("url")
            if isinstance(url, str) and url.startswith(DOCUMENT_FIELD_EXTENSION):
                name = url[len(DOCUMENT_FIELD_EXTENSION) :]
                value = [v for k, v in ext.items() if k.startswith("value")]
                if name in DOCUMENT_FIELDS and value:
                    fields[name] = _number(value[0]) if name not in BOOLEAN_FIELDS else value[0]
        for k in ("modifierExtension",):
            if k in info:
                self.unused.add(f"supportingInfo.{k}")
        return DocumentData(type=dtype, fields=fields)

    def report(self) -> None:
        if not self.warn:
            return
        if self.systems:
            self.warn(
                f"{self.path}: codes of unknown systems were ignored: "
                + ", ".join(sorted(self.systems)[:10])
            )
        if self.untyped:
            self.warn(
                f"{self.path}: {self.untyped} supportingInfo entries have no category in "
                f"{DOCUMENT_TYPE_SYSTEM} and were ignored"
            )
        if self.unused:
            self.warn(f"{self.path}: ignored: {', '.join(sorted(self.unused))}")


def _number(value: Any) -> Any:
    return Decimal(str(value)) if isinstance(value, float) else value


def read_fhir(path: Path, warn: Warn = None) -> Iterator[ClaimData]:
    """Claims of a FHIR R4 JSON file: one Claim resource, or the Claims of a Bundle."""
    found = top_level_value(path, {"resourceType"})
    rtype = found[1] if found else None
    mapper = _Mapper(path, warn)
    if rtype == "Bundle":
        index = 0
        others = 0
        shape = 'a FHIR Bundle with an "entry" list'
        for n, entry in enumerate(iter_array(path, "entry", shape), start=1):
            res = _dict(_dict(entry).get("resource"))
            if res.get("resourceType") != "Claim":
                others += 1
                continue
            index += 1
            try:
                yield mapper.claim(res, index)
            except (TypeError, AttributeError, KeyError):
                raise InputError(
                    "malformed FHIR Claim", path=str(path), position=f"entry {n}"
                ) from None
        if others and warn:
            warn(f"{path}: {others} Bundle entries are not Claim resources and were ignored")
    else:
        loaded = load_json(path) if rtype == "Claim" else None
        if not isinstance(loaded, dict):
            shown = rtype if isinstance(rtype, str) and _RESOURCE_TYPE.match(rtype) else "?"
            raise InputError(
                f"expected a FHIR Claim or a Bundle of Claims (resourceType: {shown})",
                path=str(path),
                position="1:1",
            )
        try:
            yield mapper.claim(loaded, 1)
        except (TypeError, AttributeError, KeyError):
            raise InputError("malformed FHIR Claim", path=str(path)) from None
    mapper.report()
