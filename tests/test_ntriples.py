"""The fast engine's N-Triples writer (engine/ntriples.py) says what the rdflib mapping says."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph

from claimgraph.engine.ntriples import claim_ntriples
from claimgraph.ingest import read_claims
from claimgraph.ingest.json_claims import claim_from_json
from claimgraph.ingest.model import ClaimData, DocumentData, LineData, plain_triples, to_graph
from claimgraph.namespaces import CG, document_iri, line_iri
from synthetic import generate

FIXTURES = sorted((Path(__file__).parent / "data" / "claims").glob("*.json"))


def claims_of(path: Path) -> list[ClaimData]:
    return list(read_claims([path]))


def test_ntriples_writer_matches_claim_triples() -> None:
    """The fast path (N-Triples text) and the rdflib path give the same graph."""
    odd = ClaimData(
        index=7, id='CLM "odd"\\ \n id', payer=" Medicare ", patient=12,
        diagnoses=[("icd10cm", "m5459"), ("icd9cm", "724.2")],
        lines=[
            LineData(code=" e1392 ", modifiers=["rr", " ", 3], units=1.5, service_date="2026-02-30",
                     body_site="left knee \u00e9", description="tab\there"),
            LineData(code=5, units=True, service_date=20260101),
            LineData(code="97112", units="two", service_date="2026-03-02"),
        ],
        documents=[DocumentData(type="order", line=1, fields={"date": "2026-01-01", "signed": False,
                                                             "duration_months": 12}),
                   DocumentData(type=None, line=True, fields={"spo2": 87.5, "minutes": None})],
    )  # fmt: skip
    claims = [odd, ClaimData(index=3)]
    for path in FIXTURES:
        claims += claims_of(path)
    claims += [claim_from_json(c, i, set()) for i, c in enumerate(generate(300, seed=3), 1)]
    for claim in claims:
        ours = Graph().parse(data=claim_ntriples(claim), format="nt")
        assert set(ours) == set(to_graph([claim])), claim.key
    # the mapping writes line and document IRIs itself: the same as the namespaces builders
    subjects = {s for s, _p, _o in plain_triples(odd)}
    assert {str(line_iri(odd.key, n)) for n in (1, 2, 3)} <= subjects
    assert {str(document_iri(odd.key, n)) for n in (1, 2)} <= subjects
    assert ("1", None) not in {o for _s, _p, o in plain_triples(odd)}  # typed, not plain


def test_ntriples_escapes_literals() -> None:
    claim = ClaimData(index=1, id='a"b\\c\nd\x01', patient="\ud800x")
    text = claim_ntriples(claim)
    assert '"a\\"b\\\\c\\nd\\u0001"' in text  # quote, backslash, newline, control
    assert '"\ufffdx"' in text  # a lone surrogate (not UTF-8) becomes U+FFFD
    ids = {str(o) for _s, p, o in Graph().parse(data=text, format="nt") if p == CG.claimId}
    assert ids == {'a"b\\c\nd\x01'}
