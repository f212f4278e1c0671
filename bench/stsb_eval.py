#!/usr/bin/python3
"""Sentence similarity on STS Benchmark dev: semdb's `eval similarity` with a
newcomer's defaults beside scikit-learn TF-IDF cosine fitted on the same
sentences, in the same run.

semdb: `create sts`, `import sentences.txt` (every sentence of the split, one
a line), `eval similarity sts-dev.tsv --json` through the real shell.
Reference: TfidfVectorizer (defaults, and English stop words + sublinear tf)
fitted on the same sentences; Spearman and Pearson x100 (scipy.stats)
between the cosine and the human score.

usage: bench/stsb_eval.py [--semdb build/shell/semdb] [--split dev|train]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.feature_extraction.text import TfidfVectorizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STSB = os.path.join(ROOT, "..", "shared", "data", "stsb")


def load(split):
    pairs = []
    with open(os.path.join(STSB, f"sts-{split}.tsv"), encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            pairs.append((fields[5], fields[6], float(fields[4])))
    return pairs


def sklearn_row(pairs, sentences, **options):
    vec = TfidfVectorizer(**options).fit(sentences)
    a = vec.transform([p[0] for p in pairs])
    b = vec.transform([p[1] for p in pairs])
    cos = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    gold = [p[2] for p in pairs]
    return 100 * spearmanr(cos, gold).correlation, 100 * pearsonr(cos, gold)[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--semdb", default=os.path.join(ROOT, "build", "shell", "semdb"))
    parser.add_argument("--split", default="dev")
    parser.add_argument("--embedder", default="", help="an embedder spec instead of the default")
    args = parser.parse_args()
    pairs = load(args.split)
    sentences = [s for p in pairs for s in p[:2]]
    rows = [("scikit-learn TF-IDF cosine (defaults)", *sklearn_row(pairs, sentences)),
            ("scikit-learn TF-IDF cosine (English stop words, sublinear tf)",
             *sklearn_row(pairs, sentences, stop_words="english", sublinear_tf=True))]
    with tempfile.TemporaryDirectory() as workdir:
        data = os.path.join(workdir, "sentences.txt")
        with open(data, "w", encoding="utf-8") as f:
            f.write("\n".join(" ".join(s.split()) for s in sentences) + "\n")
        create = f"create sts --embedder {args.embedder}" if args.embedder else "create sts"
        script = [create, f"import {data} --format lines", "stats",
                  f"eval similarity {os.path.join(STSB, f'sts-{args.split}.tsv')} --json"]
        out = subprocess.run([args.semdb, os.path.join(workdir, "db"), "--json", "--bail"],
                             input="\n".join(script) + "\n", capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"semdb failed: {out.stderr.strip()}")
        lines = out.stdout.strip().split("\n")
        stats, result = json.loads(lines[-2]), json.loads(lines[-1])
    facts = stats.get("embedder_facts", {})
    rows.append((f"semdb {args.embedder or 'default'} (`create sts`, `import`)",
                 result["spearman"], result["pearson"]))
    print(f"STS-B {args.split}: {len(pairs)} pairs, {len(sentences)} sentences, "
          f"{os.cpu_count()} cores; semdb model: {facts.get('mode_reason', '?')}, "
          f"dim {facts.get('dim', '?')}")
    print("| similarity | Spearman x100 | Pearson x100 |")
    print("|---|---|---|")
    for name, rho, r in rows:
        print(f"| {name} | {rho:.2f} | {r:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
