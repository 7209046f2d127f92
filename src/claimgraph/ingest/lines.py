"""Claim lines as rows of typed values: pandas DataFrames, Arrow tables, Parquet files, Spark.

One row per claim line, in the documented columns (docs/api.md, "Claim lines") or in the
columns a mapping file names (the TOML column mappings of `ingest.tabular`, docs/formats.md):
the built-in `claim-lines` mapping is such a `Profile`, so the two readers share one notion of
which column holds which claim field, and the per-row helpers of `ingest.tabular` (dates,
diagnosis systems, units) turn cells into the claim's values.

Cells keep their types: numbers, dates and timestamps (a service date), booleans, lists. A list
field (modifiers, diagnoses) is a list cell, numbered columns (`modifier_1` ... `modifier_4`,
`diagnosis_1` ... `diagnosis_12`) or text separated by `;` or `|` as in the CSV contract.
`documents` holds the claim's documents as JSON contract objects (a list of dicts or its JSON
text), read from the claim's first row like the other claim-level cells. Diagnoses follow the
JSON and CSV contracts (docs/formats.md, "Which code system a diagnosis is in"): `M54.50`,
`icd9:250.00`, or `{"code": ..., "system": ...}` items of a list column (Arrow structs).

A claim is a run of consecutive rows with the same claim id, billing provider and patient; the
same claim again further on is an error naming the row. A row whose line cells are all empty
gives no line (a claim without lines is one such row).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

from ..errors import InputError
from .model import ClaimData, DocumentData, resolve_diagnoses
from .tabular import Profile, _claim, _diagnoses, _finish, _line, integer

Warn = Callable[[str], None] | None

PROFILE_NAME = "claim-lines"
FORMAT = "claim-lines"  # ClaimData.format of claims read from rows of values
MODIFIER_COLUMNS = 4
DIAGNOSIS_COLUMNS = 12
DOCUMENTS = "documents"
_SPLIT = re.compile(r"[;|]")


@cache
def claim_lines_profile() -> Profile:
    """The documented columns as a column mapping (docs/api.md, "Claim lines")."""
    modifiers = ("modifiers", *(f"modifier_{n}" for n in range(1, MODIFIER_COLUMNS + 1)))
    diagnoses = ("diagnoses", *(f"diagnosis_{n}" for n in range(1, DIAGNOSIS_COLUMNS + 1)))
    return Profile(
        name=PROFILE_NAME,
        source="(built in)",
        format=FORMAT,
        description="claimgraph claim lines: one row per line, typed values",
        date_formats=(),  # text dates as given (JSON and CSV contracts); date cells: ISO
        claim={"id": ("claim_id",), "patient": ("patient",), "payer": ("payer",),
               "provider": ("provider",), "diagnoses": diagnoses},
        line={"number": ("line",), "code": ("code",), "modifiers": modifiers,
              "units": ("units",), "service_date": ("service_date",),
              "place_of_service": ("place_of_service",), "body_site": ("body_site",),
              "description": ("description",)},
    )  # fmt: skip


def resolve_profile(profile: str | Profile | None) -> Profile:
    """A mapping by name (`claim-lines`, `rif-carrier` ...) or TOML file; None: `claim-lines`."""
    if profile is None or profile == PROFILE_NAME:
        return claim_lines_profile()
    if not isinstance(profile, str):
        return profile
    from .tabular import load_profile

    return load_profile(profile)


def profile_columns(profile: Profile) -> set[str]:
    """Every column the mapping reads (lower case), with `documents` for the built-in one."""
    extra = {DOCUMENTS} if profile.name == PROFILE_NAME else set()
    return profile.columns() | extra


def check_columns(columns: Sequence[str], profile: Profile, where: str, warn: Warn) -> None:
    """A table's columns against the mapping: the claim id column must be there (a mapping
    file's other columns too); columns nobody reads are named in one warning."""
    have = {c.lower() for c in columns}
    strict = profile.name != PROFILE_NAME
    needed = profile.columns() if strict else set(profile.claim["id"])
    missing = sorted(needed - have)
    if missing:
        names = ", ".join(missing[:6])
        raise InputError(f"the table lacks columns the mapping {profile.name!r} names: {names}",
                         path=where)  # fmt: skip
    extra = sorted(have - profile_columns(profile))
    if extra and warn:
        warn(f"{where}: ignored columns outside the claim lines: {', '.join(extra)}")


