#!/usr/bin/python3
"""The Python package against the C++ API on the same data and work, and
against python3-faiss and python3-hnswlib used directly from Python.

    bench/python_bench.py [--build build] [--n 20000] [--dim 128] [--queries 2000]
                          [--rounds 5] [--out bench/results/python_bench.json]

Work: clustered unit vectors (numpy, seed 1) in a "vectors dim=D"
collection; batch inserts of 1,000 documents (id, metadata {"i": row},
vector); searches with k = 10, one query vector per call, on a flat and an
HNSW index (m=32, ef_construction=200, ef_search=64); text searches (k = 10)
of the Cranfield queries on a TF-IDF collection of its abstracts when the
shared data is there, also split over two Python threads against one thread
(the GIL is released while the library works). The C++ side is build/bench/api_peer_bench, run in
its own process on the same database; the two alternate round by round,
each timed after a warm-up pass, best of --rounds. faiss (IndexFlatIP,
IndexHNSWFlat) and hnswlib (space "ip") get the same vectors and queries,
one query per call, with M=32, ef_construction=200, ef=64.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
HNSW = "hnsw m=32 ef_construction=200 ef_search=64"
BATCH = 1000


def clustered(n, dim, rng, clusters=100):
    centers = rng.standard_normal((clusters, dim)).astype(np.float32)
    x = centers[rng.integers(0, clusters, n)] + 0.5 * rng.standard_normal((n, dim)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def peer(build, *args):
    out = subprocess.run([os.path.join(build, "bench", "api_peer_bench"), *map(str, args)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["seconds"]


def python_insert(semdb, path, index, data):
    with semdb.open(path) as db:
        col = db.create_collection("v", embedder=f"vectors dim={data.shape[1]}", index=index)
        start = time.perf_counter()
        for first in range(0, len(data), BATCH):
            rows = range(first, min(len(data), first + BATCH))
            col.add(ids=[str(i) for i in rows], metadatas=[{"i": i} for i in rows],
                    vectors=data[first:first + BATCH])
        return time.perf_counter() - start


def time_searches(search, nq):
    for q in range(nq):  # warm-up, as the C++ side
        search(q)
    start = time.perf_counter()
    for q in range(nq):
        search(q)
    return time.perf_counter() - start


def python_search(semdb, path, name, queries, k=10):
    with semdb.open(path) as db:
        col = db.get_collection(name)
        return time_searches(lambda q: col.query(queries[q], k=k), len(queries))


def cranfield_queries():
    base = os.path.join(ROOT, "..", "shared", "data", "cranfield")
    if not os.path.exists(os.path.join(base, "cran.qry")):
        return None, None
    def fields(path, letters):
        with open(path, encoding="ascii") as f:
            parts = re.split(r"^\.I +", f.read(), flags=re.M)[1:]
        out = []
        for part in parts:
            found = dict(re.findall(r"^\.([TAWB])\n(.*?)(?=^\.[TAWB]\n|\Z)", part, re.M | re.S))
            out.append(" ".join(" ".join(found.get(l, "") for l in letters).split()))
        return out
    return ([d for d in fields(os.path.join(base, "cran.all.1400"), "TW") if d],
            fields(os.path.join(base, "cran.qry"), "W"))


def threaded(threads, work):
    """Seconds for `threads` threads each calling work() once, together."""
    ts = [threading.Thread(target=work) for _ in range(threads)]
    start = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - start


def best(rounds, fn):
    return min(fn() for _ in range(rounds))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results",
                                                      "python_bench.json"))
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(os.path.abspath(args.build), "python"))
    import semdb
    import faiss
    import hnswlib

    cores = os.cpu_count()
    print(f"{cores} cores; n={args.n} dim={args.dim} queries={args.queries} "
          f"rounds={args.rounds} (best of)", flush=True)
    rng = np.random.default_rng(1)
    data = clustered(args.n, args.dim, rng)
    queries = clustered(args.queries, args.dim, rng)
    work = tempfile.mkdtemp(prefix="semdb-python-bench-")
    results = {"cores": cores, "n": args.n, "dim": args.dim, "queries": args.queries,
               "rounds": args.rounds, "batch": BATCH, "rows": []}

    def row(name, unit, count, seconds):
        entry = {"case": name, "unit": unit, **{k: count / s for k, s in seconds.items()}}
        ratio = seconds["python"] / seconds["cpp"] if "cpp" in seconds else None
        entry["python_over_cpp"] = ratio
        results["rows"].append(entry)
        rates = ", ".join(f"{k} {count / s:,.0f}" for k, s in seconds.items())
        print(f"{name}: {unit}: {rates}" + (f"; Python / C++ time {ratio:.3f}" if ratio else ""),
              flush=True)

    try:
        data_file = os.path.join(work, "data.f32")
        query_file = os.path.join(work, "queries.f32")
        data.tofile(data_file)
        queries.tofile(query_file)
        for index in ("flat", HNSW):
            kind = index.split()[0]
            # Inserts, alternating, each into a fresh database.
            py, cpp = [], []
            for r in range(args.rounds):
                for side in (("py", "cpp") if r % 2 == 0 else ("cpp", "py")):
                    path = os.path.join(work, f"insert-{side}-{r}")
                    if side == "py":
                        py.append(python_insert(semdb, path, index, data))
                    else:
                        cpp.append(peer(args.build, "insert", path, index, data_file, args.n,
                                        args.dim, BATCH))
                    shutil.rmtree(path)
            row(f"batch insert ({kind})", "documents/s", args.n, {"python": min(py), "cpp": min(cpp)})
            # Searches on one database, alternating.
            path = os.path.join(work, f"search-{kind}")
            python_insert(semdb, path, index, data)
            py, cpp = [], []
            for r in range(args.rounds):
                py.append(python_search(semdb, path, "v", queries))
                cpp.append(peer(args.build, "search", path, query_file, args.queries, args.dim, 10))
            row(f"search k=10 ({kind})", "queries/s", args.queries,
                {"python": min(py), "cpp": min(cpp)})

        # Texts: Cranfield on TF-IDF.
        docs, texts = cranfield_queries()
        if docs:
            path = os.path.join(work, "cran")
            with semdb.open(path) as db:
                db.create_collection("cran").add(documents=docs)
            text_file = os.path.join(work, "queries.txt")
            with open(text_file, "w") as f:
                f.write("\n".join(texts) + "\n")
            py, cpp = [], []
            for r in range(args.rounds):
                py.append(python_search(semdb, path, "cran", texts))
                cpp.append(peer(args.build, "search-text", path, "cran", text_file, 10))
            row("text search k=10 (Cranfield, tfidf, flat)", "queries/s", len(texts),
                {"python": min(py), "cpp": min(cpp)})
            # The GIL is released during a search: the same searches split
            # over two Python threads against one thread, alternating.
            with semdb.open(path) as db:
                col = db.get_collection("cran")
                one, two = [], []
                for r in range(args.rounds):
                    one.append(threaded(1, lambda: [col.query(q, k=10) for q in texts]))
                    half = len(texts) // 2
                    two.append(threaded(2, lambda: [col.query(q, k=10) for q in texts[:half]]))
            ratio = min(two) / min(one)
            results["rows"].append({"case": "text search, 2 Python threads / 1 (same work)",
                                    "time_ratio": ratio})
            print(f"text search, the same work on 2 Python threads / on 1: time {ratio:.2f} "
                  f"({cores} cores; 0.5 is a perfect split)", flush=True)
        else:
            print("skipped the text searches: ../shared/data/cranfield not found")

        # The libraries used directly from Python, same vectors and queries.
        def faiss_flat():
            index = faiss.IndexFlatIP(args.dim)
            start = time.perf_counter()
            index.add(data)
            return time.perf_counter() - start, index

        def faiss_hnsw():
            index = faiss.IndexHNSWFlat(args.dim, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 200
            start = time.perf_counter()
            index.add(data)
            seconds = time.perf_counter() - start
            index.hnsw.efSearch = 64
            return seconds, index

        def hnsw_lib():
            index = hnswlib.Index(space="ip", dim=args.dim)
            index.init_index(max_elements=args.n, M=32, ef_construction=200)
            start = time.perf_counter()
            index.add_items(data, np.arange(args.n))
            seconds = time.perf_counter() - start
            index.set_ef(64)
            return seconds, index

        for name, build_index, search in (
                ("faiss IndexFlatIP", faiss_flat, lambda i, q: i.search(queries[q:q + 1], 10)),
                ("faiss IndexHNSWFlat", faiss_hnsw, lambda i, q: i.search(queries[q:q + 1], 10)),
                ("hnswlib", hnsw_lib, lambda i, q: i.knn_query(queries[q], k=10))):
            built = [build_index() for _ in range(min(args.rounds, 2))]
            index = built[-1][1]
            add = min(s for s, _ in built)
            seconds = best(args.rounds, lambda: time_searches(lambda q: search(index, q),
                                                              args.queries))
            row(f"{name} (Python, direct)", "add documents/s | queries/s", args.n,
                {"add": add})
            results["rows"][-1]["queries/s"] = args.queries / seconds
            print(f"  {name}: search k=10 {args.queries / seconds:,.0f} queries/s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
