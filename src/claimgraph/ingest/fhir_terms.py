"""What FHIR code and identifier systems mean to the claim reader, read from the graph.

The data is `cg:fhirSystem` of the code schemes (ontology/codes/schemes.ttl) and the
`cg:FhirCodeSystem` / `cg:FhirCode` facts of ontology/fhir.ttl: which systems hold procedure
codes, modifiers and diagnoses, which systems or codes say the payer (the CMS Blue Button systems:
Medicare; Source of Payment Typology coverage types), which identifier systems hold payer names.
Only these two small files are parsed (once a run), never the whole knowledge graph; what a payer
name means is the one payer mapping's (ingest/payers.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from rdflib import RDF, Graph, URIRef
from rdflib.namespace import SKOS

from ..namespaces import CG
from ..resources import data_dir

PROCEDURE_SCHEMES = frozenset({"hcpcs", "cpt", "hcpcs-modifiers", "cpt-modifiers"})
DIAGNOSIS_SCHEMES = frozenset({"icd10cm", "icd9cm"})
SNOMED_CONCEPT = "http://snomed.info/id/"  # SNOMED CT's URI form of a concept


def system_key(system: Any) -> str:
    """A system URI compared without its http/https scheme and trailing slash."""
    return _system_key(system) if isinstance(system, str) else ""


@lru_cache(maxsize=1024)
def _system_key(system: str) -> str:
    return system.strip().split("://", 1)[-1].rstrip("/")


@dataclass(frozen=True)
class FhirTerms:
    procedure: dict[str, str]  # system key -> scheme notation (hcpcs, cpt)
    diagnosis: dict[str, str]  # system key -> icd10cm / icd9cm
    body_site: frozenset[str]  # system keys of coded body sites (SNOMED CT)
    place_of_service: frozenset[str]  # system keys of CMS place-of-service codes
    system_payer: dict[str, str]  # exact system key -> payer id
    prefix_payer: tuple[tuple[str, str], ...]  # system key start -> payer id
    code_payer: dict[tuple[str, str], str]  # (system key, code) -> payer id
    hierarchical: frozenset[str]  # system keys whose codes cover the codes starting with them
    payer_name_systems: frozenset[str]  # identifier systems whose values are payer names

    def payer_of_system(self, system: Any) -> str | None:
        key = system_key(system)
        if not key:
            return None
        found = self.system_payer.get(key)
        if found:
            return found
        return next((p for start, p in self.prefix_payer if key.startswith(start)), None)

    def payer_of_code(self, system: Any, code: Any) -> str | None:
        """The payer a (system, code) says, by the code (hierarchically where the system is)."""
        key = system_key(system)
        if not isinstance(code, str) or not code.strip():
            return None
        code = code.strip()
        found = self.code_payer.get((key, code))
        if found is None and key in self.hierarchical:
            found = next(
                (p for (k, c), p in self.code_payer.items() if k == key and code.startswith(c)),
                None,
            )
        return found or self.payer_of_system(system)


def _notation(g: Graph, node: Any) -> str:
    return str(g.value(node, SKOS.notation) or "").strip()


@cache
def fhir_terms() -> FhirTerms:
    """The reader's view of the FHIR systems (parsed once)."""
    from ..kg import parse_turtle

    g = Graph()
    root = data_dir("ontology")
    parse_turtle(g, root / "codes" / "schemes.ttl")
    parse_turtle(g, root / "fhir.ttl")
    procedure: dict[str, str] = {}
    diagnosis: dict[str, str] = {}
    body: set[str] = set()
    pos: set[str] = set()
    for scheme, system in g.subject_objects(CG.fhirSystem):
        _place(_notation(g, scheme), system_key(str(system)), procedure, diagnosis, body, pos)
    system_payer: dict[str, str] = {}
    prefixes: list[tuple[str, str]] = []
    hierarchical: set[str] = set()
    names: set[str] = set()
    keys: dict[Any, list[str]] = {}
    for fs in g.subjects(RDF.type, CG.FhirCodeSystem):
        uris = [system_key(str(u)) for u in g.objects(fs, CG.systemUri)]
        keys[fs] = uris
        payer = g.value(fs, CG.impliesPayer)
        for key in uris:
            for read_as in g.objects(fs, CG.readAs):
                _place(str(read_as), key, procedure, diagnosis, body, pos)
            if payer is not None:
                system_payer[key] = _local(payer)
            if _true(g, fs, CG.hierarchicalCodes):
                hierarchical.add(key)
            if _true(g, fs, CG.valueIsPayerName):
                names.add(key)
        for start in g.objects(fs, CG.systemPrefix):
            if payer is not None:
                prefixes.append((system_key(str(start)), _local(payer)))
    code_payer: dict[tuple[str, str], str] = {}
    for fc in g.subjects(RDF.type, CG.FhirCode):
        payer = g.value(fc, CG.impliesPayer)
        code = _notation(g, fc)
        if payer is None or not code:
            continue
        for fs in g.objects(fc, CG.inFhirSystem):
            for key in keys.get(fs, []):
                code_payer[(key, code)] = _local(payer)
    return FhirTerms(
        procedure=procedure,
        diagnosis=diagnosis,
        body_site=frozenset(body),
        place_of_service=frozenset(pos),
        system_payer=system_payer,
        prefix_payer=tuple(sorted(prefixes, key=lambda p: -len(p[0]))),
        code_payer=code_payer,
        hierarchical=frozenset(hierarchical),
        payer_name_systems=frozenset(names),
    )


def _place(
    scheme: str,
    key: str,
    procedure: dict[str, str],
    diagnosis: dict[str, str],
    body: set[str],
    pos: set[str],
) -> None:
    if scheme in PROCEDURE_SCHEMES:
        procedure.setdefault(key, scheme.removesuffix("-modifiers"))
    elif scheme in DIAGNOSIS_SCHEMES:
        diagnosis[key] = scheme
    elif scheme == "snomed":
        body.add(key)
    elif scheme == "place-of-service":
        pos.add(key)


def _true(g: Graph, node: Any, prop: URIRef) -> bool:
    value = g.value(node, prop)
    return value is not None and value.toPython() is True


def _local(iri: Any) -> str:
    return str(iri).rstrip("/").rsplit("/", 1)[-1] if isinstance(iri, URIRef) else str(iri)
