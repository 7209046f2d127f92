"""The FHIR report (`validate --format fhir`): a FHIR R4 Bundle (type collection) holding one
ClaimResponse per claim with open findings, as a payer-side tool would read a predicted
adjudication, and one OperationOutcome for the findings about the run as a whole.

Each ClaimResponse:
- `request` names the claim by its id only (`identifier.value`), `patient` is masked (the
  data-absent-reason extension), `insurer` is the claimgraph payer id (or unknown);
- `outcome`: `error` when a claim-level finding is a violation (the claim cannot be processed
  as it stands), `partial` when some line would be denied, else `complete`;
- `item` (one per line with findings; `adjudication` at the top for claim-level ones): one
  adjudication per finding, `category` its disposition (would-deny for a violation,
  needs-documentation for a warning, informational for an info; system DISPOSITION),
  `reason` the rule's CARC (system from scheme:x12-carc cg:fhirSystem, the X12 list URI), the
  RARC and the group code as extensions; the line's own disposition (its most severe) is an
  item extension;
- `error`: one per violation, with the CARC and, for a line, its `itemSequence`;
- `processNote`: the rule id and message of each finding (`noteNumber` links them).

Claims without findings are not in the report (it lists only what was found). Messages carry
codes and dates only, never a patient value.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

from ..findings import SEVERITIES, Finding

if TYPE_CHECKING:
    from rdflib import Graph

    from ..validation import ValidationResult

FHIR_BASE = "https://w3id.org/claimgraph/fhir/"
DISPOSITION = FHIR_BASE + "CodeSystem/disposition"
EXT_DISPOSITION = FHIR_BASE + "StructureDefinition/line-disposition"
EXT_RARC = FHIR_BASE + "StructureDefinition/remark-code"
EXT_GROUP = FHIR_BASE + "StructureDefinition/group-code"
ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
# severity -> (disposition code, display)
DISPOSITIONS = {
    "violation": ("would-deny", "would deny"),
    "warning": ("needs-documentation", "needs documentation"),
    "info": ("informational", "informational"),
}


class _Codes:
    """The denial codes' systems and labels, from the knowledge graph (denial-codes.ttl)."""

    def __init__(self, g: Graph) -> None:
        from rdflib import RDF, RDFS

        from ..namespaces import CG, SCHEME, SKOS

        self.systems: dict[str, str] = {}
        for kind, scheme in (("carc", "x12-carc"), ("rarc", "x12-rarc")):
            system = g.value(SCHEME[scheme], CG.fhirSystem)
            self.systems[kind] = str(system) if system is not None else str(SCHEME[scheme])
        self.systems["group"] = str(SCHEME["x12-group-codes"])
        self.labels: dict[tuple[str, str], str] = {}
        for kind, cls in (
            ("carc", CG.ClaimAdjustmentReasonCode),
            ("rarc", CG.RemittanceAdviceRemarkCode),
            ("group", CG.ClaimAdjustmentGroupCode),
        ):
            for code in g.subjects(RDF.type, cls):
                notation, label = g.value(code, SKOS.notation), g.value(code, RDFS.label)
                if notation is not None and label is not None:
                    self.labels[(kind, str(notation))] = str(label)

    def coding(self, kind: str, code: str) -> dict[str, str]:
        out = {"system": self.systems[kind], "code": code}
        label = self.labels.get((kind, code))
        if label:
            out["display"] = label
        return out


def _disposition(severity: str) -> dict[str, Any]:
    code, display = DISPOSITIONS[severity]
    return {"coding": [{"system": DISPOSITION, "code": code, "display": display}]}


def _adjudication(f: Finding, codes: _Codes) -> dict[str, Any]:
    """One finding as an adjudication: its disposition, and for a predicted denial (a violation
    or warning) the rule's CARC as the reason, its RARC and group code as extensions."""
    adj: dict[str, Any] = {"category": _disposition(f.severity)}
    reason: dict[str, Any] = {"text": f.rule}
    if f.severity != "info":  # an informational finding predicts no denial
        extensions = []
        if f.rarc:
            extensions.append({"url": EXT_RARC, "valueCoding": codes.coding("rarc", f.rarc)})
        if f.group_code:
            extensions.append(
                {"url": EXT_GROUP, "valueCoding": codes.coding("group", f.group_code)}
            )
        if extensions:
            adj["extension"] = extensions
        if f.carc:
            reason["coding"] = [codes.coding("carc", f.carc)]
    adj["reason"] = reason
    return adj


def _worst(findings: Iterable[Finding]) -> str:
    return min((f.severity for f in findings), key=SEVERITIES.index)


