"""Every rule of the rulebook against its fixtures (tests/data/claims/<RULE-ID>-fail|pass.json).

A fail fixture lists the findings it must give for its rule in a top-level "expect" list,
compared on (claim, line, rule, severity); a pass fixture gives no finding of its rule. The
fixtures go through `validate_files`, as the CLI reads them (payer mapping, repeat flags, the
findings the reader makes). A rule checked by the reader (`cg:checkedBy cg:Reader`, X12
envelopes) has X12 fixtures (`<ID>-fail.837`, `<ID>-pass.837`) and its expectations in
`<ID>-fail.expect` (JSON). Each rule's SPARQL is also run on pyoxigraph (as the fast engine
compiles it) and must select the same focus nodes as pyshacl on rdflib (ENGINES.md pitfalls 4
and 5).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from functools import cache
from pathlib import Path

import pytest

from claimgraph.engine.common import rulebook
from claimgraph.findings import Finding
from claimgraph.ingest import read_claims

CLAIMS = Path(__file__).parent / "data" / "claims"
RULE_IDS = sorted(rulebook().rules)
ENGINES = [
    "reference",
    pytest.param(
        "fast",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("claimgraph.engine.fast") is None,
            reason="the fast engine is not written yet",
        ),
    ),
]


@pytest.fixture(autouse=True)
def _no_user_code_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Findings must not depend on code sets the person running the tests has imported."""
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(tmp_path_factory.getbasetemp() / "no-store"))


@cache
def reader_rules() -> frozenset[str]:
    """Ids of the rules the reader checks (no SPARQL, no target)."""
    from claimgraph.kg import knowledge_graph
    from claimgraph.namespaces import CG

    book = rulebook()
    checked = set(knowledge_graph().subjects(CG.checkedBy, CG.Reader))
    return frozenset(r.id for r in book.rules.values() if r.iri in checked)


def fixture(rule_id: str, kind: str) -> Path:
    suffix = ".837" if rule_id in reader_rules() else ".json"
    return CLAIMS / f"{rule_id}-{kind}{suffix}"


@cache
def findings(engine: str, path: Path) -> tuple[Finding, ...]:
    from claimgraph.validate import validate_files

    return tuple(validate_files([path], engine=engine, jobs=1).findings)


def expected(path: Path, rule_id: str) -> set[tuple[str, int | None, str, str]]:
    if path.suffix != ".json":
        path = path.with_suffix(".expect")
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        (e["claim"], e["line"], e["rule"], e["severity"])
        for e in data.get("expect", [])
        if e["rule"] == rule_id
    }


def test_rulebook_has_the_catalogue() -> None:
    assert {"STRUCT-01", "STRUCT-02"} <= set(RULE_IDS)


def test_every_rule_has_both_fixtures() -> None:
    missing = [
        f"{r}-{kind}.json"
        for r in RULE_IDS
        for kind in ("fail", "pass")
        if not fixture(r, kind).is_file()
    ]
    assert not missing, f"rules without fixtures: {missing}"


def test_every_fixture_names_a_rule() -> None:
    names = {
        re.sub(r"-(fail|pass)\.(json|837|expect)$", "", p.name)
        for p in [*CLAIMS.glob("*-*.json"), *CLAIMS.glob("*-*.837"), *CLAIMS.glob("*.expect")]
    }
    assert names <= set(RULE_IDS), f"fixtures for unknown rules: {sorted(names - set(RULE_IDS))}"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_fail_fixture_gives_its_findings(rule_id: str, engine: str) -> None:
    path = fixture(rule_id, "fail")
    if not path.is_file():
        pytest.skip("no fixture (test_every_rule_has_both_fixtures fails)")
    want = expected(path, rule_id)
    assert want, f"{path.name} has no 'expect' entry for {rule_id}"
    got = {f.ident for f in findings(engine, path) if f.rule == rule_id}
    assert got == want


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_pass_fixture_gives_no_finding(rule_id: str, engine: str) -> None:
    path = fixture(rule_id, "pass")
    if not path.is_file():
        pytest.skip("no fixture (test_every_rule_has_both_fixtures fails)")
    got = [f.ident for f in findings(engine, path) if f.rule == rule_id]
    assert got == []


def test_findings_carry_message_and_source() -> None:
    for rule_id in RULE_IDS:
        path = fixture(rule_id, "fail")
        if not path.is_file():
            continue
        for f in findings("reference", path):
            assert f.message and f.source, f
            assert (f.code is None) == (f.line is None) or f.line is not None, f


# --- pyshacl on rdflib and the same SPARQL on pyoxigraph select the same focus nodes ---------


def _prefixes() -> str:
    from claimgraph.kg import shapes_graph
    from claimgraph.namespaces import SH

    g = shapes_graph()
    lines = []
    for decl in g.objects(None, SH.declare):
        lines.append(f"PREFIX {g.value(decl, SH.prefix)}: <{g.value(decl, SH.namespace)}>")
    return "\n".join(sorted(set(lines)))


