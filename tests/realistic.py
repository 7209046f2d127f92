"""Realistic claims for benchmarks and scale tests: many patients, each with 1-30 claims over
months, 1-6 lines and 1-12 diagnoses a claim, about 84 % of the claims clean.

A claim is made of one or more *bundles*: the claims of the rule fixtures
(tests/data/claims/<RULE>-pass.json are clean on every rule; <RULE>-fail.json break theirs),
joined under one payer with their lines renumbered, their documents kept with their lines, their
dates moved together (documents keep their distance to the service), and diagnoses filled up
with common billable codes no rule reads. A patient keeps one payer and one or two billing
providers; claim ids are unique, so nothing repeats by accident. About `DEFECT_RATE` of the
claims get one failing bundle. Deterministic for a seed; nothing here is real patient data.

    from realistic import generate, write_json, write_jsonl
    write_json(path, 100_000, seed=1)
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "data" / "claims"
DEFECT_RATE = 0.15  # claims given one failing bundle (with joins, about 16 % end with findings)
# Billable ICD-10-CM codes that no rule reads (no pain, neoplasm, atrophy, unspecified title).
FILLER_DIAGNOSES = (
    "I10", "E11.9", "E78.2", "Z79.01", "K21.9", "M17.11", "G47.33", "Z87.891", "E66.01",
    "I25.10", "Z96.651", "N40.0", "I48.91", "Z79.4", "E55.9", "H52.4", "L40.0", "F33.1",
)  # fmt: skip
LINE_COUNTS = (1, 2, 3, 4, 5, 6)
LINE_WEIGHTS = (36, 25, 15, 10, 8, 6)
DX_WEIGHTS = (10, 18, 18, 14, 10, 8, 6, 5, 4, 3, 2, 2)  # 1 ... 12 diagnoses
PAYER_WEIGHTS = {"medicare": 45, "medicaid": 15, "commercial": 14, "aetna": 13, "bcbs": 13}
# many visits, repeated ids, unknown payers; CODE-02 is judged by the date its fixtures give;
# the NCCI fixtures use made-up codes of made-up tables (tests/data/cms/ncci)
SKIP = {"NMR-02", "STRUCT-03", "STRUCT-05", "CODE-02", "NCCI-01", "NCCI-02", "NCCI-03", "NCCI-04"}
START = dt.date(2026, 1, 5)  # after every rule's effective-until date, before FY2027 codes


@dataclass(frozen=True)
class Bundles:
    clean: dict[str, list[dict[str, Any]]]  # payer -> claims that break no rule
    failing: dict[str, list[dict[str, Any]]]  # payer -> claims that break their rule


def load_bundles(folder: Path = FIXTURES) -> Bundles:
    clean: dict[str, list[dict[str, Any]]] = defaultdict(list)
    failing: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(folder.glob("*-*.json")):
        rule, _, kind = path.stem.rpartition("-")
        if rule in SKIP or kind not in ("pass", "fail"):
            continue
        for claim in json.loads(path.read_text(encoding="utf-8")).get("claims", []):
            payer = claim.get("payer")
            lines = claim.get("lines")
            if payer in PAYER_WEIGHTS and isinstance(lines, list) and lines:
                (clean if kind == "pass" else failing)[payer].append(claim)
    return Bundles(dict(clean), dict(failing))


def _shift(value: Any, days: int) -> Any:
    if isinstance(value, str):
        try:
            return (dt.date.fromisoformat(value) + dt.timedelta(days=days)).isoformat()
        except ValueError:
            return value  # an invalid date stays as the fixture wrote it
    return value


def _first_date(claim: dict[str, Any]) -> dt.date | None:
    for line in claim["lines"]:
        try:
            return dt.date.fromisoformat(line.get("service_date", ""))
        except (TypeError, ValueError, AttributeError):
            continue
    return None


def join(bundles: list[dict[str, Any]], when: dt.date) -> dict[str, Any]:
    """One claim of the bundles' lines, documents and diagnoses, its first service on `when`."""
    lines: list[dict[str, Any]] = []
    docs: list[dict[str, Any]] = []
    dx: list[str] = []
    for b in bundles:
        first = _first_date(b) or when
        days = (when - first).days
        offset = len(lines)
        for line in b["lines"]:
            line = copy.deepcopy(line) if isinstance(line, dict) else {}
            line["service_date"] = _shift(line.get("service_date"), days)
            line.pop("description", None)
            lines.append(line)
        for doc in b.get("documents", []):
            if not isinstance(doc, dict):
                continue
            doc = copy.deepcopy(doc)
            if "date" in doc:
                doc["date"] = _shift(doc["date"], days)
            if isinstance(doc.get("line"), int) and not isinstance(doc.get("line"), bool):
                doc["line"] += offset
            docs.append(doc)
        dx += [d for d in b.get("diagnoses", []) if isinstance(d, str) and d not in dx]
    return {"lines": lines, "documents": docs, "diagnoses": dx}


