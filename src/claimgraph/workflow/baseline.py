"""`--baseline FILE`: report only the findings a previous report did not have (by finding key)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..findings import Finding


@dataclass(frozen=True)
class Baseline:
    file: str  # the report's file name, as the report names it
    keys: frozenset[str]


def load_baseline(path: str | Path) -> Baseline:
    from .reports import load_report

    findings = load_report(path, what="baseline report")
    return Baseline(file=Path(path).name, keys=frozenset(f.key for f in findings))


def apply_baseline(findings: Iterable[Finding], baseline: Baseline) -> tuple[list[Finding], int]:
    """(the findings whose key the baseline lacks, how many it suppressed)."""
    kept, suppressed = [], 0
    for f in findings:
        if f.key in baseline.keys:
            suppressed += 1
        else:
            kept.append(f)
    return kept, suppressed


__all__ = ["Baseline", "apply_baseline", "load_baseline"]
