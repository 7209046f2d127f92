"""Every claim input format read into `ClaimData` (docs/formats.md), one claim at a time.

`read_claims(paths)` is a generator: claims are yielded in file order as they are read, so
memory stays bounded for large JSON, JSON Lines, CSV and X12 files. RDF and FHIR files are read
whole (a graph has no order to stream in). Only local files are read; nothing is fetched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from .model import ClaimData, DocumentData, LineData, assign_uid, claim_triples, to_graph
from .payers import payer_from_name

if TYPE_CHECKING:
    from .fhir_read import FhirRun
    from .tabular import Profile

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
    ".parquet": "parquet",
}
FORMAT_NAMES = (
    "JSON, JSON Lines, CSV, Turtle, N-Triples, JSON-LD, FHIR R4 JSON or NDJSON, X12 837P, CMS RIF"
    ", Parquet"
)
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
    """json, jsonl, csv, turtle, nt, json-ld, fhir, fhir-ndjson, x12 or a tabular profile name
    (rif-carrier, rif-dme) or parquet: by name ending, then by content."""
    with path.open("rb") as f:
        if f.read(4) == b"PAR1":  # Parquet (ingest/parquet.py) whatever the name
            return "parquet"
    fmt = SUFFIXES.get(path.suffix.lower()) or _sniff(path)
    if fmt == "json":
        from .jsonstream import top_level_kind

        fmt = top_level_kind(path, _JSON_KEYS) or "json"
    fmt = _content_kind(path, fmt)  # FHIR NDJSON and CMS RIF layouts (fhir.sniff, tabular.sniff)
    if fmt is None:
        raise InputError(f"unknown claim file type (expected {FORMAT_NAMES})", path=str(path))
    return fmt


def _content_kind(path: Path, fmt: str | None) -> str | None:
    if fmt not in (None, "fhir", "jsonl", "csv"):
        return fmt
    from . import fhir, tabular

    with path.open("rb") as f:
        head = f.read(1 << 16).decode("utf-8", "replace")
    kind = fhir.sniff(head) if fmt != "csv" else None
    if kind:
        return "fhir-ndjson" if fmt == "jsonl" else kind
    return tabular.sniff(head) or fmt


def read_file(
    path: Path,
    warn: Warn = None,
    *,
    documents: Path | None = None,
    fmt: str | None = None,
    profile: Profile | None = None,
    run: FhirRun | None = None,
) -> Iterator[ClaimData]:
    """The claims of one file; `ClaimData.index` is the 1-based position within it.

    `profile`: the column mapping for tabular files (else a built-in one their header names);
    `run`: what the FHIR files of one run share (references, resources that are not claims)."""
    if path.stat().st_size == 0:
        raise InputError("empty file: no claims", path=str(path))
    if fmt is None:
        try:
            fmt = detect_format(path)
        except InputError:
            if profile is None:
                raise
            fmt = "tabular"  # a --profile reads delimited text of any name
    if fmt in ("tabular", "rif-carrier", "rif-dme") or (profile is not None and fmt == "csv"):
        from .tabular import load_profile, read_table

        yield from read_table(path, profile or load_profile(fmt), warn)
    elif fmt == "json":
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
        from .fhir_read import read_fhir

        yield from read_fhir(path, warn, run)
    elif fmt == "fhir-ndjson":
        from .fhir_read import read_fhir_ndjson

        yield from read_fhir_ndjson(path, warn, run)
    elif fmt == "x12":
        from .x12 import read_x12

        yield from read_x12(path, warn)
    elif fmt == "parquet":
        from .parquet import read_parquet

        yield from read_parquet(path, warn, profile)
    else:
        raise InputError(f"unknown claim format {fmt!r}", path=str(path))


_MAX_BITS = 14_000  # about 4,200 digits: Python refuses to write integers over 4,300 digits


def _huge_number(claim: ClaimData) -> bool:
    """Whether a reader made an integer too long to write out (any format, one check)."""
    values = [v for ln in claim.lines for v in (ln.units, ln.minutes)]
    values += [v for d in claim.documents for v in (d.line, *d.fields.values())]
    return any(isinstance(v, int) and v.bit_length() > _MAX_BITS for v in values)


def read_claims(
    paths: Iterable[str | Path],
    warn: Warn = None,
    *,
    documents: str | Path | None = None,
    profile: str | None = None,
    include_preauthorization: bool = False,
) -> Iterator[ClaimData]:
    """Every claim of every file (folders: their claim files, sorted), in file order, lazily.

    `warn(message)` receives warnings (ignored fields, unknown code systems); they never
    quote claim content. `documents` is the documents CSV for a single claims CSV. `profile`
    is a built-in column mapping (`rif-carrier`) or a mapping file for tabular files;
    `include_preauthorization` checks FHIR preauthorization requests as claims.
    Raises InputError (file and position, no content) for input that cannot be read.
    """
    from .fhir_read import FhirRun

    files = claim_files(paths)
    mapping = None
    if profile is not None:
        from .tabular import load_profile

        mapping = load_profile(profile)
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
    run = FhirRun(include_preauthorization=include_preauthorization)
    kinds = {path: _kind(path) for path in files}
    run.prepare((p, k) for p, k in kinds.items() if k in ("fhir", "fhir-ndjson"))
    for path in files:
        try:
            for claim in read_file(path, warn, documents=doc_path, fmt=kinds[path],
                                   profile=mapping, run=run):  # fmt: skip
                if claim.payer is None and claim.payer_name:  # until the one payer mapping
                    claim.payer = payer_from_name(claim.payer_name)
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
    run.report(warn)


def _kind(path: Path) -> str | None:
    """The detected format, or None (read_file reports why, or reads it with --profile)."""
    try:
        return detect_format(path) if path.stat().st_size else None
    except (InputError, OSError, RecursionError):
        return None
