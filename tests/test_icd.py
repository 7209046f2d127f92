"""The bundled ICD index: ICD-10-CM FY2016-FY2026 and ICD-9-CM v23-v32 by date of service.

The facts checked by date are those the data README verifies against the official files
(../shared/data/icd10cm-history/README.md); the index must give the same answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from claimgraph import icd

ROOT = Path(__file__).resolve().parent.parent


def state(code: str, day: str, system: str | None = None) -> str:
    return icd.status(code, day, system).state


def test_index_ships_prebuilt_and_compact(tmp_path: Path) -> None:
    assert icd.INDEX.is_file() and icd.INDEX.stat().st_size < 4_000_000
    assert icd.HIERARCHY.is_file() and icd.HIERARCHY.stat().st_size < 100_000
    code = (
        "import sys; from claimgraph import icd; print(icd.status('M54.5', '2022-01-05').state, "
        "'simple_icd_10_cm' in sys.modules)"
    )
    env = {**os.environ, "CLAIMGRAPH_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["header", "False"]
    assert not (tmp_path / "cache").exists()  # nothing is built or cached on first use


def test_rebuilding_from_the_data_gives_the_committed_index(
    shared_data: Path, tmp_path: Path
) -> None:
    data = shared_data / "icd10cm-history"
    if not data.is_dir():
        pytest.skip("no icd10cm-history folder")
    out = tmp_path / "icd.idx"
    script = ROOT / "scripts" / "build_icd_index.py"
    subprocess.run(
        [sys.executable, str(script), "--data", str(data), "--output", str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == icd.INDEX.read_bytes()


@pytest.mark.parametrize(
    ("code", "day", "expected"),
    [
        ("M54.5", "2021-09-30", icd.BILLABLE),
        ("M54.5", "2021-10-01", icd.HEADER),
        ("M54.50", "2021-09-30", icd.NOT_YET),
        ("M54.51", "2021-10-01", icd.BILLABLE),
        ("M5459", "2024-03-01", icd.BILLABLE),  # without the dot
        ("R05", "2021-09-30", icd.BILLABLE),
        ("R05", "2021-10-01", icd.HEADER),
        ("R05.9", "2021-06-01", icd.NOT_YET),
        ("R05.9", "2021-10-01", icd.BILLABLE),
        ("G35", "2025-09-30", icd.BILLABLE),
        ("G35", "2025-10-01", icd.HEADER),
        ("G35.D", "2025-09-30", icd.NOT_YET),
        ("G35.D", "2025-10-01", icd.BILLABLE),
        ("G20", "2023-09-30", icd.BILLABLE),
        ("g20.a1", "2023-10-01", icd.BILLABLE),
        ("U07.1", "2020-03-31", icd.NOT_YET),  # the April 2020 update
        ("U07.1", "2020-04-01", icd.BILLABLE),
        ("U07.0", "2020-04-01", icd.BILLABLE),
        ("J12.82", "2020-12-31", icd.NOT_YET),  # the January 2021 update
        ("J12.82", "2021-01-01", icd.BILLABLE),
        ("M35.8", "2020-12-31", icd.BILLABLE),
        ("M35.8", "2021-01-01", icd.HEADER),
        ("Z28.3", "2022-03-31", icd.BILLABLE),  # the April 2022 update
        ("Z28.3", "2022-04-01", icd.HEADER),
        ("Z28.310", "2022-04-01", icd.BILLABLE),
        ("U09.9", "2021-10-01", icd.BILLABLE),
        ("H81.4", "2019-09-30", icd.HEADER),  # a header before it became billable
        ("H81.4", "2019-10-01", icd.BILLABLE),
        ("H40.11X1", "2016-09-30", icd.BILLABLE),
        ("H40.11X1", "2016-10-01", icd.DELETED),
        ("M79.6O4", "2024-01-01", icd.UNKNOWN),
        ("A00-B99", "2024-01-01", icd.UNKNOWN),  # blocks are not codes
        ("", "2024-01-01", icd.UNKNOWN),
        ("J44.9", "2015-09-30", icd.WRONG_SYSTEM),  # ICD-10-CM starts 2015-10-01
        ("J44.9", "2015-10-01", icd.BILLABLE),
    ],
)
def test_icd10cm_status_by_date(code: str, day: str, expected: str) -> None:
    assert state(code, day, "icd10cm") == expected


@pytest.mark.parametrize(
    ("code", "day", "expected"),
    [
        ("496", "2006-03-04", icd.BILLABLE),
        ("496", "2003-01-01", icd.BILLABLE),  # v23 stands for FY2006 and earlier
        ("496", "2015-09-30", icd.BILLABLE),
        ("496", "2015-10-01", icd.WRONG_SYSTEM),  # ICD-9-CM ended 2015-09-30
        ("25000", "2010-01-01", icd.BILLABLE),  # without the dot
        ("250.0", "2010-01-01", icd.HEADER),
        ("250", "2010-01-01", icd.HEADER),
        ("V30.00", "2012-01-01", icd.BILLABLE),
        ("E849.0", "2012-01-01", icd.BILLABLE),
        ("999.99", "2012-01-01", icd.UNKNOWN),
    ],
)
def test_icd9cm_status_by_date(code: str, day: str, expected: str) -> None:
    assert state(code, day, "icd9cm") == expected


def test_icd9cm_codes_added_and_deleted_between_versions() -> None:
    spans = {
        e.code: e.span(icd.BILLABLE)
        for e in map(lambda c: icd.find(c, "icd9cm"), ("001.0", "V30.00"))
        if e is not None
    }
    assert spans["001.0"] is not None and spans["001.0"].start is None  # on record from v23
    assert spans["001.0"].end == icd.dt.date(2015, 9, 30)
    added = [c for c, _b, _t in icd.entries("icd9cm") if (e := icd.find(c, "icd9cm")) and
             (b := e.span(icd.BILLABLE)) and b.start is not None]  # fmt: skip
    assert added  # codes first listed in v24..v32
    first = icd.find(added[0], "icd9cm")
    assert first is not None and first.span(icd.BILLABLE) is not None
    start = first.span(icd.BILLABLE).start  # type: ignore[union-attr]
    assert start is not None
    assert icd.status(added[0], start - icd.dt.timedelta(days=1), "icd9cm").state == icd.NOT_YET


def test_the_system_in_force_is_the_default() -> None:
    assert icd.system_on("2015-09-30") == "icd9cm" and icd.system_on("2015-10-01") == "icd10cm"
    assert icd.status("496", "2010-01-01").system == "icd9cm"
    assert icd.status("M54.5", "2021-06-01").system == "icd10cm"


def test_explanations_say_what_the_release_says() -> None:
    def explain(code: str, day: str, system: str | None = None) -> str:
        return icd.status(code, day, system).explain()

    assert explain("M54.5", "2022-01-05") == (
        "M54.5 is not billable on 2022-01-05: it is a category header since 2021-10-01 "
        "(billable until 2021-09-30); use M54.50, M54.51 or M54.59."
    )
    assert explain("R05.9", "2021-06-01") == (
        "R05.9 is not billable on 2021-06-01: it was not yet valid on 2021-06-01 "
        "(added 2021-10-01)."
    )
    assert explain("H40.11X1", "2017-01-05") == (
        "H40.11X1 is not billable on 2017-01-05: it was deleted on 2016-10-01 "
        "(billable until 2016-09-30)."
    )
    assert explain("G35", "2025-11-03").startswith(
        "G35 is not billable on 2025-11-03: it is a category header since 2025-10-01 "
        "(billable until 2025-09-30); use one of its 8 billable codes, such as G35.A,"
    )
    assert explain("H81.4", "2018-01-01").endswith("use H81.41, H81.42, H81.43 or H81.49.")
    unknown = explain("M79.6O4", "2020-01-01")
    assert "not a code of any ICD-10-CM release (FY2016 to FY2026)" in unknown
    assert "services before 2015-10-01 (here 2015-09-30) are coded in ICD-9-CM" in explain(
        "J44.9", "2015-09-30", "icd10cm"
    )
    assert "ICD-9-CM ended on 2015-09-30" in explain("496", "2016-01-05", "icd9cm")
    assert explain("M54.5", "2021-06-01") == (
        "M54.5 is a billable ICD-10-CM code on 2021-06-01 (ICD-10-CM FY2021-Jan)."
    )


def test_release_in_force() -> None:
    def rel(day: str, system: str | None = None) -> str | None:
        r = icd.release_on(day, system)
        return r.id if r else None

    assert rel("2015-10-01") == "FY2016" and rel("2020-03-31") == "FY2020"
    assert rel("2020-04-01") == "FY2020-Apr" and rel("2021-01-01") == "FY2021-Jan"
    assert rel("2022-09-30") == "FY2022-Apr" and rel("2026-05-01") == "FY2026"
    assert rel("2015-09-30", "icd10cm") is None
    assert rel("2015-09-30") == "v32" and rel("2003-01-01") == "v23"
    releases = icd.releases("icd10cm")
    assert len(releases) == 17 and releases[-1].until is None
    assert all(a.until == b.effective - icd.dt.timedelta(days=1)
               for a, b in zip(releases, releases[1:], strict=False))  # fmt: skip
    assert icd.releases("icd9cm")[-1].until == icd.dt.date(2015, 9, 30)


def test_children_of_a_header_on_a_date() -> None:
    assert icd.children("M54.5", "2022-01-05") == ("M54.50", "M54.51", "M54.59")
    assert icd.children("M54.5", "2021-06-01") == ()
    assert icd.children("G35", "2025-10-01")[:2] == ("G35.A", "G35.B0")
    assert "U07.1" not in icd.children("U07", "2020-03-31")
    assert icd.children("250.0", "2010-01-01", "icd9cm") == ("250.00", "250.01", "250.02",
                                                              "250.03")  # fmt: skip
    assert icd.children("S06", "2024-01-01") and all(
        c.startswith("S06.") for c in icd.children("S06", "2024-01-01")
    )


def test_hierarchy_of_a_code() -> None:
    h = icd.hierarchy("M54.59")
    assert h is not None
    assert [(g.kind, g.id) for g in h.ancestors] == [("subcategory", "M54.5"), ("category", "M54")]
    assert h.block is not None and h.block.id == "M50-M54"
    assert h.chapter is not None and (h.chapter.id, h.chapter.range) == ("13", "M00-M99")
    stroke = icd.hierarchy("I63.9")
    assert stroke and stroke.block and stroke.block.id == "I60-I69"
    assert stroke.chapter and stroke.chapter.title == "Diseases of the circulatory system"
    melanoma = icd.hierarchy("C4A.0")  # C4A sorts after C44, but is in C43-C44
    assert melanoma and melanoma.block and melanoma.block.id == "C43-C44"
    ms = icd.hierarchy("G35.D")
    assert ms and ms.category and ms.category.id == "G35" and ms.chapter and ms.chapter.id == "06"
    assert icd.hierarchy("G35") and icd.hierarchy("G35").ancestors == ()  # type: ignore[union-attr]
    assert icd.hierarchy("XYZ") is None


def test_lookup_and_entries() -> None:
    assert icd.lookup("M54.5") == (False, "Low back pain")  # a category since FY2022
    billable, text = icd.lookup("M5459") or (None, "")
    assert billable is True and "low back pain" in text.lower()
    assert icd.lookup("c71.9")[0] is True  # type: ignore[index]
    assert icd.lookup("M62.51")[0] is False  # type: ignore[index]  # needs a side digit
    assert icd.lookup("H40.11X1") == (False, icd.find("H40.11X1").title)  # type: ignore[union-attr]
    assert icd.lookup("XYZ.1") is None and icd.lookup("A00-B99") is None
    codes = [c for c, _b, _t in icd.entries()]
    assert len(codes) == 98_847 and codes == sorted(codes) and "S06.0X1A" in codes
    entry = icd.find("M54.50")
    assert entry and entry.title == "Low back pain, unspecified" and entry.short_title
    assert icd.find("496", "icd9cm").title.startswith("Chronic airway obstruction")  # type: ignore[union-attr]
