"""The shipped rules conform to the shapes over the shapes (shapes/meta/) and to SHACL-SHACL."""

from __future__ import annotations

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
    for node in set(g.subjects(SH.targetClass, None)) | set(g.subjects(SH.target, None)):
        assert isinstance(node, URIRef), f"a shape with a target is a blank node: {node!r}"


# one defect per rule, all in one graph (one validation): each must be found on its rule
MUTATIONS = {
    "OXY-02": lambda g, r: g.remove((r, SH.message, None)),
    "OXY-03": lambda g, r: g.set((r, SH.severity, SH.Fatal)),
    "OXY-04": lambda g, r: g.remove((r, DCT.source, None)),
    "OXY-05": lambda g, r: g.set((r, DCT.source, URIRef("https://example.org/not-a-source"))),
    "OXY-06": lambda g, r: g.add((r, DCT.identifier, Literal("OXY-99"))),
    "OXY-07": lambda g, r: g.set((r, DCT.identifier, Literal("OXY-01"))),  # OXY-01's id too
    "OXY-08": lambda g, r: g.remove((r, CG.topic, None)),
    "NMES-01": lambda g, r: g.remove((r, SH.target, None)),
    "NMES-02": lambda g, r: g.set((g.value(r, SH.target), CG.scopeOf, RULE["NMES-03"])),
    "NMES-04": lambda g, r: g.add((r, SH.targetClass, CG.ClaimLine)),
    "CODE-01-unchecked": lambda g, r: g.remove((r, SH.severity, None)),  # a rule part
}


def test_meta_shapes_catch_each_broken_rule() -> None:
    import pyshacl

    g = copy(Knowledge.bundled().graph)
    for name, mutate in MUTATIONS.items():
        mutate(g, RULE[name])
    conforms, report, _text = pyshacl.validate(g, shacl_graph=meta_graph(), inference="none")
    flagged = {str(f).rsplit("/", 1)[-1] for f in report.objects(None, SH.focusNode)}
    assert not conforms
    assert flagged == set(MUTATIONS) | {"OXY-01"}  # OXY-01 shares its id with OXY-07 now
