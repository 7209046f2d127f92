"""Importing the CMS HCPCS file and a CPT list into the local store; CODE-01 with a full set.

Every test uses its own store (--store or CLAIMGRAPH_STORE), never the user's. The 2020 CMS
file is read from ../shared/data (skipped when absent); expected values are taken from that file
by a separate, minimal reader here, not from claimgraph.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from claimgraph import codestore
from claimgraph.cli import app
from claimgraph.namespaces import CG, CPT, HCPCS, MODIFIER, SCHEME, rule_iri

HCPCS_2020 = "hcpcs/HCPC2020_ANWEB_w_disclaimer.txt"
TRUE = Literal(True)
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")


# --- a minimal independent reader of the fixed-width file (the test's own expectations) --------


def cms_records(path: Path) -> dict[str, dict[str, str]]:
    """code/modifier -> long, short, added, term, from the raw CMS file."""
    out: dict[str, dict[str, str]] = {}
    for line in path.read_bytes().decode("cp1252").split("\r\n"):
        if len(line) < 11 or line[10] not in "3478" or not line[5:10].isdigit():
            continue
        key = line[:5].strip()
        if line[10] in "37":
            out[key] = {
                "long": line[11:91].strip(),
                "short": line[91:119].strip(),
                "added": line[268:276],
                "term": line[284:292].strip(),
            }
        else:
            out[key]["long"] += " " + line[11:91].strip()
    return out


def record(code: str, long: str, short: str = "", *, recid: str = "3", added: str = "20060101",
           act: str = "", term: str = "", action: str = "N") -> str:  # fmt: skip
    """One hand-made fixed-width record (320 characters; a continuation is 91)."""
    head = (code.rjust(5) if len(code) == 2 else code.ljust(5)) + "00100" + recid
    if recid in "48":
        return head + long.ljust(80)
    r = [" "] * 320
    r[:91] = head + long.ljust(80)
    r[91:119] = short.ljust(28)
    r[119:121] = "33"
    r[229] = "D"
    r[256:259] = "D1C"
    r[268:292] = added + (act or added) + term.ljust(8)
    r[292] = action
    return "".join(r)


def write_fixed(path: Path, records: list[str]) -> Path:
    path.write_bytes(("\r\n".join(records) + "\r\n").encode("cp1252"))
    return path


def tree_digest(root: Path) -> str:
    """Every file name and content under `root` (the store, byte for byte)."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def invoke(runner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store2020(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the full 2020 CMS file (imported once for this module; do not modify)."""
    source = Path(__file__).resolve().parents[2] / "shared" / "data" / HCPCS_2020
    if not source.is_file():
        pytest.skip(f"{source} is absent (reference data is not shipped)")
    from claimgraph.importers import hcpcs

    root = tmp_path_factory.mktemp("store2020") / "store"
    codestore.import_release(hcpcs.read(source), root)
    return root


@pytest.fixture
def own_store(store2020: Path, tmp_path: Path) -> Path:
    """A private copy of the 2020 store that a test may change."""
    root = tmp_path / "store"
    shutil.copytree(store2020, root)
    return root


@pytest.fixture
def cms(shared_data: Path) -> dict[str, dict[str, str]]:
    return cms_records(shared_data / HCPCS_2020)


# --- the 2020 import ---------------------------------------------------------------------------


def test_cli_import_counts(runner, shared_data: Path, tmp_path: Path, monkeypatch) -> None:
    store = tmp_path / "s"
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(tmp_path / "not-this-one"))
    r = invoke(runner, "import", "hcpcs", str(shared_data / HCPCS_2020), "--store", str(store))
    assert r.exit_code == 0, r.output
    assert "6710 procedure codes and 369 modifiers" in r.stderr
    r = invoke(runner, "store", "info", "--format", "json", "--store", str(store))
    assert r.exit_code == 0, r.output
    [release] = json.loads(r.stdout)
    assert (release["release"], release["codes"], release["modifiers"]) == (
        "cms-hcpcs-2020-01",
        6710,
        369,
    )
    assert release["issued"] == "2020-01-01" and release["file"] == Path(HCPCS_2020).name
    assert not (tmp_path / "not-this-one").exists()  # --store wins over the environment


def test_descriptors_match_the_cms_text(store2020: Path, cms: dict[str, dict[str, str]]) -> None:
    for code in ("E1392", "E0745"):
        [row] = codestore.describe(code, store2020)
        assert row["definition"] == cms[code]["long"]
        assert row["label"] == row["short"] == cms[code]["short"]
        assert row["from"] == dt.datetime.strptime(cms[code]["added"], "%Y%m%d").date()
        assert row["release"] == "cms-hcpcs-2020-01" and row["current"]
    multi = next(k for k, v in cms.items() if len(v["long"]) > 80 and len(k) == 5)
    assert codestore.describe(multi, store2020)[0]["definition"] == cms[multi]["long"]


