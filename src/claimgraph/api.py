"""The public Python API: `claimgraph.validate` and `claimgraph.read_claims` (docs/api.md).

Both take the same sources (`ingest.records`): paths, claim dicts of the JSON contract, FHIR
resources, a pandas DataFrame or a pyarrow Table of claim lines, or `ClaimData`. Validation is
the CLI's: the same reading, engines, rule context and workflow steps, so the findings of the
same claims are the same. Warnings (ignored columns, unknown code systems) go to the `warnings`
module as `ClaimgraphWarning` unless `warn=` takes them; they never quote claim values.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .ingest.model import ClaimData
    from .ingest.tabular import Profile
    from .knowledge import Knowledge
    from .validation import ValidationResult

PathLike = str | os.PathLike[str]
Warn = Callable[[str], None]


class ClaimgraphWarning(UserWarning):
    """Something in the input claimgraph ignored or could not read (never a claim value)."""


def _warn(message: str) -> None:
    warnings.warn(message, ClaimgraphWarning, stacklevel=4)


def read_claims(
    source: Any,
    *,
    profile: str | Profile | None = None,
    documents: PathLike | None = None,
    include_preauthorization: bool = False,
    name: str | None = None,
    warn: Warn | None = None,
) -> Iterator[ClaimData]:
    """The claims of `source`, lazily, as `ClaimData` (what every input format becomes).

    `source`: a path or a list of paths (any format `claimgraph validate` reads), claim dicts
    of the JSON contract, FHIR resources (dicts), a pandas DataFrame or a pyarrow Table of
    claim lines, or `ClaimData`. `profile`: the column mapping of tables, Parquet and
    delimited files (a built-in name such as `rif-carrier`, or a TOML mapping file);
    `documents`: the documents CSV of one claims CSV; `include_preauthorization`: read FHIR
    preauthorization requests as claims; `name`: what findings call an in-memory source
    (default `records`). Raises `claimgraph.InputError` (source and position) for input that
    cannot be read.

    >>> [c.id for c in read_claims([{"id": "C-1", "lines": [{"code": "E0601"}]}])]
    ['C-1']
    """
    from .ingest.records import claims_from

    return claims_from(
        source, name=name, warn=warn or _warn, profile=profile, documents=documents,
        include_preauthorization=include_preauthorization,
    )  # fmt: skip


def validate(
    source: Any,
    *,
    rules: Iterable[str] = (),
    payer: str | None = None,
    fail_on: str = "violation",
    engine: str = "fast",
    jobs: int | None = None,
    shapes: Sequence[PathLike] = (),
    profile: str | Profile | None = None,
    documents: PathLike | None = None,
    include_preauthorization: bool = False,
    rules_profile: PathLike | None = None,
    baseline: PathLike | None = None,
    waivers: PathLike | None = None,
    today: dt.date | None = None,
    name: str | None = None,
    warn: Warn | None = None,
    knowledge: Knowledge | None = None,
    store: PathLike | None = None,
) -> ValidationResult:
    """Check the claims of `source` against the rules, as `claimgraph validate` does.

    `source` is what `read_claims` takes (paths, claim dicts, FHIR resources, a DataFrame or
    an Arrow table of claim lines, `ClaimData`). `rules`: report only these rule ids;
    `payer`: check only claims of this payer (a category includes its payers); `fail_on`: the
    least serious severity that makes `result.failed` true (`violation`, `warning`, `info`,
    `none`); `engine`: `fast` or `reference` (pySHACL), same findings; `jobs`: worker
    processes (default: the cores); `shapes`: your rules files, added for this call;
    `rules_profile`, `baseline`, `waivers`: the workflow files of docs/validation.md;
    `knowledge`: the rules to use (default: the bundled rules; `shapes` are added to it);
    `store`: the imported code sets and CMS tables (default: as the CLI, $CLAIMGRAPH_STORE or
    the user data folder).

    Returns a `ValidationResult`: `findings` (frozen `Finding` values with every field of the
    report), `summary()`, `failed`, `records()`, `to_arrow()`, `to_pandas()`.

    >>> result = validate([{"id": "C-1", "payer": "medicare", "patient": "P-1",
    ...     "diagnoses": ["J44.9"],
    ...     "lines": [{"code": "E1392", "units": 1, "service_date": "2026-03-02"}]}], jobs=1)
    >>> sorted({f.rule for f in result.findings if f.claim})
    ['OXY-01', 'OXY-02', 'OXY-03', 'OXY-04', 'OXY-06']
    >>> sorted(f.rule for f in result.findings if f.claim is None)  # no NCCI table imported
    ['NCCI-01', 'NCCI-02', 'NCCI-03', 'NCCI-04']
    >>> result.failed, result.summary()
    (True, {'violation': 4, 'warning': 1, 'info': 4})
    """
    from .codestore import store_path
    from .ingest.records import is_paths
    from .knowledge import Knowledge
    from .validation import validate_claims, validate_files

    warn = warn or _warn
    kn = (knowledge or Knowledge.bundled()).with_rules(list(shapes))
    kn = kn.with_codesets(store_path(None if store is None else os.fspath(store)))
    options: dict[str, Any] = {
        "knowledge": kn, "engine": engine, "jobs": jobs, "rules": rules, "payer": payer,
        "fail_on": fail_on, "warn": warn, "rules_profile": rules_profile,
        "baseline": baseline, "waivers": waivers, "today": today,
    }  # fmt: skip
    if (
        is_paths(source)
        and (profile is None or isinstance(profile, str))
        and profile != "claim-lines"
    ):
        paths = [Path(os.fspath(p)) for p in (source if isinstance(source, list | tuple)
                                               else [source])]  # fmt: skip
        return validate_files(
            paths, documents=None if documents is None else Path(os.fspath(documents)),
            profile=profile,
            include_preauthorization=include_preauthorization, **options,
        )  # fmt: skip
    claims = read_claims(
        source, profile=profile, documents=documents, name=name, warn=warn,
        include_preauthorization=include_preauthorization,
    )  # fmt: skip
    return validate_claims(claims, **options)


__all__ = ["ClaimgraphWarning", "read_claims", "validate"]
