"""A CPT code list the user is licensed to use: a two-column CSV (code, descriptor).

claimgraph never ships CPT text; this list stays in the user's local store. A first row whose
first cell is not a CPT code is taken as a header.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from ..errors import InputError
from . import CodeRecord, Release, check_unique, decode_csv_text, read_bytes

_CPT = re.compile(r"^[0-9]{4}[0-9FTU]$")


def read(path: Path, release: str | None = None) -> Release:
    """Read the whole CSV; raise InputError (file and line) on any defect."""
    name = str(path)
    text = decode_csv_text(read_bytes(path), name)
    records: list[CodeRecord] = []
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        for number, row in enumerate(rows, start=1):
            where = f"line {number}"
            if not any(c.strip() for c in row):
                continue
            code = row[0].strip().upper()
            if not _CPT.match(code):
                if number == 1:
                    continue  # header
                raise InputError(
                    "first column is not a CPT code (5 characters)", path=name, position=where
                )
            if len(row) < 2 or not row[1].strip():
                raise InputError("no descriptor in the second column", path=name, position=where)
            records.append(
                CodeRecord(notation=code, kind="procedure", long=row[1].strip(), position=where)
            )
    except csv.Error as e:
        raise InputError(
            f"malformed CSV ({e})", path=name, position=f"line {rows.line_num}"
        ) from None
    if not records:
        raise InputError("no CPT codes found (expected rows of code,descriptor)", path=name)
    check_unique(records, name)
    issued = _release_date(release)
    return Release(
        system="cpt",
        release_id=f"cpt-{issued.isoformat() if release is None or len(release) > 7 else release}",
        issued=issued,
        title=f"CPT code list imported from {path.name}",
        file_name=path.name,
        records=records,
    )


def _release_date(release: str | None) -> dt.date:
    """--release YYYY, YYYY-MM or YYYY-MM-DD; default today (the import date)."""
    if release is None:
        return dt.date.today()
    m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", release.strip())
    try:
        if m:
            return dt.date(int(m[1]), int(m[2] or 1), int(m[3] or 1))
    except ValueError:
        pass
    raise InputError(f"--release must look like 2025, 2025-01 or 2025-01-31, not {release!r}")
