"""The rule catalogue as rows (`claimgraph rules`): id, severity, topic, scope, message, source,
effective dates and the denial codes a payer would most likely send (CARC, RARC, group code)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def rule_rows(
    topic: str | None = None, payer: str | None = None
) -> tuple[list[str], list[list[Any]]]:
    """The rule catalogue as rows: id, severity, topic, scope, message, source, dates, CARC,
    RARC and group code (cg:carc, cg:rarc, cg:groupCode on the rule; '' when it has none)."""
    from ..engine.common import payer_categories, rulebook
    from ..kg import knowledge_graph
    from ..namespaces import CG

    book = rulebook()
    cats = payer_categories()
    graph = knowledge_graph()

    def code(rule: Any, prop: Any) -> str:
        return min((str(v) for v in graph.objects(rule.iri, prop)), default="")

    columns = ["id", "severity", "topic", "scope", "message", "source", "from", "until",
               "carc", "rarc", "group"]  # fmt: skip
    rows: list[list[Any]] = []
    for rule in sorted(book.rules.values(), key=_rule_order):
        if topic and rule.topic != topic:
            continue
        if payer and not book.applies_to_payer(rule.id, payer, cats):
            continue
        scope = scope_text(rule.payers, rule.excluded_payers, rule.codes, rule.groups)
        rows.append(
            [rule.id, rule.severity, rule.topic, scope, rule.message, rule.source,
             rule.effective_from or "", rule.effective_until or "",
             code(rule, CG.carc), code(rule, CG.rarc), code(rule, CG.groupCode)]
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


_TOPIC_ORDER = (
    "structure",
    "codes",
    "modifiers",
    "oxygen",
    "nmes",
    "cancer-stim",
    "ens",
    "therapy",
    "nmr",
    "sources",
    "ncci",
)


def _rule_order(rule: Any) -> tuple[int, str]:
    t = rule.topic
    return (_TOPIC_ORDER.index(t) if t in _TOPIC_ORDER else len(_TOPIC_ORDER), rule.id)


__all__ = ["rule_rows", "scope_text"]
