"""A compact ICD-10-CM index (code, billable, description) built once from `simple_icd_10_cm`.

Importing `simple_icd_10_cm` costs ~5 s and ~200 MB (it parses its XML at import), so a normal
run never does: the first lookup builds a small TSV file in the user cache folder (or
`$CLAIMGRAPH_CACHE_DIR`), keyed by the package version, and later runs read only that file.
A new package version gets a new file. Billable = a leaf of the classification.

The file is sorted by code, so a lookup bisects it through a memory map (a few reads, no
parsing of the 98,000 lines: a one-claim run looks up a handful of codes).
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import IO

from .errors import InternalError
from .namespaces import icd10cm_dotted

PACKAGE = "simple-icd-10-cm"
FORMAT = "2"  # bump when the file layout changes (2: sorted by code)
# Categories and subcategories (A00, M54.59, S06.0X1A); chapters and blocks are left out.
_CODE_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


def package_version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        raise InternalError(
            f"the {PACKAGE} package is not installed; reinstall claimgraph"
        ) from None


def index_path() -> Path:
    from . import cache

    return cache.cache_dir() / f"icd10cm-{package_version()}-v{FORMAT}.tsv"


def _rows() -> Iterator[tuple[str, bool, str]]:
    """(dotted code, leaf, description) from the package: the slow part, run once."""
    import simple_icd_10_cm as icd

    seen: set[str] = set()
    for code in icd.get_all_codes(with_dots=True):
        if code in seen or not _CODE_RE.match(code):
            continue
        seen.add(code)
        yield code, bool(icd.is_leaf(code)), " ".join(str(icd.get_description(code)).split())


def build_index(path: Path | None = None) -> Path:
    """Write the index (privately, atomically) and remove the indexes of other versions."""
    from . import cache

    path = path or index_path()

    def fill(f: IO[bytes]) -> None:
        f.write(f"# {PACKAGE} {package_version()}\n".encode())
        for code, leaf, text in sorted(_rows()):  # "\t" sorts before any code character
            f.write(f"{code}\t{int(leaf)}\t{text}\n".encode())

    cache.write(path, fill, replaces="icd10cm-*.tsv")
    return path


@cache
def _index() -> mmap.mmap | bytes:
    """The sorted index file, memory-mapped (built on first use)."""
    from . import cache

    path = index_path()
    if not cache.is_ours(path):  # absent, or not safely ours: (re)build it
        build_index(path)
    with path.open("rb") as f:
        try:
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            return b""


def _find(data: mmap.mmap | bytes, code: str) -> bytes | None:
    """The line of `code` ("code\tleaf\ttext"), by bisection over the sorted lines."""
    target = code.encode("utf-8", "surrogatepass") + b"\t"
    lo, hi = 0, len(data)  # lo is always a line start
    while lo < hi:
        mid = (lo + hi) // 2
        start = data.rfind(b"\n", 0, mid) + 1  # the line holding mid (starts at or after lo)
        end = data.find(b"\n", mid)
        end = len(data) if end < 0 else end
        if data[start:end] < target:
            lo = end + 1
        else:
            hi = start
    end = data.find(b"\n", lo)
    line = data[lo : len(data) if end < 0 else end]
    return line if line.startswith(target) else None


def _parse(line: bytes) -> tuple[str, bool, str]:
    code, leaf, text = line.decode("utf-8").split("\t", 2)
    return code, leaf == "1", text


def lookup(code: str) -> tuple[bool, str] | None:
    """(billable, description) of an ICD-10-CM code, with or without its dot; None if unknown."""
    line = _find(_index(), icd10cm_dotted(code))
    if line is None:
        return None
    _code, leaf, text = _parse(line)
    return leaf, text


def entries() -> Iterator[tuple[str, bool, str]]:
    """Every code of the index as (dotted code, billable, description), in code order."""
    for line in bytes(_index()).splitlines():
        if line and not line.startswith(b"#"):
            yield _parse(line)
