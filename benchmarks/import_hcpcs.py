"""Import the full CMS HCPCS 2020 file into a temporary store, then time `claimgraph code E1392`.

Targets (issue 6): import < 20 s; a later `claimgraph code E1392` with the store < 1.5 s.
Both are timed as a user sees them: a fresh `claimgraph` process each, wall clock.

    python benchmarks/import_hcpcs.py [PATH-TO-HCPC2020_ANWEB_w_disclaimer.txt]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/hcpcs/HCPC2020_ANWEB_w_disclaimer.txt"


def claimgraph() -> str:
    beside = Path(sys.executable).with_name("claimgraph")
    return str(beside) if beside.exists() else shutil.which("claimgraph") or "claimgraph"


def timed(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    lines = proc.stderr.strip().splitlines()
    return time.perf_counter() - start, proc.returncode, lines[-1] if lines else ""


def main() -> int:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not source.is_file():
        print(f"no HCPCS file at {source}; pass its path", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="claimgraph-bench-") as tmp:
        env = {**os.environ, "CLAIMGRAPH_STORE": str(Path(tmp) / "store")}
        cmd = claimgraph()
        seconds, rc, last = timed([cmd, "import", "hcpcs", str(source)], env)
        print(f"import hcpcs {source.name}: {seconds:.2f} s (target < 20 s), exit {rc} {last}")
        size = sum(p.stat().st_size for p in (Path(tmp) / "store").rglob("*") if p.is_file())
        print(f"store size: {size / 1e6:.1f} MB")
        times = []
        for _ in range(3):
            seconds, rc, last = timed([cmd, "code", "E1392"], env)
            times.append(seconds)
        print(
            f"claimgraph code E1392 with the store: best {min(times):.2f} s, "
            f"worst {max(times):.2f} s (target < 1.5 s), exit {rc} {last if rc else ''}"
        )
        seconds, rc, last = timed([cmd, "code", "search", "portable oxygen concentrator"], env)
        print(f"claimgraph code search 'portable oxygen concentrator': {seconds:.2f} s, exit {rc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
