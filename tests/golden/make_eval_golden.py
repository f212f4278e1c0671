#!/usr/bin/python3
"""Writes tests/data/golden/eval_golden.json: retrieval and similarity
metrics computed by scikit-learn and scipy, for tests/evaluation_test.cc.

nDCG@10: sklearn.metrics.ndcg_score with the gains 2^grade - 1 as y_true
(it uses them as gains, with the log2(rank + 1) discount). AP over a full
ranking: sklearn.metrics.average_precision_score (binary relevance grade >
0). Spearman and Pearson: scipy.stats.
"""
import json
import os

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import average_precision_score, ndcg_score

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "golden",
                   "eval_golden.json")


def main():
    rng = np.random.default_rng(7)
    cases = []
    for _ in range(20):
        n = 30
        grades = [int(g) for g in rng.choice([0, 0, 0, 0, 1, 2, 3, 4], size=n)]
        if not any(grades):
            grades[5] = 2
        scores = rng.permutation(n).astype(float)  # distinct: no ties
        order = np.argsort(-scores)
        gains = np.array([2.0 ** g - 1 for g in grades])
        cases.append({
            "ranking": [f"d{i}" for i in order],
            "judged": {f"d{i}": g for i, g in enumerate(grades) if g > 0},
            "ndcg10": float(ndcg_score([gains], [scores], k=10)),
            "ap": float(average_precision_score([g > 0 for g in grades], scores)),
        })
    x = rng.normal(size=200)
    y = x + rng.normal(size=200)
    y[::7] = y[0]  # ties
    out = {"retrieval": cases,
           "similarity": {"model": x.tolist(), "human": y.tolist(),
                          "spearman": float(spearmanr(x, y).correlation),
                          "pearson": float(pearsonr(x, y)[0])}}
    with open(OUT, "w") as f:
        json.dump(out, f, indent=0)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
