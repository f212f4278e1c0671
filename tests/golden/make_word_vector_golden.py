#!/usr/bin/python3
"""Golden word queries and word-similarity scores, computed with numpy/scipy.

Writes tests/data/golden/word_vectors.json with:
  - "queries": for ../shared/data/gensim/test_glove.txt, the 5 nearest words
    (3CosAdd: signed sum of unit vectors, cosine ranking, input words
    excluded) of a few words and analogy expressions;
  - "wordsim": Spearman's rho (scipy.stats.spearmanr) between the human
    scores of wordsim353.tsv and the cosines of the word vectors, with the
    pairs used and skipped, for the shared vector files. Text files are read
    here; fastText .bin vectors (including n-gram vectors of unknown words)
    come from Debian's `fasttext print-word-vectors`;
  - "documents": mean and SIF document vectors (Arora et al. 2017, the first
    principal component from scikit-learn's TruncatedSVD, uncentered) of
    every 10th text of lee_background.cor, all 300 fitted, with
    lee_fasttext.vec (word frequencies from the texts) and
    lee_fasttext_new.bin (frequencies from the model's counts, `fasttext dump
    dict`). Tokens: \\w+ runs of the NFKC text (the corpus is ASCII, where
    this is semdb's tokenizer), case kept.
Run from anywhere: tests/golden/make_word_vector_golden.py
"""
import json
import os
import re
import subprocess
import unicodedata

import numpy as np
import scipy
import sklearn
from scipy.stats import spearmanr
from sklearn.decomposition import TruncatedSVD

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "..", "shared", "data", "gensim")
OUT = os.path.join(ROOT, "tests", "data", "golden", "word_vectors.json")

QUERIES = ["he", "year", "his - he + she", "was - has + have", "percent"]

# (file, how semdb reads it, lowercase)
WORDSIM_SOURCES = [
    ("test_glove.txt", "glove", True),
    ("EN.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt", "word2vec", False),
    ("lee_fasttext.vec", "fasttext", False),
    ("lee_fasttext_new.bin", "fasttext", False),
    ("crime-and-punishment.bin", "fasttext", False),
    ("toy-model.vec", "fasttext", False),
    ("toy-model.bin", "fasttext", False),
    ("pang_lee_polarity_fasttext.bin", "fasttext", False),
]


def read_text_vectors(path):
    vectors = {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    first = lines[0].split()
    if len(first) == 2 and all(x.isdigit() for x in first):
        lines = lines[1:]
    for line in lines:
        fields = line.rstrip().split(" ")
        if len(fields) < 2:
            continue
        if fields[0] not in vectors:  # the first vector of a word wins
            vectors[fields[0]] = np.array(fields[1:], dtype=np.float32).astype(np.float64)
    return vectors


def fasttext_vectors(path, words):
    out = subprocess.run(["fasttext", "print-word-vectors", path],
                         input=("\n".join(words) + "\n").encode("utf-8"),
                         stdout=subprocess.PIPE, check=True).stdout.decode("utf-8")
    vectors = {}
    for word, line in zip(words, out.split("\n")):
        fields = line.rstrip(" ").split(" ")
        assert fields[0] == word
        v = np.array(fields[1:], dtype=np.float64)
        if np.any(v != 0):  # fastText prints zeros for a word with no vector
            vectors[word] = v
    return vectors


def nearest(vectors, expression, k=5):
    words = list(vectors)
    unit = np.array([vectors[w] / np.linalg.norm(vectors[w]) for w in words])
    index = {w: i for i, w in enumerate(words)}
    tokens = expression.split()
    query = np.zeros(unit.shape[1])
    sign = 1
    used = []
    for t in tokens:
        if t in "+-":
            sign = 1 if t == "+" else -1
            continue
        query += sign * unit[index[t]]
        used.append(t)
    query /= np.linalg.norm(query)
    scores = unit @ query
    order = [i for i in np.argsort(-scores, kind="stable") if words[i] not in used][:k]
    return [{"word": words[i], "cosine": float(scores[i])} for i in order]


def wordsim(vectors_of, lowercase):
    pairs = []
    with open(os.path.join(DATA, "wordsim353.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            a, b, score = line.split("\t")[:3]
            if lowercase:
                a, b = a.lower(), b.lower()
            pairs.append((a, b, float(score)))
    vectors = vectors_of(sorted({w for a, b, _ in pairs for w in (a, b)}))
    human, cosine, skipped = [], [], 0
    for a, b, score in pairs:
        if a not in vectors or b not in vectors:
            skipped += 1
            continue
        va, vb = vectors[a], vectors[b]
        human.append(score)
        cosine.append(float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb))))
    rho = spearmanr(human, cosine).correlation if len(human) >= 2 else None
    return {"spearman": rho,
            "pairs_used": len(human), "pairs_skipped": skipped}


