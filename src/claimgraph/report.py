"""Validation results as a table (people), JSON, CSV (tools) or a SHACL report in Turtle.

Only claim ids, line numbers, procedure codes and rule data appear: never a patient id, a
description or any other free text of a claim.
"""

from __future__ import annotations

import csv
import json
import textwrap
from collections import Counter
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

from .findings import SEVERITIES, Finding
from .validate import ValidationResult

if TYPE_CHECKING:
    from .knowledge import Knowledge

FORMATS = ("table", "json", "csv", "turtle")
CSV_COLUMNS = ("claim", "line", "code", "rule", "severity", "message", "source")
WIDTH = 100


def as_json(result: ValidationResult) -> dict[str, Any]:
    """The JSON report, exactly the documented shape."""
    return {
        "conforms": result.conforms,
        "claims": result.claims,
        "findings": [
            {
                "claim": f.claim,
                "line": f.line,
                "code": f.code,
                "rule": f.rule,
                "severity": f.severity,
                "message": f.message,
                "source": f.source,
            }
            for f in result.findings
        ],
        "summary": result.summary(),
        **({"run": result.run.as_dict()} if result.run else {}),
    }


def write_json(result: ValidationResult, out: IO[str]) -> None:
    json.dump(as_json(result), out, indent=2, ensure_ascii=False)
    out.write("\n")


