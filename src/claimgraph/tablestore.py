"""CMS edit and fee-schedule tables in the local store: NCCI PTP, MUE and add-on code edits and
the DMEPOS fee schedule, one release per kind, setting and quarter.

Each release is a named graph `.../source/<release id>` that describes it (class, setting,
quarter, version, file names, counts, cg:tableFile) plus an immutable SQLite file
`<store>/tables/<release id>-<id>.sqlite` holding its rows. A PTP table has 1-2 million
edits; one quad per attribute would take gigabytes of RocksDB (docs/codesets.md has the
figures), so the rows stay compact in SQLite and reach the engines as RDF: `facts_for` turns
the rows about the codes a batch uses into triples of the ontology/cms-tables.ttl vocabulary.

Imports go through `codestore.commit` (atomic; history kept; the same release imported again
replaces it). Row layouts in the SQLite files:
    ptp(col1 INTEGER PRIMARY KEY, col2s BLOB)   one row per column-1 code: its column-2 codes
        (sorted little-endian int32 array; codes as base-36 integers)
    ptp_attrs(col1 INTEGER PRIMARY KEY, attrs BLOB)   in the same order, '<iiBH' records
        (effective CCYYMMDD, deletion CCYYMMDD or 0, modifier indicator, rationale id); read
        with incremental blob I/O, only at the matches
    mue(code, value, mai, rationale)    aoc(addon, primary_code, type, addon_del, primary_del,
    eff, del)    dmepos(code, category, modifiers, unmodified)    rationale(id, text)
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import struct
import sys
import uuid
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from . import codestore
from .errors import ClaimgraphError, InputError
from .namespaces import (
    CG,
    CODE,
    DCT,
    ENTRY,
    MODIFIER,
    PAYMENT_CATEGORY,
    SETTING,
)

if TYPE_CHECKING:
    from rdflib import URIRef

    from .importers.tables import TableRelease

KINDS = {  # importer kind -> (release class, kind shown by `store info`)
    "ptp": (CG.PTPTableRelease, "ncci-ptp"),
    "mue": (CG.MUETableRelease, "ncci-mue"),
    "aoc": (CG.AOCTableRelease, "ncci-aoc"),
    "dmepos": (CG.DMEPOSFeeScheduleRelease, "dmepos"),
}
SETTING_IRIS = {
    "practitioner": SETTING["practitioner"],
    "hospital": SETTING["outpatient-hospital"],
    "dme": SETTING["dme-supplier"],
}
FORMAT = 1  # of the SQLite files
_ATTRS = struct.Struct("<iiBH")
_SWAP = sys.byteorder != "little"  # the int32 arrays are stored little-endian
_CHUNK = 500  # codes per SQL IN list
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"


# --- writing -----------------------------------------------------------------------------------


def import_tables(
    releases: list[TableRelease], path: str | Path | None = None
) -> list[dict[str, Any]]:
    """Store read-and-checked releases (their rows are read now), all in one atomic commit.
    A defect in any row raises InputError and leaves the store as it was."""
    summaries: list[dict[str, Any]] = []

    def stage(root: Path) -> codestore.Staged:
        folder = root / codestore.TABLES
        folder.mkdir(exist_ok=True, mode=0o700)
        graphs: dict[str, bytes] = {}
        files: list[Path] = []
        try:
            for rel in releases:
                target = folder / f"{rel.release_id}-{uuid.uuid4().hex[:12]}.sqlite"
                files.append(target)
                counts = _build(rel, target)
                iri = codestore.release_iri(rel.release_id)
                graphs[iri] = _description(rel, target.name, counts)
                summaries.append({"release": rel.release_id, "iri": iri, **counts})
        except BaseException:
            for f in files:
                f.unlink(missing_ok=True)
            raise
        return codestore.Staged(graphs, files)

    root, replaced = codestore.commit(stage, path)
    for s in summaries:
        s.update(replaced=s["iri"] in replaced, store=str(root))
    return summaries


def _build(rel: TableRelease, target: Path) -> dict[str, int]:
    con = sqlite3.connect(target)
    try:
        con.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID; "
            "CREATE TABLE rationale (id INTEGER PRIMARY KEY, text TEXT NOT NULL);"
        )
        counts = _BUILDERS[rel.kind](rel, con)
        if not counts["rows"]:
            raise InputError("no rows found below the header", path=", ".join(rel.paths))
        con.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("format", str(FORMAT)), ("kind", rel.kind), ("release", rel.release_id)],
        )
        con.commit()
    finally:
        con.close()
    return counts


class _Texts:
    """Rationale texts as small ids."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def id(self, text: str) -> int:
        found = self.ids.get(text)
        if found is None:
            found = self.ids[text] = len(self.ids)
        return found

    def save(self, con: sqlite3.Connection) -> None:
        con.executemany(
            "INSERT INTO rationale VALUES (?, ?)", [(i, t) for t, i in self.ids.items()]
        )


