#!/usr/bin/python3
"""Writes tests/data/golden/bm25_golden.json: textbook BM25 scores for a small
corpus, computed independently of semdb for tests/keyword_index_test.cc.

BM25 (Robertson et al.; the idf as in Lucene, never negative), over the
distinct query terms t:
  idf(t)  = ln(1 + (N - df + 0.5) / (df + 0.5))
  score   = sum_t idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl))
with k1 = 1.2, b = 0.75. Terms: lower-cased runs of two or more word
characters (the corpus is ASCII, where this equals semdb's tokenizer), minus
scikit-learn's English stop words, stemmed by Snowball English
(python3-snowballstemmer; semdb uses the C libstemmer), as TF-IDF does.
"""
import json
import math
import os
import re

import snowballstemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

K1, B = 1.2, 0.75

CORPUS = [
    "Bushfires threaten homes near Sydney as winds rise",
    "Firefighters battle bushfires in the Blue Mountains west of Sydney",
    "The stock market fell sharply as investors sold shares",
    "Investors bought shares after the market rallied on Monday",
    "Heavy rain and floods hit northern New South Wales",
    "Floods cut roads and rain keeps falling in the north",
    "Cricket: Australia wins the first test match in Sydney",
    "The test match was drawn after rain stopped play",
    "Government minister announces new bushfire funding",
    "The minister says the government will not change the market rules",
    "Winds and rain: a storm front crosses the coast",
    "Sydney Sydney Sydney: a city that appears three times in this text",
]
QUERIES = ["bushfires sydney", "market shares investors", "rain", "test match rain",
           "minister government market", "sydney"]
REMOVED = 1  # the second scenario drops this document


STEMMER = snowballstemmer.stemmer("english")


def tokens(text):
    return [STEMMER.stemWord(w) for w in re.findall(r"\w\w+", text.lower())
            if w not in ENGLISH_STOP_WORDS]


def scores(docs, query):
    n = len(docs)
    toks = [tokens(d) for d in docs]
    avgdl = sum(len(t) for t in toks) / n
    out = {}
    for term in sorted(set(tokens(query))):
        df = sum(1 for t in toks if term in t)
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for i, t in enumerate(toks):
            tf = t.count(term)
            if tf:
                out[i] = out.get(i, 0.0) + idf * tf * (K1 + 1) / (
                    tf + K1 * (1 - B + B * len(t) / avgdl))
    return out


def main():
    kept = [i for i in range(len(CORPUS)) if i != REMOVED]
    golden = {
        "corpus": CORPUS,
        "removed": REMOVED,
        "queries": [
            {
                "query": q,
                "scores": {str(i): s for i, s in scores(CORPUS, q).items()},
                "scores_after_removal": {
                    str(kept[i]): s for i, s in scores([CORPUS[j] for j in kept], q).items()
                },
            }
            for q in QUERIES
        ],
    }
    path = os.path.join(os.path.dirname(__file__), "..", "data", "golden", "bm25_golden.json")
    with open(path, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
