"""The facts of one validation run that a report states: claimgraph version, date, engine,
the rule-set fingerprint and the code-set releases the rules read."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def rules_fingerprint(user_shapes: Sequence[str | Path] = ()) -> str:
    """16 hex digits of a SHA-256 over the bundled ontology and shapes and the user's rules
    files: two reports with the same fingerprint were made with the same rules and facts."""
    from .resources import turtle_files

    h = hashlib.sha256()
    for name in ("ontology", "shapes"):
        for path in turtle_files(name):
            h.update(f"{name}/{path.name}\0".encode())
            h.update(path.read_bytes())
    for given in user_shapes:
        h.update(f"user/{Path(given).name}\0".encode())
        try:
            h.update(Path(given).read_bytes())
        except OSError:
            h.update(b"(unreadable)")
    return h.hexdigest()[:16]


def code_sets() -> list[dict[str, Any]]:
    """The code-set releases the rules read: bundled (the ontology's cg:CodeSetRelease sources)
    and imported (`claimgraph import`, from the store named by $CLAIMGRAPH_STORE)."""
    from rdflib import RDF

    from .kg import knowledge_graph
    from .namespaces import CG, DCT

    g = knowledge_graph()
    out: list[dict[str, Any]] = []
    for rel in sorted(g.subjects(RDF.type, CG.CodeSetRelease), key=str):
        out.append(
            {
                "id": str(rel).rsplit("/", 1)[-1],
                "title": str(g.value(rel, DCT.title) or ""),
                "origin": "bundled",
            }
        )
    try:
        from . import codestore

        for r in codestore.info()["releases"]:
            out.append(
                {"id": str(r.get("release", "")), "title": str(r.get("title") or ""),
                 "origin": "imported"}
            )  # fmt: skip
    except Exception:  # an unreadable store is the code-set commands' business
        pass
    return out


def run_info(
    engine: str, user_shapes: Sequence[str | Path] = (), now: dt.datetime | None = None
) -> dict[str, Any]:
    from . import __version__

    moment = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    return {
        "claimgraph": __version__,
        "date": moment.isoformat(),
        "engine": engine,
        "rules_fingerprint": rules_fingerprint(user_shapes),
        "user_rules": [Path(p).name for p in user_shapes],
        "code_sets": code_sets(),
    }


__all__ = ["code_sets", "rules_fingerprint", "run_info"]
