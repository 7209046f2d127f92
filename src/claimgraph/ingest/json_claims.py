"""The JSON claim contract (README, 'Claim input'): {"claims": [ {...}, ... ]}.

Readers take a `Source` (or a path): anything with `open()` and `str()`. Positions: "claim N"
(JSON, set by reading.read_claims) and "line N" (JSON Lines, the claim's line in the file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..errors import InputError
from .jsonstream import iter_array, loads, open_text
from .model import (
    DOCUMENT_FIELDS,
    ClaimData,
    DocumentData,
    LineData,
    diagnosis_system,
    resolve_diagnoses,
    split_diagnosis,
)
from .screen import listed, shown
from .source import Input

CLAIM_KEYS = {"id", "payer", "patient", "provider", "billing_provider", "diagnoses", "lines",
              "documents"}  # fmt: skip
LINE_KEYS = {"code", "modifiers", "units", "minutes", "service_date", "body_site", "description"}
DOCUMENT_KEYS = {"type", "line", *DOCUMENT_FIELDS}
DIAGNOSIS_KEYS = {"code", "system"}


def load_json(path: Input) -> Any:
    """Parse a JSON file; a syntax error names the line and column, never the content."""
    try:
        with path.open("rb") as f:
            text = f.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=str(path)) from None
    return loads(text, path)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class PatientNotAnId(ValueError):
    """A claim's patient is an object or a list (a record with names), not an id."""


def claim_from_json(obj: Any, index: int, unknown: set[str]) -> ClaimData:
    """One claim object as ClaimData; fields outside the contract are collected in `unknown`.

    Raises PatientNotAnId when `patient` is an object or list instead of an id: its content
    (often a name or a birth date) must never become the patient key.
    """
    claim = ClaimData(index=index, format="json")
    if not isinstance(obj, dict):
        return claim  # an empty claim: the structure rules report it
    _note_unknown(unknown, obj, CLAIM_KEYS, "claim", f"claim {index}")
    claim.id = obj.get("id")
    claim.payer = obj.get("payer")
    if isinstance(obj.get("patient"), dict | list):
        raise PatientNotAnId
    claim.patient = obj.get("patient")
    provider = obj.get("billing_provider", obj.get("provider"))
    claim.provider = str(provider) if isinstance(provider, str | int) and str(provider) else None
    claim.diagnoses = _diagnoses(_list(obj.get("diagnoses")), unknown)
    for n, ln in enumerate(_list(obj.get("lines")), 1):
        if not isinstance(ln, dict):
            claim.lines.append(LineData())
            continue
        _note_unknown(unknown, ln, LINE_KEYS, "line", f"claim {index} line {n}")
        mods = ln.get("modifiers")
        claim.lines.append(
            LineData(
                code=ln.get("code"),
                modifiers=_list(mods) if not isinstance(mods, str) else [mods],
                units=ln.get("units"),
                minutes=ln.get("minutes"),
                service_date=ln.get("service_date"),
                body_site=ln.get("body_site"),
                description=ln.get("description"),
            )
        )
    for n, doc in enumerate(_list(obj.get("documents")), 1):
        if not isinstance(doc, dict):
            continue
        _note_unknown(unknown, doc, DOCUMENT_KEYS, "document", f"claim {index} document {n}")
        claim.documents.append(
            DocumentData(
                type=doc.get("type"),
                line=doc.get("line"),
                fields={k: doc[k] for k in DOCUMENT_FIELDS if k in doc},
            )
        )
    resolve_diagnoses(claim)  # a diagnosis without a system: by its shape, else the dates
    return claim


def _diagnoses(items: list[Any], unknown: set[str]) -> list[tuple[str, str]]:
    """Diagnoses given as "M54.5", "icd9:250.00" or {"code": "250.00", "system": "icd9cm"},
    as (system, code); system '' when not stated."""
    out = []
    for d in items:
        if isinstance(d, str):
            system, code = split_diagnosis(d)
        elif isinstance(d, dict):
            unknown.update(f"diagnosis.{k}" for k in d.keys() - DIAGNOSIS_KEYS)
            raw, value = d.get("system"), d.get("code")
            if not isinstance(value, str):
                continue
            system = diagnosis_system(raw) or ""
            if raw is not None and not system:
                unknown.add("diagnosis.system (not icd9cm or icd10cm)")
            code = value.strip()
        else:
            continue
        if code:
            out.append((system, code))
    return out


CLAIMS_SHAPE = 'a JSON object with a "claims" list'
PATIENT_NOT_AN_ID = "the claim's patient is an object, not an id: give the patient's id (a string)"


def _note_unknown(unknown: set[str], obj: dict[str, Any], known: set[str], kind: str,
                  where: str) -> None:  # fmt: skip
    """Collect the keys of `obj` outside the contract: `kind.name` for a name that may be shown
    (ingest.screen), else `where, key number N` (a key may be data)."""
    for n, k in enumerate(obj, 1):
        if k not in known:
            name = shown(k)
            unknown.add(f"{kind}.{name}" if name else f"{where}, key number {n}")


def _warn_unknown(path: Input, unknown: set[str], warn: Callable[[str], None] | None) -> None:
    if unknown and warn:
        warn(f"{path}: ignored {len(unknown)} field(s) outside the claim contract: "
             f"{listed(sorted(unknown))}")  # fmt: skip


def read_json(path: Input, warn: Callable[[str], None] | None = None) -> Iterator[ClaimData]:
    """Claims of a JSON file, one at a time (the file is never loaded whole).

    `warn(message)` is called once if fields outside the contract were ignored.
    """
    unknown: set[str] = set()
    for i, obj in enumerate(iter_array(path, "claims", CLAIMS_SHAPE), start=1):
        try:
            yield claim_from_json(obj, i, unknown)
        except PatientNotAnId:
            raise InputError(PATIENT_NOT_AN_ID, path=str(path), position=f"claim {i}") from None
    _warn_unknown(path, unknown, warn)


def read_jsonl(path: Input, warn: Callable[[str], None] | None = None) -> Iterator[ClaimData]:
    """Claims of a JSON Lines file: one claim object a line; blank lines are skipped."""
    unknown: set[str] = set()
    index = 0
    with open_text(path) as f:
        lineno = 0
        while True:
            try:
                text = f.readline()
            except UnicodeDecodeError:
                raise InputError(
                    "not UTF-8 text", path=str(path), position=str(lineno + 1)
                ) from None
            if not text:
                break
            lineno += 1
            if not text.strip():
                continue
            obj = loads(text, path, lineno)
            if not isinstance(obj, dict):
                raise InputError(
                    "expected one claim object a line", path=str(path), position=f"{lineno}:1"
                )
            index += 1
            try:
                claim = claim_from_json(obj, index, unknown)
            except PatientNotAnId:
                raise InputError(PATIENT_NOT_AN_ID, path=str(path), position=str(lineno)) from None
            claim.format = "jsonl"
            claim.position = f"line {lineno}"
            yield claim
    if index == 0:
        raise InputError("empty file: expected one claim object a line", path=str(path))
    _warn_unknown(path, unknown, warn)
