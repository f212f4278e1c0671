#!/usr/bin/python3
"""How long a checkpoint takes after deleting one vector, by collection size.

For each size (--rows 50000,500000), a new database with a "vectors dim=128"
flat collection is filled with random vectors (batches of 10,000), then
checkpointed: with nothing written since, after deleting one vector (twice),
and after replacing one. A checkpoint flushes RocksDB's memtables (a fixed
cost) and decides whether the vector file's dead bytes are worth a rewrite:
that decision must not grow with the collection.

Usage: bench/checkpoint_bench.py BUILD_DIR [--rows 50000,500000] [--work DIR]
"""
import argparse
import os
import shutil
import sys
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--rows", default="50000,500000")
    ap.add_argument("--work", default="checkpoint_bench_work")
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(args.build_dir, "python"))
    import semdb
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()}")
    rng = np.random.default_rng(0)
    for n in (int(r) for r in args.rows.split(",")):
        shutil.rmtree(args.work, ignore_errors=True)
        db = semdb.open(args.work)
        c = db.create_collection("v", embedder="vectors dim=128", index="flat")
        for b in range(0, n, 10000):
            m = min(10000, n - b)
            c.add(ids=[str(i) for i in range(b, b + m)],
                  vectors=rng.standard_normal((m, 128), dtype=np.float32))
        c.checkpoint()
        row = []
        for label, action in (("nothing written", None), ("1 delete", "delete"),
                              ("1 delete", "delete"), ("1 replace", "upsert")):
            if action == "delete":
                c.delete([str(rng.integers(n))])
            elif action == "upsert":
                c.upsert([str(rng.integers(n))],
                         vectors=rng.standard_normal((1, 128), dtype=np.float32))
            start = time.perf_counter()
            c.checkpoint()
            row.append(f"{label} {time.perf_counter() - start:.3f} s")
        print(f"{n} vectors: checkpoint after " + ", ".join(row))
        del c, db
    shutil.rmtree(args.work, ignore_errors=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
