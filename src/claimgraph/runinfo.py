"""The facts of one validation run that a report states: claimgraph version, date, engine,
the rule-set fingerprint, the user's rules and the code-set releases the rules read, all from
the run's `Knowledge`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .knowledge import Knowledge


def code_sets(knowledge: Knowledge) -> list[dict[str, Any]]:
    """The code-set releases the rules read: bundled (the ontology's cg:CodeSetRelease sources)
    and imported (`knowledge.codesets`: HCPCS/CPT releases and CMS table releases)."""
    from rdflib import RDF

    from .namespaces import CG, DCT

    g = knowledge.graph
    out: list[dict[str, Any]] = []
    for rel in sorted(g.subjects(RDF.type, CG.CodeSetRelease), key=str):
        out.append(
            {
                "id": str(rel).rsplit("/", 1)[-1],
                "title": str(g.value(rel, DCT.title) or ""),
                "origin": "bundled",
            }
        )
    if knowledge.codesets is not None:
        for release, title in zip(
            knowledge.codesets.releases, knowledge.codesets.titles, strict=True
        ):
            out.append({"id": release, "title": title, "origin": "imported"})
    return out


def run_info(knowledge: Knowledge, engine: str, now: dt.datetime | None = None) -> dict[str, Any]:
    from . import __version__

    moment = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    return {
        "claimgraph": __version__,
        "date": moment.isoformat(),
        "engine": engine,
        "rules_fingerprint": knowledge.fingerprint,
        "user_rules": [Path(p).name for p in knowledge.rules_files],
        "code_sets": code_sets(knowledge),
    }


__all__ = ["code_sets", "run_info"]
