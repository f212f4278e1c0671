#!/usr/bin/python3
"""hnswlib on the data semdb_ann_bench wrote, with the same HNSW parameters,
swept over ef to compare at matched recall.

    bench/hnswlib_bench.py --results ann_bench.json --data-dir data --out hnswlib.json

For each dataset in the results file: builds an hnswlib 'ip' index with the
M and ef_construction of semdb's HNSW run (all cores), then runs the
queries one at a time on one thread (as semdb and FAISS were run), for each
ef, reporting recall@10 against the exact truth and queries per second
(best of two passes).
"""
import argparse
import json
import os
import time

import hnswlib
import numpy as np

K = 10


def spec_params(spec):
    params = dict(p.split("=") for p in spec.split()[1:])
    return int(params.get("m", 32)), int(params.get("ef_construction", 200))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--efs", default="10,16,24,32,48,64,96,128,192,256")
    args = ap.parse_args()
    results = json.load(open(args.results))
    out = {"hnswlib_version": getattr(hnswlib, "__version__", "Debian python3-hnswlib"),
           "datasets": []}
    for ds in results["datasets"]:
        hnsw = next((i for i in ds["indexes"] if i["index"] == "hnsw"), None)
        if hnsw is None:
            continue
        m, ef_construction = spec_params(hnsw["spec"])
        name, dim = ds["name"], ds["dim"]
        base = np.fromfile(os.path.join(args.data_dir, f"{name}_base.f32"), dtype=np.float32)
        base = base.reshape(-1, dim)
        queries = np.fromfile(os.path.join(args.data_dir, f"{name}_query.f32"),
                              dtype=np.float32).reshape(-1, dim)
        truth = np.fromfile(os.path.join(args.data_dir, f"{name}_truth.i64"),
                            dtype=np.int64).reshape(-1, K)
        index = hnswlib.Index(space="ip", dim=dim)
        start = time.perf_counter()
        index.init_index(max_elements=len(base), M=m, ef_construction=ef_construction,
                         random_seed=100)
        index.set_num_threads(os.cpu_count())
        index.add_items(base, np.arange(len(base)))
        build = time.perf_counter() - start
        print(f"{name}: hnswlib M={m} ef_construction={ef_construction} built in {build:.1f} s",
              flush=True)
        index.set_num_threads(1)
        sweep = []
        for ef in [int(e) for e in args.efs.split(",")]:
            index.set_ef(max(ef, K))
            best = None
            for _ in range(2):
                t = time.perf_counter()
                found = [index.knn_query(q, k=K)[0][0] for q in queries]
                seconds = time.perf_counter() - t
                qps = len(queries) / seconds
                if best is None or qps > best:
                    best = qps
            recall = float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth)]))
            print(f"  ef {ef:4d}: recall {recall:.4f} {best:8.0f} qps", flush=True)
            sweep.append({"setting": ef, "recall": recall, "qps": best})
        out["datasets"].append({"name": name, "m": m, "ef_construction": ef_construction,
                                "build_seconds": build, "sweep": sweep})
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