# --------------------------------------------------------------------------------- cells


def is_list(value: Any) -> bool:
    kind = type(value)
    if kind is str or value is None:  # the common cells, first
        return False
    if kind is list or isinstance(value, list | tuple):
        return True
    return getattr(value, "ndim", 0) > 0 and hasattr(value, "tolist")  # a numpy array


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else value.tolist()


def text(value: Any) -> str:
    """A cell as the text the tabular helpers read ('' when empty): whole numbers without a
    decimal point (pandas gives 97112.0 for a numeric column with gaps), dates in ISO form."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):  # before date: a datetime is a date
        try:
            return value.date().isoformat()
        except ValueError:  # pandas NaT
            return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip()
    if hasattr(value, "item") and not is_list(value):  # a numpy scalar
        return text(value.item())
    if value != value:  # NaN-like (pandas NA, NaT)
        return ""
    return str(value).strip()


class Cells:
    """One row's cells by lower-case column name, read the way `ingest.tabular` reads a row."""

    __slots__ = ("cells",)

    def __init__(self, cells: Mapping[str, Any]) -> None:
        self.cells = cells

    def first(self, cols: tuple[str, ...] | None) -> str | None:
        get = self.cells.get
        for c in cols or ():
            value = get(c)
            if value is None:
                continue
            if type(value) is str:  # the common case, inline
                t = value.strip()
                if t:
                    return t
                continue
            for item in as_list(value) if is_list(value) else (value,):
                t = text(item)
                if t:
                    return t
        return None

    def each(self, cols: tuple[str, ...] | None) -> list[str]:
        out: list[str] = []
        cells = self.cells
        for c in cols or ():
            if c not in cells:  # a column the table lacks (mapping files name only present ones)
                continue
            value = cells[c]
            if is_list(value):
                out.extend(text(v) for v in as_list(value))
                continue
            t = text(value)
            if ";" in t or "|" in t:
                out.extend(p.strip() for p in _SPLIT.split(t))
            else:
                out.append(t)
        return out


def _documents(value: Any, where: str, position: str) -> list[DocumentData]:
    """The claim's documents from a `documents` cell: JSON contract objects, or their text."""
    from .json_claims import claim_from_json

    parsed = isinstance(value, str | bytes)
    if parsed:
        if not text(value):
            return []
        try:
            value = json.loads(value)
        except ValueError:
            raise InputError("the documents cell is not valid JSON", path=where,
                             position=position) from None  # fmt: skip
    if value is None or (not is_list(value) and text(value) == ""):
        return []
    if not is_list(value):
        raise InputError("the documents cell is not a list of documents", path=where,
                         position=position)  # fmt: skip
    docs = as_list(value) if parsed else [_plain(d) for d in as_list(value)]
    return claim_from_json({"documents": docs}, 0, set()).documents


