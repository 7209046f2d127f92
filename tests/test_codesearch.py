"""`codesearch.search`: codes by the words of their descriptors (curated graph, imported store,
ICD-10-CM). Every test uses its own store through CLAIMGRAPH_STORE."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from claimgraph import codestore
from claimgraph.cli import app
from claimgraph.codesearch import search as _search
from claimgraph.errors import ClaimgraphError
from claimgraph.importers import hcpcs
from claimgraph.knowledge import Knowledge
from claimgraph.namespaces import SKOS

# A hand-made release: descriptors written for this test (not CMS text).
IMPORTED = {
    "K0738": "Portable gaseous oxygen system, rental, home compressor filling test cylinders",
    "A4615": "Cannula, nasal, test descriptor",
}


def search(text: str, system: str | None = None, limit: int = 20) -> list[dict[str, object]]:
    """`codesearch.search` with the store CLAIMGRAPH_STORE names (read here, as the CLI does)."""
    knowledge = Knowledge.bundled().with_codesets(os.environ.get("CLAIMGRAPH_STORE"))
    return _search(text, system, limit, knowledge=knowledge)


def curated_notations() -> set[str]:
    return {str(n) for n in Knowledge.bundled().ontology.objects(None, SKOS.notation)}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    lines = []
    for code, long in IMPORTED.items():
        assert len(long) <= 80
        r = [" "] * 320
        r[:91] = code + "00100" + "3" + long.ljust(80)
        r[91:119] = long[:28].ljust(28)
        r[268:292] = "20060101" * 2 + " " * 8
        lines.append("".join(r))
    path = tmp_path / "HCPC2021_ANWEB.txt"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    root = tmp_path / "store"
    codestore.import_release(hcpcs.read(path), root)
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(root))
    return root


@pytest.fixture
def no_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(tmp_path / "none"))


def test_curated_code_by_words(no_store: None) -> None:
    hits = search("portable oxygen concentrator", system="hcpcs")
    assert hits and hits[0]["code"] == "E1392" and hits[0]["system"] == "hcpcs"
    assert set(hits[0]) == {"code", "system", "label", "score"}


def test_imported_code_found_only_with_the_store(store: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert "K0738" not in curated_notations()  # else this test proves nothing
    hits = search("home compressor cylinders")
    assert hits[0]["code"] == "K0738" and hits[0]["label"] == IMPORTED["K0738"]
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(store.parent / "elsewhere"))
    assert all(h["code"] != "K0738" for h in search("home compressor cylinders"))


def test_exact_code_first_then_all_words_then_partial(store: Path) -> None:
    hits = search("K0738")
    assert hits[0]["code"] == "K0738" and hits[0]["score"] > max(
        (h["score"] for h in hits[1:]), default=0
    )
    hits = search("portable oxygen rental", system="hcpcs", limit=50)
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    words = ("portable", "oxygen", "rental")
    full = [all(w in h["label"].lower() for w in words) for h in hits]
    assert full[0] and True in full and False in full  # some full, some partial matches
    assert full.index(False) > max(i for i, f in enumerate(full) if f)  # full ones come first


def test_system_filter_and_limit(store: Path) -> None:
    hits = search("oxygen", system="hcpcs", limit=3)
    assert 0 < len(hits) <= 3 and {h["system"] for h in hits} == {"hcpcs"}
    with pytest.raises(ClaimgraphError):
        search("oxygen", system="snomed")


def test_icd_by_words(no_store: None) -> None:
    hits = search("low back pain", system="icd10cm")
    codes = [h["code"] for h in hits]
    assert "M54.50" in codes[:10] and all(h["system"] == "icd10cm" for h in hits)
    assert "low back pain" in hits[0]["label"].lower()


def test_cli_code_search(runner, store: Path) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(app, ["code", "search", "portable oxygen concentrator", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)[0]["code"] == "E1392"
