"""Made-up CMS table files in the exact CMS layouts (NCCI_FILE_LAYOUTS.md): PTP, MUE, AOC and
the DMEPOS fee schedule. The rows are invented (never copied from a CMS file: the NCCI files
sit behind the AMA CPT licence); tests and benchmarks/import_ncci.py write them.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Iterator
from pathlib import Path

PTP_PREAMBLE = (
    "CPT only copyright 2025 American Medical Association. All rights reserved.\r\n\r\n\r\n"
)
PTP_HEADER = (
    "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\t"
    "Deletion Date *=no data\tModifier 0=not allowed 1=allowed 9=not applicable\t"
    "PTP Edit Rationale"
)
RATIONALES = (
    "Mutually exclusive procedures",
    "Standards of medical / surgical practice",
    "Misuse of column two code with column one code",
    "CPT Manual or CMS manual coding instructions",
    "More extensive procedure",
    "Sequential procedure",
)
MUE_PREAMBLE = (
    "CPT codes, descriptions and other data only are copyright 2025 American Medical "
    "Association. All Rights Reserved.\nApplicable FARS/DFARS Apply.\n\n"
    "Fee schedules, relative value units, conversion factors and/or related components are "
    "not assigned by the AMA,\nare not part of CPT, and the AMA is not recommending their "
    "use.\n\nThe AMA does not directly or indirectly practice medicine or dispense medical "
    "services.\nThe AMA assumes no liability for data contained or not contained herein."
)
MUE_SETTINGS = {
    "practitioner": ("PractitionerServices", "Practitioner Services MUE Values"),
    "hospital": ("OutpatientHospitalServices", "Outpatient Hospital Services MUE Values"),
    "dme": ("DMESupplierServices", "DME Supplier Services MUE Values"),
}
MAI_TEXT = {
    1: "1 Line Edit",
    2: "2 Date of Service Edit: Policy",
    3: "3 Date of Service Edit: Clinical",
}
AOC_HEADER = (
    "Add-on Code",
    "Primary Code",
    "AOC Edit Type",
    "AOC Del Dt",
    "Primary Code Del Dt",
    "AOC Edit Eff Dt",
    "AOC Edit Del Dt",
    "Special Instruction Notes",
)

# PTP row: (column 1, column 2, prior-1996 "*" or "", effective, deletion or "*", indicator,
# rationale)
PtpRow = tuple[str, str, str, str, str, str, str]


def ptp_text(rows: Iterable[PtpRow], preamble: str = PTP_PREAMBLE) -> str:
    lines = [PTP_HEADER, *("\t".join(r) for r in rows)]
    return preamble + "\r\n".join(lines) + "\r\n"


def write_ptp(path: Path, rows: Iterable[PtpRow]) -> Path:
    path.write_text(ptp_text(rows), encoding="utf-8", newline="")
    return path


def code_pool(count: int, seed: int = 7) -> list[str]:
    """`count` made-up 5-character codes, CPT-like and HCPCS-like."""
    rng = random.Random(seed)
    numbers = rng.sample(range(10000, 99999), count - count // 10)
    letters = [f"{rng.choice('GJ')}{n:04d}" for n in rng.sample(range(10000), count // 10)]
    return sorted({f"{n:05d}" for n in numbers} | set(letters))


def ptp_rows(count: int, codes: list[str], seed: int = 11) -> Iterator[PtpRow]:
    """`count` made-up edits over `codes`, each (column 1, column 2) pair once; a skewed share
    of column-1 codes (as in the real tables), a fifth deleted."""
    rng = random.Random(seed)
    weights = [1.0 / (i + 1) ** 0.6 for i in range(len(codes))]
    col1s = rng.choices(codes, weights=weights, k=count)
    per: dict[str, int] = {}
    for c in col1s:
        per[c] = per.get(c, 0) + 1
    emitted = 0
    for c1 in sorted(per):
        n = min(per[c1], len(codes) - 1)
        for c2 in sorted(rng.sample(codes, n + 1))[: n + 1]:
            if c2 == c1 or emitted >= count:
                continue
            deleted = rng.random() < 0.2
            eff = f"{rng.choice((1996, 2005, 2012, 2019, 2024))}0101"
            yield (
                c1,
                c2,
                "*" if eff.startswith("1996") else "",
                eff,
                f"{rng.choice((2020, 2023, 2025))}0101" if deleted else "*",
                "9" if deleted and rng.random() < 0.5 else rng.choice("01"),
                rng.choice(RATIONALES),
            )
            emitted += 1


def mue_text(setting: str, rows: Iterable[tuple[str, int, int, str]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([MUE_PREAMBLE, "", "", ""])
    w.writerow(["HCPCS/\nCPT Code", MUE_SETTINGS[setting][1], "MUE Adjudication Indicator",
                "MUE Rationale"])  # fmt: skip
    for code, value, mai, rationale in rows:
        w.writerow([code, value, MAI_TEXT[mai], rationale])
    return out.getvalue()


def mue_name(setting: str, month_day_year: str) -> str:
    return f"MCR_MUE_{MUE_SETTINGS[setting][0]}_Eff_{month_day_year}.csv"


def write_mue(folder: Path, setting: str, month_day_year: str, rows: Iterable[tuple]) -> Path:
    path = folder / mue_name(setting, month_day_year)
    path.write_text(mue_text(setting, rows), encoding="utf-8", newline="")
    return path


def aoc_text(rows: Iterable[tuple[str, ...]]) -> str:
    lines = ["\t".join(AOC_HEADER), *("\t".join(r) for r in rows)]
    return "\r\n".join(lines) + "\r\n"


def dmepos_text(rows: Iterable[tuple[str, str, str, str, str]], title: str) -> str:
    """rows: (HCPCS, Mod, Mod2, JURIS, CATG); fees and description are made up."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    states = ["AL (NR)", "AL (R)", "AR (NR)", "AR (R)"]
    width = 7 + len(states) + 1
    for cell in ("Durable Medical Equipment,", "Prosthetics, Orthotics, and Supplies",
                 "(DMEPOS)", title, "", ""):  # fmt: skip
        w.writerow([cell] + [""] * (width - 1))
    w.writerow(["HCPCS", "Mod", "Mod2", "JURIS", "CATG", "Ceiling", "Floor", *states,
                "Description"])  # fmt: skip
    for i, (code, mod, mod2, juris, catg) in enumerate(rows):
        fee = f"{10 + i}.00"
        w.writerow([code, mod, mod2, juris, catg, fee, fee, fee, fee, fee, fee, f"Item {i}"])
    return out.getvalue()
