"""Every file of ../shared/data/realworld (claim files written by other projects) against what it
says (tests/data/realworld-manifest.json, written by reading the files segment by segment):
claims read with their codes, modifiers, units, dates, diagnoses, payer and billing provider,
envelope defects as STRUCT-04 findings, repeated claim ids, or a one-line refusal naming what
the file is. Through the CLI: no traceback and no exit 3 on any file."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claimgraph.cli import app
from claimgraph.errors import InputError
from claimgraph.ingest import ReadLog, Source, detect, read_claims
from claimgraph.ingest.registry import InputFormat, names

MANIFEST = Path(__file__).parent / "data" / "realworld-manifest.json"
ENTRIES: dict[str, dict[str, Any]] = {
    k: v for k, v in json.loads(MANIFEST.read_text()).items() if not k.startswith("_")
}
X12 = sorted(k for k, v in ENTRIES.items() if v["format"] == "x12")


@pytest.fixture(autouse=True)
def _no_user_code_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(tmp_path_factory.getbasetemp() / "no-store"))


@pytest.fixture
def realworld(shared_data: Path) -> Path:
    folder = shared_data / "realworld"
    if not folder.is_dir():
        pytest.skip("../shared/data/realworld is absent")
    return folder


def test_the_manifest_names_every_file(realworld: Path) -> None:
    files = {str(p.relative_to(realworld)) for p in realworld.rglob("*") if p.is_file()}
    assert set(ENTRIES) == files - {"README.md"}
    assert len(ENTRIES) == 63


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_every_file_is_routed_by_content(realworld: Path, name: str) -> None:
    entry = ENTRIES[name]
    found = detect(Source.file(realworld / name))
    assert entry["format"] in names()
    assert isinstance(found, InputFormat) and found.name == entry["format"]


@cache
def _read(path: Path) -> tuple[list[Any], ReadLog]:
    log = ReadLog()
    return list(read_claims([path], log=log)), log


def _line(line: Any) -> list[Any]:
    units = line.units if line.units is None or isinstance(line.units, int) else str(line.units)
    return [line.code, line.modifiers, units, line.service_date]


@pytest.mark.parametrize("name", X12)
def test_x12_files_give_what_they_say(realworld: Path, name: str) -> None:
    entry = ENTRIES[name]
    path = realworld / name
    if "refused" in entry or "error" in entry:
        with pytest.raises(InputError) as e:
            _read(path)
        text = str(e.value)
        assert "\n" not in text and str(path) in text
        if "refused" in entry:
            assert text.startswith(f"no claims found in {path}: segment ")
            assert entry["refused"] in text and "claimgraph reads 837P professional claims" in text
        else:
            assert entry["error"] in text and entry.get("refusal", "") in text
            assert entry.get("position") in (None, e.value.position)
        return
    claims, log = _read(path)
    assert len(claims) == entry["claims"]
    assert sum(c.repeats_id for c in claims) == entry["repeats"]
    envelope = [f.position for f in log.findings if f.rule == "STRUCT-04"]
    if "envelope_count" in entry:
        assert len(envelope) == entry["envelope_count"] and envelope[0] == entry["envelope"][0]
    else:
        assert envelope == entry["envelope"]
    for n, want in enumerate(entry["sample"]):
        claim = claims[want.get("index", n)]
        got = {
            "id": claim.id,
            "payer": claim.payer,
            "provider": claim.provider,
            "diagnoses": [list(d) for d in claim.diagnoses],
            "lines": [_line(ln) for ln in claim.lines],
        }
        assert got == {k: want[k] for k in got}, (name, want.get("index", n))
        assert claim.position and claim.position.startswith("segment ")


def test_folders_of_real_x12_are_read_whole(realworld: Path) -> None:
    folders = [realworld / "x12-837p", realworld / "x12-837i", realworld / "x12-835"]
    warnings: list[str] = []
    claims = list(read_claims(folders, warnings.append))
    expected = sum(ENTRIES[n].get("claims", 0) for n in X12 if n.split("/")[0] in
                   ("x12-837p", "x12-837i", "x12-835"))  # fmt: skip
    assert len(claims) == expected
    (not_read,) = [w for w in warnings if "hold no claims" in w]
    assert not_read.startswith("12 input(s) hold no claims")  # 7 837I, 4 835, 1 empty


FHIR_MANIFEST = json.loads((MANIFEST.parent / "realworld-fhir-manifest.json").read_text())["files"]


def _claims_in(name: str) -> int:
    if name.startswith("fhir/"):
        return len(FHIR_MANIFEST[name.removeprefix("fhir/")]["claims"])
    return int(ENTRIES[name].get("claims", 0))


def test_the_whole_folder_is_read_and_what_holds_no_claims_is_named_once(realworld: Path) -> None:
    """X12 named .txt, .dat and .edi, FHIR JSON and CMS RIF in one run: every claim read, every
    file without claims (837I, 835, 999, 4010, PAS requests, ClaimResponses, README) in one
    warning."""
    warnings: list[str] = []
    log = ReadLog()
    claims = list(read_claims([realworld], warnings.append, log=log))
    assert len(claims) == sum(_claims_in(n) for n in ENTRIES)
    assert {c.format for c in claims} == {"x12", "fhir", "rif-carrier", "rif-dme"}
    empty = sorted(n for n in ENTRIES if _claims_in(n) == 0) + ["README.md"]
    (note,) = [w for w in warnings if "hold no claims" in w]
    assert note.startswith(f"{len(empty)} input(s) hold no claims claimgraph reads")
    read = {str(Path(f).relative_to(realworld)) for f in log.formats}
    assert {n for n in ENTRIES if _claims_in(n)} <= read


@pytest.mark.parametrize("folder", ["csv", "fhir", "x12-835", "x12-837i", "x12-837p", "x12-other"])
def test_each_folder_through_the_cli(realworld: Path, folder: str) -> None:
    result = CliRunner().invoke(app, ["validate", str(realworld / folder), "-f", "json", "-q"])
    expected = sum(_claims_in(n) for n in ENTRIES if n.startswith(folder + "/"))
    assert "Traceback" not in result.stdout + result.stderr
    if expected == 0:
        assert result.exit_code == 2 and "no claims found in" in result.stderr
    else:
        assert result.exit_code in (0, 1), result.stderr[-500:]
        assert json.loads(result.stdout)["claims"] == expected


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_the_cli_never_crashes_on_a_real_file(realworld: Path, name: str) -> None:
    result = CliRunner().invoke(app, ["validate", str(realworld / name), "-f", "json", "-q"])
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.stderr[-500:])
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 2:
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("claimgraph: error: ")
        entry = ENTRIES[name]
        if entry["format"] == "x12":
            assert "refused" in entry or "error" in entry or entry.get("claims") == 0
    else:
        report = json.loads(result.stdout)
        assert report["claims"] == ENTRIES[name].get("claims", report["claims"])