def _plain(value: Any) -> Any:
    """A document value as JSON would give it (Arrow structs hold None for absent fields)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if is_list(value):
        return [_plain(v) for v in as_list(value)]
    if isinstance(value, dt.date):
        return text(value)
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    return value


def _contract_diagnoses(
    row: Cells, cols: tuple[str, ...] | None, unknown: set[str]
) -> list[tuple[str, str]]:
    """The claim's diagnoses as the JSON contract reads them: list items (text or
    {"code", "system"} objects) and `;`/`|`-separated text, system '' when not stated."""
    from .json_claims import _diagnoses

    items: list[Any] = []
    for c in cols or ():
        value = row.cells.get(c)
        if is_list(value):
            items.extend(_plain(v) if isinstance(v, Mapping) else text(v) for v in as_list(value))
        elif value is not None:
            items.extend(row.each((c,)))
    return _diagnoses(items, unknown)


def _done(claim: ClaimData, numbers: list[int | None], contract: bool) -> ClaimData:
    claim = _finish(claim, numbers)
    if contract:
        resolve_diagnoses(claim)  # a diagnosis without a system: by its shape and the dates
    return claim


# --------------------------------------------------------------------------------- rows


def read_rows(
    rows: Iterable[Mapping[str, Any]],
    profile: Profile | None = None,
    *,
    where: str = "records",
    start: int = 1,
    source_col: str | None = None,
    repeat_col: str | None = None,
    lower: bool = True,
    warn: Warn = None,
) -> Iterator[ClaimData]:
    """Claims of `rows` (one mapping of column -> value per line), in order; `where` names the
    input in errors and in `ClaimData.source`; positions are `row N` counting from `start`.
    `source_col`: a column naming each row's source instead (part of the claim's identity);
    `repeat_col`: a column that is true on the rows of a claim whose id an earlier claim of the
    same billing provider has (`ClaimData.repeats_id`; Spark sets it before it splits the
    input); `lower=False`: the column names are lower case already; `warn` receives one warning
    naming values that were ignored (never the values)."""
    p = profile or claim_lines_profile()
    id_cols, provider_cols, patient_cols = (
        p.claim.get("id"), p.claim.get("provider"), p.claim.get("patient"))  # fmt: skip
    documents = p.name == PROFILE_NAME
    unknown: set[str] = set()
    seen: dict[tuple[str | None, ...], int] = {}
    claim: ClaimData | None = None
    current: tuple[str | None, ...] = ()
    numbers: list[int | None] = []
    index = 0
    for n, raw in enumerate(rows, start=start):
        row: Any = Cells({str(k).lower(): v for k, v in raw.items()} if lower else raw)
        cid = row.first(id_cols)
        origin = (text(raw.get(source_col)) or where) if source_col else where
        key = (cid, row.first(provider_cols), row.first(patient_cols), origin)
        number = integer(row.first(p.line.get("number")))
        # a line number the claim already has starts the next claim of the same id (a repeat:
        # two claims are never merged because their ids match)
        again = key == current and number is not None and number in numbers
        if claim is None or cid is None or key != current or again:
            if claim is not None:
                yield _done(claim, numbers, documents)
            if cid is not None and not again:
                if key in seen:
                    raise InputError(
                        f"rows of one claim must be consecutive (claim first seen in row "
                        f"{seen[key]})",
                        path=where,
                        position=f"row {n}",
                    )
                seen[key] = n
            index += 1
            current = key
            claim = _claim(row, p, index, n)
            claim.position, claim.source = f"row {n}", origin
            if repeat_col:
                claim.repeats_id = raw.get(repeat_col) is True
            if documents:  # the built-in columns: documents, diagnoses as the JSON contract's
                claim.documents = _documents(row.cells.get(DOCUMENTS), where, f"row {n}")
                claim.diagnoses = _contract_diagnoses(row, p.claim.get("diagnoses"), unknown)
            numbers = []
        line = _line(row, p)
        if any(v not in (None, []) for v in vars(line).values()):
            claim.lines.append(line)
            numbers.append(number)
        for dx in _diagnoses(row, p.line.get("diagnoses"), p.line.get("diagnosis_versions"), p):
            if dx not in claim.diagnoses:
                claim.diagnoses.append(dx)
    if claim is not None:
        yield _done(claim, numbers, documents)
    if unknown and warn:
        warn(f"{where}: ignored values outside the claim lines: {', '.join(sorted(unknown))}")


__all__ = [
    "FORMAT",
    "PROFILE_NAME",
    "Cells",
    "check_columns",
    "claim_lines_profile",
    "profile_columns",
    "read_rows",
    "resolve_profile",
    "text",
]
