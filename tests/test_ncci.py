"""The NCCI rules (NCCI-01..04) over made-up CMS tables, the denial codes of every rule and the
FHIR ClaimResponse report.

The tables are tests/data/cms/ncci (made up in the CMS layouts by tests/cms_synthetic.py): PTP
91010/91020 indicator 0, 91010/91030 indicator 1, 91010/91040 deleted 2025-01-01, 91050/91060
effective 2026-03-01; MUE 91070 line limit 2, 91080 date limit 3 (policy), 91090 date limit 4
(clinical), E9910 practitioner 5 and DME supplier 1 per line; add-on 91095 (type 1, primary
91010), 91096 (type 3, primary 91020), 91097 (type 2), 91098 (type 1, its pair with 91050
deleted 2025-01-01). The per-rule fixtures are in tests/data/claims/NCCI-0N-*.json.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimgraph.cli import app
from claimgraph.ingest.model import ClaimData, LineData
from claimgraph.knowledge import Knowledge

CMS = Path(__file__).resolve().parent / "data" / "cms" / "ncci"
CLAIMS = Path(__file__).resolve().parent / "data" / "claims"
ENGINES = ["fast", "reference"]
DATE = "2026-02-03"
NEW_RULES = ("NCCI-01", "NCCI-02", "NCCI-03", "NCCI-04")
IMPORTS = [
    ["ncci-ptp", str(CMS / "ccipra-v320r0-f1.txt"), "--release", "2026Q1"],
    ["mue", str(CMS / "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv"),
     str(CMS / "MCR_MUE_DMESupplierServices_Eff_01-01-2026.csv")],
    ["aoc", str(CMS / "AOC_V2026Q1_01-MCR.txt")],
]  # fmt: skip


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the made-up PTP, MUE (practitioner, DME supplier) and AOC tables."""
    root = tmp_path_factory.mktemp("ncci") / "store"
    runner = CliRunner()
    for args in IMPORTS:
        r = runner.invoke(app, ["import", *args, "--store", str(root)])
        assert r.exit_code == 0, r.output
    return root


@pytest.fixture
def loaded(tables: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(tables))
    return tables


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(tmp_path / "no-store"))
    return tmp_path


def line(code: str, units: int = 1, mods: tuple[str, ...] = (), date: str = DATE) -> LineData:
    return LineData(code=code, modifiers=list(mods), units=units, service_date=date)


def claim(
    n: int, patient: str | None, lines: list[LineData], provider: str | None = None,
    payer: str = "medicare",
) -> ClaimData:  # fmt: skip
    return ClaimData(index=n, id=f"CLM-{n}", payer=payer, patient=patient, provider=provider,
                     diagnoses=[("icd10cm", "J44.9")], lines=lines)  # fmt: skip


def knowledge() -> Knowledge:
    """The bundled rules reading the store the `loaded` or `empty` fixture chose."""
    return Knowledge.bundled().with_codesets(os.environ["CLAIMGRAPH_STORE"])


def run(engine: str, claims: list[ClaimData], **kw: object) -> list:
    module = importlib.import_module(f"claimgraph.engine.{engine}")
    found = module.validate_claims(claims, knowledge=knowledge(), **kw)
    return [f for f in found if f.rule.startswith("NCCI")]


# --- importing the made-up files ------------------------------------------------------------


def test_made_up_tables_import_as_releases(tables: Path) -> None:
    r = CliRunner().invoke(app, ["store", "info", "--store", str(tables), "--format", "json"])
    assert r.exit_code == 0, r.output
    releases = {row["release"]: row for row in json.loads(r.output)}
    assert set(releases) == {
        "cms-ncci-ptp-practitioner-2026q1", "cms-ncci-mue-practitioner-2026q1",
        "cms-ncci-mue-dme-2026q1", "cms-ncci-aoc-2026q1",
    }  # fmt: skip
    assert releases["cms-ncci-ptp-practitioner-2026q1"]["rows"] == 4
    assert releases["cms-ncci-ptp-practitioner-2026q1"]["version"] == "v320r0"


