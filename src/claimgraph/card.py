"""The code card: everything the graph knows about one code, built from the named queries."""

from __future__ import annotations

import datetime as dt
import difflib
import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ClaimgraphError
from .query import bind_params, code_candidates, compact, compact_iri, get_query, run_named

if TYPE_CHECKING:
    import pyoxigraph
    from rdflib import Graph

    from .knowledge import Knowledge


@dataclass
class Card:
    code: str
    iri: str
    scheme: str = ""
    official_descriptor: str = ""
    short_descriptor: str = ""
    label: str = ""
    effective_from: str = ""
    effective_until: str = ""
    flags: list[str] = field(default_factory=list)
    payer: str = ""
    code_sources: list[str] = field(default_factory=list)
    # each entry: the grouping fields as strings, the collected fields as lists of strings
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    misattributions: list[dict[str, Any]] = field(default_factory=list)
    modifiers: list[dict[str, Any]] = field(default_factory=list)
    documentation: list[dict[str, Any]] = field(default_factory=list)
    denial_reasons: list[dict[str, Any]] = field(default_factory=list)
    related_codes: list[dict[str, Any]] = field(default_factory=list)
    diagnoses: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    # from the local code-set store (codestore); None when there is no store
    in_curated_graph: bool = True
    imported: list[dict[str, Any]] | None = None
    # diagnosis codes, from the bundled ICD releases (claimgraph.icd); None for other codes
    history: list[dict[str, Any]] | None = None  # billable and header spans, oldest first
    hierarchy: list[dict[str, Any]] | None = None  # chapter, block, category, subcategories
    # `claimgraph code X --on DATE`: what the release in force (or the card's dates) say then
    on: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The card as JSON-ready data; without a store, exactly the curated card's keys (and
        for a diagnosis code its history and hierarchy, with --on what holds on that day)."""
        out = asdict(self)
        if self.imported is None:
            del out["imported"]
            if self.in_curated_graph:
                del out["in_curated_graph"]
        for key in ("history", "hierarchy", "on"):
            if out[key] is None:
                del out[key]
        return out

    @property
    def curated_label(self) -> str:
        return f"curated ({'; '.join(self.code_sources) or 'claimgraph'})"


# scheme labels for codes that only the imported store knows (codestore's system names)
_SYSTEM_LABELS = {"hcpcs": "HCPCS Level II", "cpt": "CPT", "modifier": "modifier"}
NOT_CURATED = (
    "not in the curated graph: no rules, relations or article statements; "
    "descriptor and dates from the imported code set"
)
NOT_CURATED_ICD = (
    "not in the curated graph: no rules, relations or article statements; "
    "title and dates from the bundled ICD releases"
)
ICD_SOURCES = {
    "icd10cm": "ICD-10-CM releases FY2016 to FY2026 (CDC NCHS, CMS)",
    "icd9cm": "ICD-9-CM diagnosis codes, CMS versions 23 to 32 (FY2006 to FY2015)",
}


class _Reader:
    """Runs the named queries on rdflib (a Graph) or pyoxigraph (a Store, the fast default).

    Both give the same rows: tests/test_queries.py runs every named query on both engines.
    """

    def __init__(self, graph: Graph | None = None, store: pyoxigraph.Store | None = None):
        self.graph = graph
        self.store = store

    def rows(self, name: str, params: dict[str, str]) -> list[dict[str, str]]:
        """A named query's rows as plain strings ('' for unbound); IRIs as prefixed names."""
        if self.graph is not None:
            result = run_named(name, params, self.graph)
            return [{k: compact(v) for k, v in row.items()} for row in result.dicts()]
        import pyoxigraph as ox
        from rdflib import Literal

        q = get_query(name)
        subs: dict[Any, Any] = {}
        for key, term in bind_params(params, q.params).items():
            if isinstance(term, Literal):
                subs[ox.Variable(key)] = ox.Literal(str(term))
            else:
                subs[ox.Variable(key)] = ox.NamedNode(str(term))
        assert self.store is not None
        solutions = self.store.query(q.text, substitutions=subs)
        names = [v.value for v in solutions.variables]  # type: ignore[union-attr]
        return [{n: _ox_text(sol[n]) for n in names} for sol in solutions]  # type: ignore[union-attr]

    def objects(self, subject: str | None, predicate: str) -> list[str]:
        """Lexical forms / IRIs of the objects of (subject, predicate, ?)."""
        if self.graph is not None:
            from rdflib import URIRef

            s = URIRef(subject) if subject else None
            return [str(o) for o in self.graph.objects(s, URIRef(predicate))]
        import pyoxigraph as ox

        assert self.store is not None
        s2 = ox.NamedNode(subject) if subject else None
        quads = self.store.quads_for_pattern(s2, ox.NamedNode(predicate), None)
        return [_ox_text(q.object, short=False) for q in quads]

    def subjects(self, predicate: str, obj: str) -> list[str]:
        if self.graph is not None:
            from rdflib import URIRef

            return [str(s) for s in self.graph.subjects(URIRef(predicate), URIRef(obj))]
        import pyoxigraph as ox

        assert self.store is not None
        pattern = self.store.quads_for_pattern(None, ox.NamedNode(predicate), ox.NamedNode(obj))
        return [_ox_text(q.subject, short=False) for q in pattern]


