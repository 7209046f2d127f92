"""The one payer mapping every input format goes through (docs/formats.md, "Payers").

Readers say what the input states about the payer and leave the decision here:

- `ClaimData.payer`: a payer the input names as such (the JSON/CSV `payer` field, the local name
  of an RDF `cg:payer` IRI, a payer a FHIR code system or code says, a tabular profile's
  default). A claimgraph payer id (case-insensitive) is taken as it is (a category narrowed by
  `payer_name` to a payer of it); any other text is treated as a payer name.
- `ClaimData.payer_name`: a payer name (X12 NM1*PR, FHIR insurer display or Organization.name).
- `ClaimData.filing_indicator`: an X12 claim filing indicator code (SBR09; a FHIR reader may
  map its coverage type to one).

`resolve_payer(claim, default)` then sets `claim.payer` to a payer id: from the filing
indicator when there is one (a recognised carrier in the payer name narrows a commercial plan
type: CI or HM with "Aetna" is aetna), else from the name by the payer name patterns (the
longest pattern found decides), else `default` when the input says nothing about the payer, else
"unrecognised" (STRUCT-05 reports it; only payer-independent rules apply). The mapping itself
is data: ontology/payers.ttl.
"""

from __future__ import annotations

from functools import lru_cache

from .facts import normalise_name, payer_facts
from .model import ClaimData

UNRECOGNISED = "unrecognised"  # payer:unrecognised (ontology/payers.ttl)
OTHER = "other"  # payer:other: a filing indicator that names no kind of plan (ZZ, 11)


def payer_ids() -> frozenset[str]:
    """Every payer id of the graph (medicare, commercial, tricare, ...)."""
    return payer_facts().payers


def payer_from_name(name: str) -> str:
    """`Blue Cross of Idaho` -> bcbs; a name matching no pattern is kept as sent (the claim's
    `payer`, which `resolve_payer` then finds unrecognised). Prefer setting `payer_name`."""
    return name_payer(name) or name.strip()


@lru_cache(maxsize=4096)
def name_payer(name: str) -> str | None:
    """`Blue Cross of Idaho` -> bcbs, `TRICARE East` -> tricare; None when no pattern matches."""
    text = f" {normalise_name(name)} "
    if text.strip() in payer_facts().payers:
        return text.strip()
    for words, payer in payer_facts().patterns:  # longest first
        if f" {words} " in text:
            return payer
    return None


def _from_indicator(code: str, by_name: str | None) -> str | None:
    facts = payer_facts()
    fi = facts.indicators.get(code.strip().upper())
    if fi is None:
        return None
    if fi.name_refines and by_name and by_name != UNRECOGNISED:
        if fi.payer == OTHER:
            return by_name  # the indicator names no kind of plan: the name decides
        family = facts.family.get(by_name)
        if family == facts.family.get(fi.payer) and family != by_name:
            return by_name  # a carrier of the same category (CI, HM + Aetna: aetna)
    return fi.payer


def resolve(
    payer: object, payer_name: str | None, filing_indicator: str | None, default: str | None
) -> str | None:
    """The payer id for what a claim states (see the module docstring); None: nothing stated
    and no default."""
    facts = payer_facts()
    name = payer_name
    if isinstance(payer, str) and payer.strip():
        given = payer.strip().lower()
        if given in facts.payers:
            return _narrowed(given, payer_name)
        name = name or payer
    by_name = name_payer(name) if name and name.strip() else None
    if filing_indicator and filing_indicator.strip():
        found = _from_indicator(filing_indicator, by_name)
        if found is not None:
            return found
    if by_name is not None:
        return by_name
    if (name and name.strip()) or (filing_indicator and filing_indicator.strip()):
        return UNRECOGNISED
    return default  # nothing stated (a payer of another JSON type counts as absent)


def _narrowed(given: str, name: str | None) -> str:
    """A payer id stated as such, narrowed by a payer name to a payer of the same category when
    the id is that category (a FHIR coverage type 'private health insurance' with payor
    "Aetna": aetna); else the id as given."""
    facts = payer_facts()
    if not name or not name.strip() or facts.family.get(given) != given:
        return given
    by_name = name_payer(name)
    if by_name and by_name != given and facts.family.get(by_name) == given:
        return by_name
    return given


def resolve_payer(claim: ClaimData, default: str | None = None) -> ClaimData:
    """Set `claim.payer` from what the claim states (payer, payer_name, filing_indicator)."""
    claim.payer = resolve(claim.payer, claim.payer_name, claim.filing_indicator, default)
    return claim
