"""Comparing query answers across engines: a term as both rdflib and Oxigraph report it."""

from __future__ import annotations

from typing import Any

from rdflib import BNode, Literal, URIRef

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def norm(term: Any) -> tuple[str, ...] | None:
    """An rdflib term as a tuple: xsd:string literals as plain ones, blank nodes unnamed."""
    if term is None:
        return None
    if isinstance(term, URIRef):
        return ("iri", str(term))
    if isinstance(term, BNode):
        return ("bnode",)
    assert isinstance(term, Literal)
    if term.language:
        return ("lit", str(term), "@" + term.language.lower())
    return ("lit", str(term), str(term.datatype) if term.datatype else XSD_STRING)
