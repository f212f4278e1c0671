#!/usr/bin/python3
"""Upserting 100k pre-embedded vectors over existing ids of a flat collection
(batches of 1,000), best of 3 passes: every pass replaces every vector, so
the flat index compacts its tombstones several times per pass.

Usage: bench/upsert_bench.py BUILD_DIR
"""
import os
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, sys.argv[1] + "/python")
import semdb
path = "upsert_bench_work"
shutil.rmtree(path, ignore_errors=True)
print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()}")
db = semdb.open(path); c = db.create_collection("v", embedder="vectors dim=128", index="flat")
n = 100000; rng = np.random.default_rng(0)
V = rng.standard_normal((n, 128), dtype=np.float32)
for b in range(0, n, 1000):
    c.add(ids=[str(i) for i in range(b, b + 1000)], vectors=V[b:b+1000])
best = 1e9
for r in range(3):
    t = time.perf_counter()
    for b in range(0, n, 1000):
        c.upsert([str(i) for i in range(b, b + 1000)], vectors=V[b:b+1000])
    best = min(best, time.perf_counter() - t)
print("upsert 100k over existing: best %.2f s" % best)
del c, db
shutil.rmtree(path, ignore_errors=True)
