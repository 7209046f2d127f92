"""`claimgraph convert --to nt` speed: N realistic claims (tests/realistic.py) as JSON to
N-Triples, through the CLI's code path, in claims/s.

    python benchmarks/convert_nt.py          # 100,000 claims
    python benchmarks/convert_nt.py 20000
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from realistic import write_json

    exe = Path(sys.executable).with_name("claimgraph")
    with tempfile.TemporaryDirectory(prefix="claimgraph-bench-") as tmp:
        src, out = Path(tmp, "claims.json"), Path(tmp, "claims.nt")
        write_json(src, n, seed=1)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        start = time.perf_counter()
        subprocess.run([str(exe), "convert", str(src), "-f", "nt", "-o", str(out), "-q"],
                       check=True)  # fmt: skip
        wall = time.perf_counter() - start
        size = out.stat().st_size
    print(f"{n} realistic claims to N-Triples: {wall:.2f} s, {n / wall:.0f} claims/s, "
          f"{size / 1e6:.0f} MB (load average {load:.2f} at the start)")  # fmt: skip


if __name__ == "__main__":
    main()