def _ox_text(term: Any, short: bool = True) -> str:
    """A pyoxigraph term as text: IRIs (prefixed when `short`), literals' lexical forms."""
    import pyoxigraph as ox

    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return compact_iri(term.value) if short else term.value
    return str(getattr(term, "value", term))


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _source_label(row: dict[str, str]) -> str:
    return row.get("sourceTitle") or row.get("source", "")


def _grouped(
    rows: list[dict[str, str]], key: tuple[str, ...], collect: dict[str, str]
) -> list[dict[str, Any]]:
    """Merge rows that agree on `key`; `collect` maps an output list field to a row field
    ('source' collects source titles)."""
    merged: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in rows:
        k = tuple(row.get(f, "") for f in key)
        entry = merged.setdefault(
            k, {**{f: row.get(f, "") for f in key}, **{c: [] for c in collect}}
        )
        for out, src in collect.items():
            value = _source_label(row) if src == "source" else row.get(src, "")
            if value and value not in entry[out]:
                entry[out].append(value)
    return list(merged.values())


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def imported_descriptions(
    code: str, codeset_store: str | os.PathLike[str] | None
) -> list[dict[str, Any]] | None:
    """What the imported code-set releases in the store folder `codeset_store` say about
    `code`, oldest release first (JSON-ready); None when there is no store (nothing is
    created or opened then)."""
    from pathlib import Path

    from . import codestore

    if codeset_store is None or not (Path(codeset_store) / codestore.POINTER).is_file():
        return None

    def text(value: Any) -> str:
        return "" if value is None else str(value)  # dates as ISO text

    out = []
    for row in codestore.describe(code, codeset_store):
        out.append(
            {
                "release": text(row["release"]),
                "release_title": text(row.get("title")),
                "issued": text(row["issued"]),
                "current": bool(row["current"]),
                "iri": text(row["code"]),
                "system": text(row["system"]),
                "descriptor": text(row["definition"] or row["label"]),
                "short_descriptor": text(row["short"]),
                "added": text(row["from"]),
                "action": text(row["action"]),
                "action_effective": text(row["action_date"]),
                "terminated": text(row["until"]),
            }
        )
    return out


def _imported_notations(codeset_store: str | os.PathLike[str]) -> set[str]:
    """Every code the imported releases know (for close matches)."""
    from . import codestore

    return {e["code"] for e in codestore.current_entries(codeset_store)}


