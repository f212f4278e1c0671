#!/usr/bin/python3
"""Golden fastText word and sentence vectors from Debian's `fasttext` command.

For each fastText .bin model in ../shared/data/gensim/, runs
  fasttext print-word-vectors MODEL      on in-vocabulary words (taken from
                                         `fasttext dump MODEL dict`) and on
                                         out-of-vocabulary words,
  fasttext print-sentence-vectors MODEL  on lines of real text and on crafted
                                         lines (extra spaces, tabs, unknown
                                         words, an empty line),
and writes tests/data/golden/fasttext_vectors.json. Vectors are kept as the
exact text fastText prints (5 significant digits), so tests know each
value's printed precision.
Run from anywhere: tests/golden/make_fasttext_golden.py
"""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "..", "shared", "data", "gensim")
OUT = os.path.join(ROOT, "tests", "data", "golden", "fasttext_vectors.json")

# model file -> corpus whose first lines serve as real sentences.
MODELS = {
    "lee_fasttext_new.bin": "lee.cor",
    "crime-and-punishment.bin": "crime-and-punishment.txt",
    "toy-model.bin": "lee.cor",
    "toy-model-pretrained.bin": "lee.cor",
    "pang_lee_polarity_fasttext.bin": "pang_lee_polarity.cor",
}

OOV_CANDIDATES = [
    "xyzzy", "semdb", "unbelievableness", "preprocessing", "Raskolnikovesque",
    "петербургский", "раскольниковщина", "naïve", "coöperate", "über",
    "COVID-19", "e-mail", "123abc", "a", "zz", "hello", "worldwide",
]

CRAFTED_SENTENCES = [
    "hello world",
    "  leading and   repeated\tspaces\tand tabs  ",
    "xyzzy qwrtp semdb",
    "",
    "the the the",
    "Раскольников вышел на улицу",
]


def run(args, text):
    out = subprocess.run(args, input=text.encode("utf-8"), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, check=True)
    # Dictionaries may hold words that are not UTF-8 (pang_lee has some).
    return out.stdout.decode("utf-8", "surrogateescape").split("\n")[:-1]


def dictionary(model):
    lines = run(["fasttext", "dump", model, "dict"], "")
    words = []
    for line in lines[1:]:
        word, _count, kind = line.rsplit(" ", 2)
        # print-word-vectors reads whitespace-separated words: an empty
        # entry (toy-model-pretrained has one) cannot be asked for. The
        # golden JSON holds only UTF-8 words.
        if (kind == "word" and word and not any(c.isspace() for c in word)
                and not any("\udc80" <= c <= "\udcff" for c in word)):
            words.append(word)
    return words


def word_vectors(model, words, dim):
    lines = run(["fasttext", "print-word-vectors", model], "\n".join(words) + "\n")
    assert len(lines) == len(words), (model, len(lines), len(words))
    out = {}
    for word, line in zip(words, lines):
        fields = line.rstrip(" ").split(" ")
        assert fields[0] == word and len(fields) == dim + 1, (model, word, line)
        out[word] = " ".join(fields[1:])
    return out


def sentence_vectors(model, sentences, dim):
    lines = run(["fasttext", "print-sentence-vectors", model], "\n".join(sentences) + "\n")
    assert len(lines) == len(sentences), (model, len(lines), len(sentences))
    out = []
    for sentence, line in zip(sentences, lines):
        fields = line.rstrip(" ").split(" ")
        assert len(fields) == dim, (model, sentence, line)
        out.append({"text": sentence, "vector": " ".join(fields)})
    return out


def main():
    golden = {"fasttext": subprocess.run(["dpkg-query", "-W", "-f=${Version}", "fasttext"],
                                         stdout=subprocess.PIPE, check=True).stdout.decode(),
              "models": []}
    for name, corpus in MODELS.items():
        model = os.path.join(DATA, name)
        args = dict(line.split(" ", 1) for line in run(["fasttext", "dump", model, "args"], ""))
        dim = int(args["dim"])
        vocab = dictionary(model)
        known = set(vocab)
        # The 15 most frequent words, then an even spread over the rest.
        step = max(1, (len(vocab) - 15) // 15)
        in_vocab = vocab[:15] + vocab[15::step][:15]
        oov = [w for w in OOV_CANDIDATES if w not in known]
        oov += [w + "ness" for w in vocab[15:60] if w + "ness" not in known][:5]
        with open(os.path.join(DATA, corpus), encoding="utf-8", errors="replace") as f:
            real = [line.rstrip("\n") for line in f if line.strip()][:4]
        golden["models"].append({
            "file": "gensim/" + name,
            "dim": dim,
            "model": args["model"],
            "maxn": int(args["maxn"]),
            "in_vocabulary": word_vectors(model, in_vocab, dim),
            "out_of_vocabulary": word_vectors(model, oov, dim),
            "sentences": sentence_vectors(model, real + CRAFTED_SENTENCES, dim),
        })
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
