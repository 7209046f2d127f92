"""FHIR bulk data at scale: claims/s and peak RSS of `claimgraph validate` on NDJSON Claims.

Generates N claims (tests/synthetic.py: copies of every rule's pass/fail scenarios), writes them
as FHIR R4 bulk data (`Claim.ndjson`, one Claim a line, each referring to its patient in
`Patient.ndjson`, the payer as the insurer's display, diagnoses, lines, and documents in the
claimgraph supportingInfo convention) and validates both files in a fresh process through the
code path of `claimgraph validate Claim.ndjson Patient.ndjson --engine fast --jobs J`.
`--compare` also validates the JSON form of the same claims and checks the findings agree.

    python benchmarks/fhir_ndjson.py                  # 100k claims, --jobs 2
    python benchmarks/fhir_ndjson.py 10000 --compare
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CG = "https://w3id.org/claimgraph/fhir/"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CPT = "http://www.ama-assn.org/go/cpt"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
NAMES = {
    "medicare": "Medicare",
    "medicaid": "Medicaid",
    "aetna": "Aetna",
    "bcbs": "Blue Cross Blue Shield",
    "commercial": "Commercial",
}
TARGET = 2000  # claims/s


def _system(code: Any) -> str:
    return HCPCS if isinstance(code, str) and code[:1].isalpha() else CPT


def _value_key(value: Any) -> str:
    if isinstance(value, bool):
        return "valueBoolean"
    if isinstance(value, int):
        return "valueInteger"
    return "valueDecimal" if isinstance(value, float) else "valueString"


def patient_id(patient: Any) -> str:
    return hashlib.blake2b(str(patient).encode(), digest_size=8).hexdigest()


def to_fhir(claim: dict[str, Any]) -> dict[str, Any]:
    """A JSON-contract claim as a FHIR R4 Claim resource."""
    infos, by_line = [], {}
    for n, doc in enumerate(claim.get("documents") or [], start=1):
        if not isinstance(doc, dict):
            continue
        info: dict[str, Any] = {
            "sequence": n,
            "category": {"coding": [{"system": CG + "document-type", "code": doc.get("type")}]},
        }
        if isinstance(doc.get("date"), str):
            info["timingDate"] = doc["date"]
        ext = [
            {"url": CG + "document-field/" + k, _value_key(v): v}
            for k, v in doc.items()
            if k not in ("type", "date", "line") and v is not None
        ]
        if ext:
            info["extension"] = ext
        infos.append(info)
        if isinstance(doc.get("line"), int):
            by_line.setdefault(doc["line"], []).append(n)
    items = []
    for n, ln in enumerate(claim.get("lines") or [], start=1):
        ln = ln if isinstance(ln, dict) else {}
        item: dict[str, Any] = {"sequence": n}
        code = ln.get("code")
        if code is not None:
            item["productOrService"] = {"coding": [{"system": _system(code), "code": code}]}
        mods = ln.get("modifiers") or []
        item["modifier"] = [{"coding": [{"system": HCPCS, "code": m}]} for m in mods]
        if ln.get("units") is not None:
            item["quantity"] = {"value": ln["units"]}
        if ln.get("service_date") is not None:
            item["servicedDate"] = ln["service_date"]
        if ln.get("body_site"):
            item["bodySite"] = {"text": ln["body_site"]}
        if ln.get("description"):
            item["extension"] = [{"url": CG + "line-description", "valueString": ln["description"]}]
        if n in by_line:
            item["informationSequence"] = by_line[n]
        items.append(item)
    res: dict[str, Any] = {
        "resourceType": "Claim",
        "id": f"r{claim.get('id')}",
        "use": "claim",
        "identifier": [{"value": claim.get("id")}],
        "item": items,
        "diagnosis": [
            {"sequence": i, "diagnosisCodeableConcept": {"coding": [{"system": ICD10, "code": d}]}}
            for i, d in enumerate(claim.get("diagnoses") or [], start=1)
        ],
    }
    if claim.get("payer") in NAMES:
        res["insurer"] = {"display": NAMES[claim["payer"]]}
    if claim.get("patient") is not None:
        res["patient"] = {"reference": "Patient/" + patient_id(claim["patient"])}
    if infos:
        res["supportingInfo"] = infos
    return res


def write_files(folder: Path, n: int) -> tuple[Path, Path, Path]:
    sys.path.insert(0, str(ROOT / "tests"))
    from synthetic import generate  # the generator lives with the rule fixtures it clones

    claims_path, patients_path = folder / "Claim.ndjson", folder / "Patient.ndjson"
    json_path = folder / "claims.json"
    patients: set[str] = set()
    with claims_path.open("w") as out, json_path.open("w") as js:
        js.write('{"claims": [\n')
        for i, claim in enumerate(generate(n, seed=1)):
            out.write(json.dumps(to_fhir(claim), separators=(",", ":")) + "\n")
            js.write(("," if i else "") + json.dumps(claim) + "\n")
            if claim.get("patient") is not None:
                patients.add(str(claim["patient"]))
        js.write("]}\n")
    with patients_path.open("w") as out:
        for p in sorted(patients):
            out.write(
                json.dumps(
                    {
                        "resourceType": "Patient",
                        "id": patient_id(p),
                        "identifier": [{"system": "urn:bench", "value": p}],
                    }
                )
                + "\n"
            )
    return claims_path, patients_path, json_path


def _child(paths: list[str], jobs: int) -> None:
    """Child process: validate like the CLI does; print a JSON line of figures."""
    from claimgraph.validation import validate_files

    start = time.perf_counter()
    result = validate_files(paths, engine="fast", jobs=jobs, progress=False)
    wall = time.perf_counter() - start
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    keys = sorted({f"{f.rule}|{f.severity}|{f.line}|{f.claim}" for f in result.findings})
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]
    print(
        json.dumps(
            {
                "claims": result.claims,
                "findings": len(result.findings),
                "wall": wall,
                "self_kb": self_kb,
                "children_kb": child_kb,
                "peak_kb": self_kb + max(1, jobs) * child_kb,
                "digest": digest,
            }
        )
    )


def run(paths: list[Path], jobs: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--jobs", str(jobs), "--child", *map(str, paths)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("size", nargs="?", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--compare", action="store_true", help="also validate the JSON form")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.jobs)
        return
    from claimgraph.knowledge import Knowledge

    Knowledge.bundled().checks  # noqa: B018 # build the engine cache once, outside the timings
    with tempfile.TemporaryDirectory(prefix="claimgraph-bench-fhir-") as tmp:
        claims, patients, as_json = write_files(Path(tmp), args.size)
        mb = claims.stat().st_size / 1e6
        print(
            f"{args.size} FHIR Claims as NDJSON ({mb:.0f} MB) + Patient.ndjson, fast engine, "
            f"--jobs {args.jobs}, {os.cpu_count()} cores"
        )
        f = run([claims, patients], args.jobs)
        rate = f["claims"] / f["wall"] if f["wall"] else 0.0
        print(
            f"claims {f['claims']}  findings {f['findings']}  wall {f['wall']:.1f} s  "
            f"{rate:.0f} claims/s  peak RSS {f['peak_kb'] / 1024:.0f} MB (main "
            f"{f['self_kb'] / 1024:.0f} MB, largest worker {f['children_kb'] / 1024:.0f} MB)"
        )
        if args.compare:
            j = run([as_json], args.jobs)
            same = "the same" if j["digest"] == f["digest"] else "DIFFERENT"
            print(
                f"JSON form: findings {j['findings']}, {j['claims'] / j['wall']:.0f} claims/s; "
                f"findings are {same}"
            )
        print(f"target: >= {TARGET} claims/s, bounded memory")


if __name__ == "__main__":
    main()
