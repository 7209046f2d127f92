"""Claims from Python values (the Python API): files, claim dicts, FHIR resources, tables.

`claims_from(source)` accepts
- a path (str or `os.PathLike`) or a list of paths: read as `claimgraph validate` reads them;
- claim dicts of the JSON contract (a list or any iterable; `{"claims": [...]}` too);
- FHIR R4 resources as dicts: Claims, ExplanationOfBenefits, Bundles, and the Patients,
  Coverages, Organizations and Conditions they refer to (resolved across the whole source);
- a pandas DataFrame, a pyarrow Table (or RecordBatch, RecordBatchReader) or any table with
  `to_arrow()` (polars), one row per claim line (`ingest.lines`);
- `ClaimData` values (already read).

Every claim gets its source (`name`, default `records`), its position (`record N`, `row N`,
`resource N`, `resource N entry M`) and its uid, as files do in `ingest.read_claims`. Errors
name the source and the position, never a value.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from .model import ClaimData, assign_uid
from .payers import resolve_payer

if TYPE_CHECKING:
    from .tabular import Profile

Warn = Callable[[str], None] | None
DEFAULT_NAME = "records"
PANDAS_CHUNK = 50_000  # DataFrame rows turned into dicts at a time


def is_paths(source: Any) -> bool:
    """A path, or a non-empty list/tuple of paths."""
    if isinstance(source, str | os.PathLike):
        return True
    return (
        isinstance(source, list | tuple)
        and bool(source)
        and all(isinstance(s, str | os.PathLike) for s in source)
    )


def table_kind(source: Any) -> str | None:
    """'arrow', 'pandas' or 'to_arrow' for a table of claim lines; None for anything else."""
    module = type(source).__module__.split(".", 1)[0]
    if module == "pyarrow" and hasattr(source, "schema"):
        return "arrow"
    if module == "pandas" and hasattr(source, "to_dict") and hasattr(source, "columns"):
        return "pandas"
    if hasattr(source, "to_arrow") and hasattr(source, "columns"):
        return "to_arrow"
    return None


def claims_from(
    source: Any,
    *,
    name: str | None = None,
    warn: Warn = None,
    profile: str | Profile | None = None,
    documents: str | os.PathLike[str] | None = None,
    include_preauthorization: bool = False,
) -> Iterator[ClaimData]:
    """The claims of `source` (see the module docstring), lazily, in order."""
    mapping = _profile(profile)
    if is_paths(source):
        from . import read_claims

        paths = [Path(os.fspath(p)) for p in (source if isinstance(source, list | tuple)
                                               else [source])]  # fmt: skip
        docs = Path(os.fspath(documents)) if documents is not None else None
        yield from read_claims(paths, warn, documents=docs,
                               profile=None if profile is None else _profile_arg(profile),
                               include_preauthorization=include_preauthorization)  # fmt: skip
        return
    if documents is not None:
        raise InputError("documents go with a claims CSV file; give the documents in the claims")
    where = name or DEFAULT_NAME
    kind = table_kind(source)
    if kind is not None:
        yield from _finished(_table_claims(source, kind, where, warn, mapping), where)
        return
    if isinstance(source, Mapping):
        if "claims" in source:
            source = source["claims"]
        elif "resourceType" in source:
            source = [source]
        else:
            raise InputError("expected claims: a list of claim dicts, FHIR resources or a table",
                             path=where)  # fmt: skip
    if isinstance(source, str | bytes) or not isinstance(source, Iterable):
        raise InputError("expected paths, claim dicts, FHIR resources, ClaimData or a table of "
                         "claim lines", path=where)  # fmt: skip
    yield from _finished(_items(iter(source), where, warn, include_preauthorization), where)


def _profile(profile: str | Profile | None) -> Profile | None:
    from .lines import resolve_profile

    return None if profile is None else resolve_profile(profile)


def _profile_arg(profile: str | Profile) -> str | None:
    """A profile as `read_claims` takes it: a built-in name or a mapping file's path (None:
    the built-in claim lines, which Parquet files default to)."""
    from .lines import PROFILE_NAME

    name = profile if isinstance(profile, str) else profile.name
    if name == PROFILE_NAME:
        return None
    return profile if isinstance(profile, str) else profile.source


def _finished(claims: Iterator[ClaimData], where: str) -> Iterator[ClaimData]:
    """Each claim as `ingest.read_claims` leaves it: its payer resolved, its repeat flag (a
    claim id an earlier claim of the same billing provider has), source and uid."""
    from .identity import SeenIds

    seen = SeenIds()
    for claim in claims:
        resolve_payer(claim, None)
        if isinstance(claim.id, str) and claim.id:
            claim.repeats_id = seen.add(claim.provider, claim.id)
        if not claim.uid:
            assign_uid(claim, claim.source or where)
        yield claim


def _table_claims(
    table: Any, kind: str, where: str, warn: Warn, profile: Profile | None
) -> Iterator[ClaimData]:
    if kind == "to_arrow":
        table, kind = table.to_arrow(), "arrow"
    if kind == "arrow":
        from .parquet import read_table

        yield from read_table(table, where, warn, profile)
        return
    from .lines import check_columns, claim_lines_profile, read_rows

    p = profile or claim_lines_profile()
    columns = [str(c) for c in table.columns]
    check_columns(columns, p, where, warn)

    def rows() -> Iterator[dict[str, Any]]:
        for start in range(0, len(table), PANDAS_CHUNK):
            yield from table.iloc[start : start + PANDAS_CHUNK].to_dict("records")

    yield from read_rows(rows(), p, where=where, warn=warn)


def _items(
    items: Iterator[Any], where: str, warn: Warn, include_preauthorization: bool
) -> Iterator[ClaimData]:
    """Claim dicts, ClaimData or FHIR resources (then all of them: references span the run)."""
    from .json_claims import PATIENT_NOT_AN_ID, PatientNotAnId, claim_from_json

    unknown: set[str] = set()
    for n, item in enumerate(items, start=1):
        if isinstance(item, ClaimData):
            item.position = item.position or f"record {n}"
            yield item
        elif isinstance(item, Mapping) and "resourceType" in item:
            if n > 1:
                raise InputError("FHIR resources and claims are mixed: give one kind",
                                 path=where, position=f"record {n}")  # fmt: skip
            yield from _fhir([item, *items], where, warn, include_preauthorization)
            return
        elif isinstance(item, Mapping):
            try:
                claim = claim_from_json(dict(item), n, unknown)
            except PatientNotAnId:
                raise InputError(PATIENT_NOT_AN_ID, path=where, position=f"record {n}") from None
            claim.position, claim.source = f"record {n}", where
            yield claim
        else:
            raise InputError("expected a claim dict, a FHIR resource or ClaimData", path=where,
                             position=f"record {n}")  # fmt: skip
    if unknown and warn:
        warn(f"{where}: ignored fields outside the claim contract: {', '.join(sorted(unknown))}")


def _fhir(
    resources: list[Any], where: str, warn: Warn, include_preauthorization: bool
) -> Iterator[ClaimData]:
    """Claims of FHIR resources: referenced resources are indexed first (the whole list, and
    each Bundle's entries for its own claims), then the Claims/EOBs mapped in order."""
    from .fhir import Mapper
    from .fhir_read import _MALFORMED, FhirRun
    from .fhir_refs import CLAIM_TYPES, ReferenceIndex, Scope, as_dict, entry_base, text

    run = FhirRun(include_preauthorization=include_preauthorization)
    path = Path(where)
    mapper = Mapper(path, warn, "fhir")
    for n, res in enumerate(resources, start=1):
        if not isinstance(res, Mapping) or not isinstance(res.get("resourceType"), str):
            raise InputError("expected FHIR resources (dicts with a resourceType)", path=where,
                             position=f"resource {n}")  # fmt: skip
        if res["resourceType"] not in CLAIM_TYPES | {"Bundle"} and not run.index.add(dict(res)):
            run.skip_resource(path, dict(res))
    index = 0
    Todo = tuple[str, dict[str, Any], str | None, ReferenceIndex | None]
    for n, res in enumerate(resources, start=1):
        res = dict(res)
        todo: list[Todo]
        if res["resourceType"] == "Bundle":
            entries = [as_dict(e) for e in res.get("entry") or [] if isinstance(e, dict)]
            local = ReferenceIndex()
            for e in entries:
                r = as_dict(e.get("resource"))
                if r.get("resourceType") not in CLAIM_TYPES and not local.add(
                    r, text(e.get("fullUrl"))
                ):
                    run.skip_resource(path, r)
            todo = [
                (f"resource {n} entry {m}", as_dict(e.get("resource")),
                 entry_base(e.get("fullUrl")), local)
                for m, e in enumerate(entries, 1)
            ]  # fmt: skip
        else:
            todo = [(f"resource {n}", res, None, None)]
        for position, r, base, local_index in todo:
            rtype = r.get("resourceType")
            if rtype not in CLAIM_TYPES:
                continue
            if not run.wanted(r):
                run.skip_resource(path, r)
                continue
            index += 1
            scope = Scope(r.get("contained") or [], base, local_index, run.index, mapper.terms)
            try:
                claim = mapper.claim(r, index, scope, position)
            except _MALFORMED:
                raise InputError(f"malformed FHIR {rtype}", path=where,
                                 position=position) from None  # fmt: skip
            claim.source = where
            yield claim
    mapper.report()
    run.report(warn)


__all__ = ["DEFAULT_NAME", "claims_from", "is_paths", "table_kind"]
