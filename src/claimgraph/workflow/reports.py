"""Reading a previous report back (JSON or JSON Lines): for `--baseline` and `claimgraph diff`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ClaimgraphError
from ..findings import Finding

MAX_REPORT_BYTES = 1024 * 1024 * 1024  # 1 GiB: a report of millions of findings


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=lambda _c: None)  # NaN/Infinity: not JSON


def load_report(path: str | Path, what: str = "report") -> list[Finding]:
    """The open findings of a report claimgraph wrote with `-f json` or `-f jsonl`.

    Every finding must carry its `key` (reports of claimgraph 0.2 and later do)."""
    from ..fileio import read_text_file
    from ..report.records import from_record

    where = str(path)
    text = read_text_file(path, max_bytes=MAX_REPORT_BYTES, what=what)
    records: list[Any]
    try:
        doc = _loads(text)
    except (ValueError, RecursionError):
        doc = None
        records = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(_loads(line))
            except (ValueError, RecursionError):
                raise ClaimgraphError(
                    f"not a JSON or JSON Lines {what}", path=where, position=f"line {n}"
                ) from None
    else:
        if isinstance(doc, dict) and isinstance(doc.get("findings"), list):
            records = doc["findings"]
        elif isinstance(doc, dict) and "rule" in doc:  # JSON Lines with a single finding
            records = [doc]
        else:
            raise ClaimgraphError(
                f'not a claimgraph {what}: no "findings" list (write it with -f json or jsonl)',
                path=where,
            )
    out = []
    for n, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            raise ClaimgraphError(f"finding {n} is not an object", path=where)
        f = from_record(rec, where=f"{where}: finding {n}")
        if not f.key:
            raise ClaimgraphError(
                f"finding {n} has no key; compare reports written by claimgraph 0.2 or later",
                path=where,
            )
        out.append(f)
    return out


__all__ = ["MAX_REPORT_BYTES", "load_report"]
