"""The rules on both engines: the real compiler (fast, Oxigraph) and pyshacl (reference).

One layer for every rule:
- compiling: every shape compiles and parses; what the compiler cannot honour is refused;
  SHACL core constraints follow pyshacl; the compiled scope (`cg:ScopedLines`) selects the
  lines the target type's own SPARQL selects;
- fixtures (tests/data/claims/<RULE>-fail|pass.json): a fail fixture gives the findings its
  "expect" lists for its rule, a pass fixture none, and both engines give the same findings
  for every rule on every fixture;
- scenarios the fixtures cannot show: claims of one patient (ENS-06, NMR-02), the 8-minute
  table, malformed values, ICD-9-CM diagnoses, an imported full code set;
- all fixtures validated together (every scenario once, in batches and worker processes) hit
  every rule with the same findings on both engines; on 2,000 generated claims (copies of the
  scenarios, patients with many visits, a patient's claims far apart) the fast engine hits
  every rule and keeps its findings whatever the batch size and the number of processes.
Findings are compared on `ident` (claim, line, rule, severity).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest
from rdflib import Graph

from claimgraph.engine import fast, reference
from claimgraph.engine.compile import CompileError, compile_shapes, validate_queries
from claimgraph.engine.oxigraph import lateral_exists
from claimgraph.findings import Finding
from claimgraph.ingest import read_claims
from claimgraph.ingest.model import ClaimData, DocumentData, LineData, to_graph
from claimgraph.knowledge import Knowledge
from synthetic import write_json

CLAIMS = Path(__file__).parent / "data" / "claims"
FIXTURES = sorted(CLAIMS.glob("*.json"))
RULE_IDS = sorted(Knowledge.bundled().rulebook.rules)


def _reader_rules() -> frozenset[str]:
    """Ids of the rules the claim reader checks (cg:checkedBy cg:Reader: X12 envelopes, no
    SPARQL); their fixtures are X12 files (<ID>-fail|pass.837, expectations in <ID>-fail.expect)."""
    from claimgraph.namespaces import CG

    kn = Knowledge.bundled()
    checked = set(kn.graph.subjects(CG.checkedBy, CG.Reader))
    return frozenset(r.id for r in kn.rulebook.rules.values() if r.iri in checked)


READER_RULES = _reader_rules()
ENGINE_RULES = sorted(set(RULE_IDS) - READER_RULES)  # the rules both engines check
Ident = tuple[str | None, int | None, str, str]


def idents(findings: list[Finding]) -> set[Ident]:
    return {f.ident for f in findings}


def fixture(rule_id: str, kind: str) -> Path:
    return CLAIMS / f"{rule_id}-{kind}{'.837' if rule_id in READER_RULES else '.json'}"


# ------------------------------------------------------------------------------ compiling


def test_every_shipped_shape_compiles() -> None:
    kn = Knowledge.bundled()
    checks = compile_shapes(kn.graph, kn.shapes)
    validate_queries(checks)
    validate_queries(  # the Oxigraph rewriting parses too
        type(c)(c.rule, c.shape, c.severity, c.component, lateral_exists(c.query)) for c in checks
    )
    compiled = {c.shape for c in checks}
    missing = sorted(str(s) for s, e in kn.rulebook.shapes.items()
                     if str(s) not in compiled and e.rule.id not in READER_RULES)  # fmt: skip
    assert not missing, f"rules without a compiled check: {missing}"


def _shape_graph(body: str) -> Graph:
    g = Graph()
    g.parse(
        data=f"""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix cg: <https://w3id.org/claimgraph/ontology/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://w3id.org/claimgraph/rule/TEST-01> a sh:NodeShape ; sh:targetClass cg:ClaimLine ;
    {body} .""",
        format="turtle",
    )
    return g


@pytest.mark.parametrize(
    "select",
    [
        "SELECT $this WHERE { $this ?p ?o MINUS { $this a ?c } }",
        "SELECT $this WHERE { $this ?p $shapesGraph }",
        "SELECT $this WHERE { $this ?p ?o } LIMIT 1",
        "SELECT $this WHERE { { SELECT ?o WHERE { $this ?p ?o } } }",
    ],
    ids=["MINUS", "shapesGraph", "LIMIT", "pre-bound"],
)
def test_unsupported_sparql_is_refused(select: str) -> None:
    with pytest.raises(CompileError):
        compile_shapes(
            Knowledge.bundled().graph, _shape_graph(f'sh:sparql [ sh:select """{select}""" ]')
        )


def test_unsupported_core_constraint_is_refused() -> None:
    sg = _shape_graph("sh:property [ sh:path cg:units ; sh:or ( [ sh:datatype xsd:integer ] ) ]")
    with pytest.raises(CompileError, match="or"):
        compile_shapes(Knowledge.bundled().graph, sg)


def test_core_constraints_match_pyshacl() -> None:
    """SHACL core shapes (none shipped) compile to queries with pyshacl's semantics."""
    import pyoxigraph as ox
    import pyshacl
    from rdflib.namespace import SH

    sg = _shape_graph(
        "sh:property [ sh:path cg:units ; sh:minCount 1 ; sh:maxCount 1 ; "
        "sh:datatype xsd:integer ; sh:minInclusive 1 ] , "
        "[ sh:path cg:serviceDate ; sh:datatype xsd:date ] , "
        '[ sh:path cg:procedureCode ; sh:nodeKind sh:IRI ; sh:pattern "E[0-9]+$" ]'
    )
    odd = [1, 0, -1, "two", 1.5, True, "1", None, 3]
    claims = [
        ClaimData(index=i, id=f"C{i}", lines=[LineData(
            code=["E1392", "97112", None][i % 3], units=odd[i % len(odd)],
            service_date=["2026-01-02", "bad", None][i % 3])])
        for i in range(27)
    ]  # fmt: skip
    data = to_graph(claims)
    _ok, report, _ = pyshacl.validate(data, shacl_graph=sg)
    expected = {str(f) for f in report.objects(None, SH.focusNode)}
    store = ox.Store()
    store.load(data.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    kg = Knowledge.bundled().graph
    got = {row[0].value for c in compile_shapes(kg, sg) for row in store.query(c.query)}
    assert expected and got == expected


def test_compiled_scope_selects_what_the_target_type_selects() -> None:
    """cg:ScopedLines as the compiler writes it (from the scope data) and as the target
    type's own SPARQL says (compiled generically): the same lines of every fixture."""
    import pyoxigraph as ox

    from claimgraph.engine import targets
    from claimgraph.namespaces import CG, SH

    kn = Knowledge.bundled()
    claims = [c for path in FIXTURES for c in read_claims([path])]
    store = ox.Store()
    store.load(kn.checks.kg_nt, format=ox.RdfFormat.N_TRIPLES)
    store.load(to_graph(claims).serialize(format="nt", encoding="utf-8"),
               format=ox.RdfFormat.N_TRIPLES)  # fmt: skip
    scoped = sorted(set(kn.shapes.objects(None, CG.scopeOf)), key=str)
    assert len(scoped) > 30
    head = "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
    compiled: set[tuple[str, str]] = set()
    for scope in scoped:
        pattern = targets.scoped_lines(kn.graph, scope).pattern
        rows = store.query(f"{head}SELECT ?this WHERE {{ {pattern} }}")
        compiled |= {(str(scope), r[0].value) for r in rows}
    # the target type's SPARQL, $scopeOf bound to each scoped shape in turn
    generic = targets._sparql_target(  # noqa: SLF001
        kn.shapes, str(kn.shapes.value(CG.ScopedLines, SH.select)), CG.ScopedLines, {}
    )
    body = generic[generic.index("WHERE {") + 7 : generic.rindex("}") - 2]
    shapes = " ".join(f"<{s}>" for s in scoped)
    rows = store.query(f"SELECT ?scopeOf ?this WHERE {{ VALUES ?scopeOf {{ {shapes} }} {body} }}")
    assert compiled == {(r[0].value, r[1].value) for r in rows}
    assert {s for s, _ in compiled} == {str(s) for s in scoped}  # every scope holds a line


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def by_fixture(ncci_store: Path) -> dict[str, tuple[list[Finding], list[Finding]]]:
    """(fast, reference) findings of every fixture. All fixtures are validated together (the
    claims of every scenario once: several batches, two reference worker processes), each
    fixture's patients renamed after it (claims relate to each other only through their
    patient, and claims never merge: a claim is its file and position), with the made-up NCCI
    tables loaded (`ncci_store`: the union of the "tables" the NCCI fixtures name, none of
    whose rows is about a code of another rule's fixture)."""
    kn = Knowledge.bundled().with_codesets(ncci_store)
    claims = []
    for path in FIXTURES:
        for c in read_claims([path]):
            if isinstance(c.patient, str) and c.patient:
                c.patient = f"{path.stem}/{c.patient}"
            claims.append(c)
    found_fast = fast.validate_claims(claims, knowledge=kn, jobs=1)
    found_reference = reference.validate_claims(claims, knowledge=kn, jobs=2)
    return {
        p.name: ([f for f in found_fast if f.file == str(p)],
                 [f for f in found_reference if f.file == str(p)])
        for p in FIXTURES
    }  # fmt: skip


def expected(path: Path, rule_id: str) -> set[Ident]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {(e["claim"], e["line"], e["rule"], e["severity"])
            for e in data.get("expect", []) if e["rule"] == rule_id}  # fmt: skip


def test_the_fixtures_together_hit_every_rule(by_fixture: dict) -> None:  # type: ignore[type-arg]
    hit = {f.rule for found, _ in by_fixture.values() for f in found}
    assert hit == set(ENGINE_RULES)


def test_every_rule_has_both_fixtures_and_every_fixture_a_rule() -> None:
    missing = [f"{r}-{k}" for r in RULE_IDS for k in ("fail", "pass")
               if not fixture(r, k).is_file()]  # fmt: skip
    assert not missing, f"rules without fixtures: {missing}"
    x12 = [*CLAIMS.glob("*-*.837"), *CLAIMS.glob("*.expect")]
    names = {re.sub(r"-(fail|pass)\.(json|837|expect)$", "", p.name) for p in [*FIXTURES, *x12]}
    assert names <= set(RULE_IDS), f"fixtures for unknown rules: {sorted(names - set(RULE_IDS))}"


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_on_both_engines(path: Path, by_fixture: dict) -> None:  # type: ignore[type-arg]
    found_fast, found_reference = by_fixture[path.name]
    assert idents(found_fast) == idents(found_reference)
    # and the same words: filled message templates ({?var}) and the values they received
    # (CODE-02 names the code and the release in force on the line's date)
    said = lambda found: {(f.ident, f.facts, f.message) for f in found}  # noqa: E731
    assert said(found_fast) == said(found_reference)
    rule_id, kind = path.stem.rsplit("-", 1)
    own = {f.ident for f in found_fast if f.rule == rule_id}
    if kind == "pass":
        assert own == set()
    else:
        want = expected(path, rule_id)
        assert want, f"{path.name} has no 'expect' entry for {rule_id}"
        assert own == want
    book = Knowledge.bundled().rulebook
    for f in (*found_fast, *found_reference):
        assert f.message and f.source == book.rules[f.rule].source, f


@pytest.mark.parametrize("rule_id", sorted(READER_RULES))
@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_reader_rule_fixtures(rule_id: str, engine: str) -> None:
    """A rule the reader checks: its X12 fail fixture gives the findings of its .expect file,
    its pass fixture none, whatever engine checks the claims."""
    from claimgraph.validation import validate_files

    def own(kind: str) -> set[Ident]:
        found = validate_files([fixture(rule_id, kind)], engine=engine, jobs=1).findings
        return {f.ident for f in found if f.rule == rule_id}

    want = expected(fixture(rule_id, "fail").with_suffix(".expect"), rule_id)
    assert want and own("fail") == want
    assert own("pass") == set()


# ------------------------------------------------------------------------------ scenarios


def claim(
    cid: str,
    payer: str,
    lines: list[tuple[str, list[str], object, str]],
    *,
    patient: str | None = "TEST-PT-X",
    diagnoses: tuple[str, ...] = ("M54.59",),
    documents: tuple[DocumentData, ...] = (),
    index: int = 1,
) -> ClaimData:
    return ClaimData(
        index=index, id=cid, payer=payer, patient=patient,
        diagnoses=[("icd10cm", d) for d in diagnoses],
        lines=[LineData(code=c, modifiers=m, units=u, service_date=d) for c, m, u, d in lines],
        documents=list(documents),
    )  # fmt: skip


def both(claims: list[ClaimData], rule_id: str | None = None) -> set[tuple[str | None, int | None]]:
    """(claim, line) of one rule's findings, after checking both engines agree on all rules."""
    found = fast.validate_claims(claims, jobs=1)
    assert idents(found) == idents(reference.validate_claims(claims))
    return {(f.claim, f.line) for f in found if rule_id is None or f.rule == rule_id}


def test_ens06_counts_acupuncture_on_another_claim_of_the_same_patient() -> None:
    d = "2026-03-02"
    estim = claim("CLM-X1", "aetna", [("97014", [], 1, d)], patient="TEST-PT-9")
    acu_same = claim("CLM-X2", "aetna", [("97810", [], 1, d)], patient="TEST-PT-9", index=2)
    acu_other_patient = claim("CLM-X3", "aetna", [("97810", [], 1, d)], patient="TEST-PT-8",
                              index=3)  # fmt: skip
    acu_other_day = claim("CLM-X4", "aetna", [("97810", [], 1, "2026-03-03")],
                          patient="TEST-PT-9", index=4)  # fmt: skip
    assert both([estim, acu_same], "ENS-06") == {("CLM-X1", 1)}
    assert both([estim, acu_other_patient, acu_other_day], "ENS-06") == set()


def test_ther03_claim_level_time_record_covers_all_timed_lines() -> None:
    d = "2026-03-02"
    lines: list[tuple[str, list[str], object, str]] = [("97110", ["GP"], 2, d),
                                                       ("97112", ["GP"], 1, d)]  # fmt: skip
    record = DocumentData(type="time-record", fields={"minutes": 38, "one_on_one": True})
    assert both([claim("CLM-X5", "medicare", lines, documents=(record,))], "THER-03") == set()
    short = DocumentData(type="time-record", fields={"minutes": 37, "one_on_one": True})
    over = claim("CLM-X5", "medicare", lines, documents=(short,))
    assert both([over], "THER-03") == {("CLM-X5", 1), ("CLM-X5", 2)}


def test_ther03_leaves_a_line_without_time_record_to_ther02() -> None:
    d = "2026-03-02"
    lines: list[tuple[str, list[str], object, str]] = [("97112", ["GP"], 2, d),
                                                       ("97110", ["GP"], 1, d)]  # fmt: skip
    record = DocumentData(type="time-record", line=1, fields={"minutes": 30, "one_on_one": True})
    c = claim("CLM-X12", "medicare", lines, documents=(record,))
    assert both([c], "THER-03") == set()
    assert both([c], "THER-02") == {("CLM-X12", 2)}


EIGHT_MINUTES = [  # (minutes, units, THER-03 fires)
    (7, 1, True), (8, 1, False), (22, 2, True), (23, 2, False), (52, 3, False), (53, 4, False),
    (67, 5, True), (68, 5, False), (82, 5, False), (83, 6, False), (83, 7, True),
]  # fmt: skip


def test_ther03_eight_minute_table() -> None:
    claims = []
    for n, (minutes, units, _fires) in enumerate(EIGHT_MINUTES, start=1):
        record = DocumentData(type="time-record", line=1,
                              fields={"minutes": minutes, "one_on_one": True})  # fmt: skip
        claims.append(claim(f"CLM-X6-{n}", "medicare", [("97110", ["GP"], units, "2026-03-02")],
                            documents=(record,), patient=f"TEST-PT-6-{n}", index=n))  # fmt: skip
    fired = {(f"CLM-X6-{n}", 1) for n, (_m, _u, f) in enumerate(EIGHT_MINUTES, start=1) if f}
    assert both(claims, "THER-03") == fired


def test_nmr02_window_and_effective_date() -> None:
    import datetime as dt

    def visits(start: str, n: int, step: int) -> list[tuple[str, list[str], object, str]]:
        first = dt.date.fromisoformat(start)
        return [("97112", ["GP"], 1, (first + dt.timedelta(days=step * k)).isoformat())
                for k in range(n)]  # fmt: skip

    claims = [
        # 19 visits, the first 42 days before the last: no 42-day window holds more than 18
        claim("CLM-X7", "aetna", [*visits("2025-08-01", 18, 2), ("97112", ["GP"], 1, "2025-09-12")],
              patient="TEST-PT-71"),
        # one day earlier the first visit falls inside the window of the last
        claim("CLM-X7D", "aetna",
              [*visits("2025-08-01", 18, 2), ("97112", ["GP"], 1, "2025-09-11")],
              patient="TEST-PT-72", index=2),
        # 19 visits within 36 days, after the rule's effective period: no finding
        claim("CLM-X8", "aetna", visits("2025-11-03", 19, 2), patient="TEST-PT-73", index=3),
        # the same patient's visits on another payer's claims do not count
        claim("CLM-X9", "aetna", visits("2025-09-01", 10, 2), patient="TEST-PT-74", index=4),
        claim("CLM-X10", "bcbs", visits("2025-09-21", 9, 2), patient="TEST-PT-74", index=5),
        # ... and on the same payer's claims they do
        claim("CLM-X9A", "aetna", visits("2025-09-01", 10, 2), patient="TEST-PT-75", index=6),
        claim("CLM-X10A", "aetna", visits("2025-09-21", 9, 2), patient="TEST-PT-75", index=7),
        # a claim without a patient id counts its own visits
        claim("CLM-X11", "aetna", visits("2025-09-01", 19, 2), patient=None, index=8),
    ]  # fmt: skip
    assert both(claims, "NMR-02") == {("CLM-X7D", 19), ("CLM-X10A", 9), ("CLM-X11", 19)}


def test_engines_agree_on_malformed_values() -> None:
    """Units, dates and minutes as sent (strings stay strings): no engine-specific findings."""
    docs = (
        DocumentData(type="time-record", line=1, fields={"minutes": "ten", "one_on_one": "yes"}),
        DocumentData(type="time-record", line=2, fields={"minutes": 20}),
    )
    lines: list[tuple[str, list[str], object, str]] = [
        ("97112", ["GP"], "two", "2025-10-15"), ("97110", [], 2, "2025-02-30"),
        ("97014", ["59"], 1, "soon"), ("97810", [], 1, "soon"), ("E1392", ["KX", "GA"], 1, "soon"),
        ("97112", ["NU", "RR"], 1, "2025-13-01"),
    ]  # fmt: skip
    for payer in ("medicare", "aetna", "bcbs", "unknown-payer"):
        c = claim("CLM-X13", payer, lines, diagnoses=("R52", "I63.9"), documents=docs)
        both([c])
    no_payer = ClaimData(
        index=1, id="CLM-X14", lines=[LineData(code="E1392", units=1, service_date="2026-01-05")]
    )
    assert ("CLM-X14", 1) in both([no_payer], "OXY-02")  # rules without payers check it


def _code_claim(
    diagnoses: list[tuple[str, str]],
    code: str = "E1390",
    modifiers: tuple[str, ...] = ("RR",),
    date: str = "2024-06-01",
) -> ClaimData:
    line = LineData(code=code, modifiers=list(modifiers), units=1, service_date=date)
    return ClaimData(index=1, id="CLM-X1", payer="medicaid", diagnoses=diagnoses, lines=[line])


@pytest.mark.parametrize("engine", [fast, reference], ids=["fast", "reference"])
def test_icd9_diagnosis_says_why(engine) -> None:  # type: ignore[no-untyped-def]
    found = [f for f in engine.validate_claims([_code_claim([("icd9cm", "496")])])
             if f.rule == "CODE-02"]  # fmt: skip
    assert [f.ident for f in found] == [("CLM-X1", None, "CODE-02", "violation")]
    assert "2015-10-01" in found[0].message and "ICD-9-CM" in found[0].message
    clean = engine.validate_claims([_code_claim([("icd10cm", "J44.9")])])
    assert not [f for f in clean if f.rule == "CODE-02"]
    before = engine.validate_claims([_code_claim([("icd9cm", "496")], date="2005-06-01")])
    assert not [f for f in before if f.rule == "CODE-02"]  # ICD-9-CM was the code set then


def _store(tmp_path: Path, name: str, records: list[str]) -> Path:
    """A code-set store holding one hand-made HCPCS release of `records`."""
    from claimgraph import codestore
    from claimgraph.importers import hcpcs
    from test_codesets import write_fixed

    root = tmp_path / name
    release = write_fixed(tmp_path / "HCPC2026_ANWEB.txt", records)
    codestore.import_release(hcpcs.read(release), root)
    return root


@pytest.mark.parametrize("engine", [fast, reference], ids=["fast", "reference"])
def test_loaded_full_code_set_turns_info_into_violation(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from test_codesets import record

    claim_ = _code_claim([("icd10cm", "J44.9")], code="E0250", modifiers=("RR", "XR"))
    bundled = Knowledge.bundled()

    def code_findings(knowledge: Knowledge) -> set[Ident]:
        found = engine.validate_claims([claim_], knowledge=knowledge)
        return {f.ident for f in found if f.rule.startswith("CODE-0")}

    info = {("CLM-X1", 1, "CODE-01", "info"), ("CLM-X1", 1, "CODE-03", "info")}
    assert code_findings(bundled) == info
    listed = _store(tmp_path, "listed", [
        record("E0250", "Hospital bed, test descriptor", "Hosp bed test", added="19900101"),
        record("RR", "Rental, test descriptor", "Rental test", recid="7", added="19900101"),
    ])  # fmt: skip
    # E0250 and RR are in the full sets, XR is not
    assert code_findings(bundled.with_codesets(listed)) == {("CLM-X1", 1, "CODE-03", "violation")}
    unlisted = _store(tmp_path, "unlisted", [
        record("E1399", "Durable medical equipment, test descriptor", "DME test"),
        record("KX", "Requirements met, test descriptor", "Requirements test", recid="7"),
    ])  # fmt: skip
    assert code_findings(bundled.with_codesets(unlisted)) == {
        ("CLM-X1", 1, "CODE-01", "violation"), ("CLM-X1", 1, "CODE-03", "violation"),
    }  # fmt: skip
    assert code_findings(bundled) == info  # the values do not affect each other


# ------------------------------------------------------------------------------ generated


@cache
def generated(tmp: Path, n: int) -> Path:
    path = tmp / f"claims-{n}.json"
    write_json(path, n, seed=11)
    return path


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generated")


@pytest.fixture(scope="module")
def many(tmp: Path) -> tuple[Path, set[Ident]]:
    path = generated(tmp, 2000)
    return path, idents(fast.validate_claims(read_claims([path]), jobs=1))


def test_generated_claims_cover_every_rule(many: tuple[Path, set[Ident]]) -> None:
    assert {k[2] for k in many[1]} == set(ENGINE_RULES)
    # the patients with many visits, spread over the file, exceed the visit guideline
    assert any(k[2] == "NMR-02" and str(k[0]).startswith("CLM-H") for k in many[1])


def test_small_batches_keep_every_finding(many: tuple[Path, set[Ident]]) -> None:
    """Patients' claims far apart in the file (NMR-02) still meet: batches of 25 claims."""
    path, found = many
    claims = list(read_claims([path]))
    first: dict[str, int] = {}
    spread = 0
    for i, c in enumerate(claims):
        spread = max(spread, i - first.setdefault(str(c.patient), i))
    assert spread > 500  # some patient's claims are hundreds of claims apart
    assert any(k[2] == "NMR-02" for k in found)
    assert idents(fast.validate_claims(claims, jobs=1, batch_size=25)) == found


def test_two_jobs_equal_one(many: tuple[Path, set[Ident]]) -> None:
    path, found = many
    assert idents(fast.validate_claims(read_claims([path]), jobs=2, batch_size=150)) == found


def test_findings_say_what_the_rulebook_says(many: tuple[Path, set[Ident]]) -> None:
    claims = list(read_claims([many[0]]))[:200]
    book = Knowledge.bundled().rulebook
    for f in fast.validate_claims(claims, jobs=1):
        assert f.message and f.source == book.rules[f.rule].source
        if f.line is not None:
            c = next(c for c in claims if c.key == f.claim)
            code = c.lines[f.line - 1].code
            assert f.code == (
                code.strip().upper() if isinstance(code, str) and code.strip() else None
            )
