"""What both validation engines share: enrichment facts, the rulebook, findings, batching.

- `enrichment(claims_graph, codesets)`: facts about the codes a batch of claims uses that are
  not in the bundled graph (the scheme of a procedure code, the ICD index, the imported code
  sets and CMS tables of `Knowledge.codesets`), added to the data graph so the rules can read
  them.
- `Rulebook`: every shape that reports findings, with its rule id, severity, message, sources.
  A rule may have parts (shapes with `dct:isPartOf` the rule) with their own severity/message.
- `ClaimContext` / `focus_index` / `finalize`: a (focus node, shape) result as a `Finding` with its
  claim's context, deduplicated, sorted; message templates ({?var}) filled from the result.
- `patient_batches`: claims in batches that keep each patient's claims together (NMR-02).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import unquote

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.term import Node

from ..findings import Finding
from ..ingest.model import ClaimData
from ..namespaces import (
    BASE,
    CG,
    CODE,
    DCT,
    MODIFIER,
    SCHEME,
    SH,
    SKOS,
    payer_iri,
)

if TYPE_CHECKING:
    from ..knowledge import CodeSets

Triple = tuple[Node, Node, Node]

SEVERITY_NAMES = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}
# CPT modifiers are two digits (59); HCPCS modifiers have a letter
_CPT_MODIFIER_RE = re.compile(r"^[0-9]{2}$")


# ---------------------------------------------------------------------------------------------
# Enrichment: facts about the codes of a batch, added to the data graph
# ---------------------------------------------------------------------------------------------


def table_facts(
    procedure_codes: set[URIRef],
    modifiers: set[URIRef],
    together: Iterable[set[URIRef]] | None = None,
    *,
    codesets: CodeSets | None,
) -> list[Triple]:
    """Facts from the CMS tables (NCCI PTP/MUE/AOC, DMEPOS) imported into the store of
    `codesets` (`Knowledge.codesets`; None: no facts) for a whole batch.

    Not per code: a PTP edit is found only when both of its codes are in the batch (in one of
    the `together` sets, e.g. one patient's codes, when given), so a caller that memoises facts
    per code must call this once per batch with all the batch's codes."""
    if codesets is None:
        return []
    from .. import tablestore

    return list(tablestore.facts_for(procedure_codes, modifiers, codesets.path, together=together))


def billed_together(claims_graph: Graph) -> list[set[URIRef]]:
    """The procedure codes of each patient (of each claim without a patient) in the graph."""
    groups: dict[Node, set[URIRef]] = defaultdict(set)
    for claim, line in claims_graph.subject_objects(CG.hasLine):
        key = claims_graph.value(claim, CG.patientId) or claim
        for code in claims_graph.objects(line, CG.procedureCode):
            if isinstance(code, URIRef):
                groups[key].add(code)
    return list(groups.values())


def _local(iri: URIRef, namespace: str) -> str | None:
    s = str(iri)
    return unquote(s[len(namespace) :]) if s.startswith(namespace) else None


def enrichment(
    claims_graph: Graph, codesets: CodeSets | None = None, *, tables: bool = True
) -> list[Triple]:
    """Facts the rules need about the codes `claims_graph` uses, beyond the bundled graph.

    Procedure codes get `skos:inScheme` from their IRI (code/hcpcs/ -> scheme:hcpcs); modifiers
    their modifier scheme; ICD-10-CM and ICD-9-CM diagnoses their billable and header spans
    from the bundled ICD index (`icdfacts.diagnosis_facts`); plus what the imported code sets
    and CMS tables of `codesets` (`Knowledge.codesets`; None: none) say about these codes
    (`table_facts`; `tables=False` leaves the tables out, for a caller that memoises facts per
    code and adds `table_facts` per batch). Unknown codes get nothing.
    """
    from ..icdfacts import diagnosis_facts

    out: list[Triple] = []
    procedures = {o for o in claims_graph.objects(None, CG.procedureCode) if isinstance(o, URIRef)}
    modifiers = {o for o in claims_graph.objects(None, CG.modifier) if isinstance(o, URIRef)}
    diagnoses = {o for o in claims_graph.objects(None, CG.hasDiagnosis) if isinstance(o, URIRef)}
    for code in sorted(procedures):
        rest = _local(code, str(CODE))
        system = rest.split("/", 1)[0] if rest and "/" in rest else None
        if system in ("hcpcs", "cpt"):
            out.append((code, SKOS.inScheme, SCHEME[system]))
    for mod in sorted(modifiers):
        notation = _local(mod, str(MODIFIER))
        if notation:
            scheme = "cpt-modifiers" if _CPT_MODIFIER_RE.match(notation) else "hcpcs-modifiers"
            out.append((mod, SKOS.inScheme, SCHEME[scheme]))
    for dx in sorted(diagnoses):
        out.extend(diagnosis_facts(str(dx)))
    if codesets is not None:
        from .. import codestore

        out.extend(codestore.facts_for(procedures, modifiers, codesets.path))
        if tables:
            together = billed_together(claims_graph) or None
            out.extend(table_facts(procedures, modifiers, together, codesets=codesets))
    return out


# ---------------------------------------------------------------------------------------------
# The rulebook
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue (a shape typed cg:Rule)."""

    iri: URIRef
    id: str
    severity: str
    name: str
    message: str
    topic: str  # local name of the cg:Topic, e.g. "oxygen"
    sources: tuple[str, ...]  # titles of the dct:source nodes
    source_iris: tuple[URIRef, ...]
    payers: tuple[str, ...] = ()  # cg:appliesToPayer (local names); empty = every payer
    excluded_payers: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()  # cg:appliesToCode notations
    groups: tuple[str, ...] = ()  # cg:usesCodeGroup local names
    effective_from: str | None = None
    effective_until: str | None = None

    @property
    def source(self) -> str:
        return "; ".join(self.sources)


@dataclass(frozen=True)
class ShapeEntry:
    """A shape that reports findings: a rule itself or one of its parts."""

    iri: URIRef
    rule: Rule
    severity: str
    message: str
    per_run: bool = False  # cg:reportedPerRun: one finding for the whole run (`run_finding`)


def _text(g: Graph, s: Node, p: URIRef) -> str:
    """One literal value, English preferred, deterministic; '' when absent."""
    values = sorted(
        g.objects(s, p), key=lambda v: (getattr(v, "language", None) not in (None, "en"), str(v))
    )
    return " ".join(str(values[0]).split()) if values else ""


def _severity(node: Node | None) -> str | None:
    return SEVERITY_NAMES.get(node) if isinstance(node, URIRef) else None


def _local_name(iri: Node) -> str:
    return unquote(str(iri).rstrip("/").rsplit("/", 1)[-1])


class Rulebook:
    """Rule IRI (and part IRI) -> rule id, severity, name, message, sources, topic, scope."""

    def __init__(self, graph: Graph):
        self.rules: dict[str, Rule] = {}
        self.shapes: dict[URIRef, ShapeEntry] = {}
        # topic local name -> its cg:order (rule listings and reports follow it)
        self.topic_order: dict[str, int] = {
            _local_name(t): int(o.toPython())
            for t, o in graph.subject_objects(CG.order)
            if (t, RDF.type, CG.Topic) in graph and isinstance(o, Literal)
        }
        for r in sorted(s for s in graph.subjects(RDF.type, CG.Rule) if isinstance(s, URIRef)):
            rule = self._rule(graph, r)
            self.rules[rule.id] = rule
            self.shapes[r] = self._entry(graph, r, rule)
        for part in sorted(s for s in graph.subjects(DCT.isPartOf, None) if isinstance(s, URIRef)):
            parent = graph.value(part, DCT.isPartOf)
            if isinstance(parent, URIRef) and parent in self.shapes and part not in self.shapes:
                self.shapes[part] = self._entry(graph, part, self.shapes[parent].rule)

    @staticmethod
    def _rule(g: Graph, r: URIRef) -> Rule:
        sources = sorted(o for o in g.objects(r, DCT.source) if isinstance(o, URIRef))
        titles = tuple(_text(g, s, DCT.title) or _local_name(s) for s in sources)
        code_notes = sorted(
            _text(g, c, SKOS.notation) or _local_name(c) for c in g.objects(r, CG.appliesToCode)
        )
        frm, until = g.value(r, CG.effectiveFrom), g.value(r, CG.effectiveUntil)
        return Rule(
            iri=r,
            id=_text(g, r, DCT.identifier) or _local_name(r),
            severity=_severity(g.value(r, SH.severity)) or "violation",
            name=_text(g, r, SH.name),
            message=_text(g, r, SH.message),
            topic=_local_name(g.value(r, CG.topic) or URIRef("")),
            sources=titles,
            source_iris=tuple(sources),
            payers=tuple(sorted(_local_name(p) for p in g.objects(r, CG.appliesToPayer))),
            excluded_payers=tuple(sorted(_local_name(p) for p in g.objects(r, CG.excludesPayer))),
            codes=tuple(code_notes),
            groups=tuple(sorted(_local_name(x) for x in g.objects(r, CG.usesCodeGroup))),
            effective_from=str(frm) if frm is not None else None,
            effective_until=str(until) if until is not None else None,
        )

    @staticmethod
    def _entry(g: Graph, shape: URIRef, rule: Rule) -> ShapeEntry:
        sev = g.value(shape, SH.severity)
        return ShapeEntry(
            iri=shape,
            rule=rule,
            severity=_severity(sev) or rule.severity,
            message=_text(g, shape, SH.message) or rule.message,
            per_run=(shape, CG.reportedPerRun, Literal(True)) in g,
        )

    def entry(self, shape: URIRef) -> ShapeEntry:
        return self.shapes[shape]

    def sort_key(self, rule: Rule) -> tuple[int, str]:
        """Rules in topic order (cg:order; topics without one last), then by id."""
        return (self.topic_order.get(rule.topic, len(self.topic_order) + 1), rule.id)

    def applies_to_payer(
        self, rule_id: str, payer: str, categories: Mapping[str, AbstractSet[str]]
    ) -> bool:
        """Whether a rule checks claims of `payer` (its categories from `payer_categories`)."""
        rule = self.rules[rule_id]
        cats = categories.get(payer, {payer})
        if rule.excluded_payers and cats & set(rule.excluded_payers):
            return False
        return not rule.payers or bool(cats & set(rule.payers))


def payer_categories(graph: Graph) -> dict[str, frozenset[str]]:
    """Payer local name -> itself and every category it is in (aetna -> {aetna, commercial})."""
    return {
        _local_name(p): frozenset(
            _local_name(c) for c in graph.transitive_objects(p, CG.inCategory) if c
        )
        for p in graph.subjects(RDF.type, CG.Payer)
    }


# ---------------------------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimContext:
    """What a finding says about its claim: identity, origin, payer, line codes and dates."""

    uid: str
    claim: str  # the id as given, or '#<n>'
    file: str | None
    position: str | None
    payer: str | None
    codes: tuple[str | None, ...]  # procedure code of each line, as billed (upper case)
    dates: tuple[str | None, ...]  # service date of each line, as given

    def finding(
        self, line: int | None, rule: str, severity: str, message: str, source: str,
        facts: tuple[tuple[str, str], ...] = (),
    ) -> Finding:  # fmt: skip
        """A finding of this claim (line None: the claim as a whole)."""
        if line is not None and 0 < line <= len(self.codes):
            code, date = self.codes[line - 1], self.dates[line - 1]
        else:
            code, date = None, next((d for d in self.dates if d), None)
        return Finding(
            claim=self.claim, line=line, rule=rule, severity=severity, code=code,
            message=message, source=source, file=self.file, position=self.position,
            payer=self.payer, service_date=date, facts=facts, uid=self.uid,
        )  # fmt: skip


def run_finding(rule: str, severity: str, message: str, source: str) -> Finding:
    """The finding of a shape marked cg:reportedPerRun (a condition of the run, such as a CMS
    table that is not loaded): no claim, no line, no facts, so `finalize` keeps one per run
    whatever number of lines and batches gave it."""
    return Finding(claim=None, line=None, rule=rule, severity=severity, message=message,
                   source=source)  # fmt: skip


_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso(value: object) -> str | None:
    return value if isinstance(value, str) and _ISO_DATE.match(value) else None


def claim_context(claim: ClaimData, payers: AbstractSet[str]) -> ClaimContext:
    """What findings say about `claim`; its payer only when it is one of `payers` (the payer
    ids of the run's Knowledge), so no free text of the claim reaches a report."""
    codes = tuple(
        ln.code.strip().upper() if isinstance(ln.code, str) and ln.code.strip() else None
        for ln in claim.lines
    )
    # only values that cannot hold patient data: ISO dates, claimgraph payer ids
    dates = tuple(_iso(ln.service_date) for ln in claim.lines)
    payer = claim.payer.strip().lower() if isinstance(claim.payer, str) and claim.payer else None
    if payer not in payers:
        payer = None
    return ClaimContext(
        claim.uid or claim.key, claim.key, claim.source, claim.position, payer, codes, dates
    )


def with_uids(claims: Iterable[ClaimData]) -> Iterator[ClaimData]:
    """The claims, each with a uid: claims built outside `ingest.read_claims` (the Python API,
    tests) get one from their position in `claims`, so equal ids never merge two claims."""
    from ..ingest.model import assign_uid

    for n, claim in enumerate(claims, start=1):
        if not claim.uid:
            claim.position = claim.position or f"record {n}"
            assign_uid(claim, claim.source or "records")
        yield claim


def focus_index(contexts: Iterable[ClaimContext]) -> dict[str, tuple[ClaimContext, int | None]]:
    """Claim and line IRI -> (claim context, line number or None)."""
    from ..namespaces import claim_iri

    out: dict[str, tuple[ClaimContext, int | None]] = {}
    for ctx in contexts:
        c = str(claim_iri(ctx.uid))
        out[c] = (ctx, None)
        for n in range(1, len(ctx.codes) + 1):
            out[f"{c}/line/{n}"] = (ctx, n)
    return out


_TEMPLATE_VAR = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")


def template_vars(message: str) -> tuple[str, ...]:
    """The variables a message template substitutes ({?dx}), in order of first use."""
    return tuple(dict.fromkeys(m.group(1) for m in _TEMPLATE_VAR.finditer(message)))


def fill_template(message: str, values: Mapping[str, str]) -> str:
    """The template with its {?var} replaced by `values` (an unbound variable stays as is)."""
    return _TEMPLATE_VAR.sub(lambda m: values.get(m.group(1), m.group(0)), message)


def template_facts(template: str, message: str) -> tuple[tuple[str, str], ...]:
    """The values a filled template received, read back from the message (pyshacl reports the
    filled message only). Empty when the message does not match the template."""
    names = template_vars(template)
    if not names:
        return ()
    parts = _TEMPLATE_VAR.split(" ".join(template.split()))
    pattern = ""
    for i, p in enumerate(parts):
        if i % 2 == 0:
            pattern += re.escape(p)
        else:  # a variable: capture it where it first appears, match it again after
            pattern += f"(?P={p})" if p in parts[1:i:2] else f"(?P<{p}>.*?)"
    m = re.fullmatch(pattern, " ".join(message.split()), re.S)
    return tuple(sorted((n, m.group(n)) for n in names)) if m else ()


def finalize(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (claim, line, rule, severity, facts), in report order."""
    best: dict[tuple[object, ...], Finding] = {}
    for f in findings:
        k = (f.uid or f.claim, f.line, f.rule, f.severity, f.facts)
        old = best.get(k)
        if old is None or f.message < old.message:
            best[k] = f
    return sorted(best.values(), key=sort_key)


def sort_key(
    f: Finding,
) -> tuple[bool, str, str, str, int, str, int, tuple[tuple[str, str], ...]]:
    """Report order: by file, claim, line and rule; findings about the whole run (no file, no
    claim: a table not loaded) last."""
    from ..findings import SEVERITIES

    run_level = f.file is None and f.claim is None
    return (run_level, f.file or "", f.claim or "", f.uid, f.line or 0, f.rule,
            SEVERITIES.index(f.severity), f.facts)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------------------------


T = TypeVar("T")


def patient_batches(claims: Iterable[ClaimData], size: int = 200) -> Iterator[list[ClaimData]]:
    """Claims in batches of about `size`; all claims of one patient land in the same batch."""
    groups: dict[str, list[ClaimData]] = defaultdict(list)
    order: list[str] = []
    for c in claims:
        key = (
            f"p:{c.patient}"
            if isinstance(c.patient, (str, int)) and str(c.patient)
            else f"c:{c.index}:{id(c)}"
        )
        if key not in groups:
            order.append(key)
        groups[key].append(c)
    yield from pack((groups[key] for key in order), size)


def pack(groups: Iterable[list[T]], size: int) -> Iterator[list[T]]:
    """Groups kept whole, packed in order into batches of about `size` items."""
    batch: list[T] = []
    for group in groups:
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


__all__ = [
    "BASE",
    "Rule",
    "Rulebook",
    "ShapeEntry",
    "enrichment",
    "ClaimContext",
    "claim_context",
    "fill_template",
    "table_facts",
    "billed_together",
    "finalize",
    "focus_index",
    "with_uids",
    "template_facts",
    "template_vars",
    "pack",
    "patient_batches",
    "payer_categories",
    "run_finding",
    "payer_iri",
]
