"""The JSON report (one document) and JSON Lines (one finding a line, nothing else)."""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, Any

from .records import finding_record, summary

if TYPE_CHECKING:
    from ..validation import ValidationResult


def as_json(result: ValidationResult) -> dict[str, Any]:
    """The JSON report: verdict, counts, open findings, waived findings, notices, run facts."""
    return {
        "conforms": result.conforms,
        "claims": result.claims,
        "fail_on": result.fail_on,
        "findings": [finding_record(f) for f in result.findings],
        "waived": [
            {**finding_record(w.finding), "waiver": w.waiver.as_dict()} for w in result.waived
        ],
        "notices": list(result.notices),
        "summary": summary(result),
        "run": result.run,
    }


def write_json(result: ValidationResult, out: IO[str]) -> None:
    json.dump(as_json(result), out, indent=2, ensure_ascii=False, default=str)
    out.write("\n")


def write_jsonl(result: ValidationResult, out: IO[str]) -> None:
    """One open finding a line (the JSON report's finding records); the summary is the CLI's
    business (stderr)."""
    for f in result.findings:
        out.write(json.dumps(finding_record(f), ensure_ascii=False, default=str))
        out.write("\n")


__all__ = ["as_json", "write_json", "write_jsonl"]
