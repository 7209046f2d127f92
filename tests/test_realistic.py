"""The realistic claim generator (tests/realistic.py) makes what benchmarks and later work rely
on: patients with 1-30 claims, 1-6 lines, 1-12 diagnoses, unique ids, about 84 % clean claims."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from realistic import generate, write_json


@pytest.fixture(autouse=True)
def _no_user_code_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMGRAPH_STORE", str(tmp_path_factory.getbasetemp() / "no-store"))


def test_shape_of_the_claims() -> None:
    claims = list(generate(3000, seed=7))
    assert len(claims) == 3000 and claims == list(generate(3000, seed=7))  # deterministic
    assert len({c["id"] for c in claims}) == 3000
    assert {len(c["lines"]) for c in claims} == {1, 2, 3, 4, 5, 6}
    assert {len(c["diagnoses"]) for c in claims} >= set(range(2, 13))
    assert max(len(c["diagnoses"]) for c in claims) == 12
    per_patient = Counter(c["patient"] for c in claims)
    assert max(per_patient.values()) == 30 and min(per_patient.values()) == 1
    assert len(per_patient) > 200


def test_about_84_percent_of_the_claims_are_clean(tmp_path: Path) -> None:
    from claimgraph.validation import validate_files

    path = tmp_path / "claims.json"
    write_json(path, 2000, seed=3)
    assert len(json.loads(path.read_text())["claims"]) == 2000
    result = validate_files([path], engine="fast", jobs=1)
    with_findings = {f.uid for f in result.findings}
    clean = 1 - len(with_findings) / result.claims
    assert 0.79 <= clean <= 0.89, clean
    assert not [f for f in result.findings if f.rule in ("STRUCT-01", "STRUCT-03", "STRUCT-05")]
