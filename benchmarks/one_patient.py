"""Claims of one patient id: is the fast engine linear?

Validates N one-line 97112 claims of Aetna (the NMR-02 visit guideline) three ways, in one
process each time (`--jobs`): every claim its own patient; all claims of one real patient (a
visit every 1-3 days, so the patient's claims span years and are checked in date windows); all
claims with the placeholder id `UNKNOWN` (each checked on its own). Prints wall seconds and
claims/s of each; the three should be close.

    python benchmarks/one_patient.py              # 20,000 claims, --jobs 2
    python benchmarks/one_patient.py 5000 --jobs 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any


def claims(n: int, patient: str | None) -> list[Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import json

    from claimgraph.ingest.json_claims import claim_from_json
    from synthetic import _heavy_template, load_scenarios

    template = _heavy_template(load_scenarios())
    assert template is not None
    text = json.dumps(template)
    day = dt.date(1970, 1, 5)
    out = []
    unknown: set[str] = set()
    for k in range(n):
        c = json.loads(text)
        c["id"] = f"OP-{k}"
        c["patient"] = patient if patient is not None else f"P-{k}"
        c["lines"][0]["service_date"] = day.isoformat()
        for doc in c.get("documents", []):
            if "date" in doc:
                doc["date"] = day.isoformat()
        out.append(claim_from_json(c, k + 1, unknown))
        day += dt.timedelta(days=1 + k % 3)
        if day > dt.date(2025, 10, 1):  # NMR-02 applies until 2025-10-29
            day = dt.date(1970, 1, 5)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("claims", nargs="?", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    from claimgraph.engine import fast
    from claimgraph.knowledge import Knowledge

    assert Knowledge.bundled().checks.queries  # the cache, outside the timings
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.claims} claims, --jobs {args.jobs}, load average {load:.2f}")
    for label, patient in (("different patients", None), ("one patient", "PT-ONE"),
                           ("placeholder UNKNOWN", "UNKNOWN")):  # fmt: skip
        batch = claims(args.claims, patient)
        start = time.perf_counter()
        found = fast.validate_claims(batch, jobs=args.jobs)
        wall = time.perf_counter() - start
        nmr = sum(f.rule == "NMR-02" for f in found)
        print(f"{label:>20}: {wall:7.2f} s {args.claims / wall:7.0f} claims/s "
              f"({len(found)} findings, {nmr} NMR-02)", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
