#!/usr/bin/python3
"""Retrieval quality on the Cranfield collection: semdb's `eval retrieval`
with a newcomer's defaults, beside classic baselines computed here in the
same run (scikit-learn TF-IDF cosine, LSA, and BM25).

The collection is written as files a user would have: cran.jsonl (one
{"id", "text"} per abstract, text = title + abstract), queries.tsv (the k-th
query of cran.qry has id k, as cranqrel numbers them) and qrels.txt (TREC
lines "query 0 doc grade", grade = 5 - relevance code, so code 1 "complete
answer" is grade 4 and code 4 "minimal interest" grade 1; code -1 dropped).
semdb then runs `create cran`, `import cran.jsonl`, `eval retrieval
queries.tsv qrels.txt --json` through the real shell.

The baselines are scored by the same formulas as src/evaluation.h states
(nDCG@10 with gain 2^grade - 1, MAP over the ranking to depth 1000), written
independently here.

usage: bench/cranfield_eval.py [--semdb build/shell/semdb] [--workdir DIR]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRAN = os.path.join(ROOT, "..", "shared", "data", "cranfield")
DEPTH = 1000


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
    docs = [(r["I"], " ".join((r.get("T", "") + " " + r.get("W", "")).split()))
            for r in parse_records(os.path.join(CRAN, "cran.all.1400"))]
    queries = [" ".join(r["W"].split()) for r in parse_records(os.path.join(CRAN, "cran.qry"))]
    qrels = {}
    with open(os.path.join(CRAN, "cranqrel")) as f:
        for line in f:
            q, d, code = line.split()
            if int(code) > 0:
                qrels.setdefault(str(int(q)), {})[d] = 5 - int(code)
    assert len(docs) == 1400 and len(queries) == 225, (len(docs), len(queries))
    return docs, queries, qrels


def ndcg10(ranking, grades):
    dcg = sum((2 ** grades.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranking[:10]))
    ideal = sorted(grades.values(), reverse=True)[:10]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def average_precision(ranking, grades):
    found, total = 0, 0.0
    for i, d in enumerate(ranking):
        if grades.get(d, 0) > 0:
            found += 1
            total += found / (i + 1)
    relevant = sum(1 for g in grades.values() if g > 0)
    return total / relevant if relevant else 0.0


def evaluate(scores, ids, qrels):
    nd, ap = [], []
    for q, row in enumerate(scores):
        grades = qrels.get(str(q + 1), {})
        if not any(g > 0 for g in grades.values()):
            continue
        ranking = [ids[j] for j in np.argsort(-row, kind="stable")[:DEPTH]]
        nd.append(ndcg10(ranking, grades))
        ap.append(average_precision(ranking, grades))
    return float(np.mean(nd)), float(np.mean(ap))


def bm25_scores(texts, queries, k1=1.2, b=0.75):
    """Okapi BM25, idf ln(1 + (N - df + 0.5) / (df + 0.5)), English stop words."""
    cv = CountVectorizer(stop_words="english")
    c = cv.fit_transform(texts).tocoo()
    n = c.shape[0]
    dl = np.bincount(c.row, weights=c.data, minlength=n)
    df = np.bincount(c.col, minlength=c.shape[1])
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    w = idf[c.col] * c.data * (k1 + 1) / (c.data + k1 * (1 - b + b * dl[c.row] / dl.mean()))
    weights = sp.csr_matrix((w, (c.row, c.col)), shape=c.shape)
    q = (cv.transform(queries) > 0).astype(float)
    return (q @ weights.T).toarray()


def baselines(docs, queries, qrels):
    texts, ids = [t for _, t in docs], [i for i, _ in docs]
    rows = []
    for name, options in [("scikit-learn TF-IDF cosine (defaults)", {}),
                          ("scikit-learn TF-IDF cosine (English stop words, sublinear tf)",
                           {"stop_words": "english", "sublinear_tf": True})]:
        vec = TfidfVectorizer(**options)
        x = vec.fit_transform(texts)
        rows.append((name, *evaluate((vec.transform(queries) @ x.T).toarray(), ids, qrels)))
        if options:
            for dim in (128, 256):
                svd = TruncatedSVD(dim, algorithm="arpack", random_state=0).fit(x)
                xd = normalize(svd.transform(x))
                qd = normalize(svd.transform(vec.transform(queries)))
                rows.append((f"scikit-learn LSA {dim} (same TF-IDF, TruncatedSVD)",
                             *evaluate(qd @ xd.T, ids, qrels)))
    rows.append(("BM25 k1=1.2 b=0.75 (English stop words)",
                 *evaluate(bm25_scores(texts, queries), ids, qrels)))
    return rows


def semdb_eval(binary, docs, queries, qrels, workdir, variants, embedder):
    data = os.path.join(workdir, "cran.jsonl")
    with open(data, "w") as f:
        for doc_id, text in docs:
            f.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    qfile = os.path.join(workdir, "queries.tsv")
    with open(qfile, "w") as f:
        for k, q in enumerate(queries, 1):
            f.write(f"{k}\t{q}\n")
    qrels_file = os.path.join(workdir, "qrels.txt")
    with open(qrels_file, "w") as f:
        for q, judged in qrels.items():
            for d, g in judged.items():
                f.write(f"{q} 0 {d} {g}\n")
    db = tempfile.mkdtemp(dir=workdir)
    create = f"create cran --embedder {embedder}" if embedder else "create cran"
    script = [create, f"import {data}", "stats"]
    script += [f"eval retrieval {qfile} {qrels_file} {options} --json".replace("  ", " ")
               for _, options in variants]
    out = subprocess.run([binary, db, "--json", "--bail"], input="\n".join(script) + "\n",
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"semdb failed: {out.stderr.strip()}")
    lines = out.stdout.strip().split("\n")
    stats = json.loads(lines[-1 - len(variants)])
    results = [json.loads(line) for line in lines[-len(variants):]]
    return stats, [(f"semdb {name}", r["ndcg@10"], r["map"]) for (name, _), r in
                   zip(variants, results)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--semdb", default=os.path.join(ROOT, "build", "shell", "semdb"))
    parser.add_argument("--embedder", default="", help="an embedder spec instead of the default")
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args()
    docs, queries, qrels = load()
    rows = [] if args.no_baselines else baselines(docs, queries, qrels)
    variants = [("default (`create cran`, `import`)", ""),
                ("vector only (--hybrid 0)", "--hybrid 0"),
                ("keyword only (--hybrid 1)", "--hybrid 1"),
                ("--hybrid 0.3", "--hybrid 0.3"),
                ("default with --fusion rrf", "--fusion rrf")]
    with tempfile.TemporaryDirectory() as workdir:
        stats, semdb_rows = semdb_eval(args.semdb, docs, queries, qrels, workdir, variants,
                                       args.embedder)
    facts = stats.get("embedder_facts", {})
    print(f"Cranfield: {len(docs)} documents, {len(queries)} queries, {os.cpu_count()} cores; "
          f"semdb model: {facts.get('mode_reason', '?')}, dim {facts.get('dim', '?')}")
    print("| ranking | nDCG@10 | MAP |")
    print("|---|---|---|")
    for name, ndcg, mean_ap in rows + semdb_rows:
        print(f"| {name} | {ndcg:.4f} | {mean_ap:.4f} |")


if __name__ == "__main__":
    sys.exit(main())
