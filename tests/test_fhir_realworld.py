"""Every FHIR file in ../shared/data/realworld/fhir/ reads as its manifest says.

tests/data/realworld-fhir-manifest.json was written by reading the files (CMS Blue Button/BFD
server responses, CARIN Blue Button, the HL7 CMS-1500 example, Da Vinci PAS bundles): for each,
the claims with their payer evidence, patient key, billing provider, diagnoses and lines, or what
they hold instead of claims. Every file also goes through `claimgraph validate` with no
traceback and no exit 3, with and without --include-preauthorization.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claimgraph.cli import app
from claimgraph.errors import InputError
from claimgraph.ingest import read_claims

MANIFEST = json.loads(
    (Path(__file__).parent / "data" / "realworld-fhir-manifest.json").read_text()
)["files"]
CANARIES = ("SMITH", "baker", "Ashcraft", "Alvina", "1975-03-01", "1954-06-11", "123 Main")


def summary(claim: Any) -> dict[str, Any]:
    return {
        "id": claim.id,
        "payer": claim.payer,
        "payer_name": claim.payer_name,
        "patient": claim.patient,
        "provider": claim.provider,
        "position": claim.position,
        "diagnoses": [list(d) for d in claim.diagnoses],
        "lines": [
            [ln.code, ln.modifiers, ln.units, ln.service_date, ln.place_of_service]
            for ln in claim.lines
        ],  # fmt: skip
    }


def check(claims: list[Any], expected: list[dict[str, Any]]) -> None:
    assert len(claims) == len(expected)
    for claim, want in zip(claims, expected, strict=True):
        got = summary(claim)
        assert {k: got[k] for k in want} == want, claim.id


def test_the_manifest_covers_every_file(shared_data: Path) -> None:
    assert {p.name for p in (shared_data / "realworld" / "fhir").glob("*.json")} == set(MANIFEST)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_file_reads_as_the_manifest_says(name: str, shared_data: Path) -> None:
    path = shared_data / "realworld" / "fhir" / name
    want = MANIFEST[name]
    warnings: list[str] = []
    if want["claims"]:
        claims = list(read_claims([path], warnings.append))
        check(claims, want["claims"])
    else:  # no claim in the input: exit 2, saying what the file holds instead
        with pytest.raises(InputError) as e:
            list(read_claims([path], warnings.append))
        note = str(e.value)
        assert note.startswith(f"no claims found in {path}: FHIR resources that are not claims")
        assert want["not_claims"] in note and "\n" not in note
        assert not any(c in note for c in CANARIES)
    text = "\n".join(warnings)
    for element in want.get("unresolved", []):
        assert element in text  # reported, never guessed
    assert not any(c in text for c in CANARIES)
    if "preauthorization" in want:
        check(list(read_claims([path], include_preauthorization=True)), want["preauthorization"])
        assert all(c.use == "preauthorization" for c in read_claims([path],
                   include_preauthorization=True))  # fmt: skip


def test_blue_button_claims_are_medicare_without_a_payer_name(shared_data: Path) -> None:
    """BFD MCS claims carry no insurer at all: the Blue Button systems say Medicare."""
    (claim,) = read_claims([shared_data / "realworld" / "fhir" / "bfd-claimMcsRead.json"])
    assert (claim.payer, claim.payer_name) == ("medicare", None)


def test_contained_patients_with_one_identifier_are_one_patient(shared_data: Path) -> None:
    """The FISS and MCS claims each contain a `#patient`; both carry the same MBI."""
    fhir = shared_data / "realworld" / "fhir"
    a, b = read_claims([fhir / "bfd-claimFissRead.json", fhir / "bfd-claimMcsRead.json"])
    assert a.patient == b.patient == "http://hl7.org/fhir/sid/us-mbi|123456MBI"


@pytest.mark.parametrize("name", sorted(MANIFEST))
@pytest.mark.parametrize("extra", [[], ["--include-preauthorization"]])
def test_validate_never_fails_internally(name: str, extra: list[str], runner: Any,
                                         shared_data: Path) -> None:  # fmt: skip
    path = shared_data / "realworld" / "fhir" / name
    result = runner.invoke(app, ["validate", str(path), "-f", "json", "-q", *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1, 2), result.output
    assert not any(c in result.output for c in CANARIES)
