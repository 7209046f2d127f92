"""Every claim input format read into `ClaimData` (docs/formats.md), one claim at a time.

`read_claims(paths)` is a generator: claims are yielded in file order as they are read, so
memory stays bounded for large JSON, JSON Lines, CSV and X12 files. RDF and FHIR files are read
whole (a graph has no order to stream in). Only local files are read; nothing is fetched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..errors import InputError
from .model import ClaimData, DocumentData, LineData, assign_uid, claim_triples, to_graph

__all__ = [
    "ClaimData",
    "DocumentData",
    "LineData",
    "SUFFIXES",
    "assign_uid",
    "claim_triples",
    "claim_files",
    "detect_format",
    "read_claims",
    "read_file",
    "to_graph",
]

Warn = Callable[[str], None] | None

# File name endings and the format each means; `.json` is sniffed further (contract/FHIR/JSON-LD).
SUFFIXES: dict[str, str] = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".ttl": "turtle",
    ".nt": "nt",
    ".jsonld": "json-ld",
    ".x12": "x12",
    ".837": "x12",
    ".edi": "x12",
}
FORMAT_NAMES = "JSON, JSON Lines, CSV, Turtle, N-Triples, JSON-LD, FHIR R4 JSON, X12 837P"
_JSON_KEYS = {"claims": "json", "resourceType": "fhir", "@context": "json-ld", "@graph": "json-ld"}
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(//|[^\\/])")  # scheme:... but not C:\ or C:/
_DOCUMENTS_SUFFIX = ".documents.csv"


def _is_url(text: str) -> bool:
    return bool(_URL.match(text)) and not re.match(r"^[A-Za-z]:[\\/]", text)


def claim_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files named by `paths`: files as given, folders as their claim files (sorted).

    URLs are refused: claimgraph reads local files only.
    """
    files: list[Path] = []
    seen: set[Path] = set()
    for p in paths:
        text = str(p)
        if _is_url(text):
            raise InputError("only local files are read; download the file first", path=text)
        path = Path(text)
        if path.is_dir():
            found = sorted(
                f
                for f in path.iterdir()
                if f.is_file()
                and not f.name.startswith(".")
                and f.suffix.lower() in SUFFIXES
                and not f.name.lower().endswith(_DOCUMENTS_SUFFIX)
            )
            if not found:
                raise InputError(
                    f"no claim files in this folder (expected {', '.join(SUFFIXES)})", path=text
                )
            files.extend(f for f in found if f.resolve() not in seen)
            seen.update(f.resolve() for f in found)
        elif path.is_file():
            if path.resolve() not in seen:  # a file named twice is read once
                files.append(path)
                seen.add(path.resolve())
        elif path.exists():
            raise InputError("not a regular file", path=text)
        else:
            raise InputError("no such file or folder", path=text)
    return files


def _sniff(path: Path) -> str | None:
    """The format of a file from its first characters, for names with no known ending."""
    with path.open("rb") as f:
        head = f.read(512)
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if text.startswith("ISA"):
        return "x12"
    if text.startswith("{"):
        return "json"
    if text.startswith(("@prefix", "@base", "PREFIX", "BASE", "<")):
        return "turtle"
    return None


def detect_format(path: Path) -> str:
    """json, jsonl, csv, turtle, nt, json-ld, fhir or x12: by name ending, then by content."""
    fmt = SUFFIXES.get(path.suffix.lower()) or _sniff(path)
    if fmt is None:
        raise InputError(f"unknown claim file type (expected {FORMAT_NAMES})", path=str(path))
    if fmt == "json":
        from .jsonstream import top_level_kind

        fmt = top_level_kind(path, _JSON_KEYS) or "json"
    return fmt


def read_file(
    path: Path, warn: Warn = None, *, documents: Path | None = None, fmt: str | None = None
) -> Iterator[ClaimData]:
    """The claims of one file; `ClaimData.index` is the 1-based position within it."""
    if path.stat().st_size == 0:
        raise InputError("empty file: no claims", path=str(path))
    fmt = fmt or detect_format(path)
    if fmt == "json":
        from .json_claims import read_json

        yield from read_json(path, warn)
    elif fmt == "jsonl":
        from .json_claims import read_jsonl

        yield from read_jsonl(path, warn)
    elif fmt == "csv":
        from .csv_claims import read_csv

        yield from read_csv(path, warn, documents)
    elif fmt in ("turtle", "nt", "json-ld"):
        from .rdf_claims import read_rdf

        yield from read_rdf(path, fmt, warn)
    elif fmt == "fhir":
        from .fhir import read_fhir

        yield from read_fhir(path, warn)
    elif fmt == "x12":
        from .x12 import read_x12

        yield from read_x12(path, warn)
    else:
        raise InputError(f"unknown claim format {fmt!r}", path=str(path))


_MAX_BITS = 14_000  # about 4,200 digits: Python refuses to write integers over 4,300 digits


def _huge_number(claim: ClaimData) -> bool:
    """Whether a reader made an integer too long to write out (any format, one check)."""
    values = [v for ln in claim.lines for v in (ln.units, ln.minutes)]
    values += [v for d in claim.documents for v in (d.line, *d.fields.values())]
    return any(isinstance(v, int) and v.bit_length() > _MAX_BITS for v in values)


def read_claims(
    paths: Iterable[str | Path], warn: Warn = None, *, documents: str | Path | None = None
) -> Iterator[ClaimData]:
    """Every claim of every file (folders: their claim files, sorted), in file order, lazily.

    `warn(message)` receives warnings (ignored fields, unknown code systems); they never
    quote claim content. `documents` is the documents CSV for a single claims CSV.
    Raises InputError (file and position, no content) for input that cannot be read.
    """
    files = claim_files(paths)
    doc_path = None
    if documents is not None:
        if _is_url(str(documents)):
            raise InputError("only local files are read", path=str(documents))
        doc_path = Path(documents)
        csvs = [f for f in files if f.suffix.lower() == ".csv"]
        if len(csvs) != 1:
            raise InputError(
                "a documents CSV goes with exactly one claims CSV", path=str(documents)
            )
    for path in files:
        try:
            for claim in read_file(path, warn, documents=doc_path):
                claim = assign_uid(claim, str(path))
                if _huge_number(claim):
                    raise InputError(
                        "a number is too long", path=str(path), position=claim.position
                    )
                yield claim
        except RecursionError:
            raise InputError("input is nested too deeply to process", path=str(path)) from None
        except OSError as e:
            raise InputError(f"cannot read the file ({e.strerror or type(e).__name__})",
                             path=str(path)) from None  # fmt: skip
