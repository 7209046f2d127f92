"""Validating claim files: read them, run an engine, filter, decide the exit status.

The CLI (`claimgraph validate`) and other callers use `validate_files`; formatting is in
`report.py`. Engines: `reference` (pyshacl, the SHACL semantics) and `fast` (compiled SPARQL on
pyoxigraph); both give the same findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ClaimgraphError
from .findings import SEVERITIES, Finding
from .ingest.model import ClaimData

if TYPE_CHECKING:
    from .knowledge import Knowledge, RunInfo

ENGINES = ("fast", "reference")
Warn = Callable[[str], None] | None


@dataclass
class ValidationResult:
    claims: int  # claims checked (after --payer)
    findings: list[Finding] = field(default_factory=list)
    fail_on: str = "violation"
    # what the run used: claimgraph version, rule-set fingerprint, code-set releases, user rules
    run: RunInfo | None = None
    knowledge: Knowledge | None = field(default=None, repr=False, compare=False)

    @property
    def failed(self) -> bool:
        """Whether a finding reaches the failure threshold (exit status 1)."""
        return any(reaches(f.severity, self.fail_on) for f in self.findings)

    @property
    def conforms(self) -> bool:
        return not self.failed

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITIES, 0)
        for f in self.findings:
            counts[f.severity] += 1
        return counts


def reaches(severity: str, threshold: str) -> bool:
    """Whether `severity` is at least as serious as `threshold` (violation > warning > info)."""
    return SEVERITIES.index(severity) <= SEVERITIES.index(threshold)


def check_rule_ids(rule_ids: Iterable[str], knowledge: Knowledge) -> set[str]:
    known = knowledge.rulebook.rules
    wanted = {r.strip().upper() for r in rule_ids}
    unknown = sorted(wanted - set(known))
    if unknown:
        names = ", ".join(unknown)
        raise ClaimgraphError(f"unknown rule id {names}; `claimgraph rules` lists the rules")
    return wanted


def check_payer(payer: str, knowledge: Knowledge) -> str:
    name = payer.strip().lower()
    if name not in knowledge.payer_categories:
        known = ", ".join(sorted(knowledge.payer_categories))
        raise ClaimgraphError(f"unknown payer {payer!r}; use one of {known}")
    return name


def _knowledge(knowledge: Knowledge | None) -> Knowledge:
    from .knowledge import Knowledge

    return knowledge or Knowledge.bundled()


def validate_files(
    paths: Sequence[str | Path],
    *,
    knowledge: Knowledge | None = None,
    engine: str = "fast",
    jobs: int | None = None,
    rules: Iterable[str] = (),
    payer: str | None = None,
    fail_on: str = "violation",
    warn: Warn = None,
    progress: bool = False,
    documents: str | Path | None = None,
) -> ValidationResult:
    """Findings of every claim in `paths` under `knowledge` (default: the bundled rules, no
    code sets), restricted to `rules` (ids) and to claims of `payer`."""
    from .ingest import read_claims

    if engine not in ENGINES:
        raise ClaimgraphError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if fail_on not in SEVERITIES:
        raise ClaimgraphError(f"unknown severity {fail_on!r}; use one of {', '.join(SEVERITIES)}")
    knowledge = _knowledge(knowledge)
    wanted = check_rule_ids(rules, knowledge) if rules else None
    payers = knowledge.payers_in(check_payer(payer, knowledge)) if payer else None

    count = 0
    seen: set[str] = set()
    repeated = 0

    def claims() -> Iterator[ClaimData]:
        nonlocal count, repeated
        for claim in read_claims(paths, warn=warn, documents=documents):
            if payers is not None and not (
                isinstance(claim.payer, str) and claim.payer.strip().lower() in payers
            ):
                continue
            count += 1
            if claim.key in seen:
                repeated += 1
            seen.add(claim.key)
            yield claim

    if engine == "fast":
        from .engine import fast

        findings = fast.validate_claims(claims(), knowledge=knowledge, jobs=jobs, progress=progress)
    else:
        from .engine import reference

        findings = reference.validate_claims(
            claims(), knowledge=knowledge, jobs=jobs or 1, progress=progress
        )
    if repeated and warn:
        warn(
            f"{repeated} claim(s) reuse an id seen earlier in the input; "
            "each is checked on its own; reports tell them apart by file and position"
        )
    if wanted is not None:
        findings = [f for f in findings if f.rule in wanted]
    return ValidationResult(
        claims=count, findings=list(findings), fail_on=fail_on,
        run=knowledge.run_info(engine), knowledge=knowledge,
    )  # fmt: skip


def validate_endpoint(
    url: str,
    graph: str | None,
    *,
    knowledge: Knowledge | None = None,
    rules: Iterable[str] = (),
    payer: str | None = None,
    fail_on: str = "violation",
) -> ValidationResult:
    """Findings of the claims in `graph` of a SPARQL server (engine/endpoint.py)."""
    from .engine.endpoint import count_claims
    from .engine.endpoint import validate_endpoint as run

    if payer:
        raise ClaimgraphError("--payer cannot be used with --endpoint")
    if fail_on not in SEVERITIES:
        raise ClaimgraphError(f"unknown severity {fail_on!r}; use one of {', '.join(SEVERITIES)}")
    knowledge = _knowledge(knowledge)
    wanted = check_rule_ids(rules, knowledge) if rules else None
    findings = run(url, graph, knowledge=knowledge)
    if wanted is not None:
        findings = [f for f in findings if f.rule in wanted]
    return ValidationResult(
        claims=count_claims(url, graph), findings=findings, fail_on=fail_on,
        run=knowledge.run_info("endpoint"), knowledge=knowledge,
    )  # fmt: skip