def _store_card(code: str, rows: list[dict[str, Any]], payer: str | None) -> Card:
    """The card of a code only the imported store knows: descriptor, dates, releases."""
    iri = rows[-1]["iri"]
    rows = [{**r, "differs_from_curated": None} for r in rows if r["iri"] == iri]
    now = next((r for r in reversed(rows) if r["current"]), rows[-1])
    titles = _unique([r["release_title"] or r["release"] for r in rows])
    return Card(
        code=code.strip().upper(),
        iri=iri,
        scheme=_SYSTEM_LABELS.get(now["system"], now["system"]),
        official_descriptor=now["descriptor"],
        short_descriptor=now["short_descriptor"],
        label=now["short_descriptor"] or now["descriptor"],
        effective_from=now["added"],
        effective_until=now["terminated"],
        payer=payer or "",
        code_sources=[now["release_title"] or now["release"]],
        sources=titles,
        in_curated_graph=False,
        imported=rows,
    )


def build_card(
    code: str,
    payer: str | None = None,
    graph: Graph | None = None,
    store: pyoxigraph.Store | None = None,
    *,
    knowledge: Knowledge | None = None,
    use_codesets: bool = True,
    on: dt.date | None = None,
) -> Card:
    """The card of `code` (E1392, 97112, M54.59 ...); `payer` narrows rules to one payer.

    Reads `graph` (rdflib) or `store` (pyoxigraph); by default `knowledge.store` (default:
    the bundled knowledge). With `use_codesets`, adds what the imported releases of
    `knowledge.codesets` say, and gives a code only they know a card of its own; the curated
    facts stay as they are. A diagnosis code (ICD-10-CM, or ICD-9-CM) gets its history and
    hierarchy from the bundled ICD releases, and a card of its own when the curated graph does
    not have it. `on` adds what holds on that day.
    """
    from .knowledge import Knowledge

    knowledge = knowledge or Knowledge.bundled()
    card = _build_card(code, payer, graph, store, knowledge, use_codesets, on)
    if on is not None and card.on is None:
        card.on = _dated(card, on)
    return card


