"""Reading FHIR files: one resource, a Bundle, or bulk data NDJSON (docs/formats.md).

- A Bundle is streamed twice, entry by entry: the first pass keeps a small summary of every
  Patient, Coverage, Organization, Practitioner and Condition (what references need), the
  second maps the Claims and ExplanationOfBenefits. Memory: those summaries, never the Bundle.
- NDJSON (FHIR bulk data: one resource a line) is streamed once; errors name the line. NDJSON
  files of Patients, Coverages, Organizations or Conditions given in the same run are indexed
  first (`FhirRun.prepare`), so claims in other files resolve references to them.
- Preauthorization and predetermination requests (Da Vinci PAS), ClaimResponses and other
  resources are not claims: counted. A file holding no claim is named with them in the run's
  list of inputs that are not claims (`reading.read_claims`); those in files that do hold claims
  are reported in one warning for the run.

The format registry (registry.py) reads FHIR through `read_fhir_input` and
`read_fhir_ndjson_input`; `prepare_inputs` indexes the files of referenced resources first.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from .fhir import NOT_CLAIM_USES, Mapper, use_of
from .fhir_refs import (
    CLAIM_TYPES,
    REFERENCE_TYPES,
    ReferenceIndex,
    Scope,
    as_dict,
    entry_base,
    text,
)
from .json_claims import load_json
from .jsonstream import iter_array, open_text, top_level_value
from .model import ClaimData
from .source import Input, Source

Warn = Callable[[str], None] | None

_RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,60}$")
_MALFORMED = (TypeError, AttributeError, KeyError, ValueError)
BUNDLE_SHAPE = 'a FHIR Bundle with an "entry" list'


@dataclass
class FhirRun:
    """What the FHIR files of one run share: the index of referenced resources given as their
    own files, the resources that are not claims (one warning), the options."""

    include_preauthorization: bool = False
    index: ReferenceIndex = field(default_factory=ReferenceIndex)
    not_claims: dict[str, Counter[str]] = field(default_factory=dict)  # file -> what, count
    indexed: set[Input] = field(default_factory=set)  # read by prepare() for their references
    reference_only: set[Input] = field(default_factory=set)  # ... and holding no claims

    def skip(self, path: Input, what: str) -> None:
        self.not_claims.setdefault(str(path), Counter())[what] += 1

    def set_aside(self, path: Input) -> str | None:
        """What a file that held no claim holds instead (its count leaves the run's warning)."""
        found = self.not_claims.pop(str(path), None)
        return f"FHIR resources that are not claims: {self._describe(found)}" if found else None

    def _describe(self, counts: Counter[str]) -> str:
        kinds = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
        if any(" with use " in k for k in counts) and not self.include_preauthorization:
            kinds += "; --include-preauthorization checks preauthorization requests as claims"
        return kinds

    def skip_resource(self, path: Input, res: dict[str, Any]) -> None:
        rtype = res.get("resourceType")
        shown = rtype if isinstance(rtype, str) and _RESOURCE_TYPE.match(rtype) else "?"
        if shown in CLAIM_TYPES:
            shown = f"{shown} with use {use_of(res)}"
        self.skip(path, shown)

    def wanted(self, res: dict[str, Any]) -> bool:
        """Whether a Claim/ExplanationOfBenefit is checked: claims, and PA requests if asked."""
        return use_of(res) not in NOT_CLAIM_USES or self.include_preauthorization

    def prepare(self, files: Iterable[tuple[Input, str]]) -> None:
        """Index the files of referenced resources (NDJSON or single-resource JSON) first."""
        for path, fmt in files:
            try:
                self._prepare(path, fmt)
            except RecursionError:
                raise InputError("input is nested too deeply to process", path=str(path)) from None
            except OSError as e:
                raise InputError(f"cannot read the file ({e.strerror or type(e).__name__})",
                                 path=str(path)) from None  # fmt: skip

    def _prepare(self, path: Input, fmt: str) -> None:
        """Index one file of referenced resources (claims files are read once, later)."""
        if fmt == "fhir-ndjson" and _first_type(path) not in CLAIM_TYPES:
            claims = 0
            for _n, res in ndjson_resources(path):
                if res.get("resourceType") in CLAIM_TYPES:
                    claims += 1
                else:
                    self.index.add(res)
            self.indexed.add(path)
            if claims == 0:
                self.reference_only.add(path)
        elif fmt == "fhir":
            found = top_level_value(path, {"resourceType"})
            if found and found[1] in REFERENCE_TYPES:
                res = load_json(path)
                if isinstance(res, dict):
                    self.index.add(res)
                    self.indexed.add(path)
                    self.reference_only.add(path)

    def report(self, warn: Warn) -> None:
        """One warning for the resources that are not claims in files that hold claims."""
        counts: Counter[str] = Counter()
        for found in self.not_claims.values():
            counts.update(found)
        if not warn or not counts:
            return
        files = len(self.not_claims)
        kinds, _, hint = self._describe(counts).partition("; ")
        warn(
            f"{sum(counts.values())} FHIR resources are not claims and were not checked ({kinds}; "
            f"in {files} file{'s' if files != 1 else ''}){'; ' + hint if hint else ''}"
        )


# ------------------------------------------------------------------ the format registry's readers


def _run_of(run: Any) -> FhirRun:
    """The FhirRun of a run of `reading.read_claims` (`ReadRun`), made on first use."""
    found = run.shared.get("fhir")
    if found is None:
        found = run.shared["fhir"] = FhirRun(run.options.include_preauthorization)
        run.at_end(found.report)
    return found


def prepare_inputs(inputs: list[tuple[Source, str]], run: Any) -> None:
    """Before any claim is read: index the files (not standard input) of referenced resources."""
    _run_of(run).prepare((s, fmt) for s, fmt in inputs if not s.is_stdin)


def _finish(
    source: Source, ctx: Any, run: FhirRun, claims: Iterator[ClaimData]
) -> Iterator[ClaimData]:
    """The claims of a file; when it held none, what it holds instead (for the not-claims list)."""
    count = 0
    for claim in claims:
        count += 1
        yield claim
    if count == 0:
        if source in run.reference_only:
            ctx.reference_only()
        elif (what := run.set_aside(source)) is not None:
            ctx.nothing(what)


def read_fhir_input(source: Source, ctx: Any) -> Iterator[ClaimData]:
    run = _run_of(ctx.run)
    yield from _finish(source, ctx, run, read_fhir(source, ctx, run))


def read_fhir_ndjson_input(source: Source, ctx: Any) -> Iterator[ClaimData]:
    run = _run_of(ctx.run)
    yield from _finish(source, ctx, run, read_fhir_ndjson(source, ctx, run))


def read_fhir(path: Input, warn: Warn = None, run: FhirRun | None = None) -> Iterator[ClaimData]:
    """Claims of a FHIR R4 JSON file: one Claim or ExplanationOfBenefit, or those of a Bundle."""
    run = run or FhirRun()
    if path in run.reference_only:
        return
    found = top_level_value(path, {"resourceType"})
    rtype = found[1] if found else None
    mapper = Mapper(path, warn, "fhir")
    if rtype == "Bundle":
        yield from _bundle(path, mapper, run)
    else:
        res = load_json(path)
        if not isinstance(res, dict) or not isinstance(rtype, str):
            raise InputError(
                "expected a FHIR resource (a JSON object with a resourceType)",
                path=str(path),
                position="1:1",
            )
        if rtype in CLAIM_TYPES and run.wanted(res):
            scope = Scope(as_dict(res).get("contained") or [], None, None, run.index, mapper.terms)
            try:
                yield mapper.claim(res, 1, scope)
            except _MALFORMED:
                raise InputError(f"malformed FHIR {rtype}", path=str(path)) from None
        elif rtype in REFERENCE_TYPES:
            run.index.add(res)  # a referenced resource given as its own file
        else:
            run.skip_resource(path, res)
    mapper.report()


def _bundle(path: Input, mapper: Mapper, run: FhirRun) -> Iterator[ClaimData]:
    local = ReferenceIndex()
    claims = entries = 0
    for entry in iter_array(path, "entry", BUNDLE_SHAPE, required=False):
        entries += 1
        res = as_dict(as_dict(entry).get("resource"))
        if res.get("resourceType") in CLAIM_TYPES:
            claims += 1
        elif not local.add(res, text(as_dict(entry).get("fullUrl"))):
            run.skip_resource(path, res)
    if entries == 0:
        run.skip(path, "Bundle without entries")
    if claims == 0:
        return
    index = 0
    for n, entry in enumerate(iter_array(path, "entry", BUNDLE_SHAPE, required=False), start=1):
        entry = as_dict(entry)
        res = as_dict(entry.get("resource"))
        rtype = res.get("resourceType")
        if rtype not in CLAIM_TYPES:
            continue
        if not run.wanted(res):
            run.skip_resource(path, res)
            continue
        index += 1
        where = f"entry {n}"
        scope = Scope(res.get("contained") or [], entry_base(entry.get("fullUrl")), local,
                      run.index, mapper.terms)  # fmt: skip
        try:
            yield mapper.claim(res, index, scope, where)
        except _MALFORMED:
            raise InputError(f"malformed FHIR {rtype}", path=str(path), position=where) from None


def read_fhir_ndjson(
    path: Input, warn: Warn = None, run: FhirRun | None = None
) -> Iterator[ClaimData]:
    """Claims of a FHIR bulk data file: one resource a line (Claim, ExplanationOfBenefit)."""
    run = run or FhirRun()
    if path in run.reference_only:
        return
    mapper = Mapper(path, warn, "fhir-ndjson")
    index = 0
    for lineno, res in ndjson_resources(path):
        rtype = res.get("resourceType")
        if rtype in CLAIM_TYPES:
            if not run.wanted(res):
                run.skip_resource(path, res)
                continue
            index += 1
            where = f"line {lineno}"
            scope = Scope(res.get("contained") or [], None, None, run.index, mapper.terms)
            try:
                yield mapper.claim(res, index, scope, where)
            except _MALFORMED:
                raise InputError(f"malformed FHIR {rtype}", path=str(path),
                                 position=where) from None  # fmt: skip
        elif rtype in REFERENCE_TYPES:
            if path not in run.indexed:
                run.index.add(res)  # later lines of this file may refer to it
        else:
            run.skip_resource(path, res)
    mapper.report()


def ndjson_resources(path: Input) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, resource) of every non-blank line; errors name the line, never the text."""
    with open_text(path) as f:
        lineno = 0
        while True:
            try:
                line = f.readline()
            except UnicodeDecodeError:
                raise InputError("not UTF-8 text", path=str(path),
                                 position=str(lineno + 1)) from None  # fmt: skip
            if not line:
                return
            lineno += 1
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"not valid JSON ({e.msg})", path=str(path),
                                 position=f"{lineno}:{e.colno}") from None  # fmt: skip
            except ValueError:
                raise InputError("not valid JSON (a number is too long)", path=str(path),
                                 position=str(lineno)) from None  # fmt: skip
            except RecursionError:
                raise InputError("input is nested too deeply to process", path=str(path),
                                 position=str(lineno)) from None  # fmt: skip
            if not isinstance(obj, dict) or not isinstance(obj.get("resourceType"), str):
                raise InputError("expected one FHIR resource (with a resourceType) a line",
                                 path=str(path), position=str(lineno))  # fmt: skip
            yield lineno, obj


def _first_type(path: Input) -> Any:
    for _n, res in ndjson_resources(path):
        return res.get("resourceType")
    return None
