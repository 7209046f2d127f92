"""Payer names as sent by FHIR and X12 mapped to claimgraph's payer ids (data, not code)."""

from __future__ import annotations

from .model import payer_ids

# Checked in order, on the lower-cased name: the first fragment found decides.
NAME_FRAGMENTS: tuple[tuple[str, str], ...] = (
    ("aetna", "aetna"),
    ("blue cross", "bcbs"),
    ("blue shield", "bcbs"),
    ("bcbs", "bcbs"),
    ("anthem", "bcbs"),
    ("medicaid", "medicaid"),
    ("medi-cal", "medicaid"),
    ("medicare", "medicare"),
    ("unitedhealthcare", "commercial"),
    ("united healthcare", "commercial"),
    ("cigna", "commercial"),
    ("humana", "commercial"),
    ("commercial", "commercial"),
)

# X12 SBR09 claim filing indicator code -> payer id (others: commercial).
FILING_INDICATORS: dict[str, str] = {
    "MA": "medicare",  # Medicare Part A
    "MB": "medicare",  # Medicare Part B
    "16": "medicare",  # Health Maintenance Organization (HMO) Medicare Risk
    "MC": "medicaid",
    "BL": "bcbs",
}


def payer_from_name(name: str) -> str:
    """`Blue Cross of Idaho` -> bcbs; a name matching nothing is kept (STRUCT-01 reports it)."""
    low = " ".join(name.lower().split())
    if low in payer_ids():
        return low
    for fragment, payer in NAME_FRAGMENTS:
        if fragment in low:
            return payer
    return name.strip()


def payer_from_x12(name: str | None, filing_indicator: str | None) -> str | None:
    """NM1*PR name and SBR09: a name with AETNA is aetna, else by filing indicator."""
    if name and "aetna" in name.lower():
        return "aetna"
    if filing_indicator:
        return FILING_INDICATORS.get(filing_indicator.strip().upper(), "commercial")
    return payer_from_name(name) if name else None
