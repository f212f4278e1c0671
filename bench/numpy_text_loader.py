#!/usr/bin/python3
"""Peer for word_vectors_bench: loads a GloVe text file the plain way a Python
user would without gensim (read lines, split off the word, numpy parses the
values into one preallocated float32 matrix), and prints one JSON object with
the wall time and the peak resident memory.
Usage: numpy_text_loader.py FILE
"""
import json
import resource
import sys
import time

import numpy as np


def main():
    path = sys.argv[1]
    start = time.perf_counter()
    with open(path, "rb") as f:
        first = f.readline()
        dim = len(first.split()) - 1
        rows = 1 + sum(1 for _ in f)
    vectors = np.empty((rows, dim), dtype=np.float32)
    index = {}
    with open(path, "rb") as f:
        for i, line in enumerate(f):
            word, _, values = line.partition(b" ")
            index.setdefault(word.decode("utf-8"), i)
            vectors[i] = np.fromstring(values, dtype=np.float32, sep=" ")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak, "words": len(index)}))


if __name__ == "__main__":
    main()
