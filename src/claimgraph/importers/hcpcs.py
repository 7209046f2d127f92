"""The CMS HCPCS Level II file: the fixed-width annual/quarterly text file and its CSV form.

Fixed-width layout (CMS record layout, 1-based): 1-5 code (a modifier in 4-5), 6-10 sequence,
11 record id (3 procedure, 4 its continuation, 7 modifier, 8 its continuation), 12-91 long
description (continued on 4/8 records), 92-119 short description, 120-127 pricing indicators,
230 coverage, 257-259 BETOS, 269-276 added, 277-284 action effective, 285-292 termination
(CCYYMMDD), 293 action code. First records are 320 characters, cp1252, CRLF; the file may
start with a few lines of disclaimer text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from ..errors import InputError
from . import CodeRecord, Release, check_unique, decode_csv_text, parse_date, read_bytes

RECORD_LENGTH = 320
MAX_PREAMBLE_LINES = 40
_RECORD_START = re.compile(rb"^[A-Z0-9 ]{5}[0-9]{5}[3478]")
_LOOKS_LIKE_RECORD = re.compile(rb"^([A-Z][0-9]{4}|   [A-Z0-9]{2})[0-9]|^.{320}$")
_PROCEDURE = re.compile(r"^[A-Z][0-9]{4}$")
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
_MONTHS = {"JAN": 1, "APR": 4, "JUL": 7, "OCT": 10, "Q1": 1, "Q2": 4, "Q3": 7, "Q4": 10}
_MONTH_NAMES = (
    "January February March April May June July August September October November December"
)
_NAME = re.compile(r"HCPCS?_?(\d{4})(?:_?(JAN|APR|JUL|OCT|Q[1-4]))?", re.IGNORECASE)


def read(path: Path, release: str | None = None) -> Release:
    """Read a whole HCPCS file (.txt fixed width, or .csv); raise InputError on any defect."""
    data = read_bytes(path)
    if path.suffix.lower() == ".csv":
        records = _read_csv(data, str(path))
    elif path.suffix.lower() in (".xlsx", ".xls"):
        raise InputError(
            "Excel files are not read; save the sheet as CSV (UTF-8) and import that",
            path=str(path),
        )
    else:
        records = _read_fixed(data, str(path))
    if not any(r.kind == "procedure" for r in records):
        raise InputError("no HCPCS procedure records found", path=str(path))
    check_unique(records, str(path))
    year, month = _release_month(path, records, release)
    return Release(
        system="hcpcs",
        release_id=f"cms-hcpcs-{year:04d}-{month:02d}",
        issued=dt.date(year, month, 1),
        title=f"CMS HCPCS Level II file, {_MONTH_NAMES.split()[month - 1]} {year}",
        file_name=path.name,
        records=records,
    )


def _release_month(path: Path, records: list[CodeRecord], release: str | None) -> tuple[int, int]:
    """--release YYYY-MM, else the file name (HCPC2020_ANWEB, HCPC2025_OCT_...), else the
    latest action effective date in the file."""
    if release:
        m = re.fullmatch(r"(\d{4})-(\d{2})", release.strip())
        if not m or not 1 <= int(m[2]) <= 12:
            raise InputError(f"--release must look like 2020-01, not {release!r}")
        return int(m[1]), int(m[2])
    m = _NAME.search(path.name)
    if m:
        return int(m[1]), _MONTHS[m[2].upper()] if m[2] else 1
    dates = [r.action_effective for r in records if r.action_effective]
    if not dates:
        raise InputError(
            "cannot tell the release from the file; pass --release YYYY-MM", path=str(path)
        )
    latest = max(dates)
    return latest.year, latest.month


def _read_fixed(data: bytes, path: str) -> list[CodeRecord]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    records: list[CodeRecord] = []
    started = False
    for number, raw in enumerate(data.split(b"\n"), start=1):
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if not line.strip():
            continue
        where = f"line {number}"
        if not _RECORD_START.match(line):
            if started or number > MAX_PREAMBLE_LINES or _LOOKS_LIKE_RECORD.match(line):
                raise InputError(
                    "not a HCPCS record (expected a code, a 5-digit sequence, record id 3/4/7/8)",
                    path=path,
                    position=where,
                )
            continue  # the disclaimer text some distributions start with
        started = True
        try:
            text = line.decode("cp1252")
        except UnicodeDecodeError:
            raise InputError(
                "not cp1252 text (the CMS file encoding)", path=path, position=where
            ) from None
        kind = "procedure" if text[10] in "34" else "modifier"
        first = text[10] in "37"
        length_ok = len(line) == RECORD_LENGTH if first else 12 <= len(line) <= RECORD_LENGTH
        if not length_ok:
            raise InputError(
                f"record is {len(line)} characters long, expected {RECORD_LENGTH}",
                path=path,
                position=where,
            )
        notation = text[:5].strip() if kind == "procedure" else text[3:5]
        if kind == "modifier" and text[:3].strip():
            raise InputError(
                "modifier record with text in positions 1-3", path=path, position=where
            )
        if not first:
            prev = records[-1] if records else None
            if prev is None or prev.notation != notation or prev.kind != kind:
                raise InputError(
                    "continuation record without its first record", path=path, position=where
                )
            prev.long = f"{prev.long} {text[11:91].strip()}".strip()
            continue
        records.append(_fixed_record(text, notation, kind, path, where))
    if not started:
        raise InputError("no HCPCS records found (is this the CMS fixed-width file?)", path=path)
    return records


def _fixed_record(text: str, notation: str, kind: str, path: str, where: str) -> CodeRecord:
    pattern = _PROCEDURE if kind == "procedure" else _MODIFIER
    if not pattern.match(notation):
        raise InputError(f"{notation!r} is not a HCPCS {kind} code", path=path, position=where)
    return CodeRecord(
        notation=notation,
        kind=kind,
        long=text[11:91].strip(),
        short=text[91:119].strip(),
        pricing=tuple(p for i in range(119, 127, 2) if (p := text[i : i + 2].strip())),
        coverage=text[229].strip(),
        betos=text[256:259].strip(),
        added=parse_date(text[268:276], path=path, position=where, what="added date"),
        action_effective=parse_date(text[276:284], path=path, position=where, what="action date"),
        terminated=parse_date(text[284:292], path=path, position=where, what="termination date"),
        action=text[292].strip(),
        position=where,
    )


# CSV form: column names as CMS publishes them (HCPC, RECID, LONG DESCRIPTION, ..., ADD DT,
# ACT EFF DT, TERM DT, ACTION CD) or the lower-case short ones (hcpc, kind, long, short, add_dt).
_COLUMNS = {
    "code": ("HCPC", "HCPCS", "HCPCS CODE", "CODE"),
    "recid": ("RECID", "REC ID", "KIND"),
    "long": ("LONG DESCRIPTION", "LONG DESC", "LONG"),
    "short": ("SHORT DESCRIPTION", "SHORT DESC", "SHORT"),
    "cov": ("COV", "COVERAGE"),
    "betos": ("BETOS",),
    "added": ("ADD DT", "ADD DATE"),
    "action_effective": ("ACT EFF DT", "ACTION EFFECTIVE DATE"),
    "terminated": ("TERM DT", "TERMINATION DATE"),
    "action": ("ACTION CD", "ACTION CODE"),
}
_PRICE = re.compile(r"^PRICE ?[1-4]$")


def _read_csv(data: bytes, path: str) -> list[CodeRecord]:
    text = decode_csv_text(data, path)
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows)
    except (StopIteration, csv.Error):
        raise InputError("no header row", path=path, position="line 1") from None
    names = [re.sub(r"[\s_]+", " ", h).strip().upper() for h in header]
    col = {
        key: next((names.index(a) for a in aliases if a in names), None)
        for key, aliases in _COLUMNS.items()
    }
    prices = [i for i, n in enumerate(names) if _PRICE.match(n)]
    for key in ("code", "long"):
        if col[key] is None:
            raise InputError(
                f"no {_COLUMNS[key][0]} column (expected the CMS HCPCS CSV columns)",
                path=path,
                position="line 1",
            )
    records: list[CodeRecord] = []
    try:
        for number, row in enumerate(rows, start=2):
            if not any(c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise InputError(
                    f"{len(row)} fields, the header has {len(header)}",
                    path=path,
                    position=f"line {number}",
                )
            records_add(records, row, col, prices, path, f"line {number}")
    except csv.Error as e:
        raise InputError(
            f"malformed CSV ({e})", path=path, position=f"line {rows.line_num}"
        ) from None
    return records


def records_add(
    records: list[CodeRecord],
    row: list[str],
    col: dict[str, int | None],
    prices: list[int],
    path: str,
    where: str,
) -> None:
    def get(key: str) -> str:
        i = col[key]
        return row[i].strip() if i is not None else ""

    notation = get("code").upper()
    recid = get("recid").lower()
    kind = {"3": "procedure", "4": "procedure", "7": "modifier", "8": "modifier"}.get(recid, recid)
    if kind not in ("procedure", "modifier"):
        kind = "modifier" if len(notation) == 2 else "procedure"
    if recid in ("4", "8"):
        prev = records[-1] if records else None
        if prev is None or prev.notation != notation:
            raise InputError("continuation row without its first row", path=path, position=where)
        prev.long = f"{prev.long} {get('long')}".strip()
        return
    pattern = _PROCEDURE if kind == "procedure" else _MODIFIER
    if not pattern.match(notation):
        raise InputError(f"{notation!r} is not a HCPCS {kind} code", path=path, position=where)
    records.append(
        CodeRecord(
            notation=notation,
            kind=kind,
            long=get("long"),
            short=get("short"),
            pricing=tuple(p for i in prices if (p := row[i].strip())),
            coverage=get("cov"),
            betos=get("betos"),
            added=parse_date(get("added"), path=path, position=where, what="added date"),
            action_effective=parse_date(
                get("action_effective"), path=path, position=where, what="action date"
            ),
            terminated=parse_date(
                get("terminated"), path=path, position=where, what="termination date"
            ),
            action=get("action"),
            position=where,
        )
    )
