"""The data the rules read: code groups a query names are declared on the rule and exist,
sources and topics are defined, the 8-minute bands are contiguous."""

from __future__ import annotations

import re

import pytest
from rdflib import RDF, Literal, URIRef

from claimgraph.knowledge import Knowledge
from claimgraph.namespaces import CG, DCT, GROUP, RULE, SH, SKOS

_GROUP_IN_QUERY = re.compile(r"group:([A-Za-z0-9-]+)")
SHAPES = sorted(Knowledge.bundled().rulebook.shapes)


def selects(shape: URIRef) -> str:
    g = Knowledge.bundled().shapes
    return "\n".join(str(q) for c in g.objects(shape, SH.sparql) for q in g.objects(c, SH.select))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: str(s).rsplit("/", 1)[-1])
def test_groups_a_query_reads_are_declared_on_the_rule(shape: URIRef) -> None:
    read = {GROUP[name] for name in _GROUP_IN_QUERY.findall(selects(shape))}
    assert read <= set(Knowledge.bundled().shapes.objects(shape, CG.usesCodeGroup))


def test_groups_exist_and_list_curated_codes() -> None:
    kg = Knowledge.bundled().graph
    used = set(kg.objects(None, CG.usesCodeGroup))
    assert used
    for group in used:
        assert (group, RDF.type, CG.CodeGroup) in kg, f"{group} is not defined"
        members = list(kg.objects(group, CG.member))
        listed = [*kg.objects(group, CG.notationPrefix), *kg.objects(group, CG.memberNotation)]
        assert members or listed, f"{group} is empty"
        for code in members:
            assert kg.value(code, SKOS.notation) is not None, f"{code} of {group} is not curated"


def test_every_rule_cites_defined_sources_and_topic() -> None:
    kg = Knowledge.bundled().graph
    for rule in Knowledge.bundled().rulebook.rules.values():
        assert rule.source_iris, rule.id
        for source in rule.source_iris:
            assert kg.value(source, DCT.title) is not None, f"{rule.id}: {source} has no title"
        assert kg.value(rule.iri, CG.topic) is not None, rule.id


def test_eight_minute_bands_are_contiguous() -> None:
    kg = Knowledge.bundled().graph
    bands = sorted(
        (int(str(kg.value(b, CG.minMinutes))), kg.value(b, CG.maxMinutes), b)
        for b in kg.objects(RULE["THER-03"], CG.unitBand)
    )
    assert bands[0][0] == 0
    for (_, high, _b), (low, _, _n) in zip(bands, bands[1:], strict=False):
        assert isinstance(high, Literal) and int(high) + 1 == low
    last = bands[-1][2]
    assert kg.value(last, CG.maxMinutes) is None
    assert kg.value(last, CG.minutesPerExtraUnit) is not None
