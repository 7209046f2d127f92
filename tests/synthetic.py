"""Synthetic claims for benchmarks and parity tests, built from the per-rule scenarios.

Every rule has a failing and a passing scenario in tests/data/claims/<RULE>-fail|pass.json, so
cloning those scenarios (fresh claim and patient ids for each copy) covers every rule of the
catalogue with a realistic mix of clean and rule-breaking lines. On top of them, a few patients
get many 97112 visits each (NMR-02), and the claims of each scenario copy are spread over the
whole file, so a patient's claims are far apart. Deterministic for a given seed; nothing here
is real patient data.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCENARIOS = Path(__file__).resolve().parent / "data" / "claims"
HEAVY_PATIENTS = 5  # patients with many 97112 visits (NMR-02)
HEAVY_VISITS = 30  # visits each, every other day


def load_scenarios(folder: Path = SCENARIOS) -> list[list[dict[str, Any]]]:
    """The claims of each scenario file (sorted by name); the file's "expect" is ignored."""
    files = sorted(folder.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no scenario files in {folder} (needs a source checkout)")
    data = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    return [d["claims"] for d in data if "claims" in d]  # not the .expect.json of X12 fixtures


def _heavy_template(scenarios: list[list[dict[str, Any]]]) -> dict[str, Any] | None:
    """A one-line 97112 claim for a patient of Aetna: the first such line of the scenarios."""
    for claims in scenarios:
        for c in claims:
            if c.get("payer") != "aetna" or not isinstance(c.get("lines"), list):
                continue
            for n, line in enumerate(c["lines"], start=1):
                if isinstance(line, dict) and line.get("code") == "97112":
                    docs = [
                        {**d, "line": 1}
                        for d in c.get("documents", [])
                        if isinstance(d, dict) and d.get("line") in (None, n)
                    ]
                    return {**c, "lines": [line], "documents": docs}
    return None


def _rename(claim: Any, tag: str) -> Any:
    if not isinstance(claim, dict):
        return claim
    out = copy.deepcopy(claim)
    if isinstance(out.get("id"), str) and out["id"]:
        out["id"] = f"{out['id']}-{tag}"
    if isinstance(out.get("patient"), str) and out["patient"]:
        out["patient"] = f"{out['patient']}-{tag}"
    return out


def generate(n: int, *, seed: int = 0, folder: Path = SCENARIOS) -> Iterator[dict[str, Any]]:
    """`n` claims (JSON objects of the claim contract), deterministic for `seed`."""
    scenarios = load_scenarios(folder)
    rng = random.Random(seed)
    slots: list[tuple[float, int, int, int]] = []  # (position, scenario, copy, claim)
    heavy = _heavy_template(scenarios)
    n_heavy = min(HEAVY_PATIENTS * HEAVY_VISITS, n // 10) if heavy else 0
    for v in range(n_heavy):
        slots.append((rng.random(), -1, v // HEAVY_VISITS, v % HEAVY_VISITS))
    copies = 0
    while len(slots) < n:
        s = copies % len(scenarios)
        for k in range(len(scenarios[s])):
            if len(slots) < n:
                slots.append((rng.random(), s, copies, k))
        copies += 1
    slots.sort()
    start = dt.date(2025, 9, 1)
    for _pos, s, c, k in slots:
        if s < 0:
            assert heavy is not None
            claim = _rename(heavy, f"H{c}")
            claim["id"] = f"CLM-H{c}-{k}"
            claim["lines"][0]["service_date"] = (start + dt.timedelta(days=2 * k)).isoformat()
            yield claim
        else:
            yield _rename(scenarios[s][k], f"S{c}")


def write_json(path: Path, n: int, *, seed: int = 0, folder: Path = SCENARIOS) -> int:
    """Write `{"claims": [...]}` with `n` generated claims, one claim a line; returns n."""
    count = 0
    with path.open("w", encoding="utf-8") as f:
        f.write('{"claims": [\n')
        for claim in generate(n, seed=seed, folder=folder):
            f.write((",\n" if count else "") + json.dumps(claim, separators=(",", ":")))
            count += 1
        f.write("\n]}\n")
    return count


LINE_FIELDS = ("code", "modifiers", "units", "service_date", "body_site", "description")


def line_rows(claims: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Claims of the JSON contract as rows of claim lines (docs/api.md, "Claim lines"): one
    row per line, claim-level values repeated, the documents as JSON text on every row."""
    for c in claims:
        base = {
            "claim_id": c.get("id"),
            "provider": c.get("billing_provider", c.get("provider")),
            "patient": c.get("patient"),
            "payer": c.get("payer"),
            "diagnoses": [_diagnosis(d) for d in c.get("diagnoses") or [] if _diagnosis(d)],
            "documents": json.dumps(c["documents"]) if c.get("documents") else None,
        }
        lines = [ln for ln in c.get("lines") or [] if isinstance(ln, dict)]
        if not lines:
            yield {**base, "line": None, **dict.fromkeys(LINE_FIELDS)}
        for n, ln in enumerate(lines, start=1):
            mods = ln.get("modifiers")
            yield {
                **base,
                "line": n,
                **{k: ln.get(k) for k in LINE_FIELDS},
                "modifiers": [mods] if isinstance(mods, str) else list(mods or []),
            }


def _diagnosis(d: Any) -> str | None:
    """A JSON contract diagnosis as claim-lines text: "M54.5", or "icd9cm:250.00" when its
    object states a system."""
    if isinstance(d, str):
        return d
    if isinstance(d, dict) and isinstance(d.get("code"), str):
        system = d.get("system")
        known = isinstance(system, str) and system.lower().replace("-", "").startswith("icd")
        return f"{system}:{d['code']}" if known else d["code"]
    return None


def arrow_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose units are text (an Arrow column has one type; "two" stays "two")."""
    return [{**r, "units": None if r["units"] is None else str(r["units"])} for r in rows]
