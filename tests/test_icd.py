"""The compact ICD-10-CM index: built once from simple_icd_10_cm, cached, keyed by version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from claimgraph import icd


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLAIMGRAPH_CACHE_DIR", str(tmp_path))
    icd._index.cache_clear()
    yield tmp_path
    icd._index.cache_clear()


def fake_rows():  # type: ignore[no-untyped-def]
    yield "M54.5", False, "Low back pain"
    yield "M54.59", True, "Other low back pain"


def test_lookup_uses_the_real_classification() -> None:
    assert icd.lookup("M54.5") == (False, "Low back pain")  # a category since FY2022
    billable, text = icd.lookup("M5459") or (None, "")  # without the dot
    assert billable is True and "low back pain" in text.lower()
    assert icd.lookup("c71.9")[0] is True  # type: ignore[index]
    assert icd.lookup("M62.51")[0] is False  # type: ignore[index]  # needs a side digit
    assert icd.lookup("XYZ.1") is None and icd.lookup("A00-B99") is None  # blocks are not codes
    codes = {c for c, _b, _t in icd.entries()}
    assert len(codes) > 90_000 and "S06.0X1A" in codes


def test_index_is_built_once_per_version(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(icd, "_rows", fake_rows)
    monkeypatch.setattr(icd, "package_version", lambda: "1.0")
    assert icd.lookup("M54.59") == (True, "Other low back pain")
    first = icd.index_path()
    assert first.is_file() and "1.0" in first.name and first.parent == cache
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no temp file left

    monkeypatch.setattr(icd, "_rows", lambda: iter(()))  # a second run does not rebuild
    icd._index.cache_clear()
    assert icd.lookup("M54.5") == (False, "Low back pain")

    monkeypatch.setattr(icd, "package_version", lambda: "2.0")  # a new package version rebuilds
    monkeypatch.setattr(
        icd, "_rows", lambda: iter([("M54.50", True, "Low back pain, unspecified")])
    )
    icd._index.cache_clear()
    assert icd.lookup("M54.59") is None and icd.lookup("M54.50") == (
        True,
        "Low back pain, unspecified",
    )
    assert not first.exists() and icd.index_path().is_file()


def test_normal_lookup_does_not_import_the_package() -> None:
    icd.lookup("J44.9")  # make sure the index exists
    code = (
        "import sys; from claimgraph import icd; icd.lookup('J44.9'); "
        "print('simple_icd_10_cm' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=True
    )
    assert out.stdout.strip() == "False"


def test_lookup_bisects_the_sorted_file(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [  # unsorted, codes that prefix others, first and last of the file
        ("M54.59", True, "Other low back pain"),
        ("A00", False, "Cholera"),
        ("M54.5", False, "Low back pain"),
        ("Z99.89", True, "Dependence on other enabling machines"),
        ("M54.50", True, "Low back pain, unspecified"),
        ("M54", False, "Dorsalgia"),
        ("S06.0X1A", True, "Concussion with loss of consciousness, \u00e9 tab\tin text"),
    ]
    monkeypatch.setattr(icd, "_rows", lambda: iter(rows))
    monkeypatch.setattr(icd, "package_version", lambda: "9.9")
    for code, billable, text in rows:
        assert icd.lookup(code) == (billable, text), code
    assert icd.lookup("s060x1a") == (True, rows[-1][2])  # without the dot, lower case
    for missing in ("A0", "A000", "M54.51", "M54.590", "Z99.9", "ZZZ", "", "#", "\ud800"):
        assert icd.lookup(missing) is None, missing
    assert list(icd.entries()) == sorted(rows)
    path = icd.index_path()
    codes = [line.split("\t")[0] for line in path.read_text("utf-8").splitlines()[1:]]
    assert codes == sorted(codes) and (path.stat().st_mode & 0o777) == 0o600


def test_empty_index(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(icd, "_rows", lambda: iter(()))
    monkeypatch.setattr(icd, "package_version", lambda: "0")
    assert icd.lookup("M54.5") is None and list(icd.entries()) == []
