"""Every claim input format read into `ClaimData` (docs/formats.md), one claim at a time.

`read_claims(paths)` (reading.py) is a generator: inputs are recognised by content
(registry.py), read by their reader, and every claim is finished the same way (payer, repeat
flag, documents, identity). JSON, JSON Lines, CSV, tabular (CMS RIF), X12 and FHIR NDJSON are
streamed; FHIR Bundles are streamed twice (references first); RDF files are read whole (a graph
has no order to stream in). Only local files and standard input are read; nothing is fetched.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .model import ClaimData, DocumentData, LineData, assign_uid, claim_triples, to_graph
from .reading import InputFinding, ReadContext, ReadLog, claim_files, input_sources, read_claims
from .registry import InputFormat, NotClaims, detect, register
from .source import Source

__all__ = [
    "ClaimData",
    "DocumentData",
    "InputFinding",
    "InputFormat",
    "LineData",
    "NotClaims",
    "ReadContext",
    "ReadLog",
    "Source",
    "assign_uid",
    "claim_files",
    "claim_triples",
    "detect",
    "detect_format",
    "input_sources",
    "read_claims",
    "register",
    "to_graph",
]

FORMAT_NAMES = (
    "JSON, JSON Lines, CSV, Turtle, N-Triples, JSON-LD, FHIR R4 JSON or NDJSON, X12 837P, CMS RIF"
)


def detect_format(path: str | Path) -> str:
    """The format name of a file by its content; InputError when it is no claim format."""
    found = detect(Source.file(Path(path)))
    if isinstance(found, NotClaims):
        raise InputError(f"unknown claim file type: {found.reason} (expected {FORMAT_NAMES})",
                         path=str(path))  # fmt: skip
    return found.name
