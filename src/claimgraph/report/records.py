"""A finding as a plain record (what JSON, JSON Lines, CSV, HTML and xlsx show), and back.

Every field of a `Finding` a person or a tool acts on is in the record; `uid` (the claim's
identity inside one run) is not, since it means nothing outside the run. The summary counts
findings by severity, rule, payer, file and topic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ClaimgraphError
from ..findings import SEVERITIES, Finding, SourceRef

if TYPE_CHECKING:
    from ..validation import ValidationResult

NO_PAYER = "(none)"  # the summary's name for findings without a payer
FIELDS = (
    "key",
    "claim",
    "line",
    "code",
    "rule",
    "rule_name",
    "topic",
    "severity",
    "message",
    "fix",
    "hints",
    "payer",
    "service_date",
    "file",
    "position",
    "facts",
    "sources",
    "source",
    "effective_from",
    "effective_until",
    "carc",
    "rarc",
    "group_code",
    "not_in_input",
)


def finding_record(f: Finding) -> dict[str, Any]:
    """The finding as a JSON-ready dict, fields in FIELDS order."""
    return {
        "key": f.key,
        "claim": f.claim,
        "line": f.line,
        "code": f.code,
        "rule": f.rule,
        "rule_name": f.rule_name,
        "topic": f.topic,
        "severity": f.severity,
        "message": f.message,
        "fix": f.fix,
        "hints": [{"action": a, "value": v} for a, v in f.hints],
        "payer": f.payer,
        "service_date": f.service_date,
        "file": f.file,
        "position": f.position,
        "facts": [{"name": n, "value": v} for n, v in f.facts],
        "sources": [
            {
                "id": s.id,
                "title": s.title,
                "version": s.version,
                "url": s.url,
                "effective": s.effective,
            }
            for s in f.sources
        ],  # fmt: skip
        "source": f.source or "; ".join(s.title for s in f.sources),
        "effective_from": f.effective_from,
        "effective_until": f.effective_until,
        "carc": f.carc,
        "rarc": f.rarc,
        "group_code": f.group_code,
        "not_in_input": f.not_in_input,
    }


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _pairs(items: Any, a: str, b: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(items, list):
        return ()
    return tuple((str(i.get(a, "")), str(i.get(b, ""))) for i in items if isinstance(i, Mapping))


def from_record(rec: Mapping[str, Any], where: str = "report") -> Finding:
    """A finding read back from a report record (JSON or JSON Lines); `where` names it."""
    try:
        rule, severity = str(rec["rule"]), str(rec["severity"])
    except (KeyError, TypeError):
        raise ClaimgraphError("a finding has no rule or severity", path=where) from None
    if severity not in SEVERITIES:
        raise ClaimgraphError("a finding has an unknown severity", path=where)
    line = rec.get("line")
    sources = tuple(
        SourceRef(
            id=str(s.get("id", "")),
            title=str(s.get("title", "")),
            version=_str(s.get("version")),
            url=_str(s.get("url")),
            effective=_str(s.get("effective")),
        )
        for s in rec.get("sources") or []
        if isinstance(s, Mapping)
    )
    return Finding(
        claim=_str(rec.get("claim")),
        line=line if isinstance(line, int) and not isinstance(line, bool) else None,
        rule=rule,
        severity=severity,
        code=_str(rec.get("code")),
        message=str(rec.get("message") or ""),
        source=str(rec.get("source") or ""),
        file=_str(rec.get("file")),
        position=_str(rec.get("position")),
        payer=_str(rec.get("payer")),
        service_date=_str(rec.get("service_date")),
        facts=_pairs(rec.get("facts"), "name", "value"),
        rule_name=str(rec.get("rule_name") or ""),
        topic=str(rec.get("topic") or ""),
        fix=str(rec.get("fix") or ""),
        hints=_pairs(rec.get("hints"), "action", "value"),
        sources=sources,
        effective_from=_str(rec.get("effective_from")),
        effective_until=_str(rec.get("effective_until")),
        carc=_str(rec.get("carc")),
        rarc=_str(rec.get("rarc")),
        group_code=_str(rec.get("group_code")),
        not_in_input=bool(rec.get("not_in_input")),
        key=str(rec.get("key") or ""),
    )


def _counts(values: Iterable[str]) -> dict[str, int]:
    """Counts, most first, then by name (a stable order for diffs)."""
    return dict(sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0])))


def counts(findings: list[Finding]) -> dict[str, Any]:
    """Findings counted by severity (every severity, 0 included), rule, payer, file and topic."""
    by_severity = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        by_severity[f.severity] += 1
    return {
        "by_severity": by_severity,
        "by_rule": _counts(f.rule for f in findings),
        "by_payer": _counts(f.payer or NO_PAYER for f in findings),
        "by_file": _counts(f.file or "" for f in findings if f.file),
        "by_topic": _counts(f.topic for f in findings if f.topic),
    }


def _claims(findings: Iterable[Finding]) -> set[str]:
    """The claims among `findings` (their run identity when the engine gave one); findings
    about the input itself (claim None: an X12 envelope) concern no claim."""
    return {c for f in findings if f.claim is not None and (c := f.uid or f.claim)}


def summary(result: ValidationResult) -> dict[str, Any]:
    """The JSON summary: claims checked, claims with findings and with violations, the counts,
    the findings that rest on documentation the input could not carry (`not_in_input`, counted
    apart from those the input itself breaks), and what the baseline and the waivers took out."""
    findings = result.findings
    return {
        "claims": result.claims,
        "claims_with_findings": len(_claims(findings)),
        "claims_with_violations": len(_claims(f for f in findings if f.severity == "violation")),
        **counts(findings),
        "not_in_input": sum(f.not_in_input for f in findings),
        "suppressed_by_baseline": result.suppressed,
        "waived": len(result.waived),
    }


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def severity_counts_text(by_severity: Mapping[str, int]) -> str:
    return ", ".join(
        f"{by_severity[s]} {s}" + ("s" if by_severity[s] != 1 and s != "info" else "")
        for s in SEVERITIES
    )


def summary_line(result: ValidationResult) -> str:
    """One line for stderr: claims, findings by severity, baseline and waivers, the verdict."""
    s = summary(result)
    text = (
        f"{plural(s['claims'], 'claim')} checked, {s['claims_with_findings']} with findings: "
        + severity_counts_text(s["by_severity"])
    )
    if s["not_in_input"]:
        text += f"; {s['not_in_input']} resting on documentation not in this input"
    if result.suppressed:
        text += f"; {result.suppressed} suppressed by the baseline"
    if result.waived:
        text += f"; {len(result.waived)} waived"
    verdict = "FAILED" if result.failed else "passed"
    threshold = "never fails" if result.fail_on == "none" else f"fails on {result.fail_on}"
    return text + f". Result: {verdict} ({threshold})."


def run_line(run: Mapping[str, Any]) -> str:
    """What the run used, in one sentence: claimgraph, the rule set, the imported releases."""
    rules = f"rules {run.get('rules_fingerprint', '?')}"
    if run.get("user_rules"):
        rules += f" (with {', '.join(run['user_rules'])})"
    imported = [c["id"] for c in run.get("code_sets", []) if c.get("origin") == "imported"]
    codes = ", ".join(imported) if imported else "none imported"
    return f"Checked with claimgraph {run.get('claimgraph', '?')}, {rules}; code sets: {codes}."


__all__ = [
    "FIELDS",
    "NO_PAYER",
    "counts",
    "finding_record",
    "from_record",
    "plural",
    "run_line",
    "severity_counts_text",
    "summary",
    "summary_line",
]