def _duplicate(what: str, source: str, line: int, first: int) -> InputError:
    return InputError(
        f"{what} appears twice with different values (first on line {first})",
        path=source,
        position=f"line {line}",
    )


def _build_ptp(rel: TableRelease, con: sqlite3.Connection) -> dict[str, int]:
    texts = _Texts()
    sources: list[str] = []
    stage = sqlite3.connect(":memory:")
    stage.execute(
        "CREATE TABLE s (c1 INTEGER, c2 INTEGER, eff INTEGER, del INTEGER, mi INTEGER, "
        "rat INTEGER, src INTEGER, line INTEGER)"
    )

    def staged() -> Iterable[tuple[int, ...]]:
        source_ids: dict[str, int] = {}
        rid = texts.id
        for c1, c2, eff, deleted, mi, rationale, source, line in rel.rows():
            sid = source_ids.get(source)
            if sid is None:
                sid = source_ids[source] = len(sources)
                sources.append(source)
            yield (int(c1, 36), int(c2, 36), eff, deleted or 0, mi, rid(rationale), sid, line)

    stage.executemany("INSERT INTO s VALUES (?, ?, ?, ?, ?, ?, ?, ?)", staged())
    if len(texts.ids) > 65535:
        raise InputError("more than 65,535 distinct PTP rationales", path=sources[0])
    con.execute("CREATE TABLE ptp (col1 INTEGER PRIMARY KEY, col2s BLOB NOT NULL)")
    con.execute("CREATE TABLE ptp_attrs (col1 INTEGER PRIMARY KEY, attrs BLOB NOT NULL)")
    counts = {"rows": 0, "deleted": 0, "codes": 0}

    def packed() -> Iterable[tuple[int, bytes, bytes]]:
        cur_c1: int | None = None
        col2s = array("i")
        attrs = bytearray()
        last: tuple[int, ...] | None = None
        pack = _ATTRS.pack
        for c1, c2, eff, deleted, mi, rat, src, line in stage.execute(
            "SELECT * FROM s ORDER BY c1, c2, eff, src, line"
        ):
            if last is not None and last[:3] == (c1, c2, eff):
                if last[3:6] != (deleted, mi, rat):
                    what = f"edit {_code_str(c1)}/{_code_str(c2)} effective {eff}"
                    raise _duplicate(what, sources[src], line, last[7])
                continue  # the same edit twice: kept once
            last = (c1, c2, eff, deleted, mi, rat, src, line)
            if c1 != cur_c1:
                if cur_c1 is not None:
                    yield cur_c1, _int32_bytes(col2s), bytes(attrs)
                cur_c1, col2s, attrs = c1, array("i"), bytearray()
                counts["codes"] += 1
            col2s.append(c2)
            attrs += pack(eff, deleted, mi, rat)
            counts["rows"] += 1
            counts["deleted"] += deleted != 0
        if cur_c1 is not None:
            yield cur_c1, _int32_bytes(col2s), bytes(attrs)

    for c1, col2s, attrs in packed():
        con.execute("INSERT INTO ptp VALUES (?, ?)", (c1, col2s))
        con.execute("INSERT INTO ptp_attrs VALUES (?, ?)", (c1, attrs))
    stage.close()
    texts.save(con)
    return counts


