"""Reading the small TOML files of the workflow (waivers, profiles) with one-line errors."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from ..errors import ClaimgraphError

MAX_TOML_BYTES = 16 * 1024 * 1024
_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def load_toml(path: str | Path, what: str) -> dict[str, Any]:
    from ..fileio import read_text_file

    text = read_text_file(path, max_bytes=MAX_TOML_BYTES, what=what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = _AT.search(str(e))
        position = f"line {m[1]}, column {m[2]}" if m else None
        raise ClaimgraphError(
            f"the {what} is not valid TOML", path=str(path), position=position
        ) from None
    except RecursionError:
        raise ClaimgraphError(f"the {what} is nested too deeply", path=str(path)) from None


def entries(doc: dict[str, Any], table: str, path: str | Path, what: str) -> list[dict[str, Any]]:
    """The `[[table]]` entries of a TOML document, each checked to be a table."""
    items = doc.get(table, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ClaimgraphError(f"the {what} needs [[{table}]] entries", path=str(path))
    return items


def check_keys(item: dict[str, Any], allowed: set[str], where: str, path: str | Path) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        names = ", ".join(sorted(allowed))
        raise ClaimgraphError(
            f"{where} has {len(unknown)} unknown field(s); the fields are {names}", path=str(path)
        )


__all__ = ["MAX_TOML_BYTES", "check_keys", "entries", "load_toml"]