def _build_card(
    code: str,
    payer: str | None,
    graph: Graph | None,
    store: pyoxigraph.Store | None,
    knowledge: Knowledge,
    use_codesets: bool,
    on: dt.date | None,
) -> Card:
    from .namespaces import ICD10CM, SKOS

    codeset_store = knowledge.codesets.path if knowledge.codesets else None
    if graph is None and store is None:
        store = knowledge.store
    reader = _Reader(graph, store)
    found = [c for c in code_candidates(code) if reader.objects(str(c), str(SKOS.notation))]
    imported = imported_descriptions(code, codeset_store) if use_codesets else None
    diagnosis = _diagnosis(code, on, curated=[str(c) for c in found])
    if not found and imported:
        _check_payer(reader, payer)
        return _store_card(code, imported, payer)
    if not found and diagnosis is not None:
        _check_payer(reader, payer)
        return _icd_card(diagnosis, payer, on)
    if not found:
        notations = set(reader.objects(None, str(SKOS.notation)))
        if imported is not None and codeset_store:  # a store: its codes are candidates too
            notations |= _imported_notations(codeset_store)
        close = difflib.get_close_matches(code.strip().upper(), sorted(notations), n=5, cutoff=0.6)
        hint = (
            f"; did you mean {', '.join(close)}?" if close else "; try: claimgraph code search TEXT"
        )
        raise ClaimgraphError(f"unknown code '{code}'{hint}")
    iri = str(found[0])
    payers = _check_payer(reader, payer)

    params = {"code": compact_iri(iri)}
    with_payer = {**params, **({"payer": payer} if payer else {})}
    facts = reader.rows("code-card", params)
    first = facts[0] if facts else {}
    card = Card(
        code=first.get("notation", code),
        iri=iri,
        scheme=first.get("schemeLabel") or first.get("scheme", ""),
        official_descriptor=first.get("officialDescriptor", ""),
        short_descriptor=first.get("shortDescriptor", ""),
        label=first.get("label", ""),
        effective_from=first.get("effectiveFrom", ""),
        effective_until=first.get("effectiveUntil", ""),
        payer=payer or "",
        code_sources=_unique([_source_label(r) for r in facts]),
    )
    if imported is not None:
        card.imported = [r for r in imported if r["iri"] == iri]
        for r in card.imported:
            r["differs_from_curated"] = not _same_text(
                r["descriptor"], card.official_descriptor or card.label
            ) or bool(
                r["short_descriptor"]
                and card.short_descriptor
                and not _same_text(r["short_descriptor"], card.short_descriptor)
            )
    for flag, text in (
        ("isRental", "rental"),
        ("isTimed", "timed (per 15 minutes)"),
        ("isAttended", "attended (one-on-one)"),
    ):
        if first.get(flag) == "true":
            card.flags.append(text)
    if first.get("billable") == "false":
        until = first.get("billableUntil")
        card.flags.append("not billable" + (f" (billable until {until})" if until else ""))
    elif first.get("billable") == "true":
        card.flags.append("billable")

    disagreements = reader.rows("article-disagreements", params)
    for row in disagreements:
        descriptor = row["correctDescriptor"]
        row["correct"] = row["correctNotation"] + (f" ({descriptor})" if descriptor else "")
    card.disagreements = _grouped(
        disagreements, ("stated",), {"correctCodes": "correct", "sources": "source"}
    )
    card.misattributions = _grouped(
        [
            r
            for r in reader.rows("article-disagreements", {})
            if r["correctCode"] == compact_iri(iri)
        ],
        ("notation", "stated"),
        {"sources": "source"},
    )
    card.modifiers = _grouped(
        reader.rows("modifiers", with_payer),
        ("requirement", "ruleId", "severity"),
        {"modifiers": "modifier", "payers": "payer", "sources": "source"},
    )
    card.documentation = _grouped(
        reader.rows("documentation-checklist", with_payer),
        ("document", "documentLabel"),
        {"rules": "ruleId", "payers": "payer", "basis": "basis", "sources": "source"},
    )
    card.denial_reasons = _grouped(
        reader.rows("denial-reasons", params), ("reason", "explanation"), {"sources": "source"}
    )
    card.related_codes = _grouped(
        reader.rows("related-codes", params),
        ("relation", "relatedNotation", "relatedDescriptor"),
        {"reasons": "reason", "sources": "source"},
    )
    card.diagnoses = _grouped(
        reader.rows("diagnoses", params),
        ("role", "relatedNotation", "relatedDescriptor"),
        {"reasons": "reason", "sources": "source"},
    )
    card.rules = _grouped(
        reader.rows("rules-for-code", with_payer),
        ("ruleId", "severity", "message", "effectiveFrom", "effectiveUntil"),
        {"payers": "payer", "sources": "source"},
    )
    for group in (card.modifiers, card.documentation, card.rules):
        for entry in group:
            names = [n.removeprefix("payer:") for n in entry["payers"]]
            entry["payers"] = (
                ["all payers"] if payer is None and set(names) == set(payers) else names
            )
    groups = (
        card.disagreements,
        card.misattributions,
        card.modifiers,
        card.documentation,
        card.denial_reasons,
        card.related_codes,
        card.diagnoses,
        card.rules,
    )
    card.sources = _unique(
        card.code_sources + [s for group in groups for entry in group for s in entry["sources"]]
    )
    if diagnosis is not None and iri.startswith(str(ICD10CM)):
        _add_icd(card, diagnosis, on)
    return card


# ---------------------------------------------------------------------------------------------
# Diagnosis codes: history, hierarchy and status on a day, from the bundled ICD releases


def _diagnosis(code: str, on: dt.date | None, curated: list[str]) -> Any:
    """The ICD index entry of `code` (icd.Code), or None: ICD-10-CM, else ICD-9-CM for a code
    that starts with a digit or is written with its dot (E849.0, V30.00: undotted, E8490 is
    also shaped like a HCPCS code); with `on` before 2015-10-01, ICD-9-CM first."""
    from . import icd
    from .namespaces import ICD10CM

    text = code.strip().upper()
    if not text or (curated and not any(c.startswith(str(ICD10CM)) for c in curated)):
        return None
    early = on is not None and icd.system_on(on) == "icd9cm"
    systems = [] if text[0].isdigit() else ["icd10cm"]
    if not curated and (text[0].isdigit() or "." in text or early):
        systems.insert(0 if early else len(systems), "icd9cm")
    for system in systems:
        entry = icd.find(text, system)
        if entry is not None:
            return entry
    return None


