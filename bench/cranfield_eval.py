#!/usr/bin/python3
"""Retrieval quality of semdb's default embedder on the Cranfield collection.

Ranks the 1,400 Cranfield abstracts for each of the 225 queries with semdb
(the real `semdb` binary, TF-IDF + LSA at several dimensions) and, in the
same run, with a plain scikit-learn TF-IDF cosine ranking, and reports
nDCG@10 and MAP for each.

Relevance: cranqrel codes 1-4 are relevant (graded gain 5 - code for nDCG,
binary for MAP); code -1 is ignored. Documents are title + abstract.

usage: bench/cranfield_eval.py [--semdb build/shell/semdb] [--dims 64,128,256]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRAN = os.path.join(ROOT, "..", "shared", "data", "cranfield")


def parse_records(path):
    """Yields dicts of field letter -> text for .I records."""
    with open(path, encoding="ascii", newline="") as f:
        text = f.read().replace("\r\n", "\n")
    records, current, field = [], None, None
    for line in text.split("\n"):
        if line.startswith(".I "):
            current = {"I": line[3:].strip()}
            records.append(current)
            field = None
        elif len(line) == 2 and line[0] == "." and line[1] in "TAWB":
            field = line[1]
            current.setdefault(field, "")
        elif field is not None:
            current[field] += line + "\n"
    return records


def load():
    docs = [(r["I"], (r.get("T", "") + " " + r.get("W", "")).strip())
            for r in parse_records(os.path.join(CRAN, "cran.all.1400"))]
    queries = [r["W"].strip() for r in parse_records(os.path.join(CRAN, "cran.qry"))]
    qrels = {}
    with open(os.path.join(CRAN, "cranqrel")) as f:
        for line in f:
            q, d, code = line.split()
            if int(code) > 0:
                qrels.setdefault(int(q), {})[d] = 5 - int(code)
    assert len(docs) == 1400 and len(queries) == 225, (len(docs), len(queries))
    return docs, queries, qrels


def ndcg_at(ranking, gains, k=10):
    dcg = sum(gains.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
    ideal = sorted(gains.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def average_precision(ranking, gains):
    hits, total = 0, 0.0
    for i, d in enumerate(ranking):
        if d in gains:
            hits += 1
            total += hits / (i + 1)
    return total / len(gains) if gains else 0.0


def evaluate(rankings, qrels):
    ndcg = [ndcg_at(rankings[q], qrels.get(q + 1, {})) for q in range(len(rankings))]
    ap = [average_precision(rankings[q], qrels.get(q + 1, {})) for q in range(len(rankings))]
    return float(np.mean(ndcg)), float(np.mean(ap))


def sklearn_rankings(docs, queries, **options):
    vec = TfidfVectorizer(**options)
    x = vec.fit_transform([t for _, t in docs])
    q = vec.transform(queries)
    scores = (q @ x.T).toarray()
    ids = [i for i, _ in docs]
    return [[ids[j] for j in np.argsort(-row, kind="stable")] for row in scores]


def quote(text):
    text = " ".join(text.split())  # one line per command
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def semdb_rankings(binary, docs, queries, spec, workdir):
    db = tempfile.mkdtemp(dir=workdir)
    data = os.path.join(workdir, "cran.jsonl")
    with open(data, "w") as f:
        for doc_id, text in docs:
            f.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    script = [f"create cran --embedder {spec}", f"import {data}", "refit"]
    script += [f"search {quote(q)} --k {len(docs)}" for q in queries]
    start = time.time()
    out = subprocess.run([binary, db, "--json", "--bail"], input="\n".join(script) + "\n",
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"semdb failed: {out.stderr.strip()}")
    seconds = time.time() - start
    lines = out.stdout.strip().split("\n")[-len(queries):]
    return [[hit["id"] for hit in json.loads(line)] for line in lines], seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--semdb", default=os.path.join(ROOT, "build", "shell", "semdb"))
    parser.add_argument("--dims", default="64,128,200,256,400")
    parser.add_argument("--extra", default="", help="extra tfidf spec parameters")
    args = parser.parse_args()
    docs, queries, qrels = load()
    rows = []
    for name, options in [
        ("sklearn TF-IDF (defaults)", {}),
        ("sklearn TF-IDF (english stop words, sublinear tf)",
         {"stop_words": "english", "sublinear_tf": True}),
    ]:
        rows.append((name, *evaluate(sklearn_rankings(docs, queries, **options), qrels), None))
    with tempfile.TemporaryDirectory() as workdir:
        for dim in [int(d) for d in args.dims.split(",")]:
            spec = f"tfidf dim={dim} {args.extra}".strip()
            rankings, seconds = semdb_rankings(args.semdb, docs, queries, spec, workdir)
            rows.append((f"semdb {spec}", *evaluate(rankings, qrels), seconds))
    print(f"Cranfield: {len(docs)} documents, {len(queries)} queries, "
          f"{os.cpu_count()} cores")
    print(f"| ranking | nDCG@10 | MAP | seconds (import+refit+{len(queries)} searches) |")
    print("|---|---|---|---|")
    for name, ndcg, mean_ap, seconds in rows:
        s = "" if seconds is None else f"{seconds:.1f}"
        print(f"| {name} | {ndcg:.4f} | {mean_ap:.4f} | {s} |")


if __name__ == "__main__":
    sys.exit(main())
