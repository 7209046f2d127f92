"""Ways to give each batch the knowledge graph in pyoxigraph: which is fastest?

Encodes N realistic claims (tests/realistic.py) into batches of B as the fast engine does,
then runs every compiled check on each batch, one process, with each way of loading:

- fresh:  a new Store per batch, `load(kg + batch)` (the fast engine's way);
- bulk:   a new Store per batch, `bulk_load(kg + batch)`;
- extend: a new Store per batch, the knowledge graph parsed once to quads and `extend`ed,
          the batch `load`ed;
- named:  one Store holding the knowledge graph, each batch loaded into a named graph that the
          queries read with the default graph (`default_graph=[DefaultGraph(), g]`), then
          `remove_graph`;
- union:  the same with `use_default_graph_as_union=True`.

Prints load, query and clean-up seconds per way, the query time of the first and last tenth
of the batches (a store that grows or fragments slows down), and whether every way found the
same rows as `fresh`.

    python benchmarks/oxigraph_load.py             # 6,000 claims, batches of 300
    python benchmarks/oxigraph_load.py 30000 --batch 300
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

WAYS = ("fresh", "bulk", "extend", "named", "union")


def batches(n: int, size: int) -> list[tuple[bytes, bytes]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from claimgraph.engine import fast
    from claimgraph.engine.common import with_uids
    from claimgraph.ingest.json_claims import claim_from_json
    from claimgraph.knowledge import Knowledge
    from realistic import generate

    knowledge = Knowledge.bundled()
    payers = knowledge.payer_categories.keys()
    enricher = fast.Enricher(knowledge.codesets)
    unknown: set[str] = set()
    claims = [claim_from_json(o, i, unknown) for i, o in enumerate(generate(n, seed=1), 1)]
    records = [fast.encode(c, payers) for c in with_uids(claims)]
    out = []
    for k in range(0, len(records), size):
        batch = records[k : k + size]
        out.append((b"".join(r.nt for r in batch), enricher.facts(batch)))
    return out


def run(way: str, work: list[tuple[bytes, bytes]], engine: Any) -> dict[str, Any]:
    import pyoxigraph as ox

    nt = ox.RdfFormat.N_TRIPLES
    kg = engine.kg_nt
    graph = ox.NamedNode("urn:claimgraph:batch")
    shared = None
    kg_quads: list[Any] = []
    if way in ("named", "union"):
        shared = ox.Store()
        shared.load(kg, format=nt)
    if way == "extend":
        kg_quads = list(ox.parse(kg, format=nt))
    load = query = clean = 0.0
    per_batch: list[float] = []
    rows: list[frozenset[tuple[int, str]]] = []
    for text, facts in work:
        t0 = time.perf_counter()
        options: dict[str, Any] = {}
        if way == "fresh":
            store = ox.Store()
            store.load(kg + text + facts, format=nt)
        elif way == "bulk":
            store = ox.Store()
            store.bulk_load(kg + text + facts, format=nt)
        elif way == "extend":
            store = ox.Store()
            store.extend(kg_quads)
            store.load(text + facts, format=nt)
        else:
            assert shared is not None
            store = shared
            store.load(text + facts, format=nt, to_graph=graph)
            if way == "named":
                options = {"default_graph": [ox.DefaultGraph(), graph]}
            else:
                options = {"use_default_graph_as_union": True}
        t1 = time.perf_counter()
        found = set()
        for k, (_shape, q, _cross, _project) in enumerate(engine.queries):
            for row in store.query(q, **options):  # type: ignore[union-attr]
                found.add((k, str(row[0])))
        t2 = time.perf_counter()
        if shared is not None:
            shared.remove_graph(graph)
        else:
            del store
        t3 = time.perf_counter()
        load, query, clean = load + t1 - t0, query + t2 - t1, clean + t3 - t2
        per_batch.append(t2 - t1)
        rows.append(frozenset(found))
    tenth = max(1, len(per_batch) // 10)
    first, last = sum(per_batch[:tenth]) / tenth, sum(per_batch[-tenth:]) / tenth
    first, last = sum(per_batch[:tenth]) / tenth, sum(per_batch[-tenth:]) / tenth
    return {"load": load, "query": query, "clean": clean, "rows": rows, "first": first,
            "last": last}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("claims", nargs="?", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=300)
    parser.add_argument("--ways", nargs="*", default=list(WAYS), choices=WAYS)
    args = parser.parse_args()
    from claimgraph.knowledge import Knowledge

    engine = Knowledge.bundled().checks
    work = batches(args.claims, args.batch)
    print(f"{args.claims} realistic claims, {len(work)} batches of {args.batch}, one process")
    print(f"{'way':>7} {'load s':>7} {'query s':>8} {'clean s':>8} {'total s':>8}"
          f" {'ms/batch first':>15} {'last':>6}  same rows")  # fmt: skip
    base = None
    for way in args.ways:
        r = run(way, work, engine)
        base = base if base is not None else r["rows"]
        total = r["load"] + r["query"] + r["clean"]
        print(f"{way:>7} {r['load']:>7.2f} {r['query']:>8.2f} {r['clean']:>8.2f} {total:>8.2f}"
              f" {r['first'] * 1000:>15.1f} {r['last'] * 1000:>6.1f}  {r['rows'] == base}",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
