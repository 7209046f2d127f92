"""`claimgraph diff OLD NEW`: which findings are new, resolved or unchanged between two reports
(compared by finding key)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..findings import Finding


@dataclass
class ReportDiff:
    new: list[Finding] = field(default_factory=list)  # in NEW, not in OLD
    resolved: list[Finding] = field(default_factory=list)  # in OLD, not in NEW
    unchanged: list[Finding] = field(default_factory=list)  # in both (as NEW has them)


def diff_findings(old: list[Finding], new: list[Finding]) -> ReportDiff:
    old_keys = {f.key for f in old}
    new_keys = {f.key for f in new}
    return ReportDiff(
        new=[f for f in new if f.key not in old_keys],
        resolved=[f for f in old if f.key not in new_keys],
        unchanged=[f for f in new if f.key in old_keys],
    )


__all__ = ["ReportDiff", "diff_findings"]
