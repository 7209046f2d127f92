"""ENS, THER, NMR and SRC rules: pyshacl and pyoxigraph find the same focus nodes.

The fast engine runs each `sh:select` over one pyoxigraph store with `$this` replaced by
`?this` (joined with the target class) and `$currentShape` by the rule's IRI. These tests run
the rules of shapes/ens.ttl, therapy.ttl, nmr.ttl and sources.ttl both ways on every fixture
of those rules and on a few cross-claim scenarios, and check the data the rules read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from rdflib import RDF, Graph, Literal, URIRef

from claimgraph.ingest.json_claims import read_json
from claimgraph.ingest.model import ClaimData, DocumentData, LineData, to_graph
from claimgraph.kg import new_graph
from claimgraph.knowledge import Knowledge
from claimgraph.namespaces import CG, DCT, GROUP, SH, SKOS, line_iri
from claimgraph.resources import data_dir

CLAIMS = Path(__file__).parent / "data" / "claims"
SHAPE_FILES = ("ens.ttl", "therapy.ttl", "nmr.ttl", "sources.ttl")
FAMILIES = ("ENS", "THER", "NMR", "SRC")


@cache
def rule_shapes() -> Graph:
    """Only these rules (and the prefix declarations): other rules cannot interfere."""
    g = new_graph()
    for name in ("prefixes.ttl", *SHAPE_FILES):
        g.parse(data_dir("shapes") / name, format="turtle")
    return g


@cache
def rules() -> dict[str, tuple[URIRef, str]]:
    """rule id -> (shape IRI, sh:select text)."""
    g = rule_shapes()
    out: dict[str, tuple[URIRef, str]] = {}
    for shape in g.subjects(RDF.type, CG.Rule):
        select = g.value(g.value(shape, SH.sparql), SH.select)
        assert isinstance(shape, URIRef) and select is not None, shape
        out[str(g.value(shape, DCT.identifier))] = (shape, str(select))
    return out


@cache
def prefix_header() -> str:
    g = rule_shapes()
    decl = URIRef("https://w3id.org/claimgraph/shapes/prefixes")
    lines = [
        f"PREFIX {g.value(d, SH.prefix)}: <{g.value(d, SH.namespace)}>"
        for d in g.objects(decl, SH.declare)
    ]
    return "\n".join(sorted(lines)) + "\n"


def oxigraph_query(shape: URIRef, select: str) -> str:
    """The fast engine's substitution: ?this joined with the target class, the shape's IRI."""
    text = select.replace("$currentShape", f"<{shape}>").replace("$this", "?this")
    text = text.replace("WHERE {", "WHERE {\n  ?this a cg:ClaimLine .", 1)
    return prefix_header() + text


def data_graph(claims: list[ClaimData]) -> Graph:
    g = new_graph()
    g += Knowledge.bundled().graph
    to_graph(claims, g)
    return g


@pytest.fixture(scope="module", autouse=True)
def memoised_sparql() -> Iterator[None]:
    """The reference engine's query cache (pyshacl re-parses a query per focus node)."""
    try:
        from claimgraph.engine.reference import _memoised_sparql
    except ImportError:  # the engine is not there: slower, same results
        yield
        return
    with _memoised_sparql():
        yield


def pyshacl_focus(data: Graph) -> set[tuple[str, str]]:
    import pyshacl

    _conforms, report, _ = pyshacl.validate(
        data, shacl_graph=rule_shapes(), inference="none", allow_warnings=True, advanced=False
    )
    ids = {shape: rule_id for rule_id, (shape, _) in rules().items()}
    out = set()
    for result in report.subjects(SH.sourceShape, None):
        shape = report.value(result, SH.sourceShape)
        if shape in ids:
            out.add((ids[shape], str(report.value(result, SH.focusNode))))
    return out


@cache
def kg_ntriples() -> bytes:
    return Knowledge.bundled().graph.serialize(format="nt", encoding="utf-8")


