"""The CMS NCCI add-on code (AOC) edit table: `AOC_V2025Q4_01-MCR.txt` (tab-delimited text, or
the .zip holding it), or its .xlsx form when the optional `xlsx` extra (openpyxl) is installed.

Columns, found by their header names (NCCI_FILE_LAYOUTS.md): Add-on Code, Primary Code, AOC
Edit Type (1/2/3), AOC Del Dt, Primary Code Del Dt, AOC Edit Eff Dt, AOC Edit Del Dt, Special
Instruction Notes (not stored). Dates are CCYYMMDD (MM/DD/YYYY and sheet dates are read too);
a blank or `*` deletion date means none. A preamble before the header line is skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError
from .tables import (
    Part,
    Row,
    TableRelease,
    check_code,
    decode,
    parse_quarter,
    parts,
    quarter_in_name,
    yyyymmdd,
)

MAX_PREAMBLE_LINES = 30
_COLUMNS = {  # normalised header name -> field
    "addoncode": "addon",
    "primarycode": "primary",
    "aocedittype": "type",
    "aocdeldt": "addon_del",
    "primarycodedeldt": "primary_del",
    "aocediteffdt": "eff",
    "aoceditdeldt": "del",
}
_REQUIRED = ("addon", "primary", "type", "eff")
_DATES = (
    ("addon_del", "add-on code deletion date"),
    ("primary_del", "primary code deletion date"),
    ("eff", "AOC edit effective date"),
    ("del", "AOC edit deletion date"),
)
_VERSION = re.compile(r"V(\d{4}Q[1-4](?:[_-]\d+)?)", re.IGNORECASE)


def read(paths: list[Path], release: str | None = None) -> list[TableRelease]:
    """One release per file (quarter from its name or --release), header checked."""
    out: list[TableRelease] = []
    seen: dict[str, str] = {}
    for path in paths:
        for part in parts(path, (".txt", ".xlsx")):
            records = _records(part)
            header_at, columns = _header(records, part)
            quarter = parse_quarter(release) if release else quarter_in_name(part.file_name)
            if quarter is None:
                raise InputError(
                    "cannot tell the quarter from the file name (AOC_V2025Q4_...); "
                    "pass --release 2025Q4",
                    path=part.name,
                )
            m = _VERSION.search(part.file_name)
            rel = TableRelease(
                kind="aoc",
                setting=None,
                quarter=quarter,
                files=[part.file_name],
                paths=[part.name],
                rows=_reader(part, records, header_at, columns),
                version=m[1].upper() if m else None,
            )
            if rel.release_id in seen:
                raise InputError(
                    f"two files for release {rel.release_id} (also {seen[rel.release_id]})",
                    path=part.name,
                )
            seen[rel.release_id] = part.file_name
            out.append(rel)
    return out


def _records(part: Part) -> list[tuple[int, list[str]]]:
    """(line or sheet row number, cells) of the file."""
    if part.file_name.lower().endswith(".xlsx"):
        return _sheet_rows(part)
    text = decode(part.read(), part.name)
    return [
        (n, line.rstrip("\r").split("\t"))
        for n, line in enumerate(text.split("\n"), start=1)
        if line.strip()
    ]


def _sheet_rows(part: Part) -> list[tuple[int, list[str]]]:
    try:
        import openpyxl
    except ImportError:
        raise InputError(
            "reading .xlsx needs the optional extra: pip install 'claimgraph[xlsx]' "
            "(or import the .txt file of the same CMS zip)",
            path=part.name,
        ) from None
    import io

    try:
        book = openpyxl.load_workbook(io.BytesIO(part.read()), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for a damaged workbook
        raise InputError(
            f"not a readable .xlsx workbook ({type(e).__name__})", path=part.name
        ) from None
    try:
        sheet = book.worksheets[0]
        out = []
        for n, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in values]
            if any(cells):
                out.append((n, cells))
        return out
    finally:
        book.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y%m%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _header(records: list[tuple[int, list[str]]], part: Part) -> tuple[int, dict[str, int]]:
    for index, (number, cells) in enumerate(records[:MAX_PREAMBLE_LINES]):
        names = [_normal(c) for c in cells]
        if "addoncode" in names and "primarycode" in names:
            columns: dict[str, int] = {}
            for i, n in enumerate(names):
                if n in _COLUMNS:
                    columns.setdefault(_COLUMNS[n], i)
            missing = [k for k in _REQUIRED if k not in columns]
            if missing:
                raise InputError(
                    "AOC header lacks the columns Add-on Code, Primary Code, AOC Edit Type, "
                    "AOC Edit Eff Dt",
                    path=part.name,
                    position=f"line {number}",
                )
            return index, columns
    raise InputError(
        "no AOC header (Add-on Code, Primary Code, AOC Edit Type, ...) in the first lines; "
        "is this an NCCI add-on code file?",
        path=part.name,
    )


def _reader(
    part: Part, records: list[tuple[int, list[str]]], header_at: int, columns: dict[str, int]
) -> Callable[[], Iterator[Row]]:
    def rows() -> Iterator[Row]:
        return _rows(part, records[header_at + 1 :], columns)

    return rows


def _rows(
    part: Part, records: list[tuple[int, list[str]]], columns: dict[str, int]
) -> Iterator[Row]:
    """(add-on, primary, edit type, add-on del, primary del, edit eff, edit del, file, line)."""
    name = part.name
    unit = "row" if part.file_name.lower().endswith(".xlsx") else "line"
    for number, cells in records:
        where = f"{unit} {number}"
        get = dict.fromkeys(columns, "")
        for key, i in columns.items():
            if i < len(cells):
                get[key] = cells[i].strip()
        addon = check_code(get["addon"], path=name, position=where, what="add-on code")
        primary = check_code(get["primary"], path=name, position=where, what="primary code")
        kind = get["type"]
        if kind not in ("1", "2", "3"):
            raise InputError("AOC edit type is not 1, 2 or 3", path=name, position=where)
        dates = {
            key: yyyymmdd(
                get.get(key, ""), path=name, position=where, what=what, blank=key != "eff"
            )
            for key, what in _DATES
        }
        yield (
            addon,
            primary,
            int(kind),
            dates["addon_del"],
            dates["primary_del"],
            dates["eff"],
            dates["del"],
            name,
            number,
        )
