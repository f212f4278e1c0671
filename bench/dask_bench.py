#!/usr/bin/python3
"""semdb.distributed on one machine: what sharding over Dask costs and gives.

    bench/dask_bench.py [--build build] [--copies 10] [--queries 200] [--rounds 3]
                        [--many-shards 16] [--out bench/results/dask_bench.json]

Corpus: the Lee corpus (300 news articles, ../shared/data) repeated
--copies times with distinct ids (copy c of article i: "c-i"); one TF-IDF
model (dim 128) fitted once on the 300 originals. Queries: 8-word runs of
the 50 Lee articles outside the corpus (lee.cor), vector search k = 10.

1. Ingest: the whole corpus from a Dask bag (12 partitions) into 2 shards,
   on a LocalCluster of 1 worker process, then of 2 (each one thread);
   the two alternate round by round, best of --rounds; documents/s and
   the speed-up.
2. Query latency: one single-node collection in this process (the peer)
   against the same documents in 2, 4 and 8 shards through Dask (2 worker
   processes), queries alternating between the setups; median and p95
   over --queries, per setup.
3. Many shards: --many-shards shards on the 2 workers, each holding a
   slice of the corpus, as a model of a larger corpus cut finer: ingest
   rate and query latency.
The machine's core count is printed with the figures; times are wall
clock, on a machine shared with other work (noisy: ratios against the
peer measured in the same run are the figures to read).
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default="build")
    p.add_argument("--copies", type=int, default=10)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--many-shards", type=int, default=16)
    p.add_argument("--out", default="bench/results/dask_bench.json")
    return p.parse_args()


def shared(relative):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                        "data", relative)
    if not os.path.exists(path):
        sys.exit(f"dask_bench: shared data {path} is missing")
    return path


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    args = parse()
    sys.path.insert(0, os.path.abspath(os.path.join(args.build, "python")))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import dask.bag as dask_bag
    import semdb
    from semdb import distributed as sd

    with open(shared("gensim/lee_background.cor"), encoding="utf-8") as f:
        lee = [line.strip() for line in f if line.strip()]
    with open(shared("gensim/lee.cor"), encoding="latin-1") as f:
        outside = [line.split() for line in f if line.strip()]
    queries = []
    for r in range(8):
        queries += [" ".join(w[8 * r:8 * r + 8]) for w in outside if len(w) >= 8 * r + 8]
    queries = queries[:args.queries]
    records = [{"id": f"{c}-{i}", "text": t} for c in range(args.copies)
               for i, t in enumerate(lee)]
    ids = [r["id"] for r in records]
    texts = [r["text"] for r in records]
    model = sd.fit_model(lee, "tfidf dim=128")
    scratch = tempfile.mkdtemp(prefix="semdb-dask-bench-")
    cores = os.cpu_count()
    report = {"cores": cores, "documents": len(records),
              "model": semdb.model_info(model)}
    print(f"semdb.distributed benchmark: {cores} cores, {len(records)} documents "
          f"(Lee x {args.copies}), {len(queries)} queries, best of {args.rounds}")

    # 1. Ingest with 1 and 2 workers, alternating.
    clients = {w: sd.connect(n_workers=w) for w in (1, 2)}
    best = {1: float("inf"), 2: float("inf")}
    run = 0
    for _ in range(args.rounds):
        for workers, client in clients.items():
            run += 1
            sc = sd.ShardedCollection.create(client, os.path.join(scratch, f"ingest-{run}"),
                                             "lee", model, shards=2)
            bag = dask_bag.from_sequence(records, npartitions=12)
            start = time.perf_counter()
            assert sc.ingest(bag, batch_size=256) == len(records)
            best[workers] = min(best[workers], time.perf_counter() - start)
            sc.close()
    report["ingest"] = {f"{w}_workers_docs_per_s": len(records) / best[w] for w in best}
    report["ingest"]["speedup"] = best[1] / best[2]
    print(f"ingest, 2 shards: 1 worker {len(records) / best[1]:.0f} docs/s, 2 workers "
          f"{len(records) / best[2]:.0f} docs/s: speed-up {best[1] / best[2]:.2f}x")
    clients[1].close()
    clients[1].cluster.close()
    client = clients[2]

    # 2. Query latency: in-process peer against 2, 4, 8 shards.
    db = semdb.open(os.path.join(scratch, "single"))
    single = db.create_collection("lee", model=model)
    single.add(ids=ids, documents=texts)
    setups = {"1 shard in-process": None}
    for n in (2, 4, 8):
        sc = sd.ShardedCollection.create(client, os.path.join(scratch, f"q{n}"), "lee", model,
                                         shards=n)
        sc.ingest(dask_bag.from_sequence(records, npartitions=12), batch_size=512)
        setups[f"{n} shards via Dask"] = sc
    m = semdb.Model(model)
    vectors = [v for v in m.embed(queries, queries=True) if v.any()]  # a known word at least
    for q in vectors[:10]:  # warm-up
        for sc in setups.values():
            (single if sc is None else sc).query(q, 10)
    latency = {name: [] for name in setups}
    for q in vectors:
        for name, sc in setups.items():
            start = time.perf_counter()
            (single if sc is None else sc).query(q, 10)
            latency[name].append((time.perf_counter() - start) * 1000)
    report["queries"] = len(vectors)
    report["query_ms"] = {}
    peer = statistics.median(latency["1 shard in-process"])
    for name, ms in latency.items():
        med, p95 = statistics.median(ms), percentile(ms, 0.95)
        report["query_ms"][name] = {"median": med, "p95": p95, "vs_in_process": med / peer}
        print(f"query k=10, {name}: median {med:.2f} ms, p95 {p95:.2f} ms "
              f"({med / peer:.1f}x the in-process median)")
    for name, sc in setups.items():
        if sc is not None:
            sc.close()
    db.close()

    # 3. Many shards on the 2 workers.
    n = args.many_shards
    sc = sd.ShardedCollection.create(client, os.path.join(scratch, f"many{n}"), "lee", model,
                                     shards=n)
    start = time.perf_counter()
    sc.ingest(dask_bag.from_sequence(records, npartitions=12), batch_size=512)
    ingest_s = time.perf_counter() - start
    ms = []
    for q in vectors:
        start = time.perf_counter()
        sc.query(q, 10)
        ms.append((time.perf_counter() - start) * 1000)
    report["many_shards"] = {"shards": n, "docs_per_s": len(records) / ingest_s,
                             "query_median_ms": statistics.median(ms),
                             "query_p95_ms": percentile(ms, 0.95),
                             "per_shard_documents": [i["documents"] for i in sc.info()]}
    print(f"{n} shards on 2 workers: ingest {len(records) / ingest_s:.0f} docs/s, query "
          f"median {statistics.median(ms):.2f} ms, p95 {percentile(ms, 0.95):.2f} ms; "
          f"documents per shard {min(report['many_shards']['per_shard_documents'])}.."
          f"{max(report['many_shards']['per_shard_documents'])}")
    sc.close()
    client.close()
    client.cluster.close()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
