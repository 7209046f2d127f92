"""A finding: one rule broken by one claim (line `None`), one claim line, or the input itself.

Both validation engines (pyshacl reference, compiled SPARQL fast engine) produce these with the
claim's context (where it came from, payer, service date, the facts that triggered the rule);
`report.context` adds what the rulebook says about the rule (name, topic, fix, sources, denial
codes) and the stable finding key. Tests compare findings on `ident` (claim, line, rule,
severity); reports show every field.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("violation", "warning", "info")  # most to least serious


@dataclass(frozen=True)
class SourceRef:
    """A source a rule cites: its id (local name), title, version, where to read it."""

    id: str
    title: str
    version: str | None = None
    url: str | None = None
    effective: str | None = None  # ISO date the cited version took effect


@dataclass(frozen=True, slots=True)
class Finding:
    claim: str | None  # the claim id as the input gives it ('#<n>' when none); None: the input
    line: int | None  # 1-based line number; None for a claim-level finding
    rule: str  # rule id, e.g. "OXY-02"
    severity: str  # one of SEVERITIES
    code: str | None = None  # the line's procedure code, when it has one
    message: str = ""
    source: str = ""  # titles of the rule's sources, joined (see `sources` for the list)
    # Where the claim came from and what it says (filled by the engines).
    file: str | None = None  # the input file as given ('-' for standard input)
    position: str | None = None  # where in the file: "segment 12", "entry 3", "line 7"
    payer: str | None = None  # claimgraph payer id the claim resolved to (None: none/unknown)
    service_date: str | None = None  # the line's service date (claim: its first), ISO
    facts: tuple[tuple[str, str], ...] = ()  # (name, value) that triggered it: codes, modifiers
    uid: str = ""  # the claim's identity within the run (not for people)
    # What the rulebook says about the rule (filled by report.context).
    rule_name: str = ""
    topic: str = ""
    fix: str = ""  # what would satisfy the rule, in words
    hints: tuple[tuple[str, str], ...] = ()  # machine-readable fixes: ("add-modifier", "RR")
    sources: tuple[SourceRef, ...] = ()
    effective_from: str | None = None
    effective_until: str | None = None
    carc: str | None = None  # claim adjustment reason code a payer would most likely send
    rarc: str | None = None  # remittance advice remark code, where one fits
    group_code: str | None = None  # CO, PR or OA
    not_in_input: bool = False  # rests on documentation this input format cannot carry
    key: str = ""  # stable finding key: hash of claim identity, line, rule and facts

    @property
    def ident(self) -> tuple[str | None, int | None, str, str]:
        """(claim, line, rule, severity): what the tests and the parity checks compare."""
        return (self.claim, self.line, self.rule, self.severity)
