"""Patient ids that identify no patient (ontology/patients.ttl) and the date window of the
cross-claim rules.

A claim whose patient id is a placeholder (`UNKNOWN`, `0`, `N/A`, ...) is validated as a claim
without a patient: both engines see no `cg:patientId`, so it is never joined with the other
claims that carry the same placeholder. The list is data: `cg:placeholderValue` and
`cg:placeholderPattern` of `cg:PatientIdPlaceholders`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rdflib import Graph

    from .ingest.model import ClaimData


@dataclass(frozen=True)
class Placeholders:
    """The placeholder patient ids of a knowledge graph."""

    values: frozenset[str]
    pattern: re.Pattern[str] | None = None

    def __contains__(self, patient: object) -> bool:
        if patient is None:
            return True
        text = str(patient).strip().upper()
        if text in self.values:
            return True
        return self.pattern is not None and self.pattern.fullmatch(text) is not None


def placeholders(graph: Graph) -> Placeholders:
    """`cg:PatientIdPlaceholders` of `graph`; ValueError if its pattern is not a regex."""
    from rdflib import Literal

    from .namespaces import CG

    node = CG.PatientIdPlaceholders
    values = frozenset(
        str(v).strip().upper() for v in graph.objects(node, CG.placeholderValue)
        if isinstance(v, Literal)
    )  # fmt: skip
    patterns = [str(p) for p in graph.objects(node, CG.placeholderPattern)]
    try:
        pattern = re.compile("|".join(f"(?:{p})" for p in sorted(patterns)), re.IGNORECASE)
    except re.error as e:
        raise ValueError(f"cg:placeholderPattern is not a regular expression: {e}") from None
    return Placeholders(values | {""}, pattern if patterns else None)


def unjoined(
    claims: Iterable[ClaimData], known: Placeholders, on_placeholder: Callable[[], None]
) -> Iterator[ClaimData]:
    """The claims, a placeholder patient id removed (the claim then stands alone);
    `on_placeholder()` is called for each claim that had one (an empty id is not counted)."""
    for claim in claims:
        patient = claim.patient
        if patient is not None and patient in known:
            if str(patient).strip():
                on_placeholder()
            claim.patient = None
        yield claim


def window_days(graph: Graph) -> int:
    """How many days apart two claims of a patient can be for a cross-claim rule to relate
    them: the largest `cg:windowDays` of the rules (NMR-02: 42); the other cross-claim rules
    (ENS-06, the NCCI pairs and MUE) compare claims of the same day."""
    from rdflib import Literal

    from .namespaces import CG

    days = [0]
    for value in graph.objects(None, CG.windowDays):
        if isinstance(value, Literal) and isinstance(value.value, int) and value.value >= 0:
            days.append(value.value)
    return max(days)
