"""Reading a whole input: files, folders and standard input, every claim through one pipeline.

`read_claims(paths)` finds the inputs (a folder: every regular, non-hidden file in it and its
subfolders, by name; `-`: standard input), tells each one's format by content
(`registry.detect`, or `input_format` for all of them; with a `profile`, delimited text is read
by that column mapping), lets the formats that need it look at all their inputs first (FHIR
indexes the files of referenced resources), runs each reader and finishes each claim the same
way whatever the format:

1. source, format and (when the reader left it unset) position `claim N`;
2. documents from `documents` (a documents CSV keyed by claim id and line), any format;
3. the payer, from what the claim states (`payers.resolve_payer`; `default_payer` when the
   input states nothing);
4. the repeat flag: an earlier claim of the same billing provider has the same id (STRUCT-03);
5. the uid (a hash of source, envelope and position), from which the claim's IRI is built.

Inputs that are not claims (a PDF, an 835 remittance, a CSV without claim_id) are named in one
warning at the end; when no input holds a claim, InputError "no claims found in ...". What the
readers find about the input itself (X12 envelope defects) is collected in the `ReadLog`.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ClaimgraphError, InputError
from .identity import SeenIds
from .model import ClaimData, DocumentData, assign_uid
from .payers import payer_ids, resolve_payer
from .registry import InputFormat, NotClaims, detect, get
from .source import STDIN, Source

Warn = Callable[[str], None] | None

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(//|[^\\/])")  # scheme:... but not C:\ or C:/
DOCUMENTS_SUFFIX = ".documents.csv"
_LISTED = 10  # files named in the not-claims warning before "and N more"


@dataclass(frozen=True)
class InputFinding:
    """A finding about the input itself (claim None), of a reader-checked rule."""

    rule: str  # rule id, e.g. "STRUCT-04"
    file: str
    position: str | None
    values: dict[str, str] = field(default_factory=dict)  # the rule message's {?var} values
    part: str | None = None  # a part of the rule (its own severity and message), local name
    claim: str | None = None  # the claim concerned, when there is one (an unreadable claim)


@dataclass
class ReadLog:
    """What a run of `read_claims` found besides claims."""

    findings: list[InputFinding] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)  # input name -> format name
    claims: int = 0
    not_claims: list[tuple[str, str]] = field(default_factory=list)  # (input, what it is)
    documents: bool = False  # a documents file was attached (--documents)


@dataclass(frozen=True)
class ReadOptions:
    """How the inputs of a run are read."""

    profile: Any = None  # tabular.Profile of --profile: the column mapping of delimited text
    include_preauthorization: bool = False  # FHIR preauthorization requests read as claims


class ReadRun:
    """What the readers of one run share: the options, state a format keeps across its inputs
    (`shared`, by format: the FHIR reference index) and what is done at the end (`at_end`)."""

    def __init__(self, options: ReadOptions, warn: Warn):
        self.options = options
        self.warn = warn
        self.shared: dict[str, Any] = {}
        self._at_end: list[Callable[[Warn], None]] = []

    def at_end(self, fn: Callable[[Warn], None]) -> None:
        self._at_end.append(fn)

    def finish(self) -> None:
        for fn in self._at_end:
            fn(self.warn)


class ReadContext:
    """What a reader reports besides claims; passed to every reader with its `Source`.

    Calling it (or `warn`) is a warning (one line, never claim content); `finding` a finding
    of a reader-checked rule about the input; `refuse` a part of the input (or all of it) that
    is not claims claimgraph reads, with the reason; `nothing` why a file held no claim;
    `reference_only` that it held only resources other inputs refer to (so it is not listed
    as an input without claims). `format` is the input's format, `run` the run's `ReadRun`.
    """

    def __init__(
        self, source: Source, log: ReadLog, warn: Warn, documents_given: bool,
        fmt: InputFormat | None = None, run: ReadRun | None = None,
    ):  # fmt: skip
        self.source = source
        self.log = log
        self._warn = warn
        self.documents_given = documents_given  # the CSV reader then skips NAME.documents.csv
        self.format = fmt
        self.run = run if run is not None else ReadRun(ReadOptions(), warn)
        self.refusals: list[tuple[str | None, str]] = []  # (position, reason)
        self.empty_reason: str | None = None
        self.references_only = False

    def warn(self, message: str) -> None:
        if self._warn:
            self._warn(message)

    __call__ = warn

    def finding(
        self, rule: str, position: str | None, *, part: str | None = None,
        claim: str | None = None, **values: str,
    ) -> None:  # fmt: skip
        self.log.findings.append(
            InputFinding(rule, str(self.source), position, dict(values), part, claim)
        )

    def refuse(self, reason: str, position: str | None = None) -> None:
        self.refusals.append((position, reason))

    def nothing(self, reason: str) -> None:
        self.empty_reason = reason

    def reference_only(self) -> None:
        self.references_only = True


def _is_url(text: str) -> bool:
    return bool(_URL.match(text)) and not re.match(r"^[A-Za-z]:[\\/]", text)


def _folder_files(folder: Path) -> list[Path]:
    """Every regular, non-hidden file of a folder and its subfolders (not through symlinked
    folders), sorted by path; documents CSVs go with their claims file, not as claims."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            path = Path(root) / name
            if name.startswith(".") or name.lower().endswith(DOCUMENTS_SUFFIX):
                continue
            if path.is_file():
                found.append(path)
    return sorted(found)


