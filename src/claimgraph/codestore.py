"""The local code-set store: imported HCPCS/CPT releases, one named graph each, in pyoxigraph.

Location: `--store PATH`, else `$CLAIMGRAPH_STORE`, else `<user data dir>/claimgraph/store`.
Layout of that folder:
    claimgraph-store.json   {"format": 1, "current": "db-<id>"}: which database is current
    db-<id>/                a pyoxigraph (RocksDB) database holding every imported release
    tables/<release>-<id>.sqlite   the rows of a CMS table release (claimgraph.tablestore),
                            immutable; the release's named graph names its file
    .lock                   serialises writers
    .claimgraph-*.tmp       a pointer file being written; one left by a killed import is
                            ignored and removed by the next import or reset
An import copies the current database (a RocksDB checkpoint: hard links, instant; or, when
it replaces a release, the other releases' quads), adds the release to the copy and then
switches the pointer file atomically, so a failed or interrupted
import leaves the store exactly as it was and readers never open a database being written.

Each release is the named graph `.../source/<release id>`, which also describes itself there
(cg:CodeSetRelease, file name, dct:issued, counts, dct:subject = the schemes it fully covers).
The current view of a code is its description in the latest release (by dct:issued) that has it;
older releases stay, so `describe()` shows the history.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ClaimgraphError, InputError
from .namespaces import CG, DCT, SCHEME, SKOS, SOURCE, modifier_iri

if TYPE_CHECKING:
    from rdflib import URIRef

    from .importers import Release

ENV_VAR = "CLAIMGRAPH_STORE"
POINTER = "claimgraph-store.json"
TABLES = "tables"  # folder of the CMS table files (claimgraph.tablestore)
FORMAT = 1
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"

_SCHEMES = {  # system -> (procedure scheme, modifier scheme, class)
    "hcpcs": (SCHEME["hcpcs"], SCHEME["hcpcs-modifiers"], CG.HCPCSCode),
    "cpt": (SCHEME["cpt"], SCHEME["cpt-modifiers"], CG.CPTCode),
}
_SYSTEM_OF_SCHEME = {
    str(SCHEME["hcpcs"]): "hcpcs",
    str(SCHEME["hcpcs-modifiers"]): "modifier",
    str(SCHEME["cpt"]): "cpt",
    str(SCHEME["cpt-modifiers"]): "modifier",
}
_open: dict[str, Any] = {}  # database path -> read-only pyoxigraph Store


# --- where the store is ------------------------------------------------------------------------


def store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The store folder: the argument, else $CLAIMGRAPH_STORE, else the user data dir."""
    if path:
        return Path(path).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("claimgraph")) / "store"