def terminated_code(cms: dict[str, dict[str, str]]) -> tuple[str, dt.date, dt.date]:
    """A procedure code of the file with a termination date well after its added date."""
    for code, v in sorted(cms.items()):
        if len(code) == 5 and v["term"]:
            added = dt.datetime.strptime(v["added"], "%Y%m%d").date()
            term = dt.datetime.strptime(v["term"], "%Y%m%d").date()
            if (term - added).days > 400:
                return code, added, term
    raise AssertionError("the 2020 file has no terminated code")


def test_facts_for(store2020: Path, cms: dict[str, dict[str, str]]) -> None:
    code, added, term = terminated_code(cms)
    unknown = next(f"Z{n:04d}" for n in range(9999, 0, -1) if f"Z{n:04d}" not in cms)
    no_mod = next(m for m in ("Z0", "ZZ", "0Z", "9Y") if m not in cms)
    codes = {HCPCS[code], HCPCS.E1392, HCPCS[unknown]}
    facts = set(codestore.facts_for(codes, {MODIFIER.KX, MODIFIER[no_mod]}, store2020))
    date = lambda d: Literal(d.isoformat(), datatype=XSD_DATE)  # noqa: E731
    assert (SCHEME.hcpcs, CG.fullCodeSetLoaded, TRUE) in facts
    assert (SCHEME["hcpcs-modifiers"], CG.fullCodeSetLoaded, TRUE) in facts
    assert (SCHEME.cpt, CG.fullCodeSetLoaded, TRUE) not in facts
    assert (HCPCS[code], CG.inFullCodeSet, TRUE) in facts
    assert (HCPCS[code], CG.effectiveUntil, date(term)) in facts
    assert (HCPCS[code], CG.effectiveFrom, date(added)) in facts
    assert (HCPCS.E1392, CG.inFullCodeSet, TRUE) in facts
    assert not any(s == HCPCS.E1392 and p == CG.effectiveUntil for s, p, _ in facts)
    assert (MODIFIER.KX, CG.inFullCodeSet, TRUE) in facts
    assert not any(s in (HCPCS[unknown], MODIFIER[no_mod]) for s, _, _ in facts)
    for s, p, o in facts:
        assert isinstance(s, URIRef) and isinstance(p, URIRef) and isinstance(o, Literal)


def test_facts_for_without_a_store_creates_nothing(tmp_path: Path, monkeypatch) -> None:
    missing = tmp_path / "nothing-here"
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(missing))
    assert codestore.facts_for({HCPCS.E1392}, {MODIFIER.KX}, missing) == []
    assert codestore.describe("E1392") == [] and codestore.info()["releases"] == []
    assert not missing.exists()


# --- CODE-01 with the full set (needs the rules helper's CODE-01 shape) -------------------------


def validate(
    tmp_path: Path, lines: list[dict], store: Path | None
) -> set[tuple[int | None, str, str]]:
    from claimgraph.engine.reference import validate_claims
    from claimgraph.ingest.json_claims import read_json
    from claimgraph.knowledge import Knowledge

    claim = {"id": "CLM-T1", "payer": "medicare", "patient": "TEST-PT-1",
             "diagnoses": ["J44.9"], "lines": lines}  # fmt: skip
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"claims": [claim]}), encoding="utf-8")
    knowledge = Knowledge.bundled().with_codesets(store)  # as `validate --store store`
    found = validate_claims(list(read_json(path)), knowledge=knowledge)
    return {(f.line, f.rule, f.severity) for f in found}


@pytest.fixture
def code01() -> None:
    from claimgraph.knowledge import Knowledge

    assert (rule_iri("CODE-01"), None, None) in Knowledge.bundled().shapes