# --- NCCI-01 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_ptp_violation_names_both_codes_and_the_version(engine: str, loaded: Path) -> None:
    found = run(engine, [claim(1, "PT-1", [line("91010"), line("91020")])])
    assert [f.ident for f in found] == [("CLM-1", 2, "NCCI-01", "violation")]
    facts = dict(found[0].facts)
    assert (facts["column1"], facts["column2"]) == ("91010", "91020")
    assert facts["version"] == "v320r0" and facts["table"] == "cms-ncci-ptp-practitioner-2026q1"
    assert facts["rationale"] == "Mutually exclusive procedures" and facts["indicator"] == "0"
    for text in ("91010", "91020", "v320r0", "Mutually exclusive procedures"):
        assert text in found[0].message


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("column2", "fires"), [("91030", False), ("91020", True)], ids=["indicator-1", "indicator-0"]
)
def test_modifier_59_bypasses_only_indicator_1(
    engine: str, column2: str, fires: bool, loaded: Path
) -> None:
    found = run(engine, [claim(1, "PT-1", [line("91010"), line(column2, mods=("59",))])])
    assert bool(found) is fires


@pytest.mark.parametrize("engine", ENGINES)
def test_modifier_on_the_column_1_line_does_not_bypass(engine: str, loaded: Path) -> None:
    found = run(engine, [claim(1, "PT-1", [line("91010", mods=("59",)), line("91030")])])
    assert [f.ident for f in found] == [("CLM-1", 2, "NCCI-01", "violation")]


@pytest.mark.parametrize("engine", ENGINES)
def test_edit_deleted_before_or_effective_after_the_date_does_not_fire(
    engine: str, loaded: Path
) -> None:
    claims = [
        claim(1, "PT-1", [line("91010"), line("91040")]),  # deleted 2025-01-01
        claim(2, "PT-2", [line("91050"), line("91060")]),  # effective 2026-03-01
        claim(3, "PT-3", [line("91050", date="2026-03-02"), line("91060", date="2026-03-02")]),
    ]
    assert [f.ident for f in run(engine, claims)] == [("CLM-3", 2, "NCCI-01", "violation")]


@pytest.mark.parametrize("engine", ENGINES)
def test_same_billing_provider_or_none_on_both(engine: str, loaded: Path) -> None:
    claims = [
        claim(1, "PT-1", [line("91010")], provider="1111111111"),
        claim(2, "PT-1", [line("91020")], provider="2222222222"),  # another provider
        claim(3, "PT-2", [line("91010")], provider="1111111111"),
        claim(4, "PT-2", [line("91020")], provider="1111111111"),  # the same provider
        claim(5, "PT-3", [line("91010")], provider="1111111111"),
        claim(6, "PT-3", [line("91020")]),  # a provider on one claim only
        claim(7, "PT-4", [line("91010")]),
        claim(8, "PT-4", [line("91020")]),  # none on either: the same
    ]
    found = {f.ident for f in run(engine, claims) if f.rule == "NCCI-01"}
    assert found == {("CLM-4", 1, "NCCI-01", "violation"), ("CLM-8", 1, "NCCI-01", "violation")}


def test_fast_engine_finds_pairs_of_codes_seen_in_earlier_batches(loaded: Path) -> None:
    """The table facts are made per batch and per patient, never memoised per code: a pair is
    found when its codes were first seen in other batches, and an edit found once is not added
    to later batches (the Enricher defect of 0.1)."""
    from claimgraph.engine import fast

    claims = [
        claim(1, "PT-1", [line("91010")]),
        claim(2, "PT-2", [line("91020")]),
        claim(3, "PT-3", [line("91010"), line("91020")]),
        claim(4, "PT-4", [line("91010"), line("91030", mods=("XS",))]),
    ]
    found = run("fast", claims, jobs=1, batch_size=1)
    assert {f.ident for f in found if f.rule == "NCCI-01"} == {("CLM-3", 2, "NCCI-01", "violation")}
    kn = knowledge()
    enricher = fast.Enricher(kn.codesets)
    records = [fast.encode(c, kn.payer_categories.keys()) for c in fast.with_uids(claims)]
    assert b"PTPEdit" in enricher.facts([records[2]])
    assert b"PTPEdit" not in enricher.facts([records[0]])  # nothing learnt leaks into it
    assert b"PTPEdit" not in enricher.facts([records[0], records[1]])  # two patients