def compile_for_oxigraph(select: str, shape: str, target: str) -> str:
    """As the fast engine does: $this -> ?this (of the target class), $currentShape -> IRI."""
    q = re.sub(r"\$this\b", "?this", select)
    q = re.sub(r"\$currentShape\b", f"<{shape}>", q)
    q = re.sub(r"\bWHERE\s*\{", f"WHERE {{ ?this a <{target}> .", q, count=1)
    return _prefixes() + "\n" + q


@cache
def both_engines(path: Path) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    import pyoxigraph as ox

    from claimgraph.engine import reference

    claims = list(read_claims([path]))
    shacl = {(str(s), str(f)) for s, f, _m in reference.shape_results(claims)}
    store = ox.Store()
    store.load(
        reference.data_graph(claims).serialize(format="nt").encode(), format=ox.RdfFormat.N_TRIPLES
    )
    oxi: set[tuple[str, str]] = set()
    for shape, entry in rulebook().shapes.items():
        if entry.rule.id in reader_rules():
            continue  # checked by the reader, not by SPARQL
        assert entry.target_class is not None and entry.selects, shape
        for select in entry.selects:
            for row in store.query(
                compile_for_oxigraph(select, str(shape), str(entry.target_class))
            ):
                oxi.add((str(shape), row["this"].value))
    return shacl, oxi


@pytest.mark.parametrize("kind", ["fail", "pass"])
@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rdflib_and_oxigraph_agree(rule_id: str, kind: str) -> None:
    path = fixture(rule_id, kind)
    if not path.is_file():
        pytest.skip("no fixture")
    shacl, oxi = both_engines(path)
    assert shacl == oxi


# --- what the fixtures cannot say: ICD-9-CM diagnoses (X12) and loaded full code sets --------


def _claim(
    diagnoses: list[tuple[str, str]],
    code: str = "E1390",
    modifiers: tuple[str, ...] = ("RR",),
    date: str = "2024-06-01",
):  # type: ignore[no-untyped-def]
    from claimgraph.ingest.model import ClaimData, LineData

    line = LineData(code=code, modifiers=list(modifiers), units=1, service_date=date)
    return ClaimData(index=1, id="CLM-X1", payer="medicaid", diagnoses=diagnoses, lines=[line])


@pytest.mark.parametrize("engine", ENGINES)
def test_icd9_diagnosis_says_why(engine: str) -> None:
    module = importlib.import_module(f"claimgraph.engine.{engine}")
    found = [
        f for f in module.validate_claims([_claim([("icd9cm", "496")])]) if f.rule == "CODE-02"
    ]
    assert [f.ident for f in found] == [("CLM-X1", None, "CODE-02", "violation")]
    assert "2015-10-01" in found[0].message and "ICD-9-CM" in found[0].message
    clean = module.validate_claims([_claim([("icd10cm", "J44.9")])])
    assert not [f for f in clean if f.rule == "CODE-02"]
    before = module.validate_claims([_claim([("icd9cm", "496")], date="2005-06-01")])
    assert not [f for f in before if f.rule == "CODE-02"]  # ICD-9-CM was the code set then


@pytest.mark.parametrize("engine", ENGINES)
def test_loaded_full_code_set_turns_info_into_violation(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rdflib import Literal

    from claimgraph.engine import common
    from claimgraph.namespaces import CG, HCPCS, MODIFIER, SCHEME

    module = importlib.import_module(f"claimgraph.engine.{engine}")
    claim = _claim([("icd10cm", "J44.9")], code="E0250", modifiers=("RR", "XR"))
    before = {f.ident for f in module.validate_claims([claim]) if f.rule.startswith("CODE-0")}
    assert before == {("CLM-X1", 1, "CODE-01", "info"), ("CLM-X1", 1, "CODE-03", "info")}

    true = Literal(True)
    facts = [
        (SCHEME.hcpcs, CG.fullCodeSetLoaded, true),
        (SCHEME["hcpcs-modifiers"], CG.fullCodeSetLoaded, true),
        (HCPCS.E0250, CG.inFullCodeSet, true),
        (MODIFIER.RR, CG.inFullCodeSet, true),
    ]
    monkeypatch.setattr(common, "_codestore_facts", lambda codes, mods: facts)
    listed = {f.ident for f in module.validate_claims([claim]) if f.rule.startswith("CODE-0")}
    assert listed == {("CLM-X1", 1, "CODE-03", "violation")}  # E0250 listed, XR not

    monkeypatch.setattr(common, "_codestore_facts", lambda codes, mods: facts[:2])
    unlisted = {f.ident for f in module.validate_claims([claim]) if f.rule.startswith("CODE-0")}
    assert unlisted == {
        ("CLM-X1", 1, "CODE-01", "violation"),
        ("CLM-X1", 1, "CODE-03", "violation"),
    }
