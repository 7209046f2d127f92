"""Shapes that misbehave: recursion, broken patterns and broken or unsafe SPARQL are refused.

The shipped shapes pass meta-SHACL and claimgraph's own checks (claimgraph.shapecheck). A
recursive shape (which pyshacl reports as conforming), a broken sh:pattern and broken SPARQL
each make `claimgraph validate` exit 2 with one line, whatever error type the libraries raise.
SECURITY.md ("Bounded" and "Offline", shapes) points here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph
from typer.testing import CliRunner

from claimgraph import shapecheck
from claimgraph.shapecheck import ShapesError
from security_support import one_line_error, run

FORMATS = Path(__file__).parent / "data" / "formats"
HEAD = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix cg: <https://w3id.org/claimgraph/ontology/> .
@prefix ex: <https://example.org/shapes/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def shapes(text: str) -> Graph:
    g = Graph()
    g.parse(data=HEAD + text, format="turtle")
    return g


# --- the shipped shapes -------------------------------------------------------------------------


def test_shipped_shapes_pass_every_check() -> None:
    from claimgraph.knowledge import Knowledge

    g = Knowledge.bundled().shapes
    assert len(list(shapecheck.sparql_texts(g))) > 10  # the checks had something to look at
    shapecheck.check_shapes(g)
    shapecheck.meta_check(g)


def test_meta_check_finds_a_defect() -> None:
    with pytest.raises(ShapesError, match="do not conform to SHACL"):
        shapecheck.meta_check(shapes('ex:A a sh:NodeShape ; sh:minCount "one" .'))


# --- recursion ----------------------------------------------------------------------------------

RECURSIVE = {
    "node": "ex:A a sh:NodeShape ; sh:node ex:A .",
    "property": "ex:A a sh:NodeShape ; sh:property [ sh:path cg:hasLine ; sh:node ex:A ] .",
    "and": "ex:A a sh:NodeShape ; sh:and ( ex:B ) . ex:B a sh:NodeShape ; sh:node ex:A .",
    "or": "ex:A a sh:NodeShape ; sh:or ( [ sh:datatype xsd:string ] ex:A ) .",
    "xone": "ex:A a sh:NodeShape ; sh:xone ( ex:B ) . ex:B sh:xone ( ex:A ) .",
    "not": "ex:A a sh:NodeShape ; sh:not ex:B . ex:B sh:not ex:A .",
    "qualified": "ex:A a sh:NodeShape ; sh:property [ sh:path cg:hasLine ; "
    "sh:qualifiedValueShape ex:A ; sh:qualifiedMinCount 1 ] .",
    "long-loop": "ex:A sh:node ex:B . ex:B sh:node ex:C . ex:C sh:property ex:D . "
    "ex:D sh:path cg:x ; sh:node ex:A .",
}


@pytest.mark.parametrize("link", sorted(RECURSIVE))
def test_recursion_is_found(link: str) -> None:
    g = shapes(RECURSIVE[link])
    cycle = shapecheck.find_cycle(g)
    assert cycle is not None and cycle[0] == cycle[-1]
    with pytest.raises(ShapesError, match="recursive"):
        shapecheck.check_shapes(g)


def test_shared_shapes_are_not_recursion() -> None:
    g = shapes(
        "ex:A sh:node ex:B , ex:C . ex:B sh:node ex:D . ex:C sh:and ( ex:D ex:D ) . "
        "ex:D sh:datatype xsd:string ."
    )
    assert shapecheck.find_cycle(g) is None
    shapecheck.check_shapes(g)


def test_pyshacl_alone_calls_a_recursive_shape_conforming() -> None:
    """The reproduction: a claim must not conform to a shape it does conform to (a paradox);
    pyshacl warns and says `conforms: true`, so claimgraph refuses recursion before it runs."""
    import warnings

    import pyshacl

    data = Graph().parse(
        data="@prefix cg: <https://w3id.org/claimgraph/ontology/> .\n<urn:c1> a cg:Claim .",
        format="turtle",
    )
    g = shapes("ex:A a sh:NodeShape ; sh:targetClass cg:Claim ; sh:not ex:A .")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        conforms, _, _ = pyshacl.validate(data, shacl_graph=g)
    assert conforms is True
    with pytest.raises(ShapesError, match="recursive"):
        shapecheck.check_shapes(g)


# --- patterns and SPARQL ------------------------------------------------------------------------

PREFIXES = """ex:prefixes sh:declare [ sh:prefix "cg" ;
    sh:namespace "https://w3id.org/claimgraph/ontology/"^^xsd:anyURI ] .