def claim_response(n: int, findings: list[Finding], codes: _Codes, created: str) -> dict[str, Any]:
    """The ClaimResponse of one claim's findings (all of one claim); `n` makes its id."""
    first = findings[0]
    notes: list[dict[str, Any]] = []
    by_line: dict[int, list[tuple[Finding, int]]] = defaultdict(list)
    header: list[tuple[Finding, int]] = []
    errors: list[dict[str, Any]] = []
    for f in findings:
        number = len(notes) + 1
        notes.append({"number": number, "type": "display", "text": f"{f.rule}: {f.message}"})
        (by_line[f.line] if f.line is not None else header).append((f, number))
        if f.severity == "violation":
            error: dict[str, Any] = {}
            if f.line is not None:
                error["itemSequence"] = f.line
            code: dict[str, Any] = {"text": f.rule}
            if f.carc:
                code["coding"] = [codes.coding("carc", f.carc)]
            error["code"] = code
            errors.append(error)
    items = []
    for line in sorted(by_line):
        entries = by_line[line]
        worst = _worst(f for f, _ in entries)
        disposition, display = DISPOSITIONS[worst]
        items.append(
            {
                "extension": [
                    {
                        "url": EXT_DISPOSITION,
                        "valueCoding": {
                            "system": DISPOSITION, "code": disposition, "display": display,
                        },
                    }
                ],
                "itemSequence": line,
                "noteNumber": [number for _, number in entries],
                "adjudication": [_adjudication(f, codes) for f, _ in entries],
            }
        )
    claim_level_violation = any(f.severity == "violation" for f, _ in header)
    line_denials = sum(1 for entries in by_line.values() if _worst(f for f, _ in entries) ==
                       "violation")  # fmt: skip
    if claim_level_violation:
        outcome = "error"
    elif line_denials:
        outcome = "partial"
    else:
        outcome = "complete"
    counts: dict[str, int] = defaultdict(int)
    for entries in by_line.values():
        counts[_worst(f for f, _ in entries)] += 1
    parts = [f"{counts[s]} line(s) {DISPOSITIONS[s][1]}" for s in SEVERITIES if counts[s]]
    if header:
        parts.append(f"{len(header)} finding(s) about the claim as a whole")
    resource: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": f"claim-response-{n}",
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
        "use": "claim",
        "patient": {"extension": [{"url": ABSENT, "valueCode": "masked"}]},
        "created": created,
        "insurer": (
            {"display": first.payer}
            if first.payer
            else {"extension": [{"url": ABSENT, "valueCode": "unknown"}]}
        ),
        "request": {"type": "Claim", "identifier": {"value": first.claim or ""}},
        "outcome": outcome,
        "disposition": "claimgraph prediction: " + "; ".join(parts),
    }
    if items:
        resource["item"] = items
    if header:
        resource["adjudication"] = [_adjudication(f, codes) for f, _ in header]
    if errors:
        resource["error"] = errors
    resource["processNote"] = notes
    return resource


def _run_outcome(findings: list[Finding]) -> dict[str, Any]:
    severity = {"violation": "error", "warning": "warning", "info": "information"}
    return {
        "resourceType": "OperationOutcome",
        "id": "run",
        "issue": [
            {
                "severity": severity[f.severity],
                "code": "informational" if f.severity == "info" else "business-rule",
                "diagnostics": f"{f.rule}: {f.message}",
            }
            for f in findings
        ],
    }


def as_fhir(result: ValidationResult) -> dict[str, Any]:
    """The report as a FHIR R4 Bundle of ClaimResponses (see the module docstring)."""
    import datetime as dt

    from ..knowledge import Knowledge

    codes = _Codes((result.knowledge or Knowledge.bundled()).graph)
    created = str(result.run.get("date") or dt.datetime.now(dt.UTC).replace(microsecond=0)
                  .isoformat())  # fmt: skip
    claims: dict[str, list[Finding]] = {}
    run: list[Finding] = []
    for f in result.findings:
        if f.claim is None:
            run.append(f)
        else:
            claims.setdefault(f.uid or f.claim, []).append(f)
    entries = [
        claim_response(n, found, codes, created) for n, found in enumerate(claims.values(), start=1)
    ]
    if run:
        entries.append(_run_outcome(run))
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": created,
        "entry": [
            {"fullUrl": f"urn:claimgraph:{r['resourceType']}:{r['id']}", "resource": r}
            for r in entries
        ],
    }


def write_fhir(result: ValidationResult, out: IO[str]) -> None:
    json.dump(as_fhir(result), out, indent=2, ensure_ascii=False)
    out.write("\n")


__all__ = ["DISPOSITION", "DISPOSITIONS", "as_fhir", "claim_response", "write_fhir"]
