"""Where the bundled data folders (ontology/, shapes/, queries/) are.

In a built wheel they sit in `claimgraph/_data/` (hatchling force-include); in a source
checkout or editable install they are the top-level folders of the repository.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """The bundled folder `name` ('ontology', 'shapes' or 'queries')."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"claimgraph data folder {name!r} is missing from the installation")


def turtle_files(name: str) -> list[Path]:
    """All .ttl files of a bundled folder, sorted, excluding `meta/` (shapes about shapes)."""
    root = data_dir(name)
    return sorted(p for p in root.rglob("*.ttl") if "meta" not in p.relative_to(root).parts)
