"""Validating claim files: read them, run an engine, filter, decide the exit status.

The CLI (`claimgraph validate`) and other callers use `validate_files`; formatting is in
`report.py`. Engines: `reference` (pyshacl, the SHACL semantics) and `fast` (compiled SPARQL on
pyoxigraph); both give the same findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ClaimgraphError
from .findings import SEVERITIES, Finding
from .ingest.model import ClaimData
from .ingest.reading import ReadLog

ENGINES = ("fast", "reference")
Warn = Callable[[str], None] | None


@dataclass
class ValidationResult:
    claims: int  # claims checked (after --payer)
    findings: list[Finding] = field(default_factory=list)
    fail_on: str = "violation"

    @property
    def failed(self) -> bool:
        """Whether a finding reaches the failure threshold (exit status 1)."""
        return any(reaches(f.severity, self.fail_on) for f in self.findings)

    @property
    def conforms(self) -> bool:
        return not self.failed

    def summary(self) -> dict[str, int]:
        """Findings by severity, and apart: those resting on documentation not in the input."""
        counts = dict.fromkeys(SEVERITIES, 0)
        for f in self.findings:
            counts[f.severity] += 1
        counts["not_in_input"] = sum(f.not_in_input for f in self.findings)
        return counts


def reaches(severity: str, threshold: str) -> bool:
    """Whether `severity` is at least as serious as `threshold` (violation > warning > info)."""
    return SEVERITIES.index(severity) <= SEVERITIES.index(threshold)


def _read(
    paths: Sequence[str | Path],
    warn: Warn,
    documents: str | Path | None,
    log: ReadLog,
    input_format: str | None = None,
    default_payer: str | None = None,
) -> Iterator[ClaimData]:
    from .ingest import read_claims

    yield from read_claims(
        paths, warn=warn, documents=documents, input_format=input_format,
        default_payer=default_payer, log=log,
    )  # fmt: skip


def check_rule_ids(rule_ids: Iterable[str]) -> set[str]:
    from .engine.common import rulebook

    known = rulebook().rules
    wanted = {r.strip().upper() for r in rule_ids}
    unknown = sorted(wanted - set(known))
    if unknown:
        names = ", ".join(unknown)
        raise ClaimgraphError(f"unknown rule id {names}; `claimgraph rules` lists the rules")
    return wanted


def check_payer(payer: str) -> str:
    from .engine.common import payer_categories

    name = payer.strip().lower()
    if name not in payer_categories():
        known = ", ".join(sorted(payer_categories()))
        raise ClaimgraphError(f"unknown payer {payer!r}; use one of {known}")
    return name


def validate_files(
    paths: Sequence[str | Path],
    *,
    engine: str = "fast",
    jobs: int | None = None,
    rules: Iterable[str] = (),
    payer: str | None = None,
    fail_on: str = "violation",
    warn: Warn = None,
    progress: bool = False,
    documents: str | Path | None = None,
    shapes: Sequence[str | Path] = (),
    input_format: str | None = None,
    default_payer: str | None = None,
    strict: bool = False,
) -> ValidationResult:
    """Findings of every claim in `paths`, restricted to `rules` (ids) and to claims of `payer`;
    `shapes`: the user's rules files, checked and added to the bundled rules for this run.
    `input_format` overrides detection; `default_payer` is the payer of claims whose input
    names none; `strict` makes findings about the input (X12 envelopes) errors."""
    if engine not in ENGINES:
        raise ClaimgraphError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    from .usershapes import installed, load

    with installed(load(shapes) if shapes else None):
        return _validate_files(
            paths, engine=engine, jobs=jobs, rules=rules, payer=payer, fail_on=fail_on,
            warn=warn, progress=progress, documents=documents, input_format=input_format,
            default_payer=default_payer, strict=strict,
        )  # fmt: skip


def _validate_files(
    paths: Sequence[str | Path],
    *,
    engine: str,
    jobs: int | None,
    rules: Iterable[str],
    payer: str | None,
    fail_on: str,
    warn: Warn,
    progress: bool,
    documents: str | Path | None,
    input_format: str | None = None,
    default_payer: str | None = None,
    strict: bool = False,
) -> ValidationResult:
    if engine not in ENGINES:
        raise ClaimgraphError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if fail_on not in SEVERITIES:
        raise ClaimgraphError(f"unknown severity {fail_on!r}; use one of {', '.join(SEVERITIES)}")
    wanted = check_rule_ids(rules) if rules else None
    payers: set[str] | None = None
    if payer:
        from .engine.common import payers_in

        payers = payers_in(check_payer(payer))

    count = 0
    log = ReadLog()

    def claims() -> Iterator[ClaimData]:
        nonlocal count
        for claim in _read(paths, warn, documents, log, input_format, default_payer):
            if payers is not None and not (
                isinstance(claim.payer, str) and claim.payer.strip().lower() in payers
            ):
                continue
            count += 1
            yield claim

    if engine == "fast":
        from .engine import fast

        findings = fast.validate_claims(claims(), jobs=jobs, progress=progress)
    else:
        from .engine import reference

        findings = reference.validate_claims(claims(), jobs=jobs or 1, progress=progress)
    from .intake import merge

    findings = merge(findings, log, strict=strict)
    if wanted is not None:
        findings = [f for f in findings if f.rule in wanted]
    return ValidationResult(claims=count, findings=list(findings), fail_on=fail_on)


def validate_endpoint(
    url: str,
    graph: str | None,
    *,
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
    wanted = check_rule_ids(rules) if rules else None
    findings = run(url, graph)
    if wanted is not None:
        findings = [f for f in findings if f.rule in wanted]
    return ValidationResult(claims=count_claims(url, graph), findings=findings, fail_on=fail_on)
