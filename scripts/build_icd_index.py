"""Build claimgraph's bundled ICD index (src/claimgraph/_icd/icd.idx) from the public-domain
ICD-10-CM history and ICD-9-CM tables in ../shared/data/icd10cm-history/ (CDC NCHS and CMS
release files; see that folder's README). The output is deterministic: the same input gives
the same bytes (tests/test_icd.py rebuilds it and compares).

    python scripts/build_icd_index.py [--data DIR] [--output FILE]

Layout (read by claimgraph.icd):

    b"CGICD\\n"
    one JSON line: format, sources, and per system (icd10cm, icd9cm) its releases
        [id, effective date, fiscal year], end date, offsets of its sections
    per system, after the header:
      records  N x 12 bytes, sorted by code: code (8 bytes ASCII, dotted, NUL-padded), then
               billable span and header span as (first release, end release) indices: the
               status holds from release `first` up to, not including, release `end`
               (end = number of releases: still so in the last release); 255 = no span
      blocks   (N / 64 rounded up) + 1 offsets (uint32, little-endian) into `titles`
      titles   per block of 64 records, zlib level 9 of "long title\\tshort title\\n" each
               (the short title empty when it equals the long one)
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import io
import json
import struct
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "icd10cm-history"
DEFAULT_OUTPUT = ROOT / "src" / "claimgraph" / "_icd" / "icd.idx"
MAGIC = b"CGICD\n"
FORMAT = 1
CODE_WIDTH = 8
BLOCK = 64
NONE = 255
ICD9_VERSIONS = range(23, 33)  # CMS v23 (FY2006) .. v32 (FY2015)
ICD9_END = "2015-09-30"  # the last day of ICD-9-CM in the US

Span = tuple[int, int]  # (first release index, end release index, exclusive)


def _csv(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _release_index(releases: list[tuple[str, str, int]]) -> dict[str, int]:
    return {effective: i for i, (_id, effective, _fy) in enumerate(releases)}


def _span(by_date: dict[str, int], n: int, start: str, until: str) -> Span:
    """(first, end) release indices of a span given by its first and last (inclusive) day."""
    first = by_date[start]
    if not until:
        return first, n
    # the span ends the day before a release takes effect
    next_day = (dt.date.fromisoformat(until) + dt.timedelta(days=1)).isoformat()
    return first, by_date[next_day]


def icd10cm(data: Path) -> tuple[dict[str, object], list[tuple[str, Span | None, Span | None]],
                                  dict[str, tuple[str, str]]]:  # fmt: skip
    rel_rows = _csv(data / "icd10cm_releases.csv")
    releases = sorted(
        ((r["release"], r["effective_from"], int(r["fiscal_year"])) for r in rel_rows),
        key=lambda r: r[1],
    )
    by_date = _release_index(releases)
    n = len(releases)
    billable: dict[str, Span] = {}
    header: dict[str, Span] = {}
    for table, spans in (("icd10cm_history.csv", billable), ("icd10cm_header_spans.csv", header)):
        for r in _csv(data / table):
            if r["code"] in spans:
                raise SystemExit(f"{table}: {r['code']} has more than one span")
            spans[r["code"]] = _span(by_date, n, r["valid_from"], r["valid_to"])
    titles = {
        r["code"]: (r["long_title"], r["short_title"]) for r in _csv(data / "icd10cm_titles.csv.gz")
    }
    codes = sorted(set(billable) | set(header) | set(titles))
    records = [(c, billable.get(c), header.get(c)) for c in codes]
    meta: dict[str, object] = {"releases": [list(r) for r in releases], "end": None}
    return meta, records, titles


def _icd9_headers(codes: Iterable[str]) -> set[str]:
    """The non-billable headers of a set of billable ICD-9-CM codes, as the data README
    derives them: the category (3 characters; E codes 4) of each code, and for a 5-digit
    (non-E) code its 4-digit subcategory."""
    out: set[str] = set()
    for c in codes:
        out.add(c[:4] if c.startswith("E") else c[:3])
        if not c.startswith("E") and len(c.replace(".", "")) == 5:
            out.add(c[:5])
    return out


def icd9cm(data: Path) -> tuple[dict[str, object], list[tuple[str, Span | None, Span | None]],
                                 dict[str, tuple[str, str]]]:  # fmt: skip
    versions = list(ICD9_VERSIONS)
    releases = [(f"v{v}", f"{1982 + v}-10-01", 1983 + v) for v in versions]  # v23: FY2006
    n = len(releases)
    billable: dict[str, Span] = {}
    for r in _csv(data / "icd9cm_dx_history.csv"):
        if r["code"] in billable:
            raise SystemExit(f"icd9cm_dx_history.csv: {r['code']} has more than one span")
        billable[r["code"]] = (int(r["first_version"]) - 23, int(r["last_version"]) - 22)
    # headers per version, from that version's billable codes; then spans over versions
    status: dict[str, list[bool]] = {}
    for i in range(n):
        current = {c for c, (a, b) in billable.items() if a <= i < b}
        for h in _icd9_headers(current) - current:
            status.setdefault(h, [False] * n)[i] = True
    header: dict[str, Span] = {}
    for code, flags in status.items():
        first = flags.index(True)
        end = first
        while end < n and flags[end]:
            end += 1
        if any(flags[end:]):
            raise SystemExit(f"ICD-9-CM header {code} has more than one span")
        header[code] = (first, end)
    v32 = _csv(data / "icd9cm_dx_v32.csv")
    listed = {r["code"] for r in v32 if r["billable"] == "0"}
    derived = {c for c, (_a, b) in header.items() if b == n}
    if listed != derived:
        raise SystemExit(f"ICD-9-CM v32 headers differ from the derived ones: {listed ^ derived}")
    titles = {r["code"]: (r["long_title"], r["short_title"] or r["long_title"]) for r in v32}
    codes = sorted(set(billable) | set(header))
    records = [(c, billable.get(c), header.get(c)) for c in codes]
    meta: dict[str, object] = {"releases": [list(r) for r in releases], "end": ICD9_END}
    return meta, records, titles


def _pack_span(span: Span | None) -> bytes:
    return bytes(span) if span is not None else bytes((NONE, NONE))


def _sections(
    records: list[tuple[str, Span | None, Span | None]], titles: dict[str, tuple[str, str]]
) -> tuple[bytes, bytes, bytes]:
    rec = io.BytesIO()
    for code, billable, header in records:
        raw = code.encode("ascii")
        if len(raw) > CODE_WIDTH or b"\t" in raw:
            raise SystemExit(f"code {code!r} does not fit the index")
        rec.write(raw.ljust(CODE_WIDTH, b"\0") + _pack_span(billable) + _pack_span(header))
    blocks: list[bytes] = []
    for start in range(0, len(records), BLOCK):
        lines = []
        for code, _b, _h in records[start : start + BLOCK]:
            long, short = titles.get(code, ("", ""))
            long, short = " ".join(long.split()), " ".join(short.split())
            lines.append(f"{long}\t{'' if short == long else short}\n")
        blocks.append(zlib.compress("".join(lines).encode("utf-8"), 9))
    offsets, pos = [], 0
    for b in blocks:
        offsets.append(pos)
        pos += len(b)
    offsets.append(pos)
    return rec.getvalue(), struct.pack(f"<{len(offsets)}I", *offsets), b"".join(blocks)


def build(data: Path) -> bytes:
    header: dict[str, object] = {
        "format": FORMAT,
        "block": BLOCK,
        "width": CODE_WIDTH,
        "source": (
            "CDC NCHS and CMS ICD-10-CM releases FY2016-FY2026 (with the April/January "
            "updates) and CMS ICD-9-CM diagnosis files v23-v32 (FY2006-FY2015), public domain; "
            "derived by scripts/build_icd_index.py from the icd10cm-history tables"
        ),
        "systems": {},
    }
    body = io.BytesIO()
    for system, reader in (("icd10cm", icd10cm), ("icd9cm", icd9cm)):
        meta, records, titles = reader(data)
        sections = {}
        for name, blob in zip(("records", "blocks", "titles"), _sections(records, titles),
                              strict=True):  # fmt: skip
            sections[name] = [body.tell(), len(blob)]
            body.write(blob)
        meta.update(sections, count=len(records))
        header["systems"][system] = meta  # type: ignore[index]
    line = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return MAGIC + line.encode("ascii") + b"\n" + body.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    blob = build(args.data)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_bytes(blob)
    tmp.replace(args.output)
    print(f"{args.output}: {len(blob):,} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
