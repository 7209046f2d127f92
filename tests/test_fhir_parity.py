"""A Synthea-style and a PAS-style FHIR Bundle give the findings of the JSON form of their
claims, on both engines.

tests/data/fhir/ (see its README): `synthea-style.bundle.json` holds rule-fixture claims the way
Synthea writes them (urn:uuid fullUrls; Patient, Condition and Coverage entries; the payer in a
Coverage's payor or the insurance's display; diagnoses by diagnosisReference; servicedPeriod;
a conditional provider reference), `pas-style.bundle.json` the way a Da Vinci PAS request
Bundle does (relative references; Organization insurer; Coverage payor reference; use
preauthorization). The `.claims.json` files are the same claims in the JSON contract.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimgraph.errors import InputError
from claimgraph.validation import validate_files

FHIR = Path(__file__).parent / "data" / "fhir"
Key = tuple[str, int | None, str, str]


def keys(path: Path, engine: str, **options: object) -> set[Key]:
    result = validate_files([path], engine=engine, warn=lambda _m: None, **options)  # type: ignore[arg-type]
    return {f.ident for f in result.findings}


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_synthea_style_bundle_gives_the_findings_of_its_json_form(engine: str) -> None:
    expected = keys(FHIR / "synthea-style.claims.json", engine)
    rules = {k[2] for k in expected}
    assert {"OXY-01", "NMR-02", "NMR-03", "CANSTIM-01"} <= rules  # payer-specific, cross-claim
    assert keys(FHIR / "synthea-style.bundle.json", engine) == expected


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_pas_style_bundle_gives_the_findings_of_its_json_form(engine: str) -> None:
    expected = keys(FHIR / "pas-style.claims.json", engine)
    assert {"OXY-01", "NMR-03", "CANSTIM-02"} <= {k[2] for k in expected}
    got = keys(FHIR / "pas-style.bundle.json", engine, include_preauthorization=True)
    assert got == expected


def test_pas_requests_are_not_claims_unless_asked() -> None:
    with pytest.raises(InputError) as e:  # nothing else in the input: no claims found, exit 2
        validate_files([FHIR / "pas-style.bundle.json"])
    note = str(e.value)
    assert note.startswith("no claims found in ") and "not claims" in note
    assert "4 Claim with use preauthorization" in note and "--include-preauthorization" in note


def test_without_its_coverage_the_bundle_loses_the_payer(tmp_path: Path) -> None:
    """The findings above rest on the references: drop the Coverage entries and the Medicare
    and BCBS claims have no payer evidence left (their payer rules no longer apply)."""
    bundle = json.loads((FHIR / "synthea-style.bundle.json").read_text())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Coverage"]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    warnings: list[str] = []
    found = {f.ident for f in validate_files([path], warn=warnings.append).findings}
    assert not any(k[2] in ("OXY-01", "NMR-03") for k in found)
    assert any("insurance.coverage" in w and "entry" in w for w in warnings)