def tokens(text):
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text))


def model_counts(path):
    out = subprocess.run(["fasttext", "dump", path, "dict"], stdout=subprocess.PIPE,
                         check=True).stdout.decode("utf-8", "surrogateescape").split("\n")[1:]
    counts = {}
    for line in out:
        if line:
            word, count, kind = line.rsplit(" ", 2)
            if kind == "word":
                counts[word] = int(count)
    return counts


def documents(name, a=1e-3):
    with open(os.path.join(DATA, "lee_background.cor"), encoding="utf-8") as f:
        docs = [line.rstrip("\n") for line in f if line.strip()]
    toks = [tokens(d) for d in docs]
    vocab = sorted({t for ts in toks for t in ts})
    path = os.path.join(DATA, name)
    if name.endswith(".bin"):
        vectors = fasttext_vectors(path, vocab)
        counts = model_counts(path)
        total = sum(counts.values())
        p = {w: counts.get(w, 0) / total for w in vocab}
        entries = counts
    else:
        table = read_text_vectors(path)
        vectors = {w: table[w] for w in vocab if w in table}
        total = sum(len(ts) for ts in toks)
        corpus = {}
        for ts in toks:
            for t in ts:
                if t in vectors:
                    corpus[t] = corpus.get(t, 0) + 1
        p = {w: corpus.get(w, 0) / total for w in vocab}
        entries = table
    dim = len(next(iter(vectors.values())))

    def average(ts, weighted):
        known = [t for t in ts if t in vectors]
        if not known:
            return np.zeros(dim)
        return sum((a / (a + p[t]) if weighted else 1.0) * vectors[t] for t in known) / len(known)

    mean = np.array([average(ts, False) for ts in toks])
    sif = np.array([average(ts, True) for ts in toks])
    svd = TruncatedSVD(n_components=1, algorithm="arpack").fit(sif[np.any(sif != 0, axis=1)])
    u = svd.components_[0]
    sif = sif - np.outer(sif @ u, u)

    def unit(v):
        n = np.linalg.norm(v)
        return v / n if n > 0 else v

    subset = list(range(0, len(docs), 10))
    return {"file": "gensim/" + name, "sif_a": a,
            "texts": subset,
            "tokens": [len(toks[i]) for i in subset],
            # Tokens without a vocabulary entry (fastText .bin still gives
            # them n-gram vectors).
            "unknown": [sum(1 for t in toks[i] if t not in entries) for i in subset],
            "mean": [unit(mean[i]).tolist() for i in subset],
            "sif": [unit(sif[i]).tolist() for i in subset]}


def main():
    glove = read_text_vectors(os.path.join(DATA, "test_glove.txt"))
    golden = {"scipy": scipy.__version__, "numpy": np.__version__,
              "sklearn": sklearn.__version__,
              "queries": {q: nearest(glove, q) for q in QUERIES}, "wordsim": []}
    for name, kind, lowercase in WORDSIM_SOURCES:
        path = os.path.join(DATA, name)
        if name.endswith(".bin"):
            def vectors_of(words, path=path):
                return fasttext_vectors(path, words)
        else:
            table = read_text_vectors(path)

            def vectors_of(words, table=table):
                return {w: table[w] for w in words if w in table}
        result = wordsim(vectors_of, lowercase)
        result.update({"file": "gensim/" + name, "kind": kind, "lowercase": lowercase})
        golden["wordsim"].append(result)
    golden["documents"] = [documents("lee_fasttext.vec"), documents("lee_fasttext_new.bin")]
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
