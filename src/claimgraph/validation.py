"""Validating claim files: read them, run an engine, filter, decide the exit status.

`validate_files` reads claim files; `validate_claims` checks claims already read (`ClaimData`,
from the Python API `claimgraph.validate` or a Spark partition). Formatting is in `report/`.
Engines: `reference` (pyshacl, the SHACL semantics) and `fast` (compiled SPARQL on pyoxigraph);
both give the same findings.
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
from .patients import unjoined

if TYPE_CHECKING:
    from .knowledge import Knowledge
    from .workflow.waivers import Waived

ENGINES = ("fast", "reference")
FAIL_ON = (*SEVERITIES, "none")  # "none": findings never fail the run
Warn = Callable[[str], None] | None


@dataclass
class ValidationResult:
    claims: int  # claims checked (after --payer)
    findings: list[Finding] = field(default_factory=list)  # what the report lists as open
    fail_on: str = "violation"
    # The run's facts (runinfo.run_info): claimgraph version, date, engine, rule-set
    # fingerprint, user rules, code-set releases (bundled and imported: code sets and CMS
    # tables), and the profile, baseline and waivers applied.
    run: dict[str, Any] = field(default_factory=dict)
    waived: list[Waived] = field(default_factory=list)  # findings a waiver covers, listed apart
    suppressed: int = 0  # findings the baseline already had, not reported
    notices: list[str] = field(default_factory=list)  # e.g. a waiver that expired
    # the rules and code sets the run used (reports read its rulebook)
    knowledge: Knowledge | None = field(default=None, repr=False, compare=False)

    @property
    def failed(self) -> bool:
        """Whether a finding reaches the failure threshold (exit status 1)."""
        return any(reaches(f.severity, self.fail_on) for f in self.findings)

    @property
    def conforms(self) -> bool:
        return not self.failed

    def summary(self) -> dict[str, int]:
        """Open findings by severity: {"violation": n, "warning": n, "info": n} (the reports
        count apart those resting on documentation not in the input: `Finding.not_in_input`)."""
        counts = dict.fromkeys(SEVERITIES, 0)
        for f in self.findings:
            counts[f.severity] += 1
        return counts

    def records(self) -> list[dict[str, Any]]:
        """The open findings as the JSON report's records (plain dicts, report field order)."""
        from .report.records import finding_record

        return [finding_record(f) for f in self.findings]

    def to_arrow(self) -> Any:
        """Open and waived findings as a pyarrow Table (the Parquet report's columns; needs
        the `arrow` extra)."""
        from .report.arrow import result_table

        return result_table(self)

    def to_pandas(self) -> Any:
        """The `to_arrow()` table as a pandas DataFrame (needs pandas; list columns hold
        dicts). Without pyarrow: a DataFrame of `records()` plus status and waiver."""
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            try:
                import pandas
            except ImportError:
                raise ClaimgraphError("to_pandas() needs pandas: pip install pandas") from None
            from .report.arrow import RESULT_COLUMNS, result_rows

            return pandas.DataFrame(result_rows(self), columns=list(RESULT_COLUMNS))
        try:
            return self.to_arrow().to_pandas()
        except ImportError:
            raise ClaimgraphError("to_pandas() needs pandas: pip install pandas") from None


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
    profile: str | None = None,
    include_preauthorization: bool = False,
    input_format: str | None = None,
    default_payer: str | None = None,
    strict: bool = False,
    rules_profile: str | Path | None = None,
    baseline: str | Path | None = None,
    waivers: str | Path | None = None,
    today: dt.date | None = None,
    timeout: float | None = None,
) -> ValidationResult:
    """Findings of every claim in `paths` (`validate_claims` says what the options do), and
    the findings about the input itself (X12 envelopes, repeated claim ids).

    Reading: `documents` is the documents file of the claims; `profile` the column mapping of
    tabular files; `include_preauthorization` checks FHIR preauthorization requests as
    claims; `input_format` overrides detection; `default_payer` is the payer of claims whose
    input names none; `strict` makes findings about the input errors (exit 2)."""
    from .ingest import read_claims

    log = ReadLog()

    def claims() -> Iterator[ClaimData]:
        yield from read_claims(
            paths, warn=warn, documents=documents, profile=profile, log=log,
            include_preauthorization=include_preauthorization, input_format=input_format,
            default_payer=default_payer,
        )  # fmt: skip

    return validate_claims(
        claims(), knowledge=knowledge, engine=engine, jobs=jobs, rules=rules, payer=payer,
        fail_on=fail_on, warn=warn, progress=progress, rules_profile=rules_profile,
        baseline=baseline, waivers=waivers, today=today, read_log=log, strict=strict,
        timeout=timeout,
    )  # fmt: skip


