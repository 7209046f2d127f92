"""Claims as CSV: one row per claim line, documents in an optional second CSV (docs/formats.md).

Rows of one claim are consecutive and share its `claim_id`; claim-level cells (payer, patient,
diagnoses) are read from its first row. Documents come from `<name>.documents.csv` next to the
claims file (or a file given explicitly), keyed by `claim_id`.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fileio import check_input
from .model import (
    BOOLEAN_FIELDS,
    DOCUMENT_FIELDS,
    NUMBER_FIELDS,
    ClaimData,
    DocumentData,
    LineData,
    resolve_diagnoses,
    split_diagnosis,
)
from .screen import listed
from .source import Input, Source

CLAIM_COLUMNS = ("claim_id", "payer", "patient", "diagnoses", "provider")
LINE_COLUMNS = ("code", "modifiers", "units", "service_date", "body_site", "description")
COLUMNS = (*CLAIM_COLUMNS, *LINE_COLUMNS)
DOCUMENT_COLUMNS = ("claim_id", "type", "line", *DOCUMENT_FIELDS)
DOCUMENTS_SUFFIX = ".documents.csv"

_INT = re.compile(r"^[+-]?[0-9]+$")
_MAX_DIGITS = sys.get_int_max_str_digits() or 1 << 62  # longer integers cannot be converted
_NUMERIC = ("units", "line", *sorted(NUMBER_FIELDS))
_DECIMAL = re.compile(r"^[+-]?[0-9]*\.[0-9]+$")
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_SPLIT_DX = re.compile(r"[;|]")
_SPLIT_MOD = re.compile(r"[;|]")

Warn = Callable[[str], None] | None


def documents_path_for(path: Path) -> Path:
    """`claims.csv` -> `claims.documents.csv` in the same folder."""
    return path.with_name(path.stem + DOCUMENTS_SUFFIX)


def integer_or_text(cell: str) -> int | str:
    return int(cell) if _INT.match(cell) else cell


def number_or_text(cell: str) -> int | Decimal | str:
    if _INT.match(cell):
        return int(cell)
    return Decimal(cell) if _DECIMAL.match(cell) else cell


def boolean_or_text(cell: str) -> bool | str:
    return _BOOLEANS.get(cell.lower(), cell)


def field_value(name: str, cell: str) -> Any:
    """A document cell as the JSON value it stands for; what does not fit stays text."""
    if name in BOOLEAN_FIELDS:
        return boolean_or_text(cell)
    if name in NUMBER_FIELDS:
        return number_or_text(cell)
    return cell


def _rows(path: Input, known: tuple[str, ...], warn: Warn) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: stripped cell}) for every data row; errors name the line."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, strict=True)
            try:
                header = next(reader)
            except StopIteration:
                raise InputError("empty file: expected a CSV header row", path=str(path)) from None
            columns = [h.strip().lower() for h in header]
            if "claim_id" not in columns:
                raise InputError(
                    "the CSV header has no claim_id column", path=str(path), position="1"
                )
            extra = [n for n, c in enumerate(columns, 1) if c and c not in known]
            if extra and warn:  # by position: a header that lost its newline holds data
                warn(f"{path}: ignored {len(extra)} header cell(s) outside the CSV contract "
                     f"(column {listed(extra)})")  # fmt: skip
            for cells in reader:
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) != len(columns):
                    raise InputError(
                        f"a row has {len(cells)} cells but the header has {len(columns)}",
                        path=str(path),
                        position=str(reader.line_num),
                    )
                row = {c: v.strip() for c, v in zip(columns, cells, strict=False) if c in known}
                if any(len(row.get(c, "")) > _MAX_DIGITS and _INT.match(row[c]) for c in _NUMERIC):
                    raise InputError(
                        "a number is too long", path=str(path), position=str(reader.line_num)
                    )
                yield reader.line_num, row
    except csv.Error as e:
        where = str(getattr(e, "line_num", "")) or None
        raise InputError("not valid CSV", path=str(path), position=where) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=str(path)) from None


def read_documents(path: Input, warn: Warn = None) -> dict[str, list[DocumentData]]:
    """Documents of a documents CSV by claim id, in file order."""
    docs: dict[str, list[DocumentData]] = {}
    for _n, row in _rows(path, DOCUMENT_COLUMNS, warn):
        line: Any = row.get("line") or None
        docs.setdefault(row.get("claim_id", ""), []).append(
            DocumentData(
                type=row.get("type") or None,
                line=integer_or_text(line) if line else None,
                fields={k: field_value(k, v) for k in DOCUMENT_FIELDS if (v := row.get(k))},
            )
        )
    return docs


def _line(row: dict[str, str]) -> LineData | None:
    """The claim line of a row, or None when all its line cells are empty."""
    if not any(row.get(c) for c in LINE_COLUMNS):
        return None
    units = row.get("units")
    return LineData(
        code=row.get("code") or None,
        modifiers=[m.strip() for m in _SPLIT_MOD.split(row.get("modifiers", "")) if m.strip()],
        units=integer_or_text(units) if units else None,
        service_date=row.get("service_date") or None,
        body_site=row.get("body_site") or None,
        description=row.get("description") or None,
    )


def read_csv_input(source: Source, ctx: Any) -> Iterator[ClaimData]:
    """The reader of the format registry: NAME.documents.csv next to a claims file is read with
    it, unless a documents file is given for the whole run (`--documents`)."""
    companion = None
    if source.path is not None and not getattr(ctx, "documents_given", False):
        companion = documents_path_for(source.path)
    found = companion if companion is not None and companion.is_file() else None
    yield from read_csv(source, ctx, found, find_companion=False)


def read_csv(
    path: Input, warn: Warn = None, documents: Path | None = None, *, find_companion: bool = True
) -> Iterator[ClaimData]:
    """Claims of a claims CSV, in file order (rows of one claim must be consecutive).

    `documents`: a documents CSV for this file (default: NAME.documents.csv next to it)."""
    doc_path = documents
    if doc_path is None and find_companion and isinstance(path, Path):
        doc_path = documents_path_for(path)
        doc_path = doc_path if doc_path.is_file() else None
    if doc_path is not None and not doc_path.exists():
        raise InputError("documents file not found", path=str(doc_path))
    if doc_path is not None:  # a FIFO or device is refused, not read
        check_input(doc_path, what="documents file")
    docs = read_documents(doc_path, warn) if doc_path is not None else {}
    seen: dict[str, int] = {}  # claim id -> line of its first row
    claim: ClaimData | None = None
    first: dict[str, str] = {}
    index = 0
    differing = 0
    for lineno, row in _rows(path, COLUMNS, warn):
        cid = row.get("claim_id") or None
        if claim is not None and cid is not None and cid == claim.id:
            differing += any(row.get(c) and row.get(c) != first.get(c) for c in CLAIM_COLUMNS[1:])
        else:
            if claim is not None:
                resolve_diagnoses(claim)
                yield claim
            if cid is not None:
                if cid in seen:
                    raise InputError(
                        f"rows of one claim must be consecutive (claim first seen on line "
                        f"{seen[cid]})",
                        path=str(path),
                        position=str(lineno),
                    )
                seen[cid] = lineno
            index += 1
            first = row
            claim = ClaimData(
                index=index,
                id=cid,
                payer=row.get("payer") or None,
                patient=row.get("patient") or None,
                provider=row.get("provider") or None,
                position=f"line {lineno}",
                diagnoses=[  # "M54.5" or "icd9:250.00": system '' when not stated
                    dx
                    for dx in map(split_diagnosis, _SPLIT_DX.split(row.get("diagnoses", "")))
                    if dx[1]
                ],
                documents=docs.pop(cid, []) if cid is not None else [],
            )
        line = _line(row)
        if line is not None:
            claim.lines.append(line)
    if claim is not None:
        resolve_diagnoses(claim)
        yield claim
    if warn and differing:
        warn(
            f"{path}: {differing} rows repeat a claim with different claim-level cells; "
            "the first row of each claim is used"
        )
    if warn and docs and doc_path is not None:
        orphans = sum(len(v) for v in docs.values())
        name = Path(str(path)).name
        warn(f"{doc_path}: {orphans} documents name a claim_id that is not in {name}")