def _int32_bytes(values: array[int]) -> bytes:
    if _SWAP:
        values = array("i", values)
        values.byteswap()
    return values.tobytes()


def _build_mue(rel: TableRelease, con: sqlite3.Connection) -> dict[str, int]:
    texts = _Texts()
    rows: dict[str, tuple[Any, ...]] = {}
    for code, value, mai, rationale, source, line in rel.rows():
        row = (value, mai, texts.id(rationale), line)
        old = rows.get(code)
        if old is not None and old[:3] != row[:3]:
            raise _duplicate(f"code {code}", source, line, old[3])
        rows.setdefault(code, row)
    con.execute(
        "CREATE TABLE mue (code TEXT PRIMARY KEY, value INTEGER NOT NULL, mai INTEGER NOT NULL, "
        "rationale INTEGER NOT NULL) WITHOUT ROWID"
    )
    con.executemany(
        "INSERT INTO mue VALUES (?, ?, ?, ?)", [(c, *r[:3]) for c, r in sorted(rows.items())]
    )
    texts.save(con)
    return {"rows": len(rows), "deleted": 0, "codes": len(rows)}


def _build_aoc(rel: TableRelease, con: sqlite3.Connection) -> dict[str, int]:
    rows: dict[tuple[str, str, int], tuple[Any, ...]] = {}
    for addon, primary, kind, addon_del, primary_del, eff, deleted, source, line in rel.rows():
        row = (kind, addon_del, primary_del, deleted, line)
        key = (addon, primary, eff)
        old = rows.get(key)
        if old is not None and old[:4] != row[:4]:
            raise _duplicate(
                f"add-on code {addon} with {primary} effective {eff}", source, line, old[4]
            )
        rows.setdefault(key, row)
    con.execute(
        "CREATE TABLE aoc (addon TEXT NOT NULL, primary_code TEXT NOT NULL, type INTEGER NOT NULL, "
        "addon_del INTEGER, primary_del INTEGER, eff INTEGER NOT NULL, del INTEGER, "
        "PRIMARY KEY (addon, primary_code, eff)) WITHOUT ROWID"
    )
    con.executemany(
        "INSERT INTO aoc VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(k[0], k[1], r[0], r[1], r[2], k[2], r[3]) for k, r in sorted(rows.items())],
    )
    return {
        "rows": len(rows),
        "deleted": sum(1 for r in rows.values() if r[3] is not None),
        "codes": len({k[0] for k in rows}),
    }


def _build_dmepos(rel: TableRelease, con: sqlite3.Connection) -> dict[str, int]:
    priced: dict[tuple[str, str], tuple[set[str], list[bool]]] = {}
    count = 0
    for code, category, mod, mod2, _source, _line in rel.rows():
        count += 1
        mods, unmodified = priced.setdefault((code, category), (set(), [False]))
        mods.update(m for m in (mod, mod2) if m)
        if not mod and not mod2:
            unmodified[0] = True
    con.execute(
        "CREATE TABLE dmepos (code TEXT NOT NULL, category TEXT NOT NULL, modifiers TEXT NOT NULL, "
        "unmodified INTEGER NOT NULL, PRIMARY KEY (code, category)) WITHOUT ROWID"
    )
    con.executemany(
        "INSERT INTO dmepos VALUES (?, ?, ?, ?)",
        [(c, k, " ".join(sorted(m)), int(u[0])) for (c, k), (m, u) in sorted(priced.items())],
    )
    return {"rows": count, "deleted": 0, "codes": len({c for c, _ in priced})}