def oxigraph_store(data: Graph) -> Any:
    """pyoxigraph store with the knowledge graph and the claims of `data`."""
    import pyoxigraph as ox

    store = ox.Store()
    store.load(kg_ntriples(), format=ox.RdfFormat.N_TRIPLES)
    claims = new_graph()
    claims += data - Knowledge.bundled().graph
    store.load(claims.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return store


def oxigraph_focus(data: Graph) -> set[tuple[str, str]]:
    store = oxigraph_store(data)
    out = set()
    for rule_id, (shape, select) in rules().items():
        for row in store.query(oxigraph_query(shape, select)):
            out.add((rule_id, row["this"].value))
    return out


@cache
def compiled_queries() -> tuple[tuple[str, str], ...] | None:
    """The fast engine's own compiler (engine/compile.py) on these rules; None if absent."""
    try:
        from claimgraph.engine.compile import compile_shape
    except ImportError:
        return None
    kg = new_graph()
    kg += Knowledge.bundled().graph
    return tuple(
        (rule_id, check.query)
        for rule_id, (shape, _) in rules().items()
        for check in compile_shape(kg, rule_shapes(), shape)
    )


def compiled_focus(data: Graph) -> set[tuple[str, str]] | None:
    queries = compiled_queries()
    if queries is None:
        return None
    store = oxigraph_store(data)
    return {
        (rule_id, row["this"].value) for rule_id, query in queries for row in store.query(query)
    }


def fixture_files() -> list[Path]:
    return sorted(p for fam in FAMILIES for p in CLAIMS.glob(f"{fam}-*.json"))


def focus_of(claim: str, line: int) -> str:
    return str(line_iri(claim, line))


# --------------------------------------------------------------------------------------------


def test_every_rule_has_both_fixtures() -> None:
    for rule_id in rules():
        for kind in ("fail", "pass"):
            assert (CLAIMS / f"{rule_id}-{kind}.json").is_file(), f"{rule_id}-{kind}.json missing"


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.stem)
def test_engines_agree_on_fixture(path: Path) -> None:
    claims = list(read_json(path))
    data = data_graph(claims)
    reference = pyshacl_focus(data)
    assert reference == oxigraph_focus(data)
    compiled = compiled_focus(data)
    assert compiled is None or compiled == reference
    rule_id, kind = path.stem.rsplit("-", 1)
    own = {focus for r, focus in reference if r == rule_id}
    if kind == "pass":
        assert own == set()
    else:
        expected = {focus_of(e["claim"], e["line"]) for e in json.loads(path.read_text())["expect"]}
        assert own == expected


def claim(
    cid: str,
    payer: str,
    lines: list[tuple[str, list[str], int, str]],
    *,
    patient: str | None = "TEST-PT-X",
    diagnoses: tuple[str, ...] = ("M54.59",),
    documents: tuple[DocumentData, ...] = (),
    index: int = 1,
) -> ClaimData:
    return ClaimData(
        index=index,
        id=cid,
        payer=payer,
        patient=patient,
        diagnoses=[("icd10cm", d) for d in diagnoses],
        lines=[LineData(code=c, modifiers=m, units=u, service_date=d) for c, m, u, d in lines],
        documents=list(documents),
    )


def both(claims: list[ClaimData], rule_id: str) -> set[str]:
    """Focus nodes of one rule, after checking that both engines agree on all rules."""
    data = data_graph(claims)
    reference = pyshacl_focus(data)
    assert reference == oxigraph_focus(data)
    compiled = compiled_focus(data)
    assert compiled is None or compiled == reference
    return {focus for r, focus in reference if r == rule_id}


