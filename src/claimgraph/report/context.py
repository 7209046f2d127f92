"""What the rulebook says about each finding's rule, and the stable finding key.

`context(findings, knowledge)` fills, on every finding, the rule's name and topic, what would
satisfy it (`fix` in words, `hints` for tools), its sources as a list (id, title, version, URL,
effective date), its effective dates, the denial codes a payer would most likely send (from
`cg:carc`, `cg:rarc`, `cg:groupCode` on the rule, when the rule has them) and the `key`.

The fix comes from the rule's data where the data says it: `cg:requiresModifier` (one:
"add modifier RR"; several: "add one of the modifiers GA, KX"), `cg:requiresDocument` ("attach
the practitioner order dated on or before <service date>"), `cg:appliesToModifier` with
`cg:forbidsModifier` (a modifier conflict). A rule whose data cannot say it carries a `cg:fix`
sentence (shapes/fixes.ttl for the bundled rules), which is used as the text; `{service_date}`
in it stands for the line's service date. Hints always come from the data:

- ("add-modifier", "RR"): the line needs this modifier;
- ("add-one-of-modifiers", "GA GY GZ KX"): the line needs one of these (space separated);
- ("attach-document", "order"): a document of this type (claimgraph's documentation type id)
  must be on file, one hint per type;
- ("modifier-conflict", "GA GZ"): the first modifier may not go with any of the others.

The key is the first 16 hex digits of a SHA-256 over the input file's name (without its
folder), the claim id (its position in the file when it has none), the line, the rule id and
the sorted facts that triggered the finding: the same finding on the same claim keeps its key
from run to run, whatever happens to the other claims.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

from ..findings import Finding, SourceRef

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

    from ..engine.common import Rule, Rulebook
    from ..knowledge import Knowledge

KEY_LENGTH = 16


@dataclass(frozen=True)
class RuleContext:
    """What every finding of one rule shares."""

    name: str
    topic: str
    fix: str  # may hold {service_date}
    hints: tuple[tuple[str, str], ...]
    sources: tuple[SourceRef, ...]
    effective_from: str | None
    effective_until: str | None
    carc: str | None
    rarc: str | None
    group_code: str | None


def finding_key(f: Finding) -> str:
    """The stable key of a finding (see the module docstring)."""
    claim = f.claim or ""
    if claim.startswith("#") and f.position:  # a claim without an id: where it is in the file
        claim = f.position
    parts = [
        PurePath(f.file).name if f.file else "",
        claim,
        "" if f.line is None else str(f.line),
        f.rule,
        *sorted(f"{name}={value}" for name, value in f.facts),
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:KEY_LENGTH]


@dataclass(frozen=True)
class Contexts:
    """What `with_contexts` adds to findings: each rule's context, by rule id, and the fixes
    of rule parts that say something else than their rule, by (rule id, message)."""

    rules: Mapping[str, RuleContext | None]
    part_fixes: Mapping[tuple[str, str], str]


def context(findings: Iterable[Finding], knowledge: Knowledge) -> list[Finding]:
    """The findings with their rule context (from `knowledge`'s rulebook and graph) and key
    filled (fields the engines set are kept); only the rules of these findings are read."""
    rulebook, graph = knowledge.rulebook, knowledge.graph
    findings = list(findings)
    rules: dict[str, RuleContext | None] = {}
    for f in findings:
        if f.rule not in rules:
            rule = rulebook.rules.get(f.rule)
            rules[f.rule] = rule_context(graph, rule) if rule is not None else None
    return with_contexts(findings, Contexts(rules, _part_fixes(graph, rulebook)))


def rule_contexts(knowledge: Knowledge) -> Contexts:
    """The context of every rule of `knowledge` (what `with_contexts` takes)."""
    rulebook, graph = knowledge.rulebook, knowledge.graph
    rules = {rid: rule_context(graph, rule) for rid, rule in rulebook.rules.items()}
    return Contexts(rules, _part_fixes(graph, rulebook))


def with_contexts(findings: Iterable[Finding], contexts: Contexts) -> list[Finding]:
    """The findings with the context of their rule from `contexts` and their key filled."""
    out = []
    for f in findings:
        ctx = contexts.rules.get(f.rule)
        if ctx is None:
            out.append(f if f.key else dataclasses.replace(f, key=finding_key(f)))
            continue
        fix = contexts.part_fixes.get((f.rule, " ".join(f.message.split())), ctx.fix)
        fix = fix.replace("{service_date}", f.service_date or "the service date")
        out.append(
            dataclasses.replace(
                f,
                rule_name=f.rule_name or ctx.name,
                topic=f.topic or ctx.topic,
                fix=f.fix or fix,
                hints=f.hints or ctx.hints,
                sources=f.sources or ctx.sources,
                effective_from=f.effective_from or ctx.effective_from,
                effective_until=f.effective_until or ctx.effective_until,
                carc=f.carc or ctx.carc,
                rarc=f.rarc or ctx.rarc,
                group_code=f.group_code or ctx.group_code,
                key=f.key or finding_key(f),
            )
        )
    return out


# --------------------------------------------------------------------------- reading the rule


def _part_fixes(g: Graph, rulebook: Rulebook) -> dict[tuple[str, str], str]:
    """(rule id, message) -> the cg:fix of the rule part with that message (a part that says
    something else than its rule, such as a table that is not loaded, may carry its own fix).
    A part's message with {?var} templates never matches a filled message: such parts keep
    the rule's fix."""
    from ..namespaces import CG

    out: dict[tuple[str, str], str] = {}
    for shape, entry in rulebook.shapes.items():
        if shape == entry.rule.iri:
            continue
        fix = _text(g, shape, CG.fix)
        if fix:
            out[(entry.rule.id, entry.message)] = fix
    return out


def _text(g: Graph, s: Node, p: Node) -> str:
    values = sorted(
        g.objects(s, p), key=lambda v: (getattr(v, "language", None) not in (None, "en"), str(v))
    )
    return " ".join(str(values[0]).split()) if values else ""


def _local(term: Node) -> str:
    from urllib.parse import unquote

    return unquote(str(term).rstrip("/").rsplit("/", 1)[-1])


def _notations(g: Graph, s: Node, p: Node) -> list[str]:
    from ..namespaces import SKOS

    return sorted(_text(g, o, SKOS.notation) or _local(o) for o in g.objects(s, p))


def source_ref(g: Graph, source: Node) -> SourceRef:
    """A source as reports list it: id (local name), title, version, URL, effective date."""
    from rdflib import RDFS

    from ..namespaces import CG, DCT

    return SourceRef(
        id=_local(source),
        title=_text(g, source, DCT.title) or _text(g, source, RDFS.label) or _local(source),
        version=_text(g, source, DCT.hasVersion) or None,
        url=_text(g, source, CG.url) or None,
        effective=_text(g, source, CG.effectiveFrom) or None,
    )


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def rule_context(g: Graph, rule: Rule) -> RuleContext:
    """The context of one rule, read from the knowledge graph."""
    from rdflib import RDFS

    from ..namespaces import CG

    r = rule.iri
    hints: list[tuple[str, str]] = []
    words: list[str] = []
    required = _notations(g, r, CG.requiresModifier)
    if len(required) == 1:
        hints.append(("add-modifier", required[0]))
        words.append(f"add modifier {required[0]}")
    elif required:
        hints.append(("add-one-of-modifiers", " ".join(required)))
        words.append("add one of the modifiers " + ", ".join(required))
    forbidden = _notations(g, r, CG.forbidsModifier)
    if forbidden:
        for first in _notations(g, r, CG.appliesToModifier):
            hints.append(("modifier-conflict", " ".join([first, *forbidden])))
    documents = sorted(g.objects(r, CG.requiresDocument), key=str)
    if documents:
        hints.extend(("attach-document", _local(d)) for d in documents)
        labels = [_text(g, d, RDFS.label) or _local(d) for d in documents]
        words.append(f"attach the {_join(labels)} dated on or before {{service_date}}")
    fix = _text(g, r, CG.fix)
    if not fix and words:
        fix = _join(words)
        fix = fix[0].upper() + fix[1:] + "."
    if not fix:  # a rule without data or cg:fix: what its message says after the semicolon
        _, sep, rest = rule.message.rpartition("; ")
        fix = (rest[0].upper() + rest[1:]) if sep and rest else ""
    return RuleContext(
        name=rule.name,
        topic=rule.topic,
        fix=fix,
        hints=tuple(hints),
        sources=tuple(source_ref(g, s) for s in rule.source_iris),
        effective_from=rule.effective_from,
        effective_until=rule.effective_until,
        carc=_text(g, r, CG.carc) or None,
        rarc=_text(g, r, CG.rarc) or None,
        group_code=_text(g, r, CG.groupCode) or None,
    )


__all__ = [
    "KEY_LENGTH",
    "RuleContext",
    "context",
    "finding_key",
    "rule_context",
    "rule_contexts",
    "source_ref",
    "with_contexts",
]
