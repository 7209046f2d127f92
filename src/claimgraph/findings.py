"""A finding: one rule broken by one claim (line `None`) or one claim line.

Both validation engines (pyshacl reference, compiled SPARQL fast engine) produce these; tests
compare them on (claim, line, rule, severity), reports add the message and the source.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("violation", "warning", "info")  # most to least serious


@dataclass(frozen=True, order=True)
class Finding:
    claim: str  # the claim's id ('#<position>' when it has none)
    line: int | None  # 1-based line number; None for a claim-level finding
    rule: str  # rule id, e.g. "OXY-02"
    severity: str  # one of SEVERITIES
    code: str | None = None  # the line's procedure code, when it has one
    message: str = ""
    source: str = ""  # title of the rule's source

    @property
    def key(self) -> tuple[str, int | None, str, str]:
        return (self.claim, self.line, self.rule, self.severity)
