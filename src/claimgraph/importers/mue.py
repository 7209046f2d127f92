"""The CMS medically unlikely edit (MUE) tables: `MCR_MUE_PractitionerServices_Eff_MM-DD-YYYY.csv`,
`MCR_MUE_OutpatientHospitalServices_...`, `MCR_MUE_DMESupplierServices_...` (or the .zip
holding one). Each file is one release: its setting and effective date.

Layout (NCCI_FILE_LAYOUTS.md): a quoted, multi-line copyright preamble, then the header
`"HCPCS/\\nCPT Code",<Setting> Services MUE Values,MUE Adjudication Indicator,MUE Rationale`
(the first cell holds a newline), then one code a row: code, MUE value, the indicator as a
digit and its text (`2 Date of Service Edit: Policy`), rationale. The files carry no dates:
the effective date is in the file name (or --release gives the quarter).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import InputError
from .tables import Part, Quarter, Row, TableRelease, check_code, decode, parse_quarter, parts

MAX_PREAMBLE_ROWS = 40
_EFFECTIVE = re.compile(r"Eff_?(\d{1,2})[-_](\d{1,2})[-_](\d{4})", re.IGNORECASE)
_SETTINGS = (  # words of the header's value column, and of the file name
    ("practitioner", "practitioner"),
    ("outpatient hospital", "hospital"),
    ("outpatienthospital", "hospital"),
    ("dme supplier", "dme"),
    ("dmesupplier", "dme"),
)
_MAI = re.compile(r"^\s*([123])(?:\s|$)")


def read(paths: list[Path], release: str | None = None) -> list[TableRelease]:
    """One release per file (setting from its header, date from its name), headers checked."""
    out: list[TableRelease] = []
    seen: dict[str, str] = {}
    for path in paths:
        for part in parts(path, (".csv",)):
            text = decode(part.read(), part.name)
            header_line, setting = _header(text, part)
            named = _setting_of(part.file_name.replace("_", " "))
            if named is not None and named != setting:
                raise InputError(
                    f"the header is for the {setting} setting, the file name for {named}",
                    path=part.name,
                )
            effective, quarter = _when(part, release)
            rel = TableRelease(
                kind="mue",
                setting=setting,
                quarter=quarter,
                files=[part.file_name],
                paths=[part.name],
                rows=_reader(part, text, header_line),
                effective_from=effective,
            )
            if rel.release_id in seen:
                raise InputError(
                    f"two files for release {rel.release_id} (also {seen[rel.release_id]})",
                    path=part.name,
                )
            seen[rel.release_id] = part.file_name
            out.append(rel)
    return out


def _setting_of(text: str) -> str | None:
    lower = re.sub(r"\s+", " ", text.lower())
    found = {setting for word, setting in _SETTINGS if word in lower}
    return found.pop() if len(found) == 1 else None


def _header(text: str, part: Part) -> tuple[int, str]:
    """The header's row number (from 1) and the setting its value column names."""
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        for number, row in enumerate(rows, start=1):
            if number > MAX_PREAMBLE_ROWS:
                break
            first = re.sub(r"\s+", "", row[0]).upper() if row else ""
            if first.startswith("HCPCS") and len(row) >= 3:
                names = " ".join(row[1:]).lower()
                if "adjudication" not in names:
                    raise InputError(
                        "no MUE Adjudication Indicator column (Medicaid MUE files are not read)",
                        path=part.name,
                        position=f"line {rows.line_num}",
                    )
                setting = _setting_of(row[1])
                if setting is None or len(row) < 4:
                    raise InputError(
                        "the header does not name the setting in its MUE values column "
                        "(Practitioner, Outpatient Hospital or DME Supplier Services MUE Values)",
                        path=part.name,
                        position=f"line {rows.line_num}",
                    )
                return number, setting
    except csv.Error as e:
        raise InputError(
            f"malformed CSV ({e})", path=part.name, position=f"line {rows.line_num}"
        ) from None
    raise InputError(
        "no MUE header (HCPCS/CPT Code, ... MUE Values, MUE Adjudication Indicator, MUE "
        "Rationale) in the first rows; is this a Medicare MUE file?",
        path=part.name,
    )


def _when(part: Part, release: str | None) -> tuple[dt.date, Quarter]:
    """The effective date and quarter: from --release, else the file name's Eff_MM-DD-YYYY."""
    if release:
        quarter = parse_quarter(release)
        return quarter.start, quarter
    m = _EFFECTIVE.search(part.file_name)
    if m:
        try:
            day = dt.date(int(m[3]), int(m[1]), int(m[2]))
        except ValueError:
            day = None
        if day is not None:
            return day, Quarter.of(day)
    raise InputError(
        "cannot tell the effective date from the file name (..._Eff_01-01-2026.csv); "
        "pass --release 2026Q1",
        path=part.name,
    )


def _reader(part: Part, text: str, header_row: int) -> Callable[[], Iterator[Row]]:
    def rows() -> Iterator[Row]:
        return _rows(part.name, text, header_row)

    return rows


def _rows(name: str, text: str, header_row: int) -> Iterator[Row]:
    """(code, MUE value, MAI 1/2/3, rationale, file, line) for each code of the file."""
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        for number, row in enumerate(rows, start=1):
            if number <= header_row or not any(c.strip() for c in row):
                continue
            line = rows.line_num
            where = f"line {line}"
            if len(row) < 4:
                raise InputError(f"{len(row)} fields, expected 4", path=name, position=where)
            code = check_code(row[0], path=name, position=where)
            value = row[1].strip()
            if not value.isdigit():
                raise InputError("MUE value is not a whole number", path=name, position=where)
            m = _MAI.match(row[2])
            if not m:
                raise InputError(
                    "MUE adjudication indicator does not start with 1, 2 or 3",
                    path=name,
                    position=where,
                )
            yield (code, int(value), int(m[1]), row[3].strip(), name, line)
    except csv.Error as e:
        raise InputError(
            f"malformed CSV ({e})", path=name, position=f"line {rows.line_num}"
        ) from None