"""


def sparql_shape(select: str) -> str:
    return PREFIXES + (
        "ex:S a sh:NodeShape ; sh:targetClass cg:Claim ; sh:sparql [ sh:prefixes ex:prefixes ; "
        f'sh:select """{select}""" ] .'
    )


BROKEN = {
    "pattern": ('ex:P a sh:NodeShape ; sh:targetClass cg:Claim ; '
                'sh:property [ sh:path cg:claimId ; sh:pattern "([a-" ] .', "regular expression"),
    "pattern-flags": ('ex:P a sh:NodeShape ; sh:property [ sh:path cg:claimId ; '
                      'sh:pattern "(?i" ; sh:flags "x" ] .', "regular expression"),
    "sparql-syntax": (sparql_shape("SELECT $this WHERE { $this cg:claimId "), "syntax error"),
    "sparql-prefix": (sparql_shape("SELECT $this WHERE { $this nope:x ?y }"), "cannot be compiled"),
    "sparql-service": (sparql_shape(
        "SELECT $this WHERE { $this cg:claimId ?id . "
        "SERVICE <http://127.0.0.1:9/sparql> { ?id ?p ?o } }"), "SERVICE"),
    "sparql-service-in-exists": (sparql_shape(
        "SELECT $this WHERE { $this cg:claimId ?id . "
        "FILTER NOT EXISTS { SERVICE <http://127.0.0.1:9/q> { ?id ?p ?o } } }"), "SERVICE"),
    "sparql-from": (sparql_shape("SELECT $this FROM <http://127.0.0.1:9/g> WHERE { $this ?p ?o }"),
                    "FROM"),
    "sparql-update": (sparql_shape("DELETE WHERE { $this ?p ?o }"), "updates"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_or_unsafe_shapes_are_refused(case: str) -> None:
    text, needle = BROKEN[case]
    with pytest.raises(ShapesError, match=needle) as e:
        shapecheck.check_shapes(shapes(text))
    assert "\n" not in str(e.value)


# --- through `claimgraph validate` ---------------------------------------------------------------

# case -> (shapes, what the reference engine says, what the fast engine says)
CLI_CASES = {
    "recursive": ("ex:A a sh:NodeShape ; sh:targetClass cg:Claim ; sh:not ex:A .",
                  "recursive", "recursive"),
    "broken-pattern": (BROKEN["pattern"][0], "regular expression", "regular expression"),
    "broken-sparql": (sparql_shape("SELECT $this WHERE { $this cg:claimId ?x . FILTER(?x = ) }"),
                      "cannot be evaluated", "syntax error"),
    "service-sparql": (BROKEN["sparql-service"][0], "cannot be evaluated", "SERVICE"),
}  # fmt: skip


@pytest.mark.parametrize("engine", ["reference", "fast"])
@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_validate_refuses_misbehaving_shapes_in_one_line(
    case: str, engine: str, runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As if the installed shapes had been edited: exit 2, one line, no traceback."""
    from claimgraph.knowledge import Knowledge
    from claimgraph.resources import turtle_files

    text, reference_says, fast_says = CLI_CASES[case]
    bad = tmp_path / "bad-shapes.ttl"
    bad.write_text(HEAD + text, encoding="utf-8")
    edited = Knowledge.from_files(turtle_files("ontology"), [*turtle_files("shapes"), bad])
    monkeypatch.setattr(Knowledge, "bundled", classmethod(lambda cls: edited))
    monkeypatch.setenv("CLAIMGRAPH_CACHE_DIR", str(tmp_path))  # the fast engine rebuilds
    result = run(
        runner, "validate", str(FORMATS / "claims.json"), "--engine", engine, "-f", "json"
    )
    one_line_error(result, reference_says if engine == "reference" else fast_says)
    assert list(tmp_path.glob("engine-*")) == []  # nothing compiled from refused shapes


def test_mapped_errors_keep_claimgraph_and_resource_errors() -> None:
    from claimgraph.errors import InputError

    with pytest.raises(InputError), shapecheck.mapped_errors():
        raise InputError("bad input")
    with pytest.raises(RecursionError), shapecheck.mapped_errors():
        raise RecursionError
    import re

    with pytest.raises(ShapesError, match=r"\(error\)"), shapecheck.mapped_errors():
        re.compile("([a-")