def test_ens06_counts_acupuncture_on_another_claim_of_the_same_patient() -> None:
    d = "2026-03-02"
    estim = claim("CLM-X1", "aetna", [("97014", [], 1, d)], patient="TEST-PT-9")
    acu_same = claim("CLM-X2", "aetna", [("97810", [], 1, d)], patient="TEST-PT-9", index=2)
    acu_other_patient = claim(
        "CLM-X3", "aetna", [("97810", [], 1, d)], patient="TEST-PT-8", index=3
    )
    acu_other_day = claim(
        "CLM-X4", "aetna", [("97810", [], 1, "2026-03-03")], patient="TEST-PT-9", index=4
    )
    assert both([estim, acu_same], "ENS-06") == {focus_of("CLM-X1", 1)}
    assert both([estim, acu_other_patient, acu_other_day], "ENS-06") == set()


def test_ther03_claim_level_time_record_covers_all_timed_lines() -> None:
    d = "2026-03-02"
    lines = [("97110", ["GP"], 2, d), ("97112", ["GP"], 1, d)]
    record = DocumentData(type="time-record", fields={"minutes": 38, "one_on_one": True})
    ok = claim("CLM-X5", "medicare", lines, documents=(record,))
    assert both([ok], "THER-03") == set()  # 38 minutes support 3 units
    short = DocumentData(type="time-record", fields={"minutes": 37, "one_on_one": True})
    over = claim("CLM-X5", "medicare", lines, documents=(short,))
    assert both([over], "THER-03") == {focus_of("CLM-X5", 1), focus_of("CLM-X5", 2)}


def test_ther03_leaves_a_line_without_time_record_to_ther02() -> None:
    d = "2026-03-02"
    lines = [("97112", ["GP"], 2, d), ("97110", ["GP"], 1, d)]
    record = DocumentData(type="time-record", line=1, fields={"minutes": 30, "one_on_one": True})
    c = claim("CLM-X12", "medicare", lines, documents=(record,))
    assert both([c], "THER-03") == set()
    assert both([c], "THER-02") == {focus_of("CLM-X12", 2)}


@pytest.mark.parametrize(
    ("minutes", "units", "fires"),
    [(7, 1, True), (8, 1, False), (22, 2, True), (23, 2, False), (52, 3, False), (53, 4, False),
     (67, 5, True), (68, 5, False), (82, 5, False), (83, 6, False), (83, 7, True)],
)  # fmt: skip
def test_ther03_eight_minute_table(minutes: int, units: int, fires: bool) -> None:
    record = DocumentData(
        type="time-record", line=1, fields={"minutes": minutes, "one_on_one": True}
    )
    c = claim("CLM-X6", "medicare", [("97110", ["GP"], units, "2026-03-02")], documents=(record,))
    assert both([c], "THER-03") == ({focus_of("CLM-X6", 1)} if fires else set())


def test_nmr02_window_and_effective_date() -> None:
    import datetime as dt

    def visits(start: str, n: int, step: int) -> list[tuple[str, list[str], int, str]]:
        first = dt.date.fromisoformat(start)
        return [
            ("97112", ["GP"], 1, (first + dt.timedelta(days=step * k)).isoformat())
            for k in range(n)
        ]

    # 19 visits, the first 42 days before the last: no 42-day window holds more than 18
    spread = claim(
        "CLM-X7", "aetna", visits("2025-08-01", 18, 2) + [("97112", ["GP"], 1, "2025-09-12")]
    )
    assert both([spread], "NMR-02") == set()
    # one day earlier the first visit falls inside the window of the last
    dense = claim(
        "CLM-X7", "aetna", visits("2025-08-01", 18, 2) + [("97112", ["GP"], 1, "2025-09-11")]
    )
    assert both([dense], "NMR-02") == {focus_of("CLM-X7", 19)}
    # 19 visits within 36 days, after the rule's effective period: no finding
    late = claim("CLM-X8", "aetna", visits("2025-11-03", 19, 2))
    assert both([late], "NMR-02") == set()
    # the same patient's visits on another payer's claims do not count
    aetna = claim("CLM-X9", "aetna", visits("2025-09-01", 10, 2), patient="TEST-PT-7")
    other = claim("CLM-X10", "bcbs", visits("2025-09-21", 9, 2), patient="TEST-PT-7", index=2)
    assert both([aetna, other], "NMR-02") == set()
    other_aetna = claim(
        "CLM-X10", "aetna", visits("2025-09-21", 9, 2), patient="TEST-PT-7", index=2
    )
    assert both([aetna, other_aetna], "NMR-02") == {focus_of("CLM-X10", 9)}
    # a claim without a patient id counts its own visits
    anonymous = claim("CLM-X11", "aetna", visits("2025-09-01", 19, 2), patient=None)
    assert both([anonymous], "NMR-02") == {focus_of("CLM-X11", 19)}