def _span_row(span: Any) -> dict[str, Any]:
    return {
        "status": span.status,
        "from": span.start.isoformat() if span.start else "",
        "until": span.end.isoformat() if span.end else "",
        "first_release": span.first.id,
        "ended_by": span.ended_by.id if span.ended_by else "",
    }


def _add_icd(card: Card, entry: Any, on: dt.date | None) -> None:
    from . import icd

    card.sources = _unique([*card.sources, ICD_SOURCES[entry.system]])
    card.history = [_span_row(s) for s in sorted(entry.spans, key=lambda s: s.start or dt.date.min)]
    card.hierarchy = []
    h = icd.hierarchy(entry.code) if entry.system == "icd10cm" else None
    if h is not None:
        for g in (h.chapter, h.block, *reversed(h.ancestors)):
            if g is not None:
                card.hierarchy.append({"kind": g.kind, "id": g.id, "title": g.title,
                                       "range": g.range})  # fmt: skip
    if on is not None:
        st = icd.status(entry.code, on, entry.system)
        card.on = {
            "date": on.isoformat(),
            "system": entry.system,
            "status": st.state,
            "billable": st.billable,
            "release": st.release.label if st.release else "",
            "explanation": st.explain(),
            "children": list(st.children),
        }


def _icd_card(entry: Any, payer: str | None, on: dt.date | None) -> Card:
    """The card of a diagnosis code only the bundled ICD releases know."""
    from . import icd
    from .namespaces import diagnosis_iri

    latest = icd.releases(entry.system)[-1]
    span = next((s for s in entry.spans if s.covers(latest.effective)), None)
    if entry.system == "icd9cm":
        flag = "ICD-9-CM: valid for services before 2015-10-01"
    elif span is None:
        flag = f"not in the {latest.id} release"
    else:
        flag = "billable" if span.status == icd.BILLABLE else "not billable (a category header)"
        flag += f" in the {latest.id} release"
    card = Card(
        code=entry.code,
        iri=str(diagnosis_iri(entry.code, entry.system)),
        scheme=icd.SYSTEM_NAMES[entry.system],
        official_descriptor=entry.title,
        short_descriptor=entry.short_title if entry.short_title != entry.title else "",
        label=entry.title,
        flags=[flag],
        payer=payer or "",
        code_sources=[ICD_SOURCES[entry.system]],
        sources=[ICD_SOURCES[entry.system]],
        in_curated_graph=False,
    )
    _add_icd(card, entry, on)
    return card


def _dated(card: Card, on: dt.date) -> dict[str, Any]:
    """What a non-diagnosis card's dates say about a day (in force, not yet, ended)."""
    day = on.isoformat()
    if card.effective_from and day < card.effective_from:
        status, text = "not yet valid", f"not yet effective on {day} (from {card.effective_from})"
    elif card.effective_until and day > card.effective_until:
        status, text = "terminated", f"terminated on {day} (until {card.effective_until})"
    else:
        status = "in force"
        text = f"in force on {day}" + ("" if card.effective_from or card.effective_until
                                        else " (no dates on record)")  # fmt: skip
    return {"date": day, "status": status, "explanation": f"{card.code} is {text}."}


def _check_payer(reader: _Reader, payer: str | None) -> list[str]:
    """The known payers' names; an unknown `payer` is an error."""
    from .namespaces import CG, payer_iri

    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    payer_iris = reader.subjects(rdf_type, str(CG.Payer))
    payers = sorted(compact_iri(p).removeprefix("payer:") for p in payer_iris)
    if payer is not None and str(payer_iri(payer)) not in payer_iris:
        raise ClaimgraphError(
            f"unknown payer '{payer}'; known payers: {', '.join(payers) or 'none'}"
        )
    return payers


