"""How long the report takes: the rule context and key of N findings, then each writer.

Findings are synthetic (every bundled rule in turn, 10 claims' worth of lines per rule), so the
figures measure report/ alone, not validation. Prints seconds and output size per format.

    python benchmarks/report_formats.py [--findings 20000]
"""

from __future__ import annotations

import argparse
import io
import time

from claimgraph.findings import Finding
from claimgraph.knowledge import Knowledge
from claimgraph.report import write
from claimgraph.report.context import context
from claimgraph.validation import ValidationResult

FORMATS = ("table", "json", "jsonl", "csv", "tsv", "turtle", "html", "xlsx")


def findings(n: int) -> list[Finding]:
    rules = sorted(Knowledge.bundled().rulebook.rules.values(), key=lambda r: r.id)
    out = []
    for i in range(n):
        rule = rules[i % len(rules)]
        out.append(
            Finding(
                claim=f"CLM-{i // 3:07d}",
                line=1 + i % 3,
                rule=rule.id,
                severity=rule.severity,
                code="E1392",
                message=rule.message,
                file="claims.json",
                position=f"entry {i // 3 + 1}",
                payer=("medicare", "aetna", "bcbs")[i % 3],
                service_date="2026-03-02",
                facts=(("modifier", "KX"),),
            )
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=20_000)
    args = parser.parse_args()
    raw = findings(args.findings)
    knowledge = Knowledge.bundled()
    knowledge.graph  # noqa: B018 - parsed before the clock starts
    start = time.perf_counter()
    done = context(raw, knowledge)
    elapsed = time.perf_counter() - start
    per = elapsed / len(done) * 1e6
    print(f"context + key: {len(done)} findings in {elapsed:.2f} s ({per:.1f} us each)")
    result = ValidationResult(claims=args.findings // 3, findings=done, knowledge=knowledge)
    for fmt in FORMATS:
        out: io.StringIO | io.BytesIO = io.BytesIO() if fmt == "xlsx" else io.StringIO()
        start = time.perf_counter()
        write(result, fmt, out)
        elapsed = time.perf_counter() - start
        size = len(out.getvalue())
        print(f"{fmt:<7} {elapsed:7.2f} s  {size / 1e6:8.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
