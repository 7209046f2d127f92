"""The shipped rules conform to the shapes over the shapes (shapes/meta/) and to SHACL-SHACL."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef

from claimgraph.kg import new_graph
from claimgraph.knowledge import Knowledge
from claimgraph.namespaces import CG, DCT, RULE, SH
from claimgraph.resources import data_dir


def meta_graph() -> Graph:
    g = new_graph()
    for path in sorted((data_dir("shapes") / "meta").glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


def validate(data: Graph) -> tuple[bool, str]:
    import pyshacl

    conforms, _report, text = pyshacl.validate(data, shacl_graph=meta_graph(), inference="none")
    return bool(conforms), text


def copy(g: Graph) -> Graph:
    out = new_graph()
    for t in g:
        out.add(t)
    return out


def test_shipped_rules_conform_to_meta_shapes() -> None:
    conforms, text = validate(Knowledge.bundled().graph)
    assert conforms, text


def test_rules_and_meta_shapes_are_valid_shacl() -> None:
    import pyshacl

    # meta_shacl=True first checks the shapes graph against SHACL-SHACL
    conforms, _r, text = pyshacl.validate(
        new_graph(), shacl_graph=Knowledge.bundled().shapes, meta_shacl=True
    )
    assert conforms, text
    conforms, _r, text = pyshacl.validate(new_graph(), shacl_graph=meta_graph(), meta_shacl=True)
    assert conforms, text


def test_every_rule_shape_is_named() -> None:
    g = Knowledge.bundled().shapes
    for node in set(g.subjects(SH.targetClass, None)):
        assert isinstance(node, URIRef), f"a shape with a target is a blank node: {node!r}"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda g, r: g.remove((r, SH.message, None)),
        lambda g, r: g.set((r, SH.severity, SH.Fatal)),
        lambda g, r: g.remove((r, DCT.source, None)),
        lambda g, r: g.set((r, DCT.source, URIRef("https://example.org/not-a-source"))),
        lambda g, r: g.add((r, DCT.identifier, Literal("OXY-99"))),
        lambda g, r: g.set((r, DCT.identifier, Literal("OXY-01"))),
        lambda g, r: g.remove((r, CG.topic, None)),
    ],
    ids=[
        "no-message",
        "bad-severity",
        "no-source",
        "unknown-source",
        "two-ids",
        "duplicate-id",
        "no-topic",
    ],
)
def test_meta_shapes_catch_a_broken_rule(mutate) -> None:  # type: ignore[no-untyped-def]
    g = copy(Knowledge.bundled().graph)
    mutate(g, RULE["OXY-02"])
    conforms, _text = validate(g)
    assert not conforms


def test_meta_shapes_catch_a_broken_rule_part() -> None:
    g = copy(Knowledge.bundled().graph)
    g.remove((RULE["CODE-01-unchecked"], SH.severity, None))
    assert not validate(g)[0]