def test_code01_terminated_code(code01, store2020, cms, tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, added, term = terminated_code(cms)
    after = (term + dt.timedelta(days=30)).isoformat()
    before = (term - dt.timedelta(days=30)).isoformat()
    found = validate(tmp_path, [
        {"code": code, "units": 1, "service_date": after},
        {"code": code, "units": 1, "service_date": before},
    ], store2020)  # fmt: skip
    code01_lines = {(line, sev) for line, rule, sev in found if rule == "CODE-01"}
    assert (1, "violation") in code01_lines
    assert not any(line == 2 for line, _ in code01_lines)


def test_code01_unknown_code_with_a_full_set(code01, store2020, cms, tmp_path) -> None:  # type: ignore[no-untyped-def]
    unknown = next(f"E{n:04d}" for n in range(9999, 0, -1) if f"E{n:04d}" not in cms)
    lines = [{"code": unknown, "units": 1, "service_date": "2020-03-01"}]

    def code01_with(store: Path) -> set[tuple[int | None, str]]:
        found = validate(tmp_path, lines, store)
        return {(ln, sev) for ln, rule, sev in found if rule == "CODE-01"}

    without = code01_with(tmp_path / "no-store")
    assert (1, "violation") not in without  # no full set: at most an info finding
    with_set = code01_with(store2020)
    assert (1, "violation") in with_set


# --- history: a newer (hand-made) release -----------------------------------------------------


NEW_E1392 = "Portable oxygen concentrator, rental, hand-made test descriptor for the 2021 release"
CUT = NEW_E1392.rindex(" ", 0, 80)  # CMS continues a long descriptor at a word boundary


def newer_release(tmp_path: Path) -> Path:
    return write_fixed(tmp_path / "HCPC2021_ANWEB.txt", [
        record("E1392", NEW_E1392[:CUT], "Portable o2 concentrator", action="C", act="20210101"),
        record("E1392", NEW_E1392[CUT + 1 :], recid="4"),
        record("E1399", "Durable medical equipment, miscellaneous", "Durable medical equipment mi",
               added="19880101"),
        record("KX", "Requirements specified in the medical policy have been met",
               "Documentation on file", recid="7", added="20020701"),
    ])  # fmt: skip


def test_newer_release_keeps_history(runner, own_store, cms, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    r = invoke(runner, "import", "hcpcs", str(newer_release(tmp_path)), "--store", str(own_store))
    assert r.exit_code == 0, r.output
    releases = codestore.info(own_store)["releases"]
    assert [x["release"] for x in releases] == ["cms-hcpcs-2020-01", "cms-hcpcs-2021-01"]
    assert (releases[1]["codes"], releases[1]["modifiers"]) == (2, 1)
    rows = codestore.describe("E1392", own_store)
    assert [(x["release"], x["current"]) for x in rows] == [
        ("cms-hcpcs-2020-01", False),
        ("cms-hcpcs-2021-01", True),
    ]
    assert rows[0]["definition"] == cms["E1392"]["long"]  # the old text stays queryable
    assert rows[1]["definition"] == NEW_E1392 and rows[1]["action_date"] == dt.date(2021, 1, 1)
    # codes the small release does not list keep their 2020 description
    facts = set(codestore.facts_for({HCPCS.E0745, HCPCS.E1392}, set(), own_store))
    assert {(HCPCS.E0745, CG.inFullCodeSet, TRUE), (HCPCS.E1392, CG.inFullCodeSet, TRUE)} <= facts
    # re-importing the same release replaces it instead of adding a third
    r = invoke(runner, "import", "hcpcs", str(newer_release(tmp_path)), "--store", str(own_store))
    assert r.exit_code == 0 and "replaced" in r.stderr
    assert len(codestore.info(own_store)["releases"]) == 2


# --- malformed files: one line, exit 2, store untouched -----------------------------------------


def malformed(tmp_path: Path, kind: str) -> Path:
    good = record("E1392", "Portable oxygen concentrator, rental", "Portable oxygen concentrator")
    path = tmp_path / f"HCPC2022_{kind}.txt"
    if kind == "short-record":
        write_fixed(path, [good, record("E0745", "Neuromuscular stimulator", "Nmes")[:300]])
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 40)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "encoding":  # 0x81 is not a cp1252 character
        path.write_bytes(good.encode("cp1252").replace(b"rental", b"r\x81ntal") + b"\r\n")
    elif kind == "orphan-continuation":
        write_fixed(path, [good, record("E0745", "more text", recid="4")])
    elif kind == "bad-record-id":  # record id 5 does not exist
        write_fixed(path, [good[:10] + "5" + good[11:], good])
    elif kind == "bad-date":
        write_fixed(path, [record("E1392", "Portable", "Portable", added="20061301")])
    return path


@pytest.mark.parametrize(
    "kind",
    [
        "short-record",
        "binary",
        "empty",
        "encoding",
        "orphan-continuation",
        "bad-record-id",
        "bad-date",
    ],
)
def test_malformed_file_leaves_the_store_as_it_was(runner, own_store, tmp_path, kind) -> None:  # type: ignore[no-untyped-def]
    before = tree_digest(own_store)
    path = malformed(tmp_path, kind)
    r = invoke(runner, "import", "hcpcs", str(path), "--store", str(own_store))
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert str(path) in r.stderr
    if kind in ("short-record", "encoding", "orphan-continuation", "bad-record-id"):
        assert "line " in r.stderr  # names the record
    assert tree_digest(own_store) == before


def test_failed_write_leaves_the_store_as_it_was(own_store, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from claimgraph.importers import hcpcs

    before = tree_digest(own_store)
    release = hcpcs.read(newer_release(tmp_path))

    def crash(*_a: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(codestore, "_write_pointer", crash)
    with pytest.raises(OSError):
        codestore.import_release(release, own_store)
    assert tree_digest(own_store) == before
    assert [x["release"] for x in codestore.info(own_store)["releases"]] == ["cms-hcpcs-2020-01"]


def test_malformed_file_on_a_new_store_creates_nothing(runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "new-store"
    r = invoke(runner, "import", "hcpcs", str(malformed(tmp_path, "binary")), "--store", str(store))
    assert r.exit_code == 2 and not store.exists()


# --- CSV form, CPT, reset ----------------------------------------------------------------------


def test_hcpcs_csv_form(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "HCPC2024_JUL_ANWEB.csv"
    path.write_text(
        "HCPC,SEQNUM,RECID,LONG DESCRIPTION,SHORT DESCRIPTION,PRICE1,COV,BETOS,ADD DT,ACT EFF DT,"
        "TERM DT,ACTION CD\n"
        'E1392,00100,3,"Portable oxygen concentrator,",Portable oxygen concentrator,33,D,D1C,'
        "20060101,20060101,,N\n"
        "E1392,00200,4,rental,,,,,,,,\n"
        "A4466,00100,3,Garment belt sleeve or other covering,Garment belt sleeve or other,,I,,"
        "20100101,20170101,20161231,D\n"
        "RR,00100,7,Rental (use the 'rr' modifier when dme is to be rented),Rental,,,,"
        "19920101,,,N\n",
        encoding="utf-8",
    )
    store = tmp_path / "s"
    r = invoke(runner, "import", "hcpcs", str(path), "--store", str(store))
    assert r.exit_code == 0, r.output
    [release] = codestore.info(store)["releases"]
    assert (release["release"], release["codes"], release["modifiers"]) == (
        "cms-hcpcs-2024-07",
        2,
        1,
    )
    [row] = codestore.describe("E1392", store)
    assert row["definition"] == "Portable oxygen concentrator, rental"
    [a4466] = codestore.describe("A4466", store)
    assert a4466["until"] == dt.date(2016, 12, 31) and a4466["action"] == "D"
    assert codestore.describe("RR", store)[0]["system"] == "modifier"


def test_cpt_import(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "my-cpt.csv"
    path.write_text("code,descriptor\n97112,Test descriptor one\n97110,Test descriptor two\n")
    store = tmp_path / "s"
    r = invoke(runner, "import", "cpt", str(path), "--release", "2025", "--store", str(store))
    assert r.exit_code == 0, r.output
    [release] = codestore.info(store)["releases"]
    assert (release["release"], release["codes"]) == ("cpt-2025", 2)
    facts = set(codestore.facts_for({CPT["97112"], CPT["97999"], HCPCS.E1392}, set(), store))
    assert (SCHEME.cpt, CG.fullCodeSetLoaded, TRUE) in facts
    assert (SCHEME.hcpcs, CG.fullCodeSetLoaded, TRUE) not in facts
    assert (CPT["97112"], CG.inFullCodeSet, TRUE) in facts
    assert not any(s in (CPT["97999"], HCPCS.E1392) for s, _, _ in facts)
    assert codestore.describe("97112", store)[0]["label"] == "Test descriptor one"
    bad = tmp_path / "bad.csv"
    bad.write_text("97112,Test\nE1392,not a cpt code\n")
    r = invoke(runner, "import", "cpt", str(bad), "--store", str(store))
    assert r.exit_code == 2 and f"{bad}:line 2" in r.stderr


def test_store_reset(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_fixed(tmp_path / "HCPC2021_ANWEB.txt", [record("E1392", "Portable", "Portable")])
    store = tmp_path / "s"
    assert invoke(runner, "import", "hcpcs", str(path), "--store", str(store)).exit_code == 0
    r = invoke(runner, "store", "reset", "--store", str(store))
    assert r.exit_code == 2 and store.exists()  # no confirmation, no --yes
    r = invoke(runner, "store", "reset", "--yes", "--store", str(store))
    assert r.exit_code == 0 and not store.exists()
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    r = invoke(runner, "store", "reset", "--yes", "--store", str(foreign))
    assert r.exit_code == 2 and (foreign / "notes.txt").exists()
    r = invoke(runner, "import", "hcpcs", str(path), "--store", str(foreign))
    assert r.exit_code == 2 and sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_every_command_has_an_example(runner) -> None:  # type: ignore[no-untyped-def]
    for args in (["import"], ["import", "hcpcs"], ["import", "cpt"], ["store"], ["store", "info"],
                 ["store", "reset"]):  # fmt: skip
        r = invoke(runner, *args, "--help")
        assert r.exit_code == 0 and "Example:" in r.stdout, args