# --- user rules: screened before use ------------------------------------------------------------

CATASTROPHIC = [r"^(a+)+$", r"(a|a)*", r"(a|aa)+b", r"^(\w+\s?)+$", r"(.*a){12}", r"([a-z]+)*$",
                r"(x+x+)+y", r"(\d|\d\d)+", r"((ab)*)+", r"(a)\1"]  # fmt: skip
SAFE = [r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$", r"^(KX|GA|GZ)$", r"(ab|cd)+", r"^\d+$",
        r"(\d{4}-\d{2})+", r"^[A-V][0-9]{4}$", r"(ab|ac)+"]  # fmt: skip


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_regexes_are_found(pattern: str) -> None:
    assert shapecheck.regex_problem(pattern)


@pytest.mark.parametrize("pattern", SAFE)
def test_safe_regexes_pass(pattern: str) -> None:
    assert shapecheck.regex_problem(pattern) is None


def test_the_shipped_shapes_pass_the_user_rule_screening() -> None:
    from rdflib import Literal

    from claimgraph.knowledge import Knowledge
    from claimgraph.namespaces import CG, SH

    # the regex and pattern screens pass every shipped rule; shipped message templates name
    # codes only, which bundled rules may do. The run-level parts (cg:reportedPerRun: "no
    # table loaded for the date") scan the few table-release nodes, which the screen refuses
    # in a user rule as an unjoined pattern: they are screened apart, for nothing else.
    shipped = Knowledge.bundled().shapes
    per_run = set(shipped.subjects(CG.reportedPerRun, Literal(True)))
    assert per_run
    apart = per_run | {n for s in per_run for n in shipped.objects(s, SH.sparql)}
    g = Graph()
    for t in shipped:
        if t[0] not in apart:
            g.add(t)
    shapecheck.screen_user_rules(g, templates=False)
    for shape in per_run:
        one = Graph()
        for t in shipped.triples((shape, None, None)):
            one.add(t)
        for node in shipped.objects(shape, SH.sparql):
            one += shipped.triples((node, None, None))
        one += shipped.triples((None, SH.declare, None))  # the prefixes their SPARQL uses
        for decl in shipped.objects(None, SH.declare):
            one += shipped.triples((decl, None, None))
        try:
            shapecheck.screen_user_rules(one, templates=False)
        except shapecheck.ShapesError as e:
            assert "cartesian" in str(e), e


def _rule(select: str, message: str = "fixed text") -> Graph:
    return shapes(f'''
ex:R a sh:NodeShape ; sh:targetClass cg:ClaimLine ; sh:message "{message}" ;
    sh:sparql [ sh:select """PREFIX cg: <https://w3id.org/claimgraph/ontology/>
{select}""" ] .''')


@pytest.mark.parametrize(
    "select",
    [
        "SELECT $this WHERE { $this cg:units ?u . ?a ?b ?c }",
        "SELECT $this WHERE { $this cg:units ?u . ?x a cg:Claim }",
        "SELECT $this WHERE { $this cg:units ?u FILTER NOT EXISTS { ?a ?b ?c . ?d ?e ?f } }",
        "SELECT $this WHERE { $this cg:units ?u . ?a cg:units ?v FILTER (?u = ?v) }",
    ],
)
def test_cartesian_patterns_are_refused(select: str) -> None:
    with pytest.raises(ShapesError, match="cartesian product"):
        shapecheck.screen_user_rules(_rule(select))


@pytest.mark.parametrize(
    "select",
    [
        "SELECT $this WHERE { $this cg:units ?u ; ^cg:hasLine ?c . ?c cg:payer ?p }",
        "SELECT $this WHERE { $this cg:units ?u . $currentShape cg:unitBand ?b . ?b cg:x ?y }",
        "SELECT $this WHERE { $this cg:units ?u FILTER NOT EXISTS { ?c cg:hasLine $this } }",
    ],
)
def test_joined_patterns_and_lookups_pass(select: str) -> None:
    shapecheck.screen_user_rules(_rule(select))


@pytest.mark.parametrize("message", ["Code {?code} is wrong", "Line {$this} is wrong"])
def test_data_values_in_user_messages_are_refused(message: str) -> None:
    with pytest.raises(ShapesError, match="substitutes a value from the data"):
        shapecheck.screen_user_rules(
            _rule("SELECT $this ?code WHERE { $this cg:procedureCode ?code }", message)
        )
