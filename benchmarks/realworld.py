"""Reading and validating every file of ../shared/data/realworld: claims/s and peak RSS.

Per folder of the real-world files (claim files written by other projects): how many files
give claims, how many are refused (an 835, an 837I, version 4010, ...), the claims read, and
the reading and validation (fast engine, `--jobs 1`) rates; the peak RSS of the whole run. Then
the X12 reader on one 100 MB segment without a terminator (linear: a pass, not one per chunk).

    python benchmarks/realworld.py [FOLDER]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "data" / "realworld"


def _folder_default() -> Path:
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "data" / "realworld").is_dir():
            return base / "shared" / "data" / "realworld"
    return DEFAULT


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", nargs="?", type=Path, default=_folder_default())
    args = parser.parse_args()
    from claimgraph.errors import InputError
    from claimgraph.ingest import read_claims
    from claimgraph.knowledge import Knowledge
    from claimgraph.validation import validate_files

    Knowledge.bundled().checks  # noqa: B018
    print(
        f"{'folder':<10} {'files':>5} {'read':>5} {'refused':>7} {'claims':>7} "
        f"{'read/s':>9} {'validated/s':>11}"
    )
    total_claims = total_read = total_validate = 0.0
    for folder in sorted(p for p in args.folder.iterdir() if p.is_dir()):
        files = sorted(p for p in folder.iterdir() if p.is_file())
        good, refused, claims = [], 0, 0
        start = time.perf_counter()
        for f in files:
            try:
                n = sum(1 for _ in read_claims([f]))
            except InputError:
                refused += 1
                continue
            good.append(f)
            claims += n
        read_s = time.perf_counter() - start
        start = time.perf_counter()
        for f in good:
            validate_files([f], engine="fast", jobs=1)
        validate_s = time.perf_counter() - start
        total_claims += claims
        total_read += read_s
        total_validate += validate_s
        print(
            f"{folder.name:<10} {len(files):>5} {len(good):>5} {refused:>7} {claims:>7} "
            f"{claims / read_s if claims else 0:>9.0f} "
            f"{claims / validate_s if claims else 0:>11.0f}"
        )
    print(
        f"{'all':<10} {'':>5} {'':>5} {'':>7} {int(total_claims):>7} "
        f"{total_claims / total_read:>9.0f} {total_claims / total_validate:>11.0f}"
    )
    print("(validation is run per file: each run's start-up is included)")
    example = ROOT / "tests" / "data" / "formats" / "claims.837"
    with tempfile.TemporaryDirectory(prefix="claimgraph-bench-") as tmp:
        path = Path(tmp) / "long-segment.txt"
        text = example.read_text().replace("IEA*1*000000001~\n", "IEA*1*")
        with path.open("w") as f:
            f.write(text)
            for _ in range(100):
                f.write("9" * (1 << 20))
        start = time.perf_counter()
        n = sum(1 for _ in read_claims([path]))
        print(
            f"X12 with a 100 MB segment without terminator: {n} claims read in "
            f"{time.perf_counter() - start:.2f} s"
        )
    print(f"peak RSS of the run {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
