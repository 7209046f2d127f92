"""The report as a SHACL validation report in Turtle (`sh:ValidationReport`), with the rule id,
its sources, the fix and the finding key on each result so tools can cite and track them."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..validation import ValidationResult


def report_graph(result: ValidationResult) -> Any:
    """A SHACL validation report (rdflib Graph) with the rule id and sources on each result."""
    from rdflib import RDF, BNode, Literal, URIRef

    from ..kg import new_graph
    from ..knowledge import Knowledge
    from ..namespaces import CG, DCT, SH, SOURCE, claim_iri, line_iri, rule_iri
    from .records import run_line

    severity_iri = {"violation": SH.Violation, "warning": SH.Warning, "info": SH.Info}
    book = (result.knowledge or Knowledge.bundled()).rulebook
    g = new_graph()
    report = BNode("report")
    g.add((report, RDF.type, SH.ValidationReport))
    g.add((report, SH.conforms, Literal(result.conforms)))
    if result.run:  # what the run used: rule set, imported code-set and table releases
        g.add((report, DCT.description, Literal(run_line(result.run), lang="en")))
        for c in result.run.get("code_sets", []):
            if c.get("origin") == "imported":
                g.add((report, DCT.source, SOURCE[c["id"]]))
    for i, f in enumerate(result.findings, start=1):
        r = BNode(f"result{i}")
        claim = f.uid or f.claim or "input"
        focus: URIRef = claim_iri(claim) if f.line is None else line_iri(claim, f.line)
        g.add((report, SH.result, r))
        g.add((r, RDF.type, SH.ValidationResult))
        g.add((r, SH.focusNode, focus))
        g.add((r, SH.resultSeverity, severity_iri[f.severity]))
        g.add((r, SH.sourceShape, rule_iri(f.rule)))
        g.add((r, SH.sourceConstraintComponent, SH.SPARQLConstraintComponent))
        g.add((r, SH.resultMessage, Literal(f.message, lang="en")))
        g.add((r, DCT.identifier, Literal(f.rule)))
        if f.key:
            g.add((r, CG.findingKey, Literal(f.key)))
        if f.fix:
            g.add((r, CG.fix, Literal(f.fix, lang="en")))
        rule = book.rules.get(f.rule)
        for src in rule.source_iris if rule else ():
            g.add((r, DCT.source, src))
    return g


def write_turtle(result: ValidationResult, out: IO[str]) -> None:
    out.write(report_graph(result).serialize(format="turtle"))


__all__ = ["report_graph", "write_turtle"]
