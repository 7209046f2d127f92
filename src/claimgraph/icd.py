"""A compact ICD-10-CM index (code, billable, description) built once from `simple_icd_10_cm`.

Importing `simple_icd_10_cm` costs ~5 s and ~200 MB (it parses its XML at import), so a normal
run never does: the first lookup builds a small TSV file in the user cache folder (or
`$CLAIMGRAPH_CACHE_DIR`), keyed by the package version, and later runs read only that file.
A new package version gets a new file. Billable = a leaf of the classification.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from functools import cache
from importlib import metadata
from pathlib import Path

from .errors import InternalError
from .namespaces import icd10cm_dotted

PACKAGE = "simple-icd-10-cm"
CACHE_ENV = "CLAIMGRAPH_CACHE_DIR"
FORMAT = "1"  # bump when the file layout changes
# Categories and subcategories (A00, M54.59, S06.0X1A); chapters and blocks are left out.
_CODE_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


def cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("claimgraph", appauthor=False))


def package_version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        raise InternalError(
            f"the {PACKAGE} package is not installed; reinstall claimgraph"
        ) from None


def index_path() -> Path:
    return cache_dir() / f"icd10cm-{package_version()}-v{FORMAT}.tsv"


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
    """Write the index atomically (temp file + rename) and remove indexes of other versions."""
    path = path or index_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".icd10cm-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(f"# {PACKAGE} {package_version()}\n")
            for code, leaf, text in _rows():
                f.write(f"{code}\t{int(leaf)}\t{text}\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    for old in path.parent.glob("icd10cm-*.tsv"):
        if old != path:
            with contextlib.suppress(OSError):
                old.unlink()
    return path


@cache
def _index() -> dict[str, tuple[bool, str]]:
    path = index_path()
    if not path.is_file():
        build_index(path)
    out: dict[str, tuple[bool, str]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            code, leaf, text = line.rstrip("\n").split("\t", 2)
            out[code] = (leaf == "1", text)
    return out


def lookup(code: str) -> tuple[bool, str] | None:
    """(billable, description) of an ICD-10-CM code, with or without its dot; None if unknown."""
    return _index().get(icd10cm_dotted(code))


def entries() -> Iterator[tuple[str, bool, str]]:
    """Every code of the index as (dotted code, billable, description), in code order."""
    for code, (leaf, text) in _index().items():
        yield code, leaf, text
