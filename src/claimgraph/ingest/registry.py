"""Which reader reads an input: a small registry of input formats, told apart by content.

Each `InputFormat` names its reader (imported on first use), a `sniff(head)` test on the first
bytes of the input (`source.Head`), a priority (lower is tried first) and whether its reader
opens the input twice (`seeks`: standard input is then spooled). The name ending is a hint
only, used where content cannot decide (N-Triples is also Turtle). `detect(source)` returns the
format, or a `NotClaims` saying in a few words what the input is instead ("a PDF document").

Another reader registers its own format the same way:

    register(InputFormat("rif-carrier", "CMS RIF carrier claims",
                         "claimgraph.ingest.tabular:read_table_input", sniff=..., priority=35))

The tabular formats are one per built-in column mapping (ingest/profiles/*.toml, told by the
columns of their header) and `tabular` (a mapping file given with --profile, no sniffer).

A reader is `read(source, context) -> Iterator[ClaimData]` (`reading.ReadContext`: warnings,
findings about the input, refusals, the run's options and what readers of one run share);
positions and payer evidence are set by the reader, the rest (uid, payer, repeat flag,
documents) by `reading.read_claims`.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from .source import Head, Source

Reader = Callable[[Source, Any], Iterator[Any]]


@dataclass(frozen=True)
class InputFormat:
    name: str  # as in --input-format and ClaimData.format (ontology/formats.ttl notation)
    label: str  # for people: "X12 837P"
    reader: str  # "module:function"
    sniff: Callable[[Head], bool] | None = None
    priority: int = 50
    seeks: bool = False  # the reader opens the input more than once
    suffixes: tuple[str, ...] = ()  # name endings that hint at this format
    tabular: bool = False  # delimited text read by a column mapping (--profile applies)
    # "module:function" called with all inputs of this format before any is read:
    # prepare([(source, format name), ...], reading.ReadRun)
    prepare: str | None = None

    def load(self) -> Reader:
        module, _, function = self.reader.partition(":")
        return getattr(importlib.import_module(module), function)


@dataclass(frozen=True)
class NotClaims:
    """An input that is no claim format: what it looks like, in a few words."""

    reason: str


_REGISTRY: dict[str, InputFormat] = {}


def register(fmt: InputFormat) -> None:
    """Add (or replace) an input format."""
    _REGISTRY[fmt.name] = fmt


def formats() -> list[InputFormat]:
    """The registered formats, in the order their sniffers are tried."""
    return sorted(_REGISTRY.values(), key=lambda f: (f.priority, f.name))


def get(name: str) -> InputFormat:
    fmt = _REGISTRY.get(name.strip().lower())
    if fmt is None:
        names = ", ".join(sorted(_REGISTRY))
        raise InputError(f"unknown input format {name!r}; use one of {names}")
    return fmt


def names() -> list[str]:
    return sorted(_REGISTRY)


# ---------------------------------------------------------------------------------------------
# What the first bytes say


_CLAIMS_JSON_KEYS = {"claims": "json", "resourceType": "fhir", "@context": "json-ld",
                     "@graph": "json-ld"}  # fmt: skip
_X12_START = re.compile(r"^(ISA|GS|ST)[^A-Za-z0-9\s]")
_NT_LINE = re.compile(
    r'^(<[^<>"{}|^`\\\s]*>|_:\S+)\s+<[^<>"{}|^`\\\s]*>\s+'
    r'(<[^<>"{}|^`\\\s]*>|_:\S+|"(?:[^"\\]|\\.)*"(?:@[A-Za-z0-9-]+|\^\^<[^>]*>)?)\s*\.\s*(#.*)?$'
)
_TURTLE_START = re.compile(r"^(@prefix|@base|PREFIX\s|BASE\s)", re.IGNORECASE)


def json_kind(head: Head) -> str | None:
    """json, fhir, json-ld, jsonl or fhir-ndjson for a JSON head; '?' when the head is too short
    to say; None when it is JSON of no claim kind (or not JSON)."""
    start = head.start
    if not start.startswith(("{", "[")):
        return None
    first, _, rest = start.partition("\n")
    line_obj = _json_object(first)
    lines = rest.strip().startswith("{") or head.hint in (".jsonl", ".ndjson")
    if line_obj is not None and lines:
        # one object a line: NDJSON, FHIR bulk data when the lines are resources
        keys = set(line_obj)
        if isinstance(line_obj.get("resourceType"), str):
            return "fhir-ndjson"
        return None if keys & {"resourceType", "@context", "claims"} else "jsonl"
    if start.startswith("["):
        return "json-ld" if re.search(r'"@(id|type|context|graph)"\s*:', start) else None
    key = _first_key(start, set(_CLAIMS_JSON_KEYS), head.complete)
    if key == "?":
        return "?"
    if key is not None:
        return _CLAIMS_JSON_KEYS[key]
    return None


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _first_key(text: str, keys: set[str], complete: bool) -> str | None:
    """The first top-level key of the JSON object `text` starts with that is in `keys`; '?' when
    the text ends (or breaks) before one is found and more may follow, or when the JSON is broken
    (the reader then reports where)."""
    from .jsonstream import JsonStream

    s = JsonStream(io.StringIO(text), "-")  # type: ignore[arg-type]
    try:
        if s.peek() != "{":
            return None
        s.pos += 1
        while s.peek() not in ("}", ""):
            key = s.value()
            s.expect(":", "':'")
            if isinstance(key, str) and key in keys:
                return key
            s.value()
            if s.expect(",}", "',' or '}'") == "}":
                return None
        return None if complete else "?"
    except InputError:
        return "?"


def is_x12(head: Head) -> bool:
    return bool(_X12_START.match(head.start))


def is_csv_claims(head: Head) -> bool:
    first = head.start.split("\n", 1)[0]
    if "claim_id" not in first.lower():
        return False
    try:
        header = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return False
    return "claim_id" in {h.strip().lower() for h in header}


def _rdf_lines(head: Head) -> Iterator[str]:
    for line in head.start.splitlines():
        text = line.strip()
        if text and not text.startswith("#"):
            yield text


def is_turtle(head: Head) -> bool:
    first = next(_rdf_lines(head), "")
    if _TURTLE_START.match(first):
        return True
    if first.startswith(("<?", "<!", "<rdf:", "<html", "<HTML")):
        return False
    if _NT_LINE.match(first):
        return head.hint != ".nt" and not all(_NT_LINE.match(x) for x in _rdf_lines(head))
    return first.startswith(("<", "_:"))


def is_ntriples(head: Head) -> bool:
    first = next(_rdf_lines(head), "")
    return bool(_NT_LINE.match(first)) and not is_turtle(head)


def _json(name: str) -> Callable[[Head], bool]:
    return lambda head: json_kind(head) == name


def _profile(name: str) -> Callable[[Head], bool]:
    def sniff(head: Head) -> bool:
        from .tabular import sniff as profile_of

        return profile_of(head.start) == name

    return sniff


_FHIR_PREPARE = "claimgraph.ingest.fhir_read:prepare_inputs"  # references in other files
_JSON_FORMATS = ("json", "fhir", "json-ld", "jsonl", "fhir-ndjson")
_PROFILES = Path(__file__).parent / "profiles"  # the built-in column mappings (tabular.py)


for _fmt in (
    InputFormat("parquet", "Parquet claim lines", "claimgraph.ingest.parquet:read_parquet_input",
                lambda head: head.data.startswith(b"PAR1"), 5, seeks=True,
                suffixes=(".parquet",)),
    InputFormat("x12", "X12 837P", "claimgraph.ingest.x12:read_x12", is_x12, 10,
                suffixes=(".837", ".x12", ".edi")),
    InputFormat("json", "JSON", "claimgraph.ingest.json_claims:read_json", _json("json"), 20,
                suffixes=(".json",)),
    InputFormat("fhir", "FHIR R4 JSON", "claimgraph.ingest.fhir_read:read_fhir_input",
                _json("fhir"), 20, seeks=True, prepare=_FHIR_PREPARE),
    InputFormat("fhir-ndjson", "FHIR R4 NDJSON (bulk data)",
                "claimgraph.ingest.fhir_read:read_fhir_ndjson_input", _json("fhir-ndjson"), 22,
                suffixes=(".ndjson",), prepare=_FHIR_PREPARE),
    InputFormat("json-ld", "JSON-LD", "claimgraph.ingest.rdf_claims:read_jsonld",
                _json("json-ld"), 20, suffixes=(".jsonld",)),
    InputFormat("jsonl", "JSON Lines", "claimgraph.ingest.json_claims:read_jsonl",
                _json("jsonl"), 25, suffixes=(".jsonl", ".ndjson")),
    InputFormat("csv", "CSV", "claimgraph.ingest.csv_claims:read_csv_input", is_csv_claims, 40,
                suffixes=(".csv",)),
    InputFormat("turtle", "Turtle", "claimgraph.ingest.rdf_claims:read_turtle", is_turtle, 50,
                suffixes=(".ttl",)),
    InputFormat("nt", "N-Triples", "claimgraph.ingest.rdf_claims:read_ntriples", is_ntriples,
                50, suffixes=(".nt",)),
    InputFormat("tabular", "tabular claims by a column mapping (--profile)",
                "claimgraph.ingest.tabular:read_table_input", None, 60, tabular=True),
):  # fmt: skip
    register(_fmt)
for _file in sorted(_PROFILES.glob("*.toml")):  # a built-in mapping is named by its file
    register(InputFormat(_file.stem, f"tabular claims ({_file.stem} profile)",
                         "claimgraph.ingest.tabular:read_table_input", _profile(_file.stem), 35,
                         tabular=True))  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Detection


def detect(source: Source) -> InputFormat | NotClaims:
    """The format of an input by its content (the name ending breaks ties only)."""
    head = source.head()
    if not head.data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        return NotClaims("an empty file")
    kind = json_kind(head)
    if kind == "?":  # a long JSON value before the decisive key: read on in the input itself
        kind = _json_kind_of(source)
    found = [f for f in formats() if f.sniff is not None and _sniffs(f, head, kind)]
    if found:
        hinted = [f for f in found if head.hint and head.hint in f.suffixes]
        return (hinted or found)[0]
    if kind is None and head.start.startswith("{") and _broken_json(head):
        return get("json")  # JSON broken before it names a claim kind: the reader says where
    return NotClaims(describe(head))


def _sniffs(fmt: InputFormat, head: Head, kind: str | None) -> bool:
    if fmt.name in _JSON_FORMATS:
        return kind == fmt.name
    assert fmt.sniff is not None
    try:
        return fmt.sniff(head)
    except Exception:  # a sniffer is a guess: a failing one does not claim the input
        return False


def _json_kind_of(source: Source) -> str | None:
    from .jsonstream import top_level_kind

    source.spool()
    try:
        return top_level_kind(source, _CLAIMS_JSON_KEYS)
    except InputError:
        return "json"  # broken JSON: the contract reader reports where


def _broken_json(head: Head) -> bool:
    if not head.complete:
        return False
    try:
        json.loads(head.start)
    except ValueError:
        return True
    return False


_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (unpack it first)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "a Microsoft Office document"),
    (b"BZh", "a bzip2 archive (unpack it first)"),
    (b"\xfd7zXZ", "an xz archive (unpack it first)"),
)


def describe(head: Head) -> str:
    """What an input that is no claim format looks like, in a few words (never its content)."""
    for magic, what in _MAGIC:
        if head.data.startswith(magic):
            return what
    start = head.start
    low = start[:200].lower()
    if low.startswith(("<?xml", "<rdf:rdf")) or "<rdf:rdf" in low:
        return "XML (RDF/XML is not accepted for claims; use Turtle, N-Triples or JSON-LD)"
    if low.startswith("<!doctype html") or low.startswith("<html"):
        return "an HTML page"
    if low.startswith("<!"):
        return ("XML with DOCTYPE/ENTITY declarations (RDF/XML and entity declarations are not "
                "accepted for claims)")  # fmt: skip
    sample = head.data[:4096]
    if b"\x00" in sample or sum(b < 9 or 13 < b < 32 for b in sample) > len(sample) // 20:
        return "binary data"
    if start.startswith(("{", "[")):
        return ('JSON of no claim format (no "claims" list, FHIR "resourceType" or JSON-LD '
                '"@context")')  # fmt: skip
    rows = start.splitlines()[:2]
    first = rows[0] if rows else ""
    if first.count("|") >= 3:
        return "a pipe-delimited table of no claim format claimgraph reads"
    for sep in (",", "\t", ";"):
        if first.count(sep) >= 2 or (len(rows) == 2 and 0 < first.count(sep) == rows[1].count(sep)):
            return "a table without a claim_id column"
    return "text in no claim format claimgraph reads"
