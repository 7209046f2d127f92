"""Validating claim files: read them, run an engine, filter, decide the exit status.

The CLI (`claimgraph validate`) and other callers use `validate_files`; formatting is in
`report.py`. Engines: `reference` (pyshacl, the SHACL semantics) and `fast` (compiled SPARQL on
pyoxigraph); both give the same findings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ClaimgraphError
from .findings import SEVERITIES, Finding
from .ingest.model import ClaimData
from .ingest.reading import ReadLog

if TYPE_CHECKING:
    from .workflow.waivers import Waived

ENGINES = ("fast", "reference")
FAIL_ON = (*SEVERITIES, "none")  # "none": findings never fail the run
Warn = Callable[[str], None] | None


@dataclass
class ValidationResult:
    claims: int  # claims checked (after --payer)
    findings: list[Finding] = field(default_factory=list)  # what the report lists as open
    fail_on: str = "violation"
    # The run's facts (report.runinfo): claimgraph version, date, engine, rule-set fingerprint,
    # code-set releases, and the profile, baseline and waivers applied.
    run: dict[str, Any] = field(default_factory=dict)
    waived: list[Waived] = field(default_factory=list)  # findings a waiver covers, listed apart
    suppressed: int = 0  # findings the baseline already had, not reported
    notices: list[str] = field(default_factory=list)  # e.g. a waiver that expired

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


@dataclass(frozen=True)
class Reading:
    """How the input is read (see `validate_files`)."""

    profile: str | None = None
    include_preauthorization: bool = False
    input_format: str | None = None
    default_payer: str | None = None


def reaches(severity: str, threshold: str) -> bool:
    """Whether `severity` is at least as serious as `threshold` (violation > warning > info);
    never for the threshold "none"."""
    if threshold == "none":
        return False
    return SEVERITIES.index(severity) <= SEVERITIES.index(threshold)


def check_fail_on(fail_on: str) -> str:
    if fail_on not in FAIL_ON:
        raise ClaimgraphError(f"unknown severity {fail_on!r}; use one of {', '.join(FAIL_ON)}")
    return fail_on


def _read(
    paths: Sequence[str | Path],
    warn: Warn,
    documents: str | Path | None,
    log: ReadLog,
    reading: Reading,
) -> Iterator[ClaimData]:
    from .ingest import read_claims

    yield from read_claims(
        paths, warn=warn, documents=documents, log=log, input_format=reading.input_format,
        default_payer=reading.default_payer, profile=reading.profile,
        include_preauthorization=reading.include_preauthorization,
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
    profile: str | None = None,
    include_preauthorization: bool = False,
    input_format: str | None = None,
    default_payer: str | None = None,
    strict: bool = False,
    rules_profile: str | Path | None = None,
    baseline: str | Path | None = None,
    waivers: str | Path | None = None,
    today: dt.date | None = None,
) -> ValidationResult:
    """Findings of every claim in `paths`, restricted to `rules` (ids) and to claims of `payer`;
    `shapes`: the user's rules files, checked and added to the bundled rules for this run.

    Reading: `profile` is the column mapping of tabular files; `include_preauthorization`
    checks FHIR preauthorization requests as claims; `input_format` overrides detection;
    `default_payer` is the payer of claims whose input names none; `strict` makes findings
    about the input (X12 envelopes) errors.

    Each finding carries its rule's context and key (`report.context`). Then the workflow
    steps run: the `rules_profile` file changes severities, the `baseline` report suppresses
    what it already had, the `waivers` file sets accepted findings apart (expiry compared to
    `today`). Every file is read and checked before the claims are."""
    if engine not in ENGINES:
        raise ClaimgraphError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    from . import workflow
    from .runinfo import run_info
    from .usershapes import installed, load

    with installed(load(shapes) if shapes else None):
        steps = workflow.load(profile=rules_profile, baseline=baseline, waivers=waivers)
        result = _validate_files(
            paths, engine=engine, jobs=jobs, rules=rules, payer=payer, fail_on=fail_on,
            warn=warn, progress=progress, documents=documents, strict=strict,
            reading=Reading(profile, include_preauthorization, input_format, default_payer),
        )  # fmt: skip
        result.run = run_info(engine, shapes)
    return workflow.apply(result, steps, today)


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
    reading: Reading | None = None,
    strict: bool = False,
) -> ValidationResult:
    if engine not in ENGINES:
        raise ClaimgraphError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    check_fail_on(fail_on)
    wanted = check_rule_ids(rules) if rules else None
    payers: set[str] | None = None
    if payer:
        from .engine.common import payers_in

        payers = payers_in(check_payer(payer))

    count = 0
    log = ReadLog()

    def claims() -> Iterator[ClaimData]:
        nonlocal count
        for claim in _read(paths, warn, documents, log, reading or Reading()):
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

    findings = with_context(merge(findings, log, strict=strict))
    if wanted is not None:
        findings = [f for f in findings if f.rule in wanted]
    return ValidationResult(claims=count, findings=findings, fail_on=fail_on)


def with_context(findings: Iterable[Finding]) -> list[Finding]:
    """The findings with their rule's context and their key (report.context)."""
    from .engine.common import rulebook
    from .report.context import context

    return context(findings, rulebook())


def validate_endpoint(
    url: str,
    graph: str | None,
    *,
    rules: Iterable[str] = (),
    payer: str | None = None,
    fail_on: str = "violation",
    rules_profile: str | Path | None = None,
    baseline: str | Path | None = None,
    waivers: str | Path | None = None,
    today: dt.date | None = None,
) -> ValidationResult:
    """Findings of the claims in `graph` of a SPARQL server (engine/endpoint.py), with the
    same context and workflow steps as `validate_files`."""
    from . import workflow
    from .engine.endpoint import count_claims
    from .engine.endpoint import validate_endpoint as run

    if payer:
        raise ClaimgraphError("--payer cannot be used with --endpoint")
    check_fail_on(fail_on)
    wanted = check_rule_ids(rules) if rules else None
    steps = workflow.load(profile=rules_profile, baseline=baseline, waivers=waivers)
    findings = with_context(run(url, graph))
    if wanted is not None:
        findings = [f for f in findings if f.rule in wanted]
    from .runinfo import run_info

    result = ValidationResult(claims=count_claims(url, graph), findings=findings, fail_on=fail_on)
    result.run = {**run_info("endpoint"), "endpoint_graph": graph}
    return workflow.apply(result, steps, today)
