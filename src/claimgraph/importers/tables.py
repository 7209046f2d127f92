"""What the readers of the CMS edit and fee-schedule tables share: the `TableRelease` they
return, quarters, code checks and the files a release is read from (text, or .zip parts).

A reader checks the file names and headers when it is called and returns a `TableRelease`
whose `rows()` yields the checked rows one by one (a PTP table has millions of them): the
store consumes them into a new table file and only then switches to it, so a defect found on
any row still leaves the store as it was (claimgraph.tablestore).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError

MAX_TABLE_BYTES = 1024 * 1024 * 1024  # a PTP part is ~100 MB; a larger file is not a table
MAX_ZIP_MEMBERS = 50
# the settings a table can be for (their IRIs are setting:<iri name> in ontology/cms-tables.ttl)
SETTINGS = {
    "practitioner": "practitioner",
    "hospital": "outpatient-hospital",
    "dme": "dme-supplier",
}
KIND_TITLES = {
    "ptp": "NCCI procedure-to-procedure edits",
    "mue": "NCCI medically unlikely edits",
    "aoc": "NCCI add-on code edits",
    "dmepos": "DMEPOS fee schedule",
}
SETTING_TITLES = {
    "practitioner": "practitioner",
    "hospital": "outpatient hospital",
    "dme": "DME supplier",
}
_CODE = re.compile(r"^[0-9A-Z]{5}$")
_QUARTER = re.compile(r"(\d{4})\s*-?\s*[Qq]([1-4])")
_MONTH = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")

Row = tuple[Any, ...]  # a checked row; its last item is its position ("line 12")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1..4

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> dt.date:
        if self.number == 4:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, 3 * self.number + 1, 1) - dt.timedelta(days=1)

    @property
    def label(self) -> str:  # 2026Q1
        return f"{self.year}Q{self.number}"

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def of_month(cls, year: int, month: int) -> Quarter:
        return cls(year, (month - 1) // 3 + 1)


def parse_quarter(text: str, option: str = "--release") -> Quarter:
    """2026Q1, 2026-Q1 or a month/day in the quarter (2026-01, 2026-02-15); else InputError."""
    value = text.strip()
    m = _QUARTER.fullmatch(value)
    if m:
        return Quarter(int(m[1]), int(m[2]))
    m = _MONTH.fullmatch(value)
    if m:
        try:
            return Quarter.of(dt.date(int(m[1]), int(m[2]), int(m[3] or 1)))
        except ValueError:
            pass
    raise InputError(f"{option} must look like 2026Q1 or 2026-01, not {text!r}")


def quarter_in_name(name: str) -> Quarter | None:
    """The quarter a CMS file name carries (medicare-ncci-2026q1-..., AOC_V2025Q4_...)."""
    m = re.search(r"(?<!\d)(20\d{2})[-_ ]?[Qq]([1-4])(?!\d)", name)
    return Quarter(int(m[1]), int(m[2])) if m else None


@dataclass
class TableRelease:
    """One release of a CMS table, its names checked; `rows()` reads and checks the rows."""

    kind: str  # "ptp" | "mue" | "aoc" | "dmepos"
    setting: str | None  # "practitioner" | "hospital" | "dme" (None for AOC and DMEPOS)
    quarter: Quarter
    files: list[str]  # the file names it was read from (a zip as zip!member)
    rows: Callable[[], Iterator[Row]]
    version: str | None = None  # v320r0, 2025Q4
    effective_from: dt.date | None = None  # default: the quarter's first day
    paths: list[str] = field(default_factory=list)  # the same files, as given (for messages)

    @property
    def release_id(self) -> str:
        prefix = "cms-dmepos" if self.kind == "dmepos" else f"cms-ncci-{self.kind}"
        middle = f"-{self.setting}" if self.setting else ""
        return f"{prefix}{middle}-{self.quarter.label.lower()}"

    @property
    def start(self) -> dt.date:
        return self.effective_from or self.quarter.start

    @property
    def title(self) -> str:
        what = KIND_TITLES[self.kind]
        if self.setting:
            what = f"{what}, {SETTING_TITLES[self.setting]}"
        version = (
            f" ({self.version})" if self.version and self.version != self.quarter.label else ""
        )
        return f"CMS {what}, {self.quarter.label}{version}"


# --- checks ------------------------------------------------------------------------------------


def check_code(text: str, *, path: str, position: str, what: str = "code") -> str:
    code = text.strip().upper()
    if not _CODE.match(code):
        raise InputError(
            f"{what} is not a 5-character HCPCS/CPT code", path=path, position=position
        )
    return code


def yyyymmdd(text: str, *, path: str, position: str, what: str, blank: bool = False) -> int | None:
    """A CCYYMMDD (or MM/DD/YYYY, YYYY-MM-DD) date as the integer CCYYMMDD; blank or `*` is
    None when `blank` allows it."""
    value = text.strip()
    if not value or value == "*":
        if blank:
            return None
        raise InputError(f"{what} is missing", path=path, position=position)
    m = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})|(\d{1,2})/(\d{1,2})/(\d{4})", value)
    if m:
        y, mo, d = (m[1], m[2], m[3]) if m[1] else (m[6], m[4], m[5])
        try:
            return int(dt.date(int(y), int(mo), int(d)).strftime("%Y%m%d"))
        except ValueError:
            pass
    raise InputError(f"{what} is not a date (CCYYMMDD)", path=path, position=position)


def date_of(value: int) -> dt.date:
    return dt.date(value // 10000, value // 100 % 100, value % 100)


# --- the files of a release --------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One text file of a release: a plain file, or a member of a .zip."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:  # for errors and the release description
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def file_name(self) -> str:
        return f"{self.path.name}!{self.member}" if self.member else self.path.name

    @property
    def stem(self) -> str:
        return Path(self.member).stem if self.member else self.path.stem

    def read(self) -> bytes:
        try:
            if self.member is None:
                return self.path.read_bytes()
            with zipfile.ZipFile(self.path) as z:
                return z.read(self.member)
        except (OSError, zipfile.BadZipFile, KeyError) as e:
            raise InputError(f"cannot read the file ({type(e).__name__})", path=self.name) from None


def parts(path: Path, suffixes: tuple[str, ...] = (".txt",)) -> list[Part]:
    """The text parts of `path`: itself, or the members of a .zip ending in `suffixes`."""
    name = str(path)
    if not path.is_file():
        raise InputError("no such file (give the path of a CMS table file)", path=name)
    size = path.stat().st_size
    if size == 0:
        raise InputError("file is empty", path=name)
    if size > MAX_TABLE_BYTES:
        raise InputError("file is too large to be a CMS table file", path=name)
    if path.suffix.lower() == ".xlsx":
        if ".xlsx" not in suffixes:
            raise InputError(
                "Excel files are not read for this table; import the text file of the same CMS zip",
                path=name,
            )
        return [Part(path)]
    if not zipfile.is_zipfile(path):
        return [Part(path)]
    try:
        with zipfile.ZipFile(path) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
    except (OSError, zipfile.BadZipFile):
        raise InputError("not a readable zip file", path=name) from None
    chosen = [
        i
        for i in infos
        if i.filename.lower().endswith(suffixes) and not Path(i.filename).name.startswith(".")
    ]
    if not chosen:
        raise InputError(f"the zip holds no {'/'.join(suffixes)} table file", path=name)
    if len(infos) > MAX_ZIP_MEMBERS or sum(i.file_size for i in chosen) > MAX_TABLE_BYTES:
        raise InputError("the zip is too large to be a CMS table file", path=name)
    return [Part(path, i.filename) for i in sorted(chosen, key=lambda i: i.filename)]


def decode(data: bytes, path: str) -> str:
    """A CMS text file's text: UTF-8 (with or without BOM), else cp1252."""
    if b"\x00" in data[:65536]:
        raise InputError("file is binary, not a text table", path=path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise InputError("neither UTF-8 nor cp1252 text", path=path) from None