def validate_claims(
    claims: Iterable[ClaimData],
    *,
    knowledge: Knowledge | None = None,
    engine: str = "fast",
    jobs: int | None = None,
    rules: Iterable[str] = (),
    payer: str | None = None,
    fail_on: str = "violation",
    warn: Warn = None,
    progress: bool = False,
    rules_profile: str | Path | None = None,
    baseline: str | Path | None = None,
    waivers: str | Path | None = None,
    today: dt.date | None = None,
    read_log: ReadLog | None = None,
    strict: bool = False,
    timeout: float | None = None,
) -> ValidationResult:
    """Findings of `claims` (read lazily, once) under `knowledge` (default: the bundled rules,
    no code sets), restricted to `rules` (ids) and to claims of `payer`; `read_log`: what the
    reader of the claims logged (its findings about the input are added; `strict`: they are
    errors).

    Each finding carries its rule's context and key (`report.context`). Then the workflow
    steps run: the `rules_profile` file changes severities, the `baseline` report suppresses
    what it already had, the `waivers` file sets accepted findings apart (expiry compared to
    `today`). Every file is read and checked before the claims are. `timeout`: seconds the
    fast engine's run may take (`dispatch.ValidationTimeout`, exit 2, after)."""
    if engine not in ENGINES:
        raise ClaimgraphError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    from . import workflow

    knowledge = _knowledge(knowledge)
    steps = workflow.load(knowledge, profile=rules_profile, baseline=baseline, waivers=waivers)
    result = _validate(
        claims, knowledge=knowledge, engine=engine, jobs=jobs, rules=rules, payer=payer,
        fail_on=fail_on, warn=warn, progress=progress, log=read_log, strict=strict,
        timeout=timeout,
    )  # fmt: skip
    return workflow.apply(result, steps, today)


def _validate(
    source: Iterable[ClaimData],
    *,
    knowledge: Knowledge,
    engine: str,
    jobs: int | None,
    rules: Iterable[str],
    payer: str | None,
    fail_on: str,
    warn: Warn,
    progress: bool,
    log: ReadLog | None,
    strict: bool,
    timeout: float | None = None,
) -> ValidationResult:
    check_fail_on(fail_on)
    if timeout is not None and engine != "fast":
        raise ClaimgraphError("--timeout applies to the fast engine (and --endpoint runs)")
    wanted = check_rule_ids(rules, knowledge) if rules else None
    payers = knowledge.payers_in(check_payer(payer, knowledge)) if payer else None

    count = 0
    placeholders = 0

    def placeholder() -> None:
        nonlocal placeholders
        placeholders += 1

    def claims() -> Iterator[ClaimData]:
        nonlocal count
        for claim in unjoined(source, knowledge.placeholder_patients, placeholder):
            if payers is not None and not (
                isinstance(claim.payer, str) and claim.payer.strip().lower() in payers
            ):
                continue
            count += 1
            yield claim

    if engine == "fast":
        from .engine import fast

        findings = fast.validate_claims(
            claims(), knowledge=knowledge, jobs=jobs, progress=progress, timeout=timeout
        )
    else:
        from .engine import reference

        findings = reference.validate_claims(
            claims(), knowledge=knowledge, jobs=jobs or 1, progress=progress
        )
    if placeholders and warn:
        warn(
            f"{placeholders} claim(s) have a placeholder patient id (such as UNKNOWN or 0); "
            "each is checked on its own, not with other claims of that id"
        )
    if log is not None:
        from .intake import merge

        findings = merge(findings, log, knowledge, strict=strict)
    findings = with_context(findings, knowledge)
    if wanted is not None:
        findings = [f for f in findings if f.rule in wanted]
    return ValidationResult(
        claims=count, findings=findings, fail_on=fail_on,
        run=run_info(knowledge, engine), knowledge=knowledge,
    )  # fmt: skip


def with_context(findings: Iterable[Finding], knowledge: Knowledge) -> list[Finding]:
    """The findings with their rule's context and their key (report.context)."""
    from .report.context import context

    return context(findings, knowledge)


def run_info(knowledge: Knowledge, engine: str) -> dict[str, Any]:
    from .runinfo import run_info as facts

    return facts(knowledge, engine)


def validate_endpoint(
    url: str,
    graph: str | None,
    *,
    knowledge: Knowledge | None = None,
    rules: Iterable[str] = (),
    payer: str | None = None,
    fail_on: str = "violation",
    rules_profile: str | Path | None = None,
    baseline: str | Path | None = None,
    waivers: str | Path | None = None,
    today: dt.date | None = None,
    timeout: float | None = None,
    jobs: int | None = None,
) -> ValidationResult:
    """Findings of the claims in `graph` of a SPARQL server (engine/endpoint.py), with the
    same context and workflow steps as `validate_files`; every request ends within `timeout`
    seconds of the start (default `endpoint.TIMEOUT`), `jobs` queries run at once (default 2)."""
    from . import workflow
    from .engine.endpoint import TIMEOUT, count_claims
    from .engine.endpoint import validate_endpoint as run
    from .remote import Deadline

    if payer:
        raise ClaimgraphError("--payer cannot be used with --endpoint")
    check_fail_on(fail_on)
    knowledge = _knowledge(knowledge)
    wanted = check_rule_ids(rules, knowledge) if rules else None
    steps = workflow.load(knowledge, profile=rules_profile, baseline=baseline, waivers=waivers)
    deadline = Deadline(TIMEOUT if timeout is None else timeout)
    found = run(url, graph, knowledge=knowledge, timeout=deadline, jobs=jobs or 2)
    findings = with_context(found, knowledge)
    if wanted is not None:
        findings = [f for f in findings if f.rule in wanted]
    result = ValidationResult(
        claims=count_claims(url, graph, timeout=deadline), findings=findings, fail_on=fail_on,
        run={**run_info(knowledge, "endpoint"), "endpoint_graph": graph}, knowledge=knowledge,
    )  # fmt: skip
    return workflow.apply(result, steps, today)