# --- NCCI-02 / NCCI-03 -----------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_mue_date_of_service_edit_adds_units_across_claims(engine: str, loaded: Path) -> None:
    claims = [
        claim(1, "PT-1", [line("91080", units=2)]),
        claim(2, "PT-1", [line("91080", units=2)]),  # 4 > 3 with claim 1 (MAI 2)
        claim(3, "PT-2", [line("91080", units=2)]),
        claim(4, "PT-3", [line("91080", units=2)]),  # another patient: 2 each
    ]
    found = run(engine, claims)
    assert {f.ident for f in found} == {
        ("CLM-1", 1, "NCCI-03", "violation"), ("CLM-2", 1, "NCCI-03", "violation"),
    }  # fmt: skip
    assert {dict(f.facts)["total"] for f in found} == {"4"}


@pytest.mark.parametrize("engine", ENGINES)
def test_clinical_mue_is_a_warning_and_policy_mue_a_violation(engine: str, loaded: Path) -> None:
    found = run(engine, [claim(1, "PT-1", [line("91090", units=5), line("91080", units=4)])])
    assert {f.ident for f in found} == {
        ("CLM-1", 1, "NCCI-03", "warning"), ("CLM-1", 2, "NCCI-03", "violation"),
    }  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
def test_dme_lines_use_the_dme_supplier_table(engine: str, loaded: Path) -> None:
    found = run(engine, [claim(1, "PT-1", [line("E9910", units=2)])])
    assert [(f.ident, dict(f.facts)["table"]) for f in found] == [
        (("CLM-1", 1, "NCCI-02", "violation"), "cms-ncci-mue-dme-2026q1")
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_minutes_lines_are_not_judged_by_the_mue_rules(engine: str, loaded: Path) -> None:
    minutes = line("91070", units=30)
    minutes.unit_basis = "MJ"
    units = line("91070", units=30)
    found = run(engine, [claim(1, "PT-1", [minutes]), claim(2, "PT-2", [units])])
    assert [f.ident for f in found] == [("CLM-2", 1, "NCCI-02", "violation")]


# --- NCCI-04 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_add_on_code_alone_is_reported(engine: str, loaded: Path) -> None:
    claims = [
        claim(1, "PT-1", [line("91095")]),
        claim(2, "PT-2", [line("91095"), line("91010")]),
        claim(3, "PT-3", [line("91095")]),
        claim(4, "PT-3", [line("91010")]),  # the primary on another claim of the patient
    ]
    found = run(engine, claims)
    assert [f.ident for f in found] == [("CLM-1", 1, "NCCI-04", "violation")]
    assert dict(found[0].facts) == {
        "addon": "91095", "table": "cms-ncci-aoc-2026q1", "version": "2026Q1_01",
    }  # fmt: skip


# --- without tables --------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_without_tables_each_rule_gives_one_info_per_run(engine: str, empty: Path) -> None:
    claims = [claim(n, f"PT-{n}", [line("91010"), line("91020", units=9)]) for n in range(1, 8)]
    kw = {"batch_size": 2} if engine == "fast" else {}
    found = run(engine, claims, jobs=1, **kw)
    assert sorted(f.ident for f in found) == [(None, None, r, "info") for r in NEW_RULES]
    hints = {f.rule: f.message for f in found}
    assert "claimgraph import ncci-ptp FILE" in hints["NCCI-01"]
    assert "claimgraph import mue FILE" in hints["NCCI-02"]
    assert "claimgraph import mue FILE" in hints["NCCI-03"]
    assert "claimgraph import aoc FILE" in hints["NCCI-04"]
    assert all("load the NCCI tables to check this" in m for m in hints.values())


def test_the_run_level_info_says_what_to_import(empty: Path) -> None:
    from claimgraph.validation import validate_files

    found = validate_files([CLAIMS / "NCCI-01-pass.json"], rules=list(NEW_RULES)).findings
    fixes = {f.rule: f.fix for f in found}
    assert fixes["NCCI-01"].endswith("claimgraph import ncci-ptp FILE.")
    assert fixes["NCCI-04"].endswith("claimgraph import aoc FILE.")
    assert {(f.claim, f.line, f.payer, f.service_date) for f in found} == {(None, None, None, None)}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_table_of_another_quarter_gives_the_info(engine: str, loaded: Path) -> None:
    found = run(engine, [claim(1, "PT-1", [line("91010", date="2025-06-02"),
                                          line("91020", date="2025-06-02")])])  # fmt: skip
    assert sorted(f.ident for f in found) == [(None, None, r, "info") for r in NEW_RULES]


# --- both engines agree on generated claims that hit every edit kind -------------------------


def _generated(count: int, seed: int = 5) -> list[ClaimData]:
    rng = random.Random(seed)
    codes = ["91010", "91020", "91030", "91040", "91050", "91060", "91070", "91080", "91090",
             "91095", "91096", "91097", "91098", "E9910", "97110"]  # fmt: skip
    dates = ["2026-02-03", "2026-02-04", "2026-03-02", "2025-12-30"]
    out = []
    for n in range(1, count + 1):
        patient = f"PT-{rng.randrange(count // 3 + 1)}" if rng.random() < 0.9 else None
        provider = rng.choice([None, "1111111111", "2222222222"])
        date = rng.choice(dates)
        lines = [
            line(rng.choice(codes), units=rng.choice([1, 1, 2, 3, 5]),
                 mods=tuple(rng.sample(["59", "XS", "LT", "GA"], rng.choice([0, 0, 1]))),
                 date=date if rng.random() < 0.8 else rng.choice(dates))
            for _ in range(rng.randint(1, 4))
        ]  # fmt: skip
        payer = rng.choice(["medicare", "medicare", "aetna", "medicaid"])
        out.append(claim(n, patient, lines, provider=provider, payer=payer))
    return out


def test_both_engines_agree_on_generated_claims(loaded: Path) -> None:
    claims = _generated(90)
    fast = {(f.ident, f.facts) for f in run("fast", claims, jobs=1, batch_size=17)}
    reference = {(f.ident, f.facts) for f in run("reference", claims)}
    assert fast == reference
    kinds = {(f.rule, f.severity) for f, _ in ((f, 0) for f in run("fast", claims, jobs=1))}
    assert kinds >= {
        ("NCCI-01", "violation"), ("NCCI-02", "violation"), ("NCCI-03", "violation"),
        ("NCCI-03", "warning"), ("NCCI-04", "violation"), ("NCCI-04", "warning"),
        ("NCCI-04", "info"), ("NCCI-01", "info"),
    }  # fmt: skip


# --- denial codes ------------------------------------------------------------------------------


def test_every_rule_has_a_carc_and_a_group_code_that_the_ontology_defines() -> None:
    from rdflib import RDF

    from claimgraph.namespaces import CG, SKOS

    kn = Knowledge.bundled()
    g = kn.graph

    def defined(cls: object) -> set[str]:
        return {str(g.value(c, SKOS.notation)) for c in g.subjects(RDF.type, cls)}

    carcs, rarcs = defined(CG.ClaimAdjustmentReasonCode), defined(CG.RemittanceAdviceRemarkCode)
    groups = defined(CG.ClaimAdjustmentGroupCode)
    for rule in kn.rulebook.rules.values():
        carc, group = g.value(rule.iri, CG.carc), g.value(rule.iri, CG.groupCode)
        assert carc is not None and group is not None, rule.id
        assert str(carc) in carcs and str(group) in groups, rule.id
        rarc = g.value(rule.iri, CG.rarc)
        assert rarc is None or str(rarc) in rarcs, rule.id
        if str(carc) == "16":  # CARC 16 always needs a remark code naming what is missing
            assert rarc is not None, rule.id
    # our own words, and the link to the X12 list
    for code in g.subjects(RDF.type, CG.ClaimAdjustmentReasonCode):
        assert "x12.org/codes/claim-adjustment-reason-codes" in str(g.value(code, RDFS_SEE_ALSO))


RDFS_SEE_ALSO = __import__("rdflib").RDFS.seeAlso


def test_which_rules_end_in_carc_16() -> None:
    from claimgraph import query as Q

    rows = Q.run_named("rules-by-carc", {"carc": "16"}).rows
    ids = {str(r[5]) for r in rows}
    assert {"OXY-03", "NMES-02", "STRUCT-01"} <= ids
    assert {str(r[0]) for r in rows} == {"16"} and "NCCI-01" not in ids


def test_rule_catalogue_lists_the_denial_codes() -> None:
    r = CliRunner().invoke(app, ["rules", "--topic", "ncci", "--format", "csv"])
    assert r.exit_code == 0, r.output
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(r.output))}
    assert (rows["NCCI-01"]["carc"], rows["NCCI-01"]["rarc"], rows["NCCI-01"]["group"]) == (
        "236", "M80", "CO",
    )  # fmt: skip
    assert rows["NCCI-04"]["carc"] == "107" and rows["NCCI-04"]["rarc"] == "N122"


