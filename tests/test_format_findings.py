"""The same claims sent as JSON, CSV, RDF, FHIR R4 and X12 837P give the same findings.

tests/data/formats/ holds one set of claims in every input format (see test_ingest_parity.py,
which compares the graphs). Here the whole pipeline runs: the findings, compared on (claim,
line, rule, severity), must not depend on the format the claims travelled in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from claimgraph.validation import validate_files

FORMATS = Path(__file__).parent / "data" / "formats"


def keys(path: Path, engine: str = "fast") -> set[tuple[str, int | None, str, str]]:
    return {f.ident for f in validate_files([path], engine=engine, warn=lambda _m: None).findings}


@pytest.fixture(scope="module")
def expected() -> set[tuple[str, int | None, str, str]]:
    found = keys(FORMATS / "claims.json")
    assert found, "the reference claims should break at least one rule"
    return found


@pytest.mark.parametrize(
    "name", ["claims.csv", "claims.ttl", "claims.nt", "claims.jsonld", "claims.fhir.json"]
)
def test_format_gives_the_findings_of_the_json_form(name: str, expected: set) -> None:
    assert keys(FORMATS / name) == expected


def test_x12_gives_the_findings_of_the_json_form_of_what_it_carries() -> None:
    subset = keys(FORMATS / "claims.x12-subset.json")
    assert subset
    assert keys(FORMATS / "claims.837") == subset


def test_fhir_and_x12_agree_on_the_reference_engine_too(expected: set) -> None:
    assert keys(FORMATS / "claims.fhir.json", engine="reference") == expected
    subset = keys(FORMATS / "claims.x12-subset.json", engine="reference")
    assert keys(FORMATS / "claims.837", engine="reference") == subset