def claim_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files named by `paths` (folders: their files, see `_folder_files`); '-' is not a
    file and is left out. URLs are refused: claimgraph reads local files only."""
    return [s.path for s in input_sources(paths) if s.path is not None]


def input_sources(paths: Iterable[str | Path]) -> list[Source]:
    """The inputs `paths` name, each once, in order."""
    sources: list[Source] = []
    seen: set[Path] = set()
    stdin = False
    for p in paths:
        text = str(p)
        if text == STDIN:
            if stdin:
                raise InputError("standard input ('-') is given twice")
            stdin = True
            sources.append(Source.stdin())
            continue
        if _is_url(text):
            raise InputError("only local files are read; download the file first", path=text)
        path = Path(text)
        if path.is_dir():
            for f in _folder_files(path):
                if f.resolve() not in seen:
                    seen.add(f.resolve())
                    sources.append(Source.file(f))
        elif path.is_file():
            if path.resolve() not in seen:  # a file named twice is read once
                seen.add(path.resolve())
                sources.append(Source.file(path, text))
        elif path.exists():
            raise InputError("not a regular file", path=text)
        else:
            raise InputError("no such file or folder", path=text)
    return sources


def load_documents(path: str | Path, warn: Warn) -> dict[str, list[DocumentData]]:
    """A documents CSV (docs/formats.md) by claim id."""
    from .csv_claims import read_documents

    text = str(path)
    if _is_url(text):
        raise InputError("only local files are read", path=text)
    file = Path(text)
    if not file.is_file():
        raise InputError("documents file not found", path=text)
    return read_documents(Source.file(file, text), warn)


def _where(paths: list[str]) -> str:
    shown = ", ".join(paths[:3])
    return shown + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def _listing(items: list[tuple[str, str]]) -> str:
    text = "; ".join(f"{name}: {what}" for name, what in items[:_LISTED])
    return text + (f"; and {len(items) - _LISTED} more" if len(items) > _LISTED else "")


def read_claims(
    paths: Iterable[str | Path],
    warn: Warn = None,
    *,
    documents: str | Path | None = None,
    input_format: str | None = None,
    default_payer: str | None = None,
    profile: str | None = None,
    include_preauthorization: bool = False,
    log: ReadLog | None = None,
) -> Iterator[ClaimData]:
    """Every claim of every input, in order, lazily (see the module docstring).

    `warn(message)` receives warnings (ignored fields, refused transactions, inputs that are
    not claims); they never quote claim content. `profile` is a built-in column mapping
    (`rif-carrier`) or a mapping file for delimited text; `include_preauthorization` reads
    FHIR preauthorization requests as claims. Raises InputError (file and position, no
    content) for input that cannot be read, and when no input holds a claim.
    """
    given = [str(p) for p in paths]
    log = log if log is not None else ReadLog()
    forced = get(input_format) if input_format else None
    mapping = None
    if profile is not None:
        from .tabular import load_profile

        mapping = load_profile(profile)
    run = ReadRun(ReadOptions(mapping, include_preauthorization), warn)
    if default_payer is not None and default_payer.strip().lower() not in payer_ids():
        known = ", ".join(sorted(payer_ids()))
        raise ClaimgraphError(f"unknown payer {default_payer!r}; use one of {known}")
    default = default_payer.strip().lower() if default_payer else None
    docs = load_documents(documents, warn) if documents is not None else None
    log.documents = docs is not None
    used_docs: set[str] = set()
    seen = SeenIds()
    plan = _plan(input_sources(given), forced, mapping)
    _prepare(plan, run)
    for source, fmt in plan:
        try:
            if isinstance(fmt, NotClaims):
                log.not_claims.append((str(source), fmt.reason))
                continue
            log.formats[str(source)] = fmt.name
            if fmt.seeks:
                source.spool()
            ctx = ReadContext(source, log, warn, docs is not None, fmt, run)
            first_finding = len(log.findings)
            count = 0
            for claim in fmt.load()(source, ctx):
                count += 1
                claim.source = str(source)
                claim.format = claim.format or fmt.name
                if docs is not None and isinstance(claim.id, str) and claim.id in docs:
                    claim.documents.extend(docs[claim.id])
                    used_docs.add(claim.id)
                resolve_payer(claim, default)
                if isinstance(claim.id, str) and claim.id:
                    claim.repeats_id = seen.add(claim.provider, claim.id)
                assign_uid(claim, str(source))
                if _huge_number(claim):
                    raise InputError("a number is too long", path=str(source),
                                     position=claim.position)  # fmt: skip
                log.claims += 1
                yield claim
            if count == 0:  # a file that is not read says nothing about envelopes
                del log.findings[first_finding:]
            _after(source, ctx, count, log, warn)
        except RecursionError:
            raise InputError("input is nested too deeply to process", path=str(source)) from None
        except OSError as e:
            raise InputError(f"cannot read the file ({e.strerror or type(e).__name__})",
                             path=str(source)) from None  # fmt: skip
        finally:
            source.close()
    run.finish()
    if log.claims == 0:
        where = _where(given) or "the input"
        if [name for name, _ in log.not_claims] == given:
            what = _listing(log.not_claims) if len(given) > 1 else log.not_claims[0][1]
            raise InputError(f"no claims found in {where}: {what}")
        raise InputError(f"no claims found in {where}"
                         + (f": {_listing(log.not_claims)}" if log.not_claims else ""))  # fmt: skip
    if log.not_claims and warn:
        warn(f"{len(log.not_claims)} input(s) hold no claims claimgraph reads and were not "
             f"read: {_listing(log.not_claims)}")  # fmt: skip
    if docs is not None and warn:
        orphans = sum(len(v) for k, v in docs.items() if k not in used_docs)
        if orphans:
            warn(f"{documents}: {orphans} documents name a claim_id that is not in the input")


_MAX_BITS = 14_000  # about 4,200 digits: Python refuses to write integers over 4,300 digits


def _huge_number(claim: ClaimData) -> bool:
    """Whether a reader made an integer too long to write out (any format, one check)."""
    values = [v for ln in claim.lines for v in (ln.units, ln.minutes)]
    values += [v for d in claim.documents for v in (d.line, *d.fields.values())]
    return any(isinstance(v, int) and v.bit_length() > _MAX_BITS for v in values)


@contextmanager
def _reading(source: Source) -> Iterator[None]:
    """Errors of the runtime while reading an input, as InputErrors naming it."""
    try:
        yield
    except RecursionError:
        raise InputError("input is nested too deeply to process", path=str(source)) from None
    except OSError as e:
        raise InputError(f"cannot read the file ({e.strerror or type(e).__name__})",
                         path=str(source)) from None  # fmt: skip


def _plan(
    sources: list[Source], forced: InputFormat | None, profile: Any
) -> list[tuple[Source, InputFormat | NotClaims]]:
    """Each input with its format: `forced`, else by content; with a column mapping
    (`profile`), a claims CSV or a table of no claim format whose header names a column of the
    mapping is read by it (`tabular`)."""
    plan: list[tuple[Source, InputFormat | NotClaims]] = []
    for source in sources:
        with _reading(source):
            fmt = forced or detect(source)
            if forced is None and profile is not None:
                from .tabular import has_columns

                claims_csv = isinstance(fmt, InputFormat) and fmt.name == "csv"
                table = isinstance(fmt, NotClaims) and has_columns(source.head().start, profile)
                if claims_csv or table:
                    fmt = get("tabular")
        plan.append((source, fmt))
    return plan


def _prepare(plan: list[tuple[Source, InputFormat | NotClaims]], run: ReadRun) -> None:
    """Let each format with a `prepare` step see all its inputs before any is read."""
    steps: dict[str, list[tuple[Source, str]]] = {}
    for source, fmt in plan:
        if isinstance(fmt, InputFormat) and fmt.prepare:
            steps.setdefault(fmt.prepare, []).append((source, fmt.name))
    for step, inputs in steps.items():
        module, _, function = step.partition(":")
        getattr(importlib.import_module(module), function)(inputs, run)


def _after(source: Source, ctx: ReadContext, count: int, log: ReadLog, warn: Warn) -> None:
    """A file's refused parts: a warning each, or the file in the not-claims list when it held
    no claim at all (unless it held only resources other inputs refer to)."""
    if count == 0 and ctx.references_only and not ctx.refusals:
        return
    if count == 0:
        if ctx.refusals:
            position, reason = ctx.refusals[0]
            more = len(ctx.refusals) - 1
            what = (f"{position}: " if position else "") + reason
            what += f" (and {more} more transaction sets)" if more else ""
        else:
            what = ctx.empty_reason or "it holds no claims"
        log.not_claims.append((str(source), what))
        return
    for position, reason in ctx.refusals:
        if warn:
            where = f"{source}:{position}" if position else str(source)
            warn(f"{where}: not read: {reason}")