def release_label(row: dict[str, Any]) -> str:
    """'imported release cms-hcpcs-2020-01 (CMS HCPCS Level II file, January 2020)'."""
    title = row.get("release_title") or ""
    return f"imported release {row['release']}" + (f" ({title})" if title else "")


def _imported_lines(card: Card) -> list[str]:
    """The card's imported releases, as rich markup lines (escaped)."""
    from rich.markup import escape as e

    assert card.imported is not None
    lines: list[str] = []
    if card.in_curated_graph and any(r.get("differs_from_curated") for r in card.imported):
        lines.append(
            f"[bold]{e(card.curated_label)}[/bold]: "
            f'"{e(card.official_descriptor or card.label)}"'
            + (f' (short: "{e(card.short_descriptor)}")' if card.short_descriptor else "")
        )
    for r in card.imported:
        if not card.in_curated_graph:
            verdict = ""
        elif r.get("differs_from_curated"):
            verdict = " [yellow](differs from the curated descriptor)[/yellow]"
        else:
            verdict = " [dim](same as the curated descriptor)[/dim]"
        details = [f'short: "{e(r["short_descriptor"])}"'] if r["short_descriptor"] else []
        details += [f"added {r['added']}"] if r["added"] else []
        if r["action_effective"] and r["action_effective"] != r["added"]:
            details.append(f"action {e(r['action'])} effective {r['action_effective']}")
        details += [f"[bold]terminated {r['terminated']}[/bold]"] if r["terminated"] else []
        lines.append(
            f"[bold]{e(release_label(r))}[/bold]"
            + (" [green]current[/green]" if r["current"] else "")
            + f': "{e(r["descriptor"])}"'
            + verdict
            + (f"\n      {'; '.join(details)}" if details else "")
        )
    return lines


def _history_line(h: dict[str, Any]) -> str:
    """'billable from 2015-10-01 to 2021-09-30 (FY2016; ended by FY2022)'."""
    what = "billable" if h["status"] == "billable" else "category header (not billable)"
    start = f"from {h['from']}" if h["from"] else "from the first release on record"
    end = f" to {h['until']}" if h["until"] else " (still so in the latest release)"
    releases = f"first in {h['first_release']}" + (
        f", ended by {h['ended_by']}" if h["ended_by"] else ""
    )
    return f"{what} {start}{end} [dim]({releases})[/dim]"


