"""Importing the CMS edit and fee-schedule tables (NCCI PTP, MUE, AOC; DMEPOS) and the facts
they give the validation engines (claimgraph.tablestore.facts_for).

The NCCI files in tests/data/cms are made up in the exact CMS layouts (tests/cms_synthetic.py);
the real DMEPOS January 2025 file is read from ../shared/data (skipped when absent), with the
expected values taken from it by a minimal reader here, not from claimgraph.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from rdflib import RDF, Graph, Literal, URIRef

import cms_synthetic as syn
from claimgraph import codestore, tablestore
from claimgraph.cli import app
from claimgraph.namespaces import (
    CG,
    CPT,
    DCT,
    ENTRY,
    HCPCS,
    MODIFIER,
    PAYMENT_CATEGORY,
    SETTING,
    SOURCE,
    procedure_code_iri,
)

DATA = Path(__file__).resolve().parent / "data" / "cms"
DMEPOS_2025 = "cms-coverage/DMEPOS25_JAN_fee_schedule.csv"
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
PTP_PARTS = [DATA / "ccipra-v320r0-f1.txt", DATA / "ccipra-v320r0-f2.txt"]
PTP_HOSPITAL = DATA / "ccioph-v320r0-f1.txt"
MUE_PRACTITIONER = DATA / "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv"
MUE_DME = DATA / "MCR_MUE_DMESupplierServices_Eff_01-01-2026.csv"
AOC = DATA / "AOC_V2026Q1_01-MCR.txt"
DMEPOS_SMALL = DATA / "DMEPOS26_APR.csv"


def date(text: str) -> Literal:
    return Literal(text, datatype=XSD_DATE)


def code(notation: str) -> URIRef:
    return procedure_code_iri(notation)


def invoke(runner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def facts(store: Path, *notations: str) -> Graph:
    g = Graph()
    for t in tablestore.facts_for({code(n) for n in notations}, set(), store):
        g.add(t)
    return g


def one_line_error(r, path: Path | str, position: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """The CLI failed with exit 2 and one line naming the file (and position)."""
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.output, r.stderr
    assert str(path) in lines[0], lines[0]
    if position:
        assert f":{position}:" in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def ncci_store(runner, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """A store with the made-up PTP (both settings), MUE (two settings) and AOC tables."""
    root = tmp_path / "ncci"
    for args in (
        ["ncci-ptp", *PTP_PARTS, PTP_HOSPITAL, "--release", "2026Q1"],
        ["mue", MUE_PRACTITIONER, MUE_DME],
        ["aoc", AOC],
    ):
        r = invoke(runner, "import", *args, "--store", root)
        assert r.exit_code == 0, r.output
    return root


# --- DMEPOS fee schedule -------------------------------------------------------------------------


def cms_dmepos(path: Path) -> dict[str, dict[str, set[str]]]:
    """code -> category -> modifiers, read from the raw CMS CSV (the test's own reader)."""
    rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    start = next(i for i, r in enumerate(rows) if r and r[0] == "HCPCS")
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in rows[start + 1 :]:
        if r and r[0]:
            out[r[0]][r[4]].update(m for m in (r[1], r[2]) if m)
    return out


def test_real_dmepos_file(runner, shared_data: Path, store: Path) -> None:  # type: ignore[no-untyped-def]
    path = shared_data / DMEPOS_2025
    expected = cms_dmepos(path)
    r = invoke(runner, "import", "dmepos", path, "--store", store)
    assert r.exit_code == 0, r.output
    assert "cms-dmepos-2025q1: 3,487 rows, 2,084 codes" in r.stderr
    assert len(expected) == 2084
    [info] = json.loads(invoke(runner, "store", "info", "-f", "json", "--store", store).stdout)
    assert (info["kind"], info["quarter"], info["issued"], info["rows"]) == (
        "dmepos", "2025Q1", "2025-01-01", 3487
    )  # fmt: skip
    checked = ("E1390", "E1392", "E0747", "E0720", "E0730", "E0766", "A4217", "K0738", "E0601")
    g = facts(store, *checked)
    for notation in checked:
        got = {
            str(g.value(e, CG.paymentCategory)).rsplit("/", 1)[1]: {
                str(m).rsplit("/", 1)[1] for m in g.objects(e, CG.pricingModifier)
            }
            for e in g.subjects(CG.tableCode, code(notation))
        }
        assert got == expected[notation], notation
    # what the rental/purchase rule will rely on (issue 12): RR only, NU only
    assert expected["E1390"] == expected["E1392"] == {"OX": {"RR", "QB", "QF"}}
    assert expected["E0766"] == {"FS": {"RR", "KF"}}
    assert expected["E0720"] == expected["E0730"] == {"TE": {"NU"}}
    assert expected["E0747"] == {"IN": {"NU", "RR", "UE", "KF"}}
    rel = SOURCE["cms-dmepos-2025q1"]
    assert (rel, RDF.type, CG.DMEPOSFeeScheduleRelease) in g
    assert (rel, CG.effectiveFrom, date("2025-01-01")) in g
    assert (rel, CG.effectiveUntil, date("2025-03-31")) in g


def test_dmepos_quarter_categories_and_release_option(runner, store: Path) -> None:  # type: ignore[no-untyped-def]
    r = invoke(runner, "import", "dmepos", DMEPOS_SMALL, "--store", store)
    assert r.exit_code == 0, r.output
    g = facts(store, "E9902", "A9903", "E9904", "99999")
    e = ENTRY["cms-dmepos-2026q2/E9902/IN"]
    assert (e, CG.paymentCategory, PAYMENT_CATEGORY.IN) in g
    assert set(g.objects(e, CG.pricingModifier)) == {MODIFIER.NU, MODIFIER.RR, MODIFIER.UE}
    assert (e, DCT.source, SOURCE["cms-dmepos-2026q2"]) in g
    assert (e, CG.effectiveFrom, date("2026-04-01")) in g  # the quarter it prices
    assert (e, CG.effectiveUntil, date("2026-06-30")) in g
    # one code under two categories: one entry each; "priced without modifier" only for SU
    su, os_ = ENTRY["cms-dmepos-2026q2/A9903/SU"], ENTRY["cms-dmepos-2026q2/A9903/OS"]
    assert (su, CG.pricedWithoutModifier, Literal(True)) in g
    assert (os_, CG.pricedWithoutModifier, None) not in g
    assert set(g.objects(os_, CG.pricingModifier)) == {MODIFIER.AU}
    assert set(g.objects(ENTRY["cms-dmepos-2026q2/E9904/OX"], CG.pricingModifier)) == {
        MODIFIER.RR, MODIFIER.QF
    }  # fmt: skip
    assert not list(g.subjects(CG.tableCode, code("99999")))
    # --release wins over the file name; a second quarter is kept beside the first
    r = invoke(runner, "import", "dmepos", DMEPOS_SMALL, "--release", "2026-07", "--store", store)
    assert r.exit_code == 0, r.output
    kinds = {(x["release"], x["kind"]) for x in codestore.info(store)["releases"]}
    assert kinds == {("cms-dmepos-2026q2", "dmepos"), ("cms-dmepos-2026q3", "dmepos")}


def test_dmepos_quarter_from_the_title_row(runner, store: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "fees.csv"
    shutil.copy(DMEPOS_SMALL, path)
    r = invoke(runner, "import", "dmepos", path, "--store", store)
    assert r.exit_code == 0 and "cms-dmepos-2026q2" in r.stderr, r.output
    path.write_text(DMEPOS_SMALL.read_text().replace("April 2026 Fee", "Fee"), encoding="utf-8")
    one_line_error(invoke(runner, "import", "dmepos", path, "--store", store), path)


def dmepos_defect(tmp_path: Path, kind: str) -> tuple[Path, str | None]:
    rows = [("E9901", "RR", "", "D", "CR"), ("E9902", "NU", "", "D", "IN")]
    if kind == "category":
        rows[1] = ("E9902", "NU", "", "D", "ZZ")
    elif kind == "modifier":
        rows[1] = ("E9902", "NUX", "", "D", "IN")
    elif kind == "code":
        rows[1] = ("E99", "NU", "", "D", "IN")
    text = syn.dmepos_text(rows, "April 2026 Fee Schedule")
    if kind == "fields":
        text = text.rstrip("\n") + ",extra\n"
    if kind == "header":
        text = text.replace("HCPCS,Mod,Mod2", "Code,Modifier,Mod2")
    path = tmp_path / "DMEPOS26_APR.csv"
    path.write_text(text, encoding="utf-8")
    return path, None if kind == "header" else "line 9"


@pytest.mark.parametrize("kind", ["category", "modifier", "code", "fields", "header"])
def test_dmepos_defects(runner, store: Path, tmp_path: Path, kind: str) -> None:  # type: ignore[no-untyped-def]
    path, where = dmepos_defect(tmp_path, kind)
    line = one_line_error(invoke(runner, "import", "dmepos", path, "--store", store), path, where)
    if kind == "category":
        assert "CATG" in line and "CR" in line  # names the known categories, from the ontology
    assert not store.exists()  # a failed first import leaves no store


# --- PTP -----------------------------------------------------------------------------------------


def test_ptp_parts_and_settings_form_releases(runner, store: Path) -> None:  # type: ignore[no-untyped-def]
    r = invoke(runner, "import", "ncci-ptp", *PTP_PARTS, PTP_HOSPITAL, "--release", "2026Q1",
               "--store", store)  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "cms-ncci-ptp-practitioner-2026q1: 5 edits (1 deleted), 3 codes" in r.stderr
    assert "cms-ncci-ptp-hospital-2026q1: 1 edits" in r.stderr
    infos = {x["release"]: x for x in codestore.info(store)["releases"]}
    prac = infos["cms-ncci-ptp-practitioner-2026q1"]
    assert (prac["kind"], prac["setting"], prac["version"], prac["quarter"]) == (
        "ncci-ptp", "practitioner", "v320r0", "2026Q1"
    )  # fmt: skip
    assert prac["file"] == "ccipra-v320r0-f1.txt, ccipra-v320r0-f2.txt"
    assert (prac["rows"], prac["deleted"]) == (5, 1)
    assert infos["cms-ncci-ptp-hospital-2026q1"]["setting"] == "hospital"
    # the release graph describes itself
    db = codestore.snapshot(store)
    assert db is not None
    [ptp] = [t for t in tablestore.releases(db[1], db[2]) if t.setting == "practitioner"]
    assert (store / "tables" / ptp.table_file).is_file()


def test_ptp_zip_parts(runner, store: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    zips = []
    for i, part in enumerate(PTP_PARTS, start=1):
        z = tmp_path / f"medicare-ncci-2026q1-practitioner-ptp-edits-ccipra-v320r0-f{i}.zip"
        with zipfile.ZipFile(z, "w") as f:
            f.write(part, part.name)
            f.writestr("readme.pdf", b"%PDF-1.4 not a table")
        zips.append(z)
    r = invoke(runner, "import", "ncci-ptp", *zips, "--store", store)  # quarter from the name
    assert r.exit_code == 0, r.output
    [info] = codestore.info(store)["releases"]
    assert (info["release"], info["rows"]) == ("cms-ncci-ptp-practitioner-2026q1", 5)
    assert info["file"].startswith(f"{zips[0].name}!ccipra-v320r0-f1.txt")


def test_ptp_facts_pairs(ncci_store: Path) -> None:
    g = facts(ncci_store, "90010", "90020")
    prac = ENTRY["cms-ncci-ptp-practitioner-2026q1/90010/90020/20120101"]
    hosp = ENTRY["cms-ncci-ptp-hospital-2026q1/90010/90020/20120101"]
    assert (prac, RDF.type, CG.PTPEdit) in g and (hosp, RDF.type, CG.PTPEdit) in g
    assert (prac, CG.column1Code, CPT["90010"]) in g
    assert (prac, CG.column2Code, CPT["90020"]) in g
    assert (prac, CG.effectiveFrom, date("2012-01-01")) in g
    assert (prac, CG.modifierIndicator, Literal(0)) in g
    assert (hosp, CG.modifierIndicator, Literal(1)) in g
    assert (prac, CG.editRationale, Literal("Mutually exclusive procedures")) in g
    assert (prac, CG.careSetting, SETTING.practitioner) in g
    assert (hosp, CG.careSetting, SETTING["outpatient-hospital"]) in g
    assert (prac, DCT.source, SOURCE["cms-ncci-ptp-practitioner-2026q1"]) in g
    assert (prac, CG.deletionDate, None) not in g
    assert len(set(g.subjects(RDF.type, CG.PTPEdit))) == 2  # nothing else both codes make
    # one code alone: no edit; the edit is directional (90040 is column 1 of 90010)
    assert not set(facts(ncci_store, "90010").subjects(RDF.type, CG.PTPEdit))
    g = facts(ncci_store, "90010", "90040", "G9010")
    edits = {(g.value(e, CG.column1Code), g.value(e, CG.column2Code))
             for e in g.subjects(RDF.type, CG.PTPEdit)}  # fmt: skip
    assert edits == {(CPT["90040"], CPT["90010"]), (CPT["90010"], HCPCS.G9010)}


def test_ptp_deleted_edit_keeps_its_deletion_date(ncci_store: Path) -> None:
    g = facts(ncci_store, "90010", "90030")
    e = ENTRY["cms-ncci-ptp-practitioner-2026q1/90010/90030/19960101"]
    assert (e, CG.deletionDate, date("2020-01-01")) in g
    assert (e, CG.modifierIndicator, Literal(9)) in g


def test_loaded_markers(ncci_store: Path, tmp_path: Path, runner) -> None:  # type: ignore[no-untyped-def]
    g = facts(ncci_store, "99999")  # a code no table knows: only the release descriptions
    assert not set(g.subjects(RDF.type, CG.PTPEdit))
    rel = SOURCE["cms-ncci-ptp-practitioner-2026q1"]
    assert (rel, RDF.type, CG.PTPTableRelease) in g
    assert (rel, CG.careSetting, SETTING.practitioner) in g
    assert (rel, CG.effectiveFrom, date("2026-01-01")) in g
    assert (rel, CG.effectiveUntil, date("2026-03-31")) in g
    assert (rel, CG.tableVersion, Literal("v320r0")) in g
    assert (rel, CG.quarter, Literal("2026Q1")) in g
    mue = SOURCE["cms-ncci-mue-dme-2026q1"]
    assert (mue, RDF.type, CG.MUETableRelease) in g
    assert (mue, CG.careSetting, SETTING["dme-supplier"]) in g
    # a store with only an MUE table: no PTP marker, so "no PTP table loaded" is visible
    only = tmp_path / "only-mue"
    assert invoke(runner, "import", "mue", MUE_PRACTITIONER, "--store", only).exit_code == 0
    g = facts(only, "90010", "90020")
    assert not set(g.subjects(RDF.type, CG.PTPTableRelease))
    assert set(g.subjects(RDF.type, CG.MUETableRelease))


def test_no_store_and_no_tables_give_no_facts(tmp_path: Path, monkeypatch, runner) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "none"
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(missing))
    assert tablestore.facts_for({CPT["90010"]}, set(), missing) == []
    assert not missing.exists()
    cpt_only = tmp_path / "cpt-store"
    (tmp_path / "cpt.csv").write_text("90010,A made-up descriptor\n", encoding="utf-8")
    assert invoke(runner, "import", "cpt", tmp_path / "cpt.csv", "--store", cpt_only).exit_code == 0
    assert tablestore.facts_for({CPT["90010"]}, set(), cpt_only) == []


def ptp_defect(tmp_path: Path, kind: str) -> tuple[list[Path], str | None]:
    rows = [("90010", "90020", "", "20120101", "*", "0", "Mutually exclusive procedures")] * 2
    rows = [rows[0], ("90010", "90030", "", "20120101", "*", "1", "More extensive procedure")]
    bad = {
        "code": ("9001", "90030", "", "20120101", "*", "1", "x"),
        "date": ("90010", "90030", "", "20121301", "*", "1", "x"),
        "deletion": ("90010", "90030", "", "20120101", "2012", "1", "x"),
        "indicator": ("90010", "90030", "", "20120101", "*", "2", "x"),
        "prior": ("90010", "90030", "x", "20120101", "*", "1", "x"),
    }
    folder = tmp_path / kind
    folder.mkdir()
    good = syn.write_ptp(folder / "ccipra-v321r0-f1.txt", [rows[0]])
    part2 = folder / "ccipra-v321r0-f2.txt"
    if kind in bad:
        syn.write_ptp(part2, [rows[0][:1] + ("90040",) + rows[0][2:], bad[kind]])
        return [good, part2], "line 6"
    if kind == "fields":
        part2.write_text(syn.ptp_text([]) + "90010\t90030\t\t20120101\r\n", encoding="utf-8")
        return [good, part2], "line 5"
    if kind == "conflict":  # the same edit in two parts with a different modifier indicator
        syn.write_ptp(part2, [rows[0][:5] + ("1",) + rows[0][6:]])
        return [good, part2], "line 5"
    if kind == "header":
        part2.write_text("CPT only copyright\r\n\r\n" + "\t".join(rows[0]) + "\r\n")
        return [good, part2], None
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind", ["code", "date", "deletion", "indicator", "prior", "fields", "conflict", "header"]
)
def test_ptp_defect_leaves_the_store_as_it_was(runner, ncci_store: Path, tmp_path: Path,
                                               kind: str) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    before = tree_digest(ncci_store)
    files, where = ptp_defect(tmp_path, kind)
    r = invoke(runner, "import", "ncci-ptp", *files, "--release", "2026Q2", "--store", ncci_store)
    one_line_error(r, files[1], where)
    assert tree_digest(ncci_store) == before  # the rows of part 1 were read: nothing stays


def test_ptp_header_in_two_lines_and_empty_table(runner, store: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    second = "\t\tprior to 1996\tDate\tDate\tnot applicable\tRationale\r\n"
    text = PTP_PARTS[0].read_text(encoding="utf-8")
    path = tmp_path / "ccipra-v320r0-f1.txt"
    path.write_text(text.replace("PTP Edit Rationale\r\n", "PTP Edit Rationale\r\n" + second),
                    encoding="utf-8", newline="")  # fmt: skip
    r = invoke(runner, "import", "ncci-ptp", path, "--release", "2026Q1", "--store", store)
    assert r.exit_code == 0 and ": 3 edits" in r.stderr, r.output
    empty = syn.write_ptp(tmp_path / "ccioph-v320r0-f1.txt", [])
    r = invoke(runner, "import", "ncci-ptp", empty, "--release", "2026Q1", "--store", store)
    assert "no rows" in one_line_error(r, empty)


def test_ptp_identical_duplicate_is_kept_once(runner, store: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    row = ("90010", "90020", "", "20120101", "*", "0", "Mutually exclusive procedures")
    a = syn.write_ptp(tmp_path / "ccipra-v320r0-f1.txt", [row])
    b = syn.write_ptp(tmp_path / "ccipra-v320r0-f2.txt", [row])
    r = invoke(runner, "import", "ncci-ptp", a, b, "--release", "2026Q1", "--store", store)
    assert r.exit_code == 0 and ": 1 edits" in r.stderr, r.output


@pytest.mark.parametrize(
    "name, args, message",
    [
        ("edits-v320r0.txt", ["--release", "2026Q1"], "--setting"),
        ("ccipra-v320r0-f1.txt", [], "--release"),
        ("ccipra-v320r0-f1.txt", ["--release", "2026Q5"], "2026Q1"),
    ],
)
def test_ptp_names_that_do_not_tell(runner, store, tmp_path, name, args, message) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    shutil.copy(PTP_PARTS[0], path)
    r = invoke(runner, "import", "ncci-ptp", path, *args, "--store", store)
    assert r.exit_code == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = invoke(runner, "import", "ncci-ptp", path, "--setting", "hospital", "--release",
               "2026Q1", "--store", store)  # fmt: skip
    assert r.exit_code == 0 and "cms-ncci-ptp-hospital-2026q1" in r.stderr, r.output


def test_failed_commit_leaves_the_store_as_it_was(ncci_store: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from claimgraph.importers import ptp

    before = tree_digest(ncci_store)

    def crash(*_a: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(codestore, "_write_pointer", crash)
    with pytest.raises(OSError):
        tablestore.import_tables(ptp.read(PTP_PARTS, "2026Q3"), ncci_store)
    assert tree_digest(ncci_store) == before


def test_history_two_quarters_and_replacing(runner, ncci_store: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = PTP_PARTS[0].read_text().replace("20120101\t*\t0", "20120101\t*\t1")
    q2 = tmp_path / "ccipra-v321r0-f1.txt"
    q2.write_text(text, encoding="utf-8", newline="")
    r = invoke(runner, "import", "ncci-ptp", q2, "--release", "2026Q2", "--store", ncci_store)
    assert r.exit_code == 0, r.output
    g = facts(ncci_store, "90010", "90020")
    q1e = ENTRY["cms-ncci-ptp-practitioner-2026q1/90010/90020/20120101"]
    q2e = ENTRY["cms-ncci-ptp-practitioner-2026q2/90010/90020/20120101"]
    assert (q1e, CG.modifierIndicator, Literal(0)) in g
    assert (q2e, CG.modifierIndicator, Literal(1)) in g
    assert (SOURCE["cms-ncci-ptp-practitioner-2026q2"], CG.effectiveFrom, date("2026-04-01")) in g
    # the same quarter again replaces it: its old table file goes, the others stay
    r = invoke(runner, "import", "ncci-ptp", q2, "--release", "2026Q2", "--store", ncci_store)
    assert r.exit_code == 0 and "replaced release cms-ncci-ptp-practitioner-2026q2" in r.stderr
    releases = codestore.info(ncci_store)["releases"]
    assert len(releases) == 6  # PTP x3, MUE x2, AOC
    assert len(list((ncci_store / "tables").iterdir())) == 6
    assert set(facts(ncci_store, "90010", "90020").subjects(RDF.type, CG.PTPEdit)) == {
        q1e, q2e, ENTRY["cms-ncci-ptp-hospital-2026q1/90010/90020/20120101"]
    }  # fmt: skip


# --- MUE -----------------------------------------------------------------------------------------


def test_mue_facts(ncci_store: Path) -> None:
    g = facts(ncci_store, "90010", "E9901", "99999")
    e = ENTRY["cms-ncci-mue-practitioner-2026q1/90010"]
    assert (e, RDF.type, CG.MedicallyUnlikelyEdit) in g
    assert (e, CG.tableCode, CPT["90010"]) in g
    assert (e, CG.mueValue, Literal(1)) in g
    assert (e, CG.mueAdjudicationIndicator, Literal(2)) in g
    assert (e, CG.editRationale, Literal("CMS Policy")) in g
    assert (e, CG.careSetting, SETTING.practitioner) in g
    assert (e, CG.effectiveFrom, date("2026-01-01")) in g  # the quarter it is for
    assert (e, CG.effectiveUntil, date("2026-03-31")) in g
    dme = ENTRY["cms-ncci-mue-dme-2026q1/E9901"]
    assert (dme, CG.mueAdjudicationIndicator, Literal(3)) in g
    assert (dme, CG.careSetting, SETTING["dme-supplier"]) in g
    rel = SOURCE["cms-ncci-mue-practitioner-2026q1"]
    assert (rel, CG.effectiveFrom, date("2026-01-01")) in g
    assert not list(g.subjects(CG.tableCode, code("99999")))


def test_mue_second_quarter_is_history(runner, ncci_store: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = syn.write_mue(tmp_path, "practitioner", "04-01-2026", [("90010", 3, 2, "CMS Policy")])
    r = invoke(runner, "import", "mue", path, "--store", ncci_store)
    assert r.exit_code == 0, r.output
    g = facts(ncci_store, "90010")
    values = {(str(g.value(e, DCT.source)).rsplit("/", 1)[1], g.value(e, CG.mueValue).toPython())
              for e in g.subjects(RDF.type, CG.MedicallyUnlikelyEdit)}  # fmt: skip
    assert values == {
        ("cms-ncci-mue-practitioner-2026q1", 1),
        ("cms-ncci-mue-practitioner-2026q2", 3),
    }


def mue_defect(tmp_path: Path, kind: str) -> tuple[Path, str | None]:
    rows: list[tuple[Any, ...]] = [("90010", 1, 2, "CMS Policy"), ("90020", 2, 3, "Clinical: Data")]
    text = syn.mue_text("practitioner", rows)
    name = syn.mue_name("practitioner", "01-01-2026")
    where: str | None = "line 12"
    if kind == "mai":
        text = text.replace("3 Date of Service Edit: Clinical", "7 Unknown")
    elif kind == "value":
        text = text.replace("90020,2,", "90020,two,")
    elif kind == "code":
        text = text.replace("90020,", "9002,")
    elif kind == "duplicate":
        text = text.replace("90020,2,", "90010,2,")
    elif kind == "no-mai-column":
        text = text.replace("MUE Adjudication Indicator", "Comment")
        where = "line 10"
    elif kind == "setting-mismatch":
        name = syn.mue_name("dme", "01-01-2026")
        where = None
    elif kind == "no-date":
        name = "mue-table.csv"
        where = None
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path, where


@pytest.mark.parametrize(
    "kind", ["mai", "value", "code", "duplicate", "no-mai-column", "setting-mismatch", "no-date"]
)
def test_mue_defects(runner, ncci_store: Path, tmp_path: Path, kind: str) -> None:  # type: ignore[no-untyped-def]
    before = tree_digest(ncci_store)
    path, where = mue_defect(tmp_path, kind)
    one_line_error(invoke(runner, "import", "mue", path, "--store", ncci_store), path, where)
    assert tree_digest(ncci_store) == before


# --- AOC -----------------------------------------------------------------------------------------


def test_aoc_facts(ncci_store: Path) -> None:
    g = facts(ncci_store, "90090", "90010", "90091")
    listing = ENTRY["cms-ncci-aoc-2026q1/90090"]
    assert (listing, RDF.type, CG.AddOnCodeListing) in g
    assert (listing, CG.addOnCode, CPT["90090"]) in g
    assert (listing, CG.aocEditType, Literal(1)) in g
    assert (listing, CG.primaryCodeCount, Literal(2)) in g
    pair = ENTRY["cms-ncci-aoc-2026q1/90090/90010/20150101"]
    assert (pair, CG.primaryCode, CPT["90010"]) in g
    assert (pair, CG.effectiveFrom, date("2015-01-01")) in g
    assert (pair, CG.deletionDate, None) not in g
    # a primary that is not in the batch gives no pair; a deleted pair keeps its date
    assert len(set(g.subjects(RDF.type, CG.AddOnCodeEdit))) == 1
    assert (ENTRY["cms-ncci-aoc-2026q1/90091"], CG.aocEditType, Literal(2)) in g
    g = facts(ncci_store, "90090", "90020")
    deleted = ENTRY["cms-ncci-aoc-2026q1/90090/90020/20150101"]
    assert (deleted, CG.deletionDate, date("2025-01-01")) in g
    assert not set(facts(ncci_store, "90010").subjects(RDF.type, CG.AddOnCodeListing))


def test_aoc_xlsx(runner, store: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    openpyxl = pytest.importorskip("openpyxl")
    import datetime as dt

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(syn.AOC_HEADER))
    sheet.append(["90090", "90010", 1, None, None, dt.datetime(2015, 1, 1), None, None])
    sheet.append(["90090", "90020", 1, None, None, 20150101, 20250101, "note"])
    path = tmp_path / "AOC_V2026Q1_01-MCR.xlsx"
    book.save(path)
    r = invoke(runner, "import", "aoc", path, "--store", store)
    assert r.exit_code == 0, r.output
    g = facts(store, "90090", "90010", "90020")
    assert (ENTRY["cms-ncci-aoc-2026q1/90090/90010/20150101"], RDF.type, CG.AddOnCodeEdit) in g
    e = ENTRY["cms-ncci-aoc-2026q1/90090/90020/20150101"]
    assert (e, CG.deletionDate, date("2025-01-01")) in g
    sheet.append(["90090", "90030", 4, None, None, 20150101, None, None])
    book.save(path)
    one_line_error(invoke(runner, "import", "aoc", path, "--store", store), path, "row 4")


@pytest.mark.parametrize(
    "old, new, where",
    [("\t1\t", "\t5\t", "line 2"), ("20150101", "2015", "line 2"), ("Primary Code", "Other", None)],
)
def test_aoc_defects(runner, ncci_store, tmp_path, old, new, where) -> None:  # type: ignore[no-untyped-def]
    before = tree_digest(ncci_store)
    path = tmp_path / "AOC_V2026Q2_01-MCR.txt"
    path.write_text(AOC.read_text().replace(old, new, 1), encoding="utf-8")
    one_line_error(invoke(runner, "import", "aoc", path, "--store", ncci_store), path, where)
    assert tree_digest(ncci_store) == before


# --- store info, engines -------------------------------------------------------------------------


def test_store_info_lists_kinds(runner, ncci_store: Path) -> None:  # type: ignore[no-untyped-def]
    r = invoke(runner, "store", "info", "--store", ncci_store)
    assert r.exit_code == 0, r.output
    for text in ("kind", "ncci-ptp", "ncci-mue", "ncci-aoc", "v320r0"):
        assert text in r.stdout
    rows = json.loads(invoke(runner, "store", "info", "-f", "json", "--store", ncci_store).stdout)
    assert sorted((x["kind"], x["setting"]) for x in rows) == [
        ("ncci-aoc", None), ("ncci-mue", "dme"), ("ncci-mue", "practitioner"),
        ("ncci-ptp", "hospital"), ("ncci-ptp", "practitioner"),
    ]  # fmt: skip
    assert (ncci_store / "tables").is_dir()
    assert invoke(runner, "store", "reset", "--yes", "--store", ncci_store).exit_code == 0
    assert not ncci_store.exists()  # the table files go with the graphs


def codesets(store: Path):  # type: ignore[no-untyped-def]
    """The code-set source a run with `--store store` reads (Knowledge.codesets)."""
    from claimgraph.knowledge import Knowledge

    found = Knowledge.bundled().with_codesets(store).codesets
    assert found is not None
    return found


def test_enrichment_gives_the_engines_the_table_facts(ncci_store: Path) -> None:
    from claimgraph.engine.common import enrichment

    claims = Graph()
    line1, line2 = URIRef("urn:test:line1"), URIRef("urn:test:line2")
    claims.add((line1, CG.procedureCode, CPT["90010"]))
    claims.add((line2, CG.procedureCode, CPT["90020"]))
    assert not {t for t in enrichment(claims) if str(t[0]).startswith(str(ENTRY))}  # no store
    out = set(enrichment(claims, codesets(ncci_store)))
    edit = ENTRY["cms-ncci-ptp-practitioner-2026q1/90010/90020/20120101"]
    assert (edit, CG.column2Code, CPT["90020"]) in out
    assert (ENTRY["cms-ncci-mue-practitioner-2026q1/90020"], CG.mueValue, Literal(2)) in out


def test_enrichment_pairs_codes_of_one_patient(ncci_store: Path) -> None:
    from claimgraph.engine.common import enrichment

    sets = codesets(ncci_store)
    claims = Graph()

    def claim(name: str, patient: str, notation: str) -> None:
        c, line = URIRef(f"urn:test:{name}"), URIRef(f"urn:test:{name}/line/1")
        claims.add((c, CG.patientId, Literal(patient)))
        claims.add((c, CG.hasLine, line))
        claims.add((line, CG.procedureCode, CPT[notation]))

    claim("c1", "PT-A", "90010")
    claim("c2", "PT-B", "90020")  # another patient: the pair is no edit of anyone's
    edits = lambda: {t[0] for t in enrichment(claims, sets) if t[2] == CG.PTPEdit}  # noqa: E731
    assert edits() == set()
    claim("c3", "PT-A", "90020")  # the same patient on another claim: the edit applies
    assert ENTRY["cms-ncci-ptp-practitioner-2026q1/90010/90020/20120101"] in edits()
    assert not {
        t for t in enrichment(claims, sets, tables=False) if str(t[0]).startswith(str(ENTRY))
    }


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_validation_runs_with_tables_loaded(runner, ncci_store: Path, engine: str,
                                            monkeypatch) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    """No rule reads the tables yet: loading them changes no finding, on either engine; the
    report names the table releases the run read."""
    example = Path(__file__).resolve().parents[1] / "examples" / "therapy.json"
    args = ["validate", str(example), "--engine", engine, "--format", "json"]
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(ncci_store))  # --store wins over it
    plain = runner.invoke(app, [*args, "--store", str(ncci_store.parent / "empty")])
    monkeypatch.delenv("CLAIMGRAPH_STORE")
    loaded = runner.invoke(app, [*args, "--store", str(ncci_store)])
    assert plain.exit_code in (0, 1) and loaded.exit_code == plain.exit_code, loaded.output
    # the findings are the same; the run facts (date, releases used) differ
    assert json.loads(loaded.stdout)["findings"] == json.loads(plain.stdout)["findings"]

    def imported(out: str) -> set[str]:
        run = json.loads(out)["run"]
        return {c["id"] for c in run["code_sets"] if c["origin"] == "imported"}

    assert imported(plain.stdout) == set()
    assert imported(loaded.stdout) == set(codesets(ncci_store).releases)
    assert "cms-ncci-ptp-practitioner-2026q1" in imported(loaded.stdout)


def test_fact_terms_are_declared_in_the_ontology(ncci_store: Path, runner) -> None:  # type: ignore[no-untyped-def]
    from claimgraph.knowledge import Knowledge

    assert invoke(runner, "import", "dmepos", DMEPOS_SMALL, "--store", ncci_store).exit_code == 0
    g = facts(ncci_store, "90010", "90020", "90030", "90090", "E9901", "E9902", "A9903")
    onto = Knowledge.bundled().ontology
    label = URIRef("http://www.w3.org/2000/01/rdf-schema#label")
    definition = URIRef("http://www.w3.org/2004/02/skos/core#definition")
    terms = {p for p in g.predicates() if str(p).startswith(str(CG))}
    terms |= {o for o in g.objects(None, RDF.type)}
    assert len(terms) > 25
    for term in terms | {PAYMENT_CATEGORY.IN, SETTING.practitioner}:
        assert len(set(onto.objects(term, label))) == 1, term
        assert (term, definition, None) in onto, term
    for obj in set(g.objects(None, CG.paymentCategory)) | set(g.objects(None, CG.careSetting)):
        assert (obj, label, None) in onto, obj  # the individuals the facts point to exist