# --------------------------------------------------------------------------------------------
# The data the rules read


_GROUP_IN_QUERY = re.compile(r"group:([A-Za-z0-9-]+)")


@pytest.mark.parametrize("rule_id", sorted(rules()))
def test_groups_a_query_reads_are_declared_on_the_rule(rule_id: str) -> None:
    shape, select = rules()[rule_id]
    read = {GROUP[name] for name in _GROUP_IN_QUERY.findall(select)}
    declared = set(rule_shapes().objects(shape, CG.usesCodeGroup))
    assert read == declared


def test_groups_exist_and_list_curated_codes() -> None:
    kg = Knowledge.bundled().graph
    used = {
        g for shape, _ in rules().values() for g in rule_shapes().objects(shape, CG.usesCodeGroup)
    }
    for group in used:
        assert (group, RDF.type, CG.CodeGroup) in kg, f"{group} is not defined"
        members = list(kg.objects(group, CG.member))
        prefixes = list(kg.objects(group, CG.notationPrefix))
        assert members or prefixes, f"{group} is empty"
        for code in members:
            assert kg.value(code, SKOS.notation) is not None, (
                f"{code} of {group} is not a curated code"
            )


def test_every_rule_cites_defined_sources_and_topic() -> None:
    kg = Knowledge.bundled().graph
    for rule_id, (shape, _) in rules().items():
        sources = list(rule_shapes().objects(shape, DCT.source))
        assert sources, rule_id
        for source in sources:
            assert kg.value(source, DCT.title) is not None, f"{rule_id}: {source} has no title"
        assert rule_shapes().value(shape, CG.topic) is not None, rule_id


def test_eight_minute_bands_are_contiguous() -> None:
    kg = Knowledge.bundled().graph
    shape, _ = rules()["THER-03"]
    bands = sorted(
        (int(str(kg.value(b, CG.minMinutes))), kg.value(b, CG.maxMinutes), b)
        for b in kg.objects(shape, CG.unitBand)
    )
    assert bands[0][0] == 0
    for (_, high, _b), (low, _, _n) in zip(bands, bands[1:], strict=False):
        assert isinstance(high, Literal) and int(high) + 1 == low
    last = bands[-1][2]
    assert (
        kg.value(last, CG.maxMinutes) is None and kg.value(last, CG.minutesPerExtraUnit) is not None
    )


def test_engines_agree_on_malformed_values() -> None:
    """Units, dates and minutes as sent (strings stay strings): no engine-specific findings."""
    docs = (
        DocumentData(type="time-record", line=1, fields={"minutes": "ten", "one_on_one": "yes"}),
        DocumentData(type="time-record", line=2, fields={"minutes": 20}),
    )
    lines = [
        ("97112", ["GP"], "two", "2025-10-15"),
        ("97110", [], 2, "2025-02-30"),
        ("97014", ["59"], 1, "soon"),
        ("97810", [], 1, "soon"),
    ]
    for payer in ("medicare", "aetna", "bcbs"):
        c = claim("CLM-X13", payer, lines, diagnoses=("R52", "I63.9"), documents=docs)
        data = data_graph([c])
        reference = pyshacl_focus(data)
        assert reference == oxigraph_focus(data)
        compiled = compiled_focus(data)
        assert compiled is None or compiled == reference
