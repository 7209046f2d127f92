"""CODE-02 judges a diagnosis as `claimgraph.icd.status` does, on both engines: the same codes
fail on the same dates with the same words, for a sample of codes and dates around releases."""

from __future__ import annotations

import datetime as dt
import importlib
import random
from functools import cache

import pytest

from claimgraph import icd
from claimgraph.ingest.model import ClaimData, LineData

ENGINES = ["fast", "reference"]


def _dates() -> list[dt.date]:
    """Release dates and their eves, both systems, and the ICD-10-CM start."""
    out = {dt.date(2003, 5, 6), dt.date(2026, 8, 1)}
    for system in icd.SYSTEMS:
        for r in icd.releases(system):
            out |= {r.effective, r.effective - dt.timedelta(days=1)}
    return sorted(out)


@cache
def cases() -> tuple[tuple[str, str, str], ...]:
    """(system, code, ISO date): codes with a history, headers, common codes, junk."""
    rng = random.Random(20260401)
    changed = [c for c, _b, _t in icd.entries() if (e := icd.find(c)) and
               any(s.start != icd.releases()[0].effective or s.end for s in e.spans)]  # fmt: skip
    icd9 = [c for c, _b, _t in icd.entries("icd9cm")]
    picked = [("icd10cm", c) for c in rng.sample(changed, 40)]
    picked += [("icd9cm", c) for c in rng.sample(icd9, 15)]
    picked += [("icd10cm", c) for c in ("M54.5", "R05", "G35", "J44.9", "S06", "M79.6O4")]
    picked += [("icd9cm", c) for c in ("496", "250.0", "999.99")]
    days = _dates()
    return tuple((s, c, rng.choice(days).isoformat()) for s, c in picked for _ in range(2))


def _claims(sample: tuple[tuple[str, str, str], ...]) -> list[ClaimData]:
    return [
        ClaimData(
            index=n,
            id=f"CLM-{n}",
            payer="medicaid",
            patient=f"PT-{n}",
            diagnoses=[(system, code)],
            lines=[LineData(code="E1390", modifiers=["RR"], units=1, service_date=day)],
        )
        for n, (system, code, day) in enumerate(sample, start=1)
    ]


def expected(sample: tuple[tuple[str, str, str], ...]) -> dict[str, str]:
    """claim id -> CODE-02 message, for the cases icd.status finds not billable."""
    out = {}
    for n, (system, code, day) in enumerate(sample, start=1):
        st = icd.status(code, day, system)
        if not st.billable:
            out[f"CLM-{n}"] = f"{st.code} is not billable on the service date: {st.detail()}."
    return out


@pytest.mark.parametrize("engine", ENGINES)
def test_code02_words_what_the_index_says(engine: str) -> None:
    sample = cases() if engine == "fast" else cases()[::6]  # pyshacl is slow
    module = importlib.import_module(f"claimgraph.engine.{engine}")
    found = module.validate_claims(_claims(sample))
    got = {f.claim: f.message for f in found if f.rule == "CODE-02"}
    want = expected(sample)
    assert want and len(want) < len(sample)  # the sample has both outcomes
    assert got == want


@pytest.mark.parametrize("engine", ENGINES)
def test_one_finding_per_bad_diagnosis_across_dates(engine: str) -> None:
    lines = [
        LineData(code="G0283", modifiers=["GP"], units=1, service_date=day)
        for day in ("2021-09-15", "2021-10-15", "2022-01-10")
    ]
    claim = ClaimData(index=1, id="CLM-M", payer="medicaid", patient="PT-M",
                      diagnoses=[("icd10cm", "M54.5"), ("icd10cm", "R05"),
                                 ("icd10cm", "M54.50")], lines=lines)  # fmt: skip
    module = importlib.import_module(f"claimgraph.engine.{engine}")
    found = sorted(f.message for f in module.validate_claims([claim]) if f.rule == "CODE-02")
    assert found == [  # M54.50 is not yet valid on 2021-09-15 only
        "M54.5 is not billable on the service date: it is a category header since 2021-10-01 "
        "(billable until 2021-09-30); use M54.50, M54.51 or M54.59.",
        "M54.50 is not billable on the service date: it was not yet valid on 2021-09-15 "
        "(added 2021-10-01).",
        "R05 is not billable on the service date: it is a category header since 2021-10-01 "
        "(billable until 2021-09-30); use one of its 6 billable codes, such as R05.1, R05.2, "
        "R05.3.",
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_code01_names_the_importer_of_the_code_system(engine: str) -> None:
    def claim(n: int, code: str) -> ClaimData:
        line = LineData(code=code, modifiers=[], units=1, service_date="2024-06-01")
        return ClaimData(index=n, id=f"CLM-I{n}", payer="medicaid", patient=f"PT-I{n}",
                         diagnoses=[("icd10cm", "J44.9")], lines=[line])  # fmt: skip

    module = importlib.import_module(f"claimgraph.engine.{engine}")
    found = {
        f.claim: f.message
        for f in module.validate_claims([claim(1, "99213"), claim(2, "E0250")])
        if f.rule == "CODE-01"
    }
    assert "'claimgraph import cpt FILE'" in found["CLM-I1"]
    assert "'claimgraph import hcpcs FILE'" in found["CLM-I2"]