def write_csv(result: ValidationResult, out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for f in result.findings:
        writer.writerow([f.claim, "" if f.line is None else f.line, f.code or "", f.rule,
                         f.severity, f.message, f.source])  # fmt: skip


def _wrap(text: str, indent: int, width: int = WIDTH) -> list[str]:
    pad = " " * indent
    return textwrap.wrap(text, width=width, initial_indent=pad, subsequent_indent=pad) or [pad]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def write_table(result: ValidationResult, out: IO[str], width: int = WIDTH) -> None:
    """Findings grouped by claim and line, then counts by severity and by rule."""
    lines: list[str] = []
    current_claim: str | None = None
    current_line: object = object()
    for f in result.findings:
        if f.claim != current_claim:
            if current_claim is not None:
                lines.append("")
            lines.append(f"Claim {f.claim}")
            current_claim, current_line = f.claim, object()
        if f.line != current_line:
            where = "claim as a whole" if f.line is None else f"line {f.line}"
            lines.append(f"  {where}" + (f"  {f.code}" if f.code else ""))
            current_line = f.line
        head = f"    {f.severity.upper():<9} {f.rule:<11} "
        body = textwrap.wrap(f.message, width=width - len(head)) or [""]
        lines.append(head + body[0])
        lines.extend(" " * len(head) + b for b in body[1:])
        if f.source:
            lines.extend(_wrap(f"source: {f.source}", len(head), width))
    if result.findings:
        lines.append("")
    lines.extend(summary_lines(result))
    out.write("\n".join(lines) + "\n")


def summary_lines(result: ValidationResult) -> list[str]:
    counts = result.summary()
    with_findings = len({f.claim for f in result.findings})
    out = [
        f"{_plural(result.claims, 'claim')} checked, {with_findings} with findings: "
        + ", ".join(
            f"{counts[s]} {s}" + ("s" if counts[s] != 1 and s != "info" else "") for s in SEVERITIES
        )
        + "."
    ]
    if not result.findings:
        out[0] = f"{_plural(result.claims, 'claim')} checked: no findings."
        return out + run_lines(result)
    by_rule = Counter((f.rule, f.severity) for f in result.findings)
    out.append("By rule:")
    for (rule, severity), n in sorted(
        by_rule.items(), key=lambda kv: (SEVERITIES.index(kv[0][1]), kv[0][0])
    ):
        out.append(f"  {rule:<11} {severity:<9} {n:>6}")
    verdict = "FAILED" if result.failed else "passed"
    out.append(f"Result: {verdict} (fails on {result.fail_on} or worse).")
    out.append(
        "`claimgraph rules` lists every rule; each finding's source says where it is written."
    )
    return out + run_lines(result)


def run_lines(result: ValidationResult) -> list[str]:
    """What the run used: the rule set's fingerprint and the code-set releases."""
    run = result.run
    if run is None:
        return []
    rules = f"rules {run.fingerprint}" + (
        f" (with {', '.join(run.rules_files)})" if run.rules_files else ""
    )
    codes = ", ".join(run.releases) if run.releases else "none imported"
    return [f"Checked with claimgraph {run.version}, {rules}; code sets: {codes}."]


def _knowledge(result: ValidationResult) -> Knowledge:
    from .knowledge import Knowledge

    return result.knowledge or Knowledge.bundled()


def report_graph(result: ValidationResult) -> Any:
    """A SHACL validation report (rdflib Graph) with the rule id and sources on each result."""
    from rdflib import RDF, BNode, Literal, URIRef

    from .kg import new_graph
    from .namespaces import DCT, SH, claim_iri, line_iri, rule_iri

    severity_iri = {"violation": SH.Violation, "warning": SH.Warning, "info": SH.Info}
    book = _knowledge(result).rulebook
    g = new_graph()
    report = BNode("report")
    g.add((report, RDF.type, SH.ValidationReport))
    g.add((report, SH.conforms, Literal(result.conforms)))
    if result.run is not None:  # what the run used: rule set, imported code-set releases
        from .namespaces import SOURCE

        g.add((report, DCT.description, Literal(run_lines(result)[0], lang="en")))
        for release in result.run.releases:
            g.add((report, DCT.source, SOURCE[release]))
    for i, f in enumerate(result.findings, start=1):
        r = BNode(f"result{i}")
        node = f.uid or f.claim or "input"
        focus: URIRef = claim_iri(node) if f.line is None else line_iri(node, f.line)
        g.add((report, SH.result, r))
        g.add((r, RDF.type, SH.ValidationResult))
        g.add((r, SH.focusNode, focus))
        g.add((r, SH.resultSeverity, severity_iri[f.severity]))
        g.add((r, SH.sourceShape, rule_iri(f.rule)))
        g.add((r, SH.sourceConstraintComponent, SH.SPARQLConstraintComponent))
        g.add((r, SH.resultMessage, Literal(f.message, lang="en")))
        g.add((r, DCT.identifier, Literal(f.rule)))
        rule = book.rules.get(f.rule)
        for src in rule.source_iris if rule else ():
            g.add((r, DCT.source, src))
    return g


def write_turtle(result: ValidationResult, out: IO[str]) -> None:
    out.write(report_graph(result).serialize(format="turtle"))


def write(result: ValidationResult, fmt: str, out: IO[str]) -> None:
    {"table": write_table, "json": write_json, "csv": write_csv, "turtle": write_turtle}[fmt](
        result, out
    )


def rule_rows(
    topic: str | None = None, payer: str | None = None, *, knowledge: Knowledge | None = None
) -> tuple[list[str], list[list[Any]]]:
    """The rule catalogue of `knowledge` (default: the bundled rules) as rows: id, severity,
    topic, scope, message, source, dates."""
    from .knowledge import Knowledge

    knowledge = knowledge or Knowledge.bundled()
    book = knowledge.rulebook
    cats = knowledge.payer_categories
    columns = ["id", "severity", "topic", "scope", "message", "source", "from", "until"]
    rows: list[list[Any]] = []
    for rule in sorted(book.rules.values(), key=book.sort_key):
        if topic and rule.topic != topic:
            continue
        if payer and not book.applies_to_payer(rule.id, payer, cats):
            continue
        scope = scope_text(rule.payers, rule.excluded_payers, rule.codes, rule.groups)
        rows.append(
            [rule.id, rule.severity, rule.topic, scope, rule.message, rule.source,
             rule.effective_from or "", rule.effective_until or ""]
        )  # fmt: skip
    return columns, rows


def scope_text(
    payers: Iterable[str], excluded: Iterable[str], codes: Iterable[str], groups: Iterable[str] = ()
) -> str:
    parts = [("payers: " + ", ".join(payers)) if payers else "all payers"]
    if excluded:
        parts[0] += " except " + ", ".join(excluded)
    codes, groups = list(codes), list(groups)
    parts.append(("codes: " + ", ".join(codes)) if codes else "any code")
    if groups:
        parts.append("code groups: " + ", ".join(groups))
    return "; ".join(parts)


__all__ = ["CSV_COLUMNS", "FORMATS", "Finding", "as_json", "report_graph", "rule_rows", "write"]