def _current_db(root: Path) -> Path | None:
    """The current database folder, or None when there is no store (nothing is created)."""
    try:
        pointer = json.loads((root / POINTER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise ClaimgraphError(
            f"the code-set store is damaged ({type(e).__name__}); run `claimgraph store reset`",
            path=str(root),
        ) from None
    name = pointer.get("current", "") if isinstance(pointer, dict) else ""
    if not name.startswith("db-") or "/" in name or not (root / name).is_dir():
        raise ClaimgraphError(
            "the code-set store is damaged; run `claimgraph store reset`", path=str(root)
        )
    return root / name


def _reader(path: str | os.PathLike[str] | None) -> Any:
    """A read-only handle on the current database (cached per process), or None."""
    found = snapshot(path)
    return found[2] if found else None


def snapshot(path: str | os.PathLike[str] | None) -> tuple[Path, Path, Any] | None:
    """(store folder, current database folder, read-only handle on it), or None without a
    store. The handle is cached per process; a database folder never changes once current."""
    root = store_path(path)
    if not (root / POINTER).is_file():
        return None
    db = _current_db(root)
    if db is None:
        return None
    key = str(db)
    if key not in _open:
        import pyoxigraph as ox

        try:
            _open[key] = ox.Store.read_only(key)
        except OSError as e:
            raise ClaimgraphError(
                f"cannot open the code-set store ({type(e).__name__})", path=str(root)
            ) from None
    return root, db, _open[key]


@contextlib.contextmanager
def _writer_lock(root: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: writers are not serialised
        yield
        return
    with open(root / ".lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _write_pointer(root: Path, name: str) -> None:
    from .fileio import atomic_writer

    with atomic_writer(root / POINTER, force=True) as f:
        json.dump({"format": FORMAT, "current": name}, f)
        f.write("\n")


def _stale_temp(p: Path) -> bool:
    """A pointer temp file of `fileio.atomic_writer` that a killed import left behind."""
    return p.name.startswith(".claimgraph-") and p.name.endswith(".tmp")


def _foreign(root: Path) -> bool:
    """True when the folder holds files a store does not have (it is someone else's folder)."""
    ours = {POINTER, ".lock", TABLES}
    return any(
        p.name not in ours and not p.name.startswith("db-") and not _stale_temp(p)
        for p in root.iterdir()
    )


def _remove_stale_temps(root: Path) -> None:
    """Remove pointer temp files left by killed imports (called with the writer lock held)."""
    for p in root.iterdir():
        if _stale_temp(p) and p.is_file() and not p.is_symlink():
            with contextlib.suppress(OSError):
                p.unlink()


def _no_space(e: BaseException) -> bool:
    return isinstance(e, OSError) and (
        e.errno in (errno.ENOSPC, errno.EDQUOT)
        or any(t in str(e) for t in ("os error 28", "No space left on device"))  # RocksDB
    )


def _forget(db: Path | None) -> None:
    if db is not None:
        _open.pop(str(db), None)


# --- writing -----------------------------------------------------------------------------------


def release_iri(release_id: str) -> str:
    return str(SOURCE[release_id])


@dataclass
class Staged:
    """What one import adds: graphs (IRI -> N-Quads in that graph) and the new table files."""

    graphs: dict[str, bytes]
    files: list[Path] = field(default_factory=list)


def import_release(release: Release, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Store a read-and-checked release as its named graph (replacing the same release if it was
    imported before). Atomic: on any failure the store is as it was."""
    data = _nquads(release)  # built before anything on disk is touched
    iri = release_iri(release.release_id)
    root, replaced = commit(lambda _root: Staged({iri: data}), path)
    return {
        "release": release.release_id,
        "iri": iri,
        "codes": release.procedure_count,
        "modifiers": release.modifier_count,
        "replaced": iri in replaced,
        "store": str(root),
    }


def _open_root(path: str | os.PathLike[str] | None) -> Path:
    root = store_path(path)
    if root.exists() and not root.is_dir():
        raise InputError("the store path is a file, not a folder", path=str(root))
    if root.is_dir() and _foreign(root):
        raise InputError(
            "folder is not a claimgraph code-set store; give an empty or new folder", path=str(root)
        )
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise InputError(f"cannot create the store folder ({e.strerror})", path=str(root)) from None
    return root


def commit(
    stage: Callable[[Path], Staged], path: str | os.PathLike[str] | None = None
) -> tuple[Path, set[str]]:
    """Add or replace named graphs, atomically: under the writer lock `stage(root)` writes any
    new table files (into root/tables) and returns the graphs; the current database is copied,
    the graphs are added to the copy and the pointer switches to it. On any failure the new
    database and files are removed and the store is as it was. Returns (store folder, the
    graph IRIs that replaced an earlier import). Table files no graph names are removed."""
    created = not store_path(path).exists()
    root = _open_root(path)
    had_tables = (root / TABLES).is_dir()
    try:
        with _writer_lock(root):
            _remove_stale_temps(root)
            return _commit(root, stage, had_tables)
    except BaseException:
        if created:  # a failed first import leaves no store behind
            shutil.rmtree(root, ignore_errors=True)
        raise


def _commit(root: Path, stage: Callable[[Path], Staged], had_tables: bool) -> tuple[Path, set[str]]:
    import pyoxigraph as ox

    old = _current_db(root)
    new = root / f"db-{uuid.uuid4().hex[:16]}"
    staged = Staged({})
    try:
        staged = stage(root)
        graphs = {ox.NamedNode(iri) for iri in staged.graphs}
        previous = ox.Store.read_only(str(old)) if old is not None else None
        replaced = {
            g.value for g in graphs if previous is not None and previous.contains_named_graph(g)
        }
        if previous is not None and not replaced:
            previous.backup(str(new))  # a checkpoint: hard links, instant
        store = ox.Store(str(new))
        if previous is not None and replaced:  # copy the other releases (deleting is slow)
            for other in previous.named_graphs():
                if other not in graphs:
                    text = previous.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=other)
                    store.bulk_load(text, format=ox.RdfFormat.N_TRIPLES, to_graph=other)
        del previous
        for data in staged.graphs.values():
            store.bulk_load(data, format=ox.RdfFormat.N_QUADS)
        store.flush()
        table_file = ox.NamedNode(str(CG.tableFile))
        keep = {
            str(getattr(q.object, "value", ""))
            for q in store.quads_for_pattern(None, table_file, None)
        }
        del store
        _write_pointer(root, new.name)
    except BaseException as e:
        shutil.rmtree(new, ignore_errors=True)
        for f in staged.files:
            f.unlink(missing_ok=True)
        if not had_tables:
            with contextlib.suppress(OSError):
                (root / TABLES).rmdir()
        if _no_space(e):
            raise ClaimgraphError(
                "no space left writing the code-set store; the store is as it was",
                path=str(root),
            ) from None
        raise
    for stale in root.glob("db-*"):  # the old database, and any left by a crash
        if stale != new:
            _forget(stale)
            shutil.rmtree(stale, ignore_errors=True)
    for f in (root / TABLES).glob("*") if (root / TABLES).is_dir() else ():
        if f.name not in keep:  # a replaced release's file, or one left by a crash
            f.unlink(missing_ok=True)
    return root, replaced


def reset(path: str | os.PathLike[str] | None = None) -> bool:
    """Remove the store; False when there was none. Refuses a folder that is not a store."""
    root = store_path(path)
    if not root.exists():
        return False
    if not root.is_dir():
        raise InputError("the store path is not a folder", path=str(root))
    if _foreign(root):
        raise InputError("not a claimgraph code-set store; refusing to delete it", path=str(root))
    with _writer_lock(root):
        _remove_stale_temps(root)
        (root / POINTER).unlink(missing_ok=True)  # from here on there is no store
        for db in root.glob("db-*"):
            _forget(db)
            shutil.rmtree(db, ignore_errors=True)
        shutil.rmtree(root / TABLES, ignore_errors=True)
    (root / ".lock").unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        root.rmdir()
    return True


def _lit(value: str) -> str:
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def _nquads(release: Release) -> bytes:
    """The release as N-Quads text: its own description plus one block of triples per code."""
    g = f"<{release_iri(release.release_id)}>"
    code_scheme, mod_scheme, code_class = _SCHEMES[release.system]
    out: list[str] = []

    def add(s: str, p: str, o: str) -> None:
        out.append(f"<{s}> <{p}> {o} {g} .\n")

    def date(d: dt.date) -> str:
        return f'"{d.isoformat()}"^^<{XSD}date>'

    rel = g[1:-1]
    add(rel, RDF_TYPE, f"<{CG.CodeSetRelease}>")
    add(rel, str(DCT.identifier), _lit(release.release_id))
    add(rel, str(DCT.title), _lit(release.title) + "@en")
    add(rel, str(CG.fileName), _lit(release.file_name))
    add(rel, str(DCT.issued), date(release.issued))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    add(rel, str(DCT.created), f'"{now}"^^<{XSD}dateTime>')
    add(rel, str(CG.codeCount), f'"{release.procedure_count}"^^<{XSD}integer>')
    add(rel, str(CG.modifierCount), f'"{release.modifier_count}"^^<{XSD}integer>')
    if release.procedure_count:
        add(rel, str(DCT.subject), f"<{code_scheme}>")
    if release.modifier_count:
        add(rel, str(DCT.subject), f"<{mod_scheme}>")
    for r in release.records:
        if r.kind == "modifier":
            s, scheme, cls = str(modifier_iri(r.notation)), mod_scheme, CG.Modifier
        else:
            s, scheme, cls = (
                f"https://w3id.org/claimgraph/code/{release.system}/{r.notation}",
                code_scheme,
                code_class,
            )
        add(s, RDF_TYPE, f"<{cls}>")
        add(s, str(SKOS.notation), _lit(r.notation))
        add(s, str(SKOS.inScheme), f"<{scheme}>")
        add(s, RDFS_LABEL, _lit(r.short or r.long) + "@en")
        if r.short:
            add(s, str(SKOS.definition), _lit(r.long) + "@en")
            add(s, str(CG.shortDescriptor), _lit(r.short))
        for p in r.pricing:
            add(s, str(CG.pricingIndicator), _lit(p))
        for prop, text in (
            (CG.coverageCode, r.coverage),
            (CG.betosCode, r.betos),
            (CG.actionCode, r.action),
        ):
            if text:
                add(s, str(prop), _lit(text))
        for prop, d in (
            (CG.effectiveFrom, r.added),
            (CG.actionEffectiveDate, r.action_effective),
            (CG.effectiveUntil, r.terminated),
        ):
            if d is not None:
                add(s, str(prop), date(d))
        add(s, str(DCT.source), g)
    return "".join(out).encode("utf-8")


# --- reading -----------------------------------------------------------------------------------


def _value(term: Any) -> Any:
    """A pyoxigraph term as a plain Python value (str, int, date)."""
    if term is None:
        return None
    datatype = getattr(term, "datatype", None)
    if datatype is not None:
        if datatype.value == XSD + "date":
            return dt.date.fromisoformat(term.value)
        if datatype.value == XSD + "integer":
            return int(term.value)
    return term.value


def _releases(store: Any) -> dict[str, dict[str, Any]]:
    """Release IRI -> its description, from the release graphs."""
    import pyoxigraph as ox

    out: dict[str, dict[str, Any]] = {}
    rtype = ox.NamedNode(RDF_TYPE)
    for q in store.quads_for_pattern(None, rtype, ox.NamedNode(str(CG.CodeSetRelease)), None):
        rel = q.subject
        info: dict[str, Any] = {"iri": rel.value, "schemes": []}
        for t in store.quads_for_pattern(rel, None, None, q.graph_name):
            p = t.predicate.value
            key = {
                str(DCT.identifier): "release",
                str(DCT.title): "title",
                str(CG.fileName): "file",
                str(DCT.issued): "issued",
                str(DCT.created): "imported",
                str(CG.codeCount): "codes",
                str(CG.modifierCount): "modifiers",
            }.get(p)
            if key:
                info[key] = _value(t.object)
            elif p == str(DCT.subject):
                info["schemes"].append(t.object.value)
        info["schemes"].sort()
        out[rel.value] = info
    return out


def info(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """What the store holds: its folder and the releases (id, kind, title, file, dates, counts):
    the code-set releases (kind hcpcs or cpt) and the CMS table releases (tablestore)."""
    from . import tablestore

    root = store_path(path)
    found = snapshot(path)
    releases: list[dict[str, Any]] = []
    if found:
        for r in _releases(found[2]).values():
            kinds = {_SYSTEM_OF_SCHEME.get(s) for s in r["schemes"]} - {"modifier", None}
            releases.append({"kind": " ".join(sorted(k for k in kinds if k)) or "hcpcs", **r})
        releases.extend(t.as_dict() for t in tablestore.releases(found[1], found[2]))
    releases.sort(key=lambda r: (r["issued"], r["release"]))
    return {"store": str(root), "exists": found is not None, "releases": releases}


def facts_for(
    procedure_codes: Iterable[URIRef],
    modifiers: Iterable[URIRef],
    path: str | os.PathLike[str],
) -> list[tuple[Any, Any, Any]]:
    """Facts the validation engines add for CODE-01 from the store folder `path` (rdflib
    terms; `Knowledge.codesets` names it); [] when there is no store there.

    (scheme, cg:fullCodeSetLoaded, true) for each scheme an imported release covers fully; for
    each given code or modifier in the current view: (code, cg:inFullCodeSet, true) and its
    cg:effectiveFrom / cg:effectiveUntil dates from the latest release that has it.
    """
    if not (store_path(path) / POINTER).is_file():  # the common case must stay cheap
        return []
    store = _reader(path)
    if store is None:
        return []
    import pyoxigraph as ox
    from rdflib import Literal, URIRef
    from rdflib.namespace import XSD as RXSD

    releases = _releases(store)
    true = Literal(True)
    facts: list[tuple[Any, Any, Any]] = []
    for scheme in sorted({s for r in releases.values() for s in r["schemes"]}):
        facts.append((URIRef(scheme), CG.fullCodeSetLoaded, true))
    source = ox.NamedNode(str(DCT.source))
    dates = (
        (CG.effectiveFrom, ox.NamedNode(str(CG.effectiveFrom))),
        (CG.effectiveUntil, ox.NamedNode(str(CG.effectiveUntil))),
    )
    for code in sorted(set(procedure_codes) | set(modifiers)):
        try:
            node = ox.NamedNode(str(code))
        except ValueError:
            continue  # not a valid IRI: not in any code set
        graphs = [q.graph_name for q in store.quads_for_pattern(node, source, None, None)]
        graphs = [g for g in graphs if g.value in releases]
        if not graphs:
            continue
        latest = max(graphs, key=lambda g: (releases[g.value]["issued"], g.value))
        facts.append((code, CG.inFullCodeSet, true))
        for prop, onode in dates:
            for q in store.quads_for_pattern(node, onode, None, latest):
                facts.append((code, prop, Literal(q.object.value, datatype=RXSD.date)))
    return facts


_DESCRIBE = """
PREFIX cg: <https://w3id.org/claimgraph/ontology/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?notation ?rel ?code ?scheme ?label ?definition ?short ?from ?action_date ?until
       ?action ?coverage ?betos
WHERE { GRAPH ?rel {
  ?code skos:notation ?notation ; dct:source ?rel ; skos:inScheme ?scheme .
  OPTIONAL { ?code rdfs:label ?label } OPTIONAL { ?code skos:definition ?definition }
  OPTIONAL { ?code cg:shortDescriptor ?short } OPTIONAL { ?code cg:effectiveFrom ?from }
  OPTIONAL { ?code cg:actionEffectiveDate ?action_date } OPTIONAL { ?code cg:effectiveUntil ?until }
  OPTIONAL { ?code cg:actionCode ?action } OPTIONAL { ?code cg:coverageCode ?coverage }
  OPTIONAL { ?code cg:betosCode ?betos }
} }"""


def describe(notation: str, path: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Every imported description of a code or modifier, oldest release first; `current` marks
    the one in force (latest release). [] when there is no store or the code is not imported."""
    store = _reader(path)
    if store is None:
        return []
    import pyoxigraph as ox

    releases = _releases(store)
    rows: list[dict[str, Any]] = []
    subs: dict[Any, Any] = {ox.Variable("notation"): ox.Literal(notation.strip().upper())}
    for sol in store.query(_DESCRIBE, substitutions=subs):
        rel = releases.get(sol["rel"].value)
        if rel is None:
            continue
        row = {
            k: _value(sol[k])
            for k in (
                "code",
                "label",
                "definition",
                "short",
                "from",
                "action_date",
                "until",
                "action",
                "coverage",
                "betos",
            )
        }
        row["system"] = _SYSTEM_OF_SCHEME.get(sol["scheme"].value, sol["scheme"].value)
        row.update(
            release=rel["release"],
            release_iri=rel["iri"],
            issued=rel["issued"],
            title=rel.get("title"),
        )
        rows.append(row)
    rows.sort(key=lambda r: (r["system"], r["issued"], r["release"]))
    latest: dict[str, dt.date] = {}
    for r in rows:
        latest[r["code"]] = max(latest.get(r["code"], r["issued"]), r["issued"])
    for r in rows:
        r["current"] = r["issued"] == latest[r["code"]]
    return rows


def current_entries(path: str | os.PathLike[str] | None = None) -> list[dict[str, str]]:
    """The current view of every imported code: code, system, label, definition (for search)."""
    store = _reader(path)
    if store is None:
        return []
    import pyoxigraph as ox

    releases = _releases(store)

    def values(prop: Any) -> dict[tuple[str, str], str]:
        quads = store.quads_for_pattern(None, ox.NamedNode(str(prop)), None, None)
        return {(q.subject.value, q.graph_name.value): q.object.value for q in quads}

    notations, schemes = values(SKOS.notation), values(SKOS.inScheme)
    labels, definitions = values(RDFS_LABEL), values(SKOS.definition)
    best: dict[str, tuple[dt.date, dict[str, str]]] = {}
    for (iri, graph), notation in notations.items():
        rel = releases.get(graph)
        if rel is None or (iri in best and best[iri][0] >= rel["issued"]):
            continue
        entry = {
            "code": notation,
            "system": _SYSTEM_OF_SCHEME.get(schemes.get((iri, graph), ""), "other"),
            "label": labels.get((iri, graph), ""),
            "definition": definitions.get((iri, graph), ""),
            "release": rel["release"],
        }
        best[iri] = (rel["issued"], entry)
    return [e for _, e in best.values()]
