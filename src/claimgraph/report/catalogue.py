"""The rule catalogue as rows (`claimgraph rules`): id, severity, topic, scope, message, source,
effective dates and the denial codes a payer would most likely send (CARC, RARC, group code)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..knowledge import Knowledge


def rule_rows(
    topic: str | None = None, payer: str | None = None, *, knowledge: Knowledge | None = None
) -> tuple[list[str], list[list[Any]]]:
    """The rule catalogue of `knowledge` (default: the bundled rules) as rows: id, severity,
    topic, scope, message, sources (title, version and the date it took effect), dates, CARC,
    RARC and group code (cg:carc, cg:rarc, cg:groupCode on the rule; '' when it has none); in
    topic order (cg:order), then by id."""
    from ..knowledge import Knowledge
    from ..namespaces import CG
    from .context import source_ref

    knowledge = knowledge or Knowledge.bundled()
    book = knowledge.rulebook
    cats = knowledge.payer_categories
    graph = knowledge.graph

    def code(rule: Any, prop: Any) -> str:
        return min((str(v) for v in graph.objects(rule.iri, prop)), default="")

    columns = ["id", "severity", "topic", "scope", "message", "source", "from", "until",
               "carc", "rarc", "group"]  # fmt: skip
    rows: list[list[Any]] = []
    for rule in sorted(book.rules.values(), key=book.sort_key):
        if topic and rule.topic != topic:
            continue
        if payer and not book.applies_to_payer(rule.id, payer, cats):
            continue
        scope = scope_text(rule.payers, rule.excluded_payers, rule.codes, rule.groups)
        rows.append(
            [rule.id, rule.severity, rule.topic, scope, rule.message,
             "; ".join(_cited(source_ref(graph, s)) for s in rule.source_iris),
             rule.effective_from or "", rule.effective_until or "",
             code(rule, CG.carc), code(rule, CG.rarc), code(rule, CG.groupCode)]
        )  # fmt: skip
    return columns, rows


def _cited(source: Any) -> str:
    """A source as the catalogue cites it: title, version and the date it took effect."""
    text = source.title + (f", version {source.version}" if source.version else "")
    return text + (f", in force from {source.effective}" if source.effective else "")


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


__all__ = ["rule_rows", "scope_text"]