def render(card: Card) -> None:
    """Print the card for people (rich)."""
    from rich.console import Console
    from rich.markup import escape as e
    from rich.table import Table

    console = Console()

    def j(values: list[str], sep: str = ", ") -> str:
        return e(sep.join(values))

    def cited(sources: list[str]) -> str:
        return f" [dim]- {j(sources, '; ')}[/dim]" if sources else ""

    head = f"[bold]{e(card.code)}[/bold]  {e(card.official_descriptor or card.label)}"
    console.print(head + (f"  [dim]({e(card.scheme)})[/dim]" if card.scheme else ""))
    if card.short_descriptor:
        console.print(f"  short descriptor: {e(card.short_descriptor)}")
    dates = [f"effective from {card.effective_from}"] if card.effective_from else []
    dates += [f"until {card.effective_until}"] if card.effective_until else []
    if dates or card.flags:
        console.print("  " + "; ".join(dates + card.flags))
    if card.code_sources:
        console.print(f"  source: {e('; '.join(card.code_sources))}")
    if card.on is not None:
        good = card.on.get("billable") or card.on["status"] == "in force"
        style = "green" if good else "red"
        release = card.on.get("release") if not card.on.get("billable") else ""
        console.print(
            f"  [bold {style}]on {card.on['date']}[/bold {style}]: {e(card.on['explanation'])}"
            + (f" [dim](release in force: {e(release)})[/dim]" if release else "")
        )
    if not card.in_curated_graph:
        note = NOT_CURATED_ICD if card.history is not None else NOT_CURATED
        console.print(f"  [yellow]{e(note)}[/yellow]")
    elif card.imported == []:
        console.print("  [dim]imported code sets: not in any imported release[/dim]")

    def section(title: str, lines: list[str]) -> None:
        if lines:
            console.print(f"\n[bold underline]{e(title)}[/bold underline]")
            for line in lines:
                console.print(f"  - {line}")

    if card.imported:
        section("Official code sets (imported releases)", _imported_lines(card))
    if card.history is not None:
        section("History (bundled ICD releases)", [_history_line(h) for h in card.history])
    if card.hierarchy:
        section(
            "Hierarchy",
            [f"{h['kind']} [bold]{e(h['id'])}[/bold]" + (f" ({e(h['range'])})"
             if h["range"] and h["range"] != h["id"] else "") + f": {e(h['title'])}"
             for h in card.hierarchy],
        )  # fmt: skip
    section(
        "What the articles say",
        [
            f'[yellow]article says[/yellow] {e(card.code)} is "{e(d["stated"])}" '
            "[yellow](disagrees with the official descriptor)[/yellow]"
            + (
                f"; the code for that is {j(d['correctCodes'], ' or ')}"
                if d["correctCodes"]
                else ""
            )
            + f" [dim]- {j(d['sources'], '; ')}[/dim]"
            for d in card.disagreements
        ]
        + [
            f'[yellow]article says[/yellow] {e(d["notation"])} is "{e(d["stated"])}"; '
            f"that description fits {e(card.code)} [dim]- {j(d['sources'], '; ')}[/dim]"
            for d in card.misattributions
        ],
    )
    section(
        "Modifiers",
        [
            ("required, at least one of: " if m["requirement"] == "required" else "forbidden: ")
            + f"[bold]{j(m['modifiers'])}[/bold]  {e(m['ruleId'])}"
            + f" ({e(m['severity'])}; {j(m['payers'])})"
            + cited(m["sources"])
            for m in card.modifiers
        ],
    )
    section(
        "Documentation to keep on file",
        [
            f"{e(d['documentLabel'] or d['document'])}"
            + (f"  rules {j(d['rules'])} ({j(d['payers'])})" if d["rules"] else "")
            + ("  expected for the code" if "expected for the code" in d["basis"] else "")
            for d in card.documentation
        ],
    )
    section(
        "Common denial reasons",
        [
            f"{e(d['reason'])}"
            + (f": {e(d['explanation'])}" if d["explanation"] else "")
            + cited(d["sources"])
            for d in card.denial_reasons
        ],
    )
    section(
        "Related codes",
        [
            f"{e(r['relation'])} [bold]{e(r['relatedNotation'])}[/bold]"
            + (f" ({e(r['relatedDescriptor'])})" if r["relatedDescriptor"] else "")
            + (f": {j(r['reasons'])}" if r["reasons"] else "")
            + cited(r["sources"])
            for r in card.related_codes
        ],
    )
    section(
        "Diagnoses",
        [
            f"{e(d['role'])} [bold]{e(d['relatedNotation'])}[/bold]"
            + (f" ({e(d['relatedDescriptor'])})" if d["relatedDescriptor"] else "")
            + (f": {j(d['reasons'])}" if d["reasons"] else "")
            + cited(d["sources"])
            for d in card.diagnoses
        ],
    )
    if card.rules:
        title = "Rules that apply" + (f" (payer: {card.payer})" if card.payer else "")
        console.print(f"\n[bold underline]{e(title)}[/bold underline]")
        table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1))
        for column in ("rule", "severity", "payers", "message", "source"):
            table.add_column(column, overflow="fold")
        for r in card.rules:
            until = f" (until {r['effectiveUntil']})" if r["effectiveUntil"] else ""
            table.add_row(
                e(r["ruleId"]),
                e(r["severity"]),
                j(r["payers"]),
                e(r["message"] + until),
                j(r["sources"], "; "),
            )
        console.print(table)
    section("Sources", [e(s) for s in card.sources])