_BUILDERS = {"ptp": _build_ptp, "mue": _build_mue, "aoc": _build_aoc, "dmepos": _build_dmepos}


def _code_str(value: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    for _ in range(5):
        value, r = divmod(value, 36)
        out = digits[r] + out
    return out


def _description(rel: TableRelease, table_file: str, counts: dict[str, int]) -> bytes:
    """The release's own graph: what it is, for when, from which files, how many rows."""
    from .codestore import _lit

    iri = codestore.release_iri(rel.release_id)
    g = f"<{iri}>"
    out: list[str] = []

    def add(p: str, o: str) -> None:
        out.append(f"{g} <{p}> {o} {g} .\n")

    def date(d: dt.date) -> str:
        return f'"{d.isoformat()}"^^<{XSD}date>'

    def integer(n: int) -> str:
        return f'"{n}"^^<{XSD}integer>'

    add(RDF_TYPE, f"<{KINDS[rel.kind][0]}>")
    add(str(DCT.identifier), _lit(rel.release_id))
    add(str(DCT.title), _lit(rel.title) + "@en")
    for name in rel.files:
        add(str(CG.fileName), _lit(name))
    add(str(DCT.issued), date(rel.start))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    add(str(DCT.created), f'"{now}"^^<{XSD}dateTime>')
    add(str(CG.effectiveFrom), date(rel.start))
    add(str(CG.effectiveUntil), date(rel.quarter.end))
    add(str(CG.quarter), _lit(rel.quarter.label))
    if rel.version:
        add(str(CG.tableVersion), _lit(rel.version))
    if rel.setting:
        add(str(CG.careSetting), f"<{SETTING_IRIS[rel.setting]}>")
    add(str(CG.rowCount), integer(counts["rows"]))
    add(str(CG.deletedRowCount), integer(counts["deleted"]))
    add(str(CG.tableFile), _lit(table_file))
    return "".join(out).encode("utf-8")


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableInfo:
    """One imported table release, as its named graph describes it."""

    iri: str
    release: str
    kind: str  # ptp | mue | aoc | dmepos
    setting: str | None
    quarter: str
    start: dt.date
    end: dt.date
    version: str | None
    table_file: str
    files: tuple[str, ...]
    rows: int
    deleted: int
    imported: str
    title: str

    def as_dict(self) -> dict[str, Any]:
        """The row `store info` shows (the keys of a code-set release, plus the table's)."""
        return {
            "release": self.release,
            "kind": KINDS[self.kind][1],
            "issued": self.start,
            "codes": None,
            "modifiers": None,
            "rows": self.rows,
            "deleted": self.deleted,
            "setting": self.setting,
            "quarter": self.quarter,
            "until": self.end,
            "version": self.version,
            "schemes": [],
            "file": ", ".join(self.files),
            "imported": self.imported,
            "title": self.title,
            "iri": self.iri,
        }


_infos: dict[str, list[TableInfo]] = {}  # database folder -> its table releases
_connections: dict[str, sqlite3.Connection] = {}
_SETTING_OF = {str(v): k for k, v in SETTING_IRIS.items()}
_KIND_OF = {str(v[0]): k for k, v in KINDS.items()}


def releases(db: Path, store: Any) -> list[TableInfo]:
    """The table releases of a database (cached: a database never changes once current)."""
    key = str(db)
    if key in _infos:
        return _infos[key]
    import pyoxigraph as ox

    found: list[TableInfo] = []
    rtype = ox.NamedNode(RDF_TYPE)
    for cls, kind in _KIND_OF.items():
        for q in store.quads_for_pattern(None, rtype, ox.NamedNode(cls), None):
            values: dict[str, list[Any]] = {}
            for t in store.quads_for_pattern(q.subject, None, None, q.graph_name):
                values.setdefault(t.predicate.value, []).append(t.object.value)

            def one(prop: Any, v: dict[str, list[Any]] = values) -> Any:
                return v.get(str(prop), [None])[0]

            found.append(
                TableInfo(
                    iri=q.subject.value,
                    release=one(DCT.identifier),
                    kind=kind,
                    setting=_SETTING_OF.get(one(CG.careSetting) or ""),
                    quarter=one(CG.quarter),
                    start=dt.date.fromisoformat(one(CG.effectiveFrom)),
                    end=dt.date.fromisoformat(one(CG.effectiveUntil)),
                    version=one(CG.tableVersion),
                    table_file=one(CG.tableFile),
                    files=tuple(sorted(values.get(str(CG.fileName), []))),
                    rows=int(one(CG.rowCount)),
                    deleted=int(one(CG.deletedRowCount)),
                    imported=one(DCT.created),
                    title=one(DCT.title),
                )
            )
    found.sort(key=lambda t: (t.kind, t.setting or "", t.start, t.release))
    _infos[key] = found
    return found


def _connect(path: Path) -> sqlite3.Connection:
    key = str(path)
    con = _connections.get(key)
    if con is None:
        try:
            con = sqlite3.connect(
                path.as_uri() + "?mode=ro&immutable=1", uri=True, check_same_thread=False
            )
        except sqlite3.Error:
            raise ClaimgraphError(
                "the code-set store is damaged (a table file is missing); "
                "import the table again or run `claimgraph store reset`",
                path=str(path),
            ) from None
        _connections[key] = con
    return con


class _Terms:
    """rdflib terms, made once per value (a batch's facts repeat dates, settings, numbers)."""

    def __init__(self) -> None:
        from rdflib import Literal, URIRef
        from rdflib.namespace import XSD as RXSD

        self.Literal, self.URIRef, self.date_type = Literal, URIRef, RXSD.date
        self.cache: dict[tuple[str, Any], Any] = {}

    def date(self, value: int | dt.date) -> Any:
        key = ("d", value)
        term = self.cache.get(key)
        if term is None:
            day = (
                value
                if isinstance(value, dt.date)
                else dt.date(value // 10000, value // 100 % 100, value % 100)
            )
            term = self.cache[key] = self.Literal(day.isoformat(), datatype=self.date_type)
        return term

    def lit(self, value: Any) -> Any:
        key = ("l", value)
        term = self.cache.get(key)
        if term is None:
            term = self.cache[key] = self.Literal(value)
        return term


_notation_of: dict[str, str | None] = {}  # procedure code IRI -> its table notation


def _notation(iri: Any) -> str | None:
    """The 5-character notation of a procedure code IRI (code/cpt/, code/hcpcs/, code/unknown/),
    None for anything else; memoised (a run uses a few thousand codes)."""
    s = str(iri)  # a plain str key: rdflib's URIRef.__eq__ is slow
    known = _notation_of.get(s, "")
    if known != "":
        return known
    base = str(CODE)
    found = None
    if s.startswith(base):
        system, _, local = s[len(base) :].partition("/")
        notation = unquote(local).upper()
        if system not in ("icd10cm", "icd9cm") and len(notation) == 5 and notation.isalnum():
            found = notation if notation.isascii() else None
    if len(_notation_of) > 500_000:
        _notation_of.clear()
    _notation_of[s] = found
    return found


def _notations(procedure_codes: Iterable[URIRef]) -> dict[str, URIRef]:
    """Notation -> IRI of each procedure code IRI a table can hold."""
    out: dict[str, URIRef] = {}
    for iri in procedure_codes:
        notation = _notation(iri)
        if notation is not None:
            out[notation] = iri
    return out


def facts_for(
    procedure_codes: Iterable[URIRef],
    modifiers: Iterable[URIRef],
    path: str | Path,
    *,
    together: Iterable[Iterable[URIRef]] | None = None,
) -> list[tuple[Any, Any, Any]]:
    """The CMS table facts of the store folder `path` for a batch of claims that uses
    `procedure_codes` (rdflib triples); [] when no table is imported. For every imported table
    release: its description (the "loaded" marker: class, care setting, quarter, effective
    from/until, version). Then its entries about the batch's codes:

    - PTP: a cg:PTPEdit for every edit whose column-1 and column-2 codes both occur, deleted
      edits included (with cg:deletionDate);
    - MUE: a cg:MedicallyUnlikelyEdit for each code;
    - AOC: a cg:AddOnCodeListing for each add-on code, and a cg:AddOnCodeEdit for each of its
      primary codes that occurs;
    - DMEPOS: a cg:DMEPOSPricing for each code and payment category.

    `together` (optional): the sets of codes billed together, e.g. each patient's codes. Given
    it, a PTP edit or add-on/primary pair is returned only when both codes are in one set;
    without it the whole batch is one set. Either way a pair the rule needs (one patient) is
    never missed; `together` only leaves out pairs of codes that different patients billed.

    `modifiers` is accepted for symmetry with codestore.facts_for; no table is keyed by them.
    """
    del modifiers
    if not (codestore.store_path(path) / codestore.POINTER).is_file():
        return []  # the common case must stay cheap
    found = codestore.snapshot(path)
    if found is None:
        return []
    root, db, store = found
    infos = releases(db, store)
    if not infos:
        return []
    from rdflib import RDF, URIRef

    terms = _Terms()
    codes = _notations(procedure_codes)
    partners: dict[str, set[str]] | None = None
    if together is not None:
        partners = {n: set() for n in codes}
        notation_of = {iri: n for n, iri in codes.items()}
        for group in together:
            members = {notation_of[i] for i in group if i in notation_of}
            for n in members:
                partners[n] |= members
    out: list[tuple[Any, Any, Any]] = []
    for info in infos:
        rel = URIRef(info.iri)
        out.append((rel, RDF.type, URIRef(str(KINDS[info.kind][0]))))
        out.append((rel, CG.effectiveFrom, terms.date(info.start)))
        out.append((rel, CG.effectiveUntil, terms.date(info.end)))
        out.append((rel, CG.quarter, terms.lit(info.quarter)))
        if info.version:
            out.append((rel, CG.tableVersion, terms.lit(info.version)))
        if info.setting:
            out.append((rel, CG.careSetting, SETTING_IRIS[info.setting]))
        if codes:
            con = _connect(root / codestore.TABLES / info.table_file)
            _FACTS[info.kind](info, rel, con, codes, terms, out, partners)
    return out


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


def _in(n: int) -> str:
    return ",".join("?" * n)


def _rationales(con: sqlite3.Connection, terms: _Terms) -> dict[int, Any]:
    key = ("rationale", id(con))
    found = terms.cache.get(key)
    if found is None:
        found = terms.cache[key] = {
            i: terms.lit(t) for i, t in con.execute("SELECT id, text FROM rationale") if t
        }
    return found


def _entry(info: TableInfo, *parts: Any) -> Any:
    from rdflib import URIRef

    return URIRef(str(ENTRY) + "/".join([info.release, *map(str, parts)]))


def _ptp_facts(
    info: TableInfo, rel: Any, con: sqlite3.Connection, codes: dict[str, Any], terms: _Terms,
    out: list[Any], partners: dict[str, set[str]] | None,
) -> None:  # fmt: skip
    from rdflib import RDF, URIRef

    value = {n: int(n, 36) for n in codes}
    by_int = {v: n for n, v in value.items()}
    every = set(by_int)
    allowed: dict[int, set[int]] | None = None
    if partners is not None:  # column 1 -> the codes billed with it
        allowed = {}
        for notation, ps in partners.items():
            if len(ps) > 1:
                allowed[value[notation]] = {value[p] for p in ps if p != notation}
    setting = SETTING_IRIS[info.setting] if info.setting else None
    rationale = _rationales(con, terms)
    unpack, unpack_from, size = _ATTRS.unpack, _ATTRS.unpack_from, _ATTRS.size
    date, lit, add = terms.date, terms.lit, out.append
    a_type, p_col1, p_col2, p_eff = RDF.type, CG.column1Code, CG.column2Code, CG.effectiveFrom
    p_del, p_mi, p_rat, p_set = (
        CG.deletionDate,
        CG.modifierIndicator,
        CG.editRationale,
        CG.careSetting,
    )
    p_src, c_edit = DCT.source, CG.PTPEdit
    base = f"{ENTRY}{info.release}/"
    rows = _col2_rows(con, sorted(every if allowed is None else allowed))
    for c1, arr in rows:
        wanted = every if allowed is None else allowed[c1]
        n = len(arr)
        if n > 8 * len(wanted):  # a long row: look each wanted code up in it
            found = [c for c in wanted if (k := bisect_left(arr, c)) < n and arr[k] == c]
        else:
            found = list(wanted.intersection(arr))
        if not found:
            continue
        col1 = by_int[c1]
        iri1 = codes[col1]
        blob = con.blobopen("ptp_attrs", "attrs", c1, readonly=True)
        whole = blob.read() if len(found) > 16 else None  # many matches: one read
        for c2 in found:
            col2 = by_int[c2]
            iri2 = codes[col2]
            i = bisect_left(arr, c2)
            while i < n and arr[i] == c2:
                if whole is None:
                    blob.seek(i * size)
                    eff, deleted, mi, rat = unpack(blob.read(size))
                else:
                    eff, deleted, mi, rat = unpack_from(whole, i * size)
                e = URIRef(f"{base}{col1}/{col2}/{eff}")
                add((e, a_type, c_edit))
                add((e, p_col1, iri1))
                add((e, p_col2, iri2))
                add((e, p_eff, date(eff)))
                if deleted:
                    add((e, p_del, date(deleted)))
                add((e, p_mi, lit(mi)))
                if rat in rationale:
                    add((e, p_rat, rationale[rat]))
                if setting is not None:
                    add((e, p_set, setting))
                add((e, p_src, rel))
                i += 1
        blob.close()


_col2s: dict[int, dict[int, Any]] = {}  # id(connection) -> column 1 -> its column-2 codes


def _col2_rows(con: sqlite3.Connection, keys: list[int]) -> list[tuple[int, Any]]:
    """(column 1, sorted int32 sequence of its column-2 codes) for each key in the table.

    Kept in memory once read (4 bytes an edit: 8 MB for a 2-million-edit table), so the
    common codes that every batch uses are read from the file once per process."""
    known = _col2s.setdefault(id(con), {})
    missing = [k for k in keys if k not in known]
    for chunk in _chunks(missing):
        for k in chunk:
            known[k] = None  # not a column-1 code (unless the query finds it)
        sql = f"SELECT col1, col2s FROM ptp WHERE col1 IN ({_in(len(chunk))})"
        for c1, col2s in con.execute(sql, chunk):
            if _SWAP:
                arr: Any = array("i")
                arr.frombytes(col2s)
                arr.byteswap()
            else:
                arr = memoryview(col2s).cast("i")
            known[c1] = arr
    return [(k, known[k]) for k in keys if known[k] is not None]


def _mue_facts(
    info: TableInfo, rel: Any, con: sqlite3.Connection, codes: dict[str, Any], terms: _Terms,
    out: list[Any], partners: dict[str, set[str]] | None,
) -> None:  # fmt: skip
    del partners  # keyed by one code
    from rdflib import RDF

    setting = SETTING_IRIS[info.setting] if info.setting else None
    rationale = _rationales(con, terms)
    for chunk in _chunks(sorted(codes)):
        sql = f"SELECT code, value, mai, rationale FROM mue WHERE code IN ({_in(len(chunk))})"
        for code, value, mai, rat in con.execute(sql, chunk):
            e = _entry(info, code)
            out.append((e, RDF.type, CG.MedicallyUnlikelyEdit))
            out.append((e, CG.tableCode, codes[code]))
            out.append((e, CG.mueValue, terms.lit(value)))
            out.append((e, CG.mueAdjudicationIndicator, terms.lit(mai)))
            out.append((e, CG.effectiveFrom, terms.date(info.start)))
            out.append((e, CG.effectiveUntil, terms.date(info.end)))
            if rat in rationale:
                out.append((e, CG.editRationale, rationale[rat]))
            if setting is not None:
                out.append((e, CG.careSetting, setting))
            out.append((e, DCT.source, rel))


def _aoc_facts(
    info: TableInfo, rel: Any, con: sqlite3.Connection, codes: dict[str, Any], terms: _Terms,
    out: list[Any], partners: dict[str, set[str]] | None,
) -> None:  # fmt: skip
    from rdflib import RDF

    listings: dict[str, tuple[set[str], set[int]]] = {}
    for chunk in _chunks(sorted(codes)):
        sql = (
            "SELECT addon, primary_code, type, addon_del, primary_del, eff, del FROM aoc "
            f"WHERE addon IN ({_in(len(chunk))})"
        )
        for addon, primary, kind, addon_del, primary_del, eff, deleted in con.execute(sql, chunk):
            primaries, kinds = listings.setdefault(addon, (set(), set()))
            primaries.add(primary)
            kinds.add(kind)
            if primary not in codes or (partners is not None and primary not in partners[addon]):
                continue
            e = _entry(info, addon, primary, eff)
            out.append((e, RDF.type, CG.AddOnCodeEdit))
            out.append((e, CG.addOnCode, codes[addon]))
            out.append((e, CG.primaryCode, codes[primary]))
            out.append((e, CG.aocEditType, terms.lit(kind)))
            out.append((e, CG.effectiveFrom, terms.date(eff)))
            for prop, value in (
                (CG.deletionDate, deleted),
                (CG.addOnCodeDeletionDate, addon_del),
                (CG.primaryCodeDeletionDate, primary_del),
            ):
                if value:
                    out.append((e, prop, terms.date(value)))
            out.append((e, DCT.source, rel))
    for addon, (primaries, kinds) in sorted(listings.items()):
        e = _entry(info, addon)
        out.append((e, RDF.type, CG.AddOnCodeListing))
        out.append((e, CG.addOnCode, codes[addon]))
        for kind in sorted(kinds):
            out.append((e, CG.aocEditType, terms.lit(kind)))
        out.append((e, CG.primaryCodeCount, terms.lit(len(primaries))))
        out.append((e, DCT.source, rel))


def _dmepos_facts(
    info: TableInfo, rel: Any, con: sqlite3.Connection, codes: dict[str, Any], terms: _Terms,
    out: list[Any], partners: dict[str, set[str]] | None,
) -> None:  # fmt: skip
    del partners  # keyed by one code
    from rdflib import RDF, URIRef

    for chunk in _chunks(sorted(codes)):
        sql = (
            "SELECT code, category, modifiers, unmodified FROM dmepos "
            f"WHERE code IN ({_in(len(chunk))})"
        )
        for code, category, mods, unmodified in con.execute(sql, chunk):
            e = _entry(info, code, category)
            out.append((e, RDF.type, CG.DMEPOSPricing))
            out.append((e, CG.tableCode, codes[code]))
            out.append((e, CG.paymentCategory, URIRef(str(PAYMENT_CATEGORY) + category)))
            out.append((e, CG.effectiveFrom, terms.date(info.start)))
            out.append((e, CG.effectiveUntil, terms.date(info.end)))
            for mod in mods.split():
                out.append((e, CG.pricingModifier, URIRef(str(MODIFIER) + mod)))
            if unmodified:
                out.append((e, CG.pricedWithoutModifier, terms.lit(True)))
            out.append((e, DCT.source, rel))


_FACTS = {"ptp": _ptp_facts, "mue": _mue_facts, "aoc": _aoc_facts, "dmepos": _dmepos_facts}