def generate(n: int, *, seed: int = 0, folder: Path = FIXTURES) -> Iterator[dict[str, Any]]:
    """`n` claims of the JSON contract, patient by patient (a patient's claims in date order)."""
    bundles = load_bundles(folder)
    rng = random.Random(seed)
    payers = list(PAYER_WEIGHTS)
    weights = list(PAYER_WEIGHTS.values())
    made = 0
    patient = 0
    while made < n:
        patient += 1
        payer = rng.choices(payers, weights)[0]
        providers = [f"1{rng.randrange(10**8, 10**9):09d}" for _ in range(rng.choice((1, 1, 2)))]
        visits = min(rng.choice((1, 1, 2, 3, 4, 6, 9, 12, 18, 24, 30)), n - made)
        when = START + dt.timedelta(days=rng.randrange(60))
        for k in range(visits):
            target = rng.choices(LINE_COUNTS, LINE_WEIGHTS)[0]
            chosen: list[dict[str, Any]] = []
            room = target
            while room > 0:
                fits = [b for b in bundles.clean[payer] if len(b["lines"]) <= max(room, 1)]
                chosen.append(rng.choice(fits or bundles.clean[payer]))
                room -= len(chosen[-1]["lines"])
            if rng.random() < DEFECT_RATE and bundles.failing.get(payer):
                i = rng.randrange(len(chosen))
                fits = [
                    b
                    for b in bundles.failing[payer]
                    if len(b["lines"]) <= max(len(chosen[i]["lines"]), 1) + max(room, 0)
                ]
                chosen[i] = rng.choice(fits or bundles.failing[payer])
            claim = join(chosen, when)
            want = rng.choices(range(1, 13), DX_WEIGHTS)[0]
            fill = [d for d in FILLER_DIAGNOSES if d not in claim["diagnoses"]]
            rng.shuffle(fill)
            claim["diagnoses"] += fill[: max(0, want - len(claim["diagnoses"]))]
            yield {
                "id": f"RC{patient:07d}-{k + 1:02d}",
                "payer": payer,
                "provider": rng.choice(providers),
                "patient": f"RP{patient:07d}",
                **claim,
            }
            made += 1
            when += dt.timedelta(days=rng.randrange(3, 12))


def write_json(path: Path, n: int, *, seed: int = 0) -> int:
    """`{"claims": [...]}` with `n` realistic claims, one a line; returns n."""
    count = 0
    with path.open("w", encoding="utf-8") as f:
        f.write('{"claims": [\n')
        for claim in generate(n, seed=seed):
            f.write((",\n" if count else "") + json.dumps(claim, separators=(",", ":")))
            count += 1
        f.write("\n]}\n")
    return count


def write_jsonl(path: Path, n: int, *, seed: int = 0) -> int:
    """JSON Lines with `n` realistic claims; returns n."""
    count = 0
    with path.open("w", encoding="utf-8") as f:
        for claim in generate(n, seed=seed):
            f.write(json.dumps(claim, separators=(",", ":")) + "\n")
            count += 1
    return count
