#!/usr/bin/python3
"""Golden TF-IDF and LSA outputs from scikit-learn for semdb's TF-IDF embedder.

Reads ../shared/data/gensim/lee_background.cor (one document a line) and
writes tests/data/golden/tfidf_lee.json with, for each configuration:
  - idf of every vocabulary term,
  - the L2-normalized TF-IDF rows of a fixed subset of documents,
  - the cosine matrix of the LSA document vectors (TruncatedSVD, ARPACK:
    the exact top singular vectors) on the same subset.
Run from the repository root: tests/golden/make_tfidf_golden.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "..", "shared", "data", "gensim", "lee_background.cor")
OUT = os.path.join(ROOT, "tests", "data", "golden", "tfidf_lee.json")

# Documents whose rows and cosines are recorded (every 7th: 43 documents).
SUBSET = list(range(0, 300, 7))

CONFIGS = [
    # scikit-learn's defaults.
    {"name": "sklearn_defaults", "stop_words": None, "sublinear_tf": False, "dim": 256},
    # semdb's defaults.
    {"name": "semdb_defaults", "stop_words": "english", "sublinear_tf": True, "dim": 256},
    {"name": "english_dim64", "stop_words": "english", "sublinear_tf": False, "dim": 64},
]


def main():
    with open(CORPUS, encoding="utf-8") as f:
        docs = f.read().split("\n")
    docs = [d for d in docs if d != ""] if docs[-1] == "" else docs
    assert len(docs) == 300, len(docs)
    out = {"sklearn_version": sklearn.__version__, "corpus": "lee_background.cor",
           "documents": len(docs), "subset": SUBSET, "configs": []}
    for cfg in CONFIGS:
        vec = TfidfVectorizer(stop_words=cfg["stop_words"], sublinear_tf=cfg["sublinear_tf"],
                              smooth_idf=True, norm="l2", lowercase=True)
        x = vec.fit_transform(docs)
        terms = vec.get_feature_names_out()
        svd = TruncatedSVD(n_components=cfg["dim"], algorithm="arpack", random_state=0)
        lsa = normalize(svd.fit_transform(x))
        sub = lsa[SUBSET]
        cos = sub @ sub.T
        rows = []
        for d in SUBSET:
            r = x[d].tocoo()
            rows.append({terms[c]: float(v) for c, v in zip(r.col, r.data)})
        out["configs"].append({
            "name": cfg["name"],
            "spec": "tfidf lsa=true stemmer=none dim=%d stop_words=%s sublinear_tf=%s svd=exact docs_per_dim=1" % (
                cfg["dim"], cfg["stop_words"] or "none", str(cfg["sublinear_tf"]).lower()),
            "idf": {t: float(v) for t, v in zip(terms, vec.idf_)},
            "rows": rows,
            "lsa_cosine": [[round(float(v), 7) for v in row] for row in cos],
            "singular_values": [float(v) for v in svd.singular_values_[:10]],
        })
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, separators=(",", ":"), sort_keys=True)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
