"""`search(text)`: codes whose descriptors match some words, over the curated graph, the
imported code sets (codestore) and ICD-10-CM (claimgraph.icd, when available).

Ranking, simple and fast: an exact code first (score 100); then entries whose label or long
descriptor has every query word (50-80, shorter texts first); then some of the words (up to 40,
by the share matched). A query word matches a word of
the text that starts with it ("concentrat" matches "concentrator").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .knowledge import Knowledge

SYSTEMS = ("hcpcs", "cpt", "icd10cm", "modifier")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    ["a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "per", "the", "to"]
    + ["with", "without"]
)
_SCHEME_SYSTEM = {
    "hcpcs": "hcpcs",
    "cpt": "cpt",
    "icd10cm": "icd10cm",
    "hcpcs-modifiers": "modifier",
    "cpt-modifiers": "modifier",
}


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _curated(knowledge: Knowledge) -> Iterator[dict[str, str]]:
    from rdflib import RDFS

    from .namespaces import CG, SKOS

    g = knowledge.ontology
    for code, scheme in g.subject_objects(SKOS.inScheme):
        system = _SCHEME_SYSTEM.get(str(scheme).rsplit("/", 1)[-1])
        notation = g.value(code, SKOS.notation)
        if system is None or notation is None:
            continue
        label = str(g.value(code, RDFS.label) or "")
        definition = str(g.value(code, SKOS.definition) or "")
        yield {
            "code": str(notation),
            "system": system,
            "label": label,
            "definition": definition,
            "display": definition if g.value(code, CG.shortDescriptor) and definition else label,
        }


def _imported(knowledge: Knowledge) -> Iterator[dict[str, str]]:
    from . import codestore

    if knowledge.codesets is None:
        return
    for e in codestore.current_entries(knowledge.codesets.path):
        yield {**e, "display": e["definition"] or e["label"]}


def _icd() -> Iterator[dict[str, str]]:
    from . import icd

    for code, _billable, text in icd.entries():
        yield {"code": code, "system": "icd10cm", "label": text, "definition": "", "display": text}


def _score(query: str, words: list[str], entry: dict[str, str]) -> float:
    if entry["code"].replace(".", "").upper() == query.replace(".", "").upper().strip():
        return 100.0
    if not words:
        return 0.0
    texts = [t for t in (entry["label"], entry["definition"]) if t]
    if not any(w in t.lower() for t in texts for w in words):  # cheap reject
        return 0.0
    best = 0.0
    for text in texts:
        tokens = _words(text)
        found = sum(1 for w in words if any(t.startswith(w) for t in tokens))
        if found == len(words):  # every word: shorter, more specific texts first
            best = max(best, 80.0 - min(len(tokens), 60) / 2)
        elif found:
            best = max(best, 40.0 * found / len(words))
    return best


def search(
    text: str, system: str | None = None, limit: int = 20, *, knowledge: Knowledge | None = None
) -> list[dict[str, Any]]:
    """Codes matching `text`, best first: dicts with code, system, label, score.

    `system` limits the search to hcpcs, cpt, icd10cm or modifier; None searches all.
    `knowledge` (default: the bundled one) gives the curated codes and the imported code sets.
    """
    from .knowledge import Knowledge

    knowledge = knowledge or Knowledge.bundled()
    if system is not None and system not in SYSTEMS:
        from .errors import ClaimgraphError

        raise ClaimgraphError(f"unknown code system {system!r}; use one of {', '.join(SYSTEMS)}")
    words = [w for w in _words(text) if w not in _STOP] or _words(text)
    sources: list[Iterable[dict[str, str]]] = [_curated(knowledge), _imported(knowledge)]
    if system in (None, "icd10cm"):
        sources.append(_icd())
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for source in sources:
        for entry in source:
            if system is not None and entry["system"] != system:
                continue
            score = _score(text, words, entry)
            if score <= 0:
                continue
            key = (entry["system"], entry["code"])
            if key not in best or score > best[key]["score"]:  # curated first on a tie
                best[key] = {
                    "code": entry["code"],
                    "system": entry["system"],
                    "label": entry["display"],
                    "score": round(score, 2),
                }
    ranked = sorted(best.values(), key=lambda r: (-r["score"], r["system"], r["code"]))
    return ranked[: max(limit, 0)]