# --- reports -----------------------------------------------------------------------------------


def _validate(loaded: Path, tmp_path: Path, fmt: str) -> str:
    out = tmp_path / f"report.{fmt}"
    r = CliRunner().invoke(app, ["validate", str(CLAIMS / "NCCI-01-fail.json"), "--format", fmt,
                                 "-o", str(out), "--force"])  # fmt: skip
    assert r.exit_code == 1, r.output  # violations
    return out.read_text(encoding="utf-8")


def test_json_csv_and_table_reports_show_the_denial_codes(loaded: Path, tmp_path: Path) -> None:
    record = next(f for f in json.loads(_validate(loaded, tmp_path, "json"))["findings"]
                  if f["rule"] == "NCCI-01")  # fmt: skip
    assert (record["carc"], record["rarc"], record["group_code"]) == ("236", "M80", "CO")
    rows = [r for r in csv.DictReader(io.StringIO(_validate(loaded, tmp_path, "csv")))
            if r["rule"] == "NCCI-01"]  # fmt: skip
    carc_col = next(k for k in rows[0] if "carc" in k.lower())
    assert {r[carc_col] for r in rows} == {"236"}
    table = _validate(loaded, tmp_path, "table")
    assert "236" in table and "M80" in table


def test_fhir_report_is_a_bundle_of_claim_responses(loaded: Path, tmp_path: Path) -> None:
    bundle = json.loads(_validate(loaded, tmp_path, "fhir"))
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    responses = {
        e["resource"]["request"]["identifier"]["value"]: e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "ClaimResponse"
    }
    assert {"CLM-N101", "CLM-N105"} <= set(responses)
    cr = responses["CLM-N101"]
    assert cr["outcome"] == "partial" and cr["use"] == "claim"
    assert cr["patient"] == {"extension": [{
        "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "masked"
    }]}  # fmt: skip
    item = next(i for i in cr["item"] if i["itemSequence"] == 2)
    assert item["extension"][0]["valueCoding"]["code"] == "would-deny"
    adj = next(a for a in item["adjudication"] if a["reason"]["text"] == "NCCI-01")
    assert adj["reason"]["coding"] == [{
        "system": "https://x12.org/codes/claim-adjustment-reason-codes", "code": "236",
        "display": "not allowed with another procedure of the day",
    }]  # fmt: skip
    assert adj["extension"][0]["valueCoding"]["system"] == (
        "https://x12.org/codes/remittance-advice-remark-codes"
    )
    assert {"itemSequence": 2, "code": adj["reason"] | {"text": "NCCI-01"}} in cr["error"]
    text = json.dumps(bundle)
    for patient in ("TEST-PT-N11", "TEST-PT-N14"):  # the fixture's patient ids
        assert patient not in text


def test_fhir_report_reads_back_with_fhir_resources(loaded: Path, tmp_path: Path) -> None:
    r4b = pytest.importorskip("fhir.resources.R4B.bundle", reason="fhir.resources not installed")
    data = json.loads(_validate(loaded, tmp_path, "fhir"))
    bundle = r4b.Bundle.model_validate(data)
    kinds = [e.resource.__class__.__name__ for e in bundle.entry]
    assert kinds == ["ClaimResponse"] * 6  # the tables cover the dates: no run-level finding


def test_fhir_report_puts_run_findings_in_an_operation_outcome(empty: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = CliRunner().invoke(app, ["validate", str(CLAIMS / "NCCI-01-fail.json"), "--format", "fhir",
                                 "-o", str(out), "--force"])  # fmt: skip
    assert r.exit_code in (0, 1), r.output
    bundle = json.loads(out.read_text(encoding="utf-8"))
    outcome = bundle["entry"][-1]["resource"]
    assert outcome["resourceType"] == "OperationOutcome"
    notes = [i["diagnostics"] for i in outcome["issue"]]
    assert sorted(n.split(":")[0] for n in notes) == list(NEW_RULES)
