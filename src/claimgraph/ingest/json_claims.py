"""The JSON claim contract (README, 'Claim input'): {"claims": [ {...}, ... ]}.

Readers take a `Source` (or a path): anything with `open()` and `str()`. Positions: "claim N"
(JSON, set by reading.read_claims) and "line N" (JSON Lines, the claim's line in the file).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import InputError
from .jsonstream import iter_array, open_text
from .model import DOCUMENT_FIELDS, ClaimData, DocumentData, LineData
from .source import Input

CLAIM_KEYS = {"id", "payer", "patient", "provider", "billing_provider", "diagnoses", "lines",
              "documents"}  # fmt: skip
LINE_KEYS = {"code", "modifiers", "units", "minutes", "service_date", "body_site", "description"}
DOCUMENT_KEYS = {"type", "line", *DOCUMENT_FIELDS}


def load_json(path: Input) -> Any:
    """Parse a JSON file; a syntax error names the line and column, never the content."""
    try:
        with path.open("rb") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise InputError(
            f"not valid JSON ({e.msg})", path=str(path), position=f"{e.lineno}:{e.colno}"
        ) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=str(path)) from None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def claim_from_json(obj: Any, index: int, unknown: set[str]) -> ClaimData:
    """One claim object as ClaimData; fields outside the contract are collected in `unknown`."""
    claim = ClaimData(index=index)
    if not isinstance(obj, dict):
        return claim  # an empty claim: the structure rules report it
    unknown.update(f"claim.{k}" for k in obj.keys() - CLAIM_KEYS)
    claim.id = obj.get("id")
    claim.payer = obj.get("payer")
    claim.patient = obj.get("patient")
    provider = obj.get("billing_provider", obj.get("provider"))
    claim.provider = str(provider) if isinstance(provider, str | int) and str(provider) else None
    claim.diagnoses = [
        ("icd10cm", d) for d in _list(obj.get("diagnoses")) if isinstance(d, str) and d.strip()
    ]
    for ln in _list(obj.get("lines")):
        if not isinstance(ln, dict):
            claim.lines.append(LineData())
            continue
        unknown.update(f"line.{k}" for k in ln.keys() - LINE_KEYS)
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
    for doc in _list(obj.get("documents")):
        if not isinstance(doc, dict):
            continue
        unknown.update(f"document.{k}" for k in doc.keys() - DOCUMENT_KEYS)
        claim.documents.append(
            DocumentData(
                type=doc.get("type"),
                line=doc.get("line"),
                fields={k: doc[k] for k in DOCUMENT_FIELDS if k in doc},
            )
        )
    return claim


CLAIMS_SHAPE = 'a JSON object with a "claims" list'


def _warn_unknown(path: Input, unknown: set[str], warn: Callable[[str], None] | None) -> None:
    if unknown and warn:
        warn(f"{path}: ignored fields outside the claim contract: {', '.join(sorted(unknown))}")


def read_json(path: Input, warn: Callable[[str], None] | None = None) -> Iterator[ClaimData]:
    """Claims of a JSON file, one at a time (the file is never loaded whole).

    `warn(message)` is called once if fields outside the contract were ignored.
    """
    unknown: set[str] = set()
    for i, obj in enumerate(iter_array(path, "claims", CLAIMS_SHAPE), start=1):
        yield claim_from_json(obj, i, unknown)
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
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as e:
                raise InputError(
                    f"not valid JSON ({e.msg})", path=str(path), position=f"{lineno}:{e.colno}"
                ) from None
            except ValueError:
                raise InputError(
                    "not valid JSON (a number is too long)", path=str(path), position=str(lineno)
                ) from None
            if not isinstance(obj, dict):
                raise InputError(
                    "expected one claim object a line", path=str(path), position=f"{lineno}:1"
                )
            index += 1
            claim = claim_from_json(obj, index, unknown)
            claim.position = f"line {lineno}"
            yield claim
    if index == 0:
        raise InputError("empty file: expected one claim object a line", path=str(path))
    _warn_unknown(path, unknown, warn)
