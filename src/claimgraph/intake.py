"""What validation adds to the engines' findings from the reading of the input.

- `input_findings(log)`: the findings the readers made about the input itself (X12 envelope
  defects, STRUCT-04, a rule checked by the reader: `cg:checkedBy cg:Reader`), as `Finding`s
  with the rule's severity, message (its {?var} template filled) and sources from the rulebook;
  claim None (or the claim that could not be read), file and position "segment N".
- `mark_not_in_input(findings, log)`: a finding of a rule that rests on documentation
  (`cg:requiresDocument`) of a kind the claim's input format cannot carry (ontology/formats.ttl:
  an 837P carries no treatment time record) gets `not_in_input = True` and says so in its
  message; when a documents file was attached (`--documents`) nothing is marked.
- `strict_errors(findings)`: with `--strict`, the input findings become one InputError.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from .errors import InputError
from .findings import Finding
from .ingest.reading import InputFinding, ReadLog

if TYPE_CHECKING:
    from .knowledge import Knowledge

NOT_IN_INPUT = "not in this input: attach documents with --documents FILE"


def input_findings(log: ReadLog, knowledge: Knowledge) -> list[Finding]:
    from .engine.common import fill_template
    from .namespaces import RULE

    book = knowledge.rulebook
    out = []
    for f in log.findings:
        shape = RULE[f.part or f.rule]
        entry = book.shapes.get(shape) or book.shapes.get(RULE[f.rule])
        if entry is None:
            continue  # a rule the bundled rules no longer have
        where = hashlib.blake2b(f"{f.file}\0{f.position}".encode(), digest_size=8).hexdigest()
        out.append(
            Finding(
                claim=f.claim,
                line=None,
                rule=f.rule,
                severity=entry.severity,
                message=" ".join(fill_template(entry.message, f.values).split()),
                source=entry.rule.source,
                file=f.file,
                position=f.position,
                facts=tuple(sorted(f.values.items())),
                uid=f"input-{where}",
            )
        )
    return out


def required_documents(knowledge: Knowledge) -> dict[str, frozenset[str]]:
    """Rule id -> the document types its shape or its parts require (cg:requiresDocument)."""
    from .namespaces import CG, DCT

    g = knowledge.graph
    out: dict[str, set[str]] = {}
    for iri, entry in knowledge.rulebook.shapes.items():
        shapes = [iri, *g.subjects(DCT.isPartOf, iri)]
        docs = {
            str(d).rsplit("/", 1)[-1] for s in shapes for d in g.objects(s, CG.requiresDocument)
        }
        if docs:
            out.setdefault(entry.rule.id, set()).update(docs)
    return {k: frozenset(v) for k, v in out.items()}


def mark_not_in_input(
    findings: Iterable[Finding], log: ReadLog, knowledge: Knowledge
) -> list[Finding]:
    from .ingest.facts import carried_documents

    findings = list(findings)
    if log.documents:
        return findings
    needs = required_documents(knowledge)
    out = []
    for f in findings:
        carried = carried_documents(log.formats.get(f.file or ""))
        missing = sorted(needs.get(f.rule, frozenset()) - carried) if carried is not None else []
        if missing and f.claim is not None:
            kinds = ", ".join(missing)
            message = f"{f.message} The documentation it rests on ({kinds}) is {NOT_IN_INPUT}."
            f = replace(f, not_in_input=True, message=message)
        out.append(f)
    return out


def strict_errors(findings: Iterable[Finding]) -> None:
    """--strict: the findings about the input (X12 envelopes) are errors (exit 2)."""
    about_input = [f for f in findings if f.uid.startswith("input-")]
    if about_input:
        first = about_input[0]
        more = f" ({len(about_input)} in all)" if len(about_input) > 1 else ""
        raise InputError(
            f"{first.rule}: {first.message}{more} (--strict)",
            path=first.file,
            position=first.position,
        )


def merge(
    findings: Iterable[Finding], log: ReadLog, knowledge: Knowledge, *, strict: bool = False
) -> list[Finding]:
    """The engines' findings, marked for documentation not in the input, and the findings
    about the input, in report order."""
    from .engine.common import sort_key

    extra = input_findings(log, knowledge)
    if strict:
        strict_errors(extra)
    return sorted([*mark_not_in_input(findings, log, knowledge), *extra], key=sort_key)


__all__ = ["InputFinding", "NOT_IN_INPUT", "input_findings", "mark_not_in_input", "merge"]
