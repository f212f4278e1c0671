"""The package and the C++ shell give identical results on the same
database (Lee, Cranfield, the Wikipedia articles), and the retriever
returns cited passages in the HTTP API's shapes."""

import pytest

import semdb
from conftest import assert_same_hits, shell_json


def quote(text):
    return '"' + " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_lee_filtered_search_matches_the_shell(tmp_path, lee_texts):
    path = str(tmp_path / "db")
    with semdb.open(path) as db:
        col = db.create_collection("lee", indexed=["half"])
        col.add(documents=lee_texts,
                metadatas=[{"line": i + 1, "half": "first" if i < 150 else "second"}
                           for i in range(300)])
        col.update(["_1", "_9"], [{"line": 1, "half": "second", "topic": "fire"},
                                {"line": 9, "half": "first", "topic": "fire"}])
    searches = [("bushfires", "--k 10"),
                ("bushfires", '--k 7 --where half = "second"'),
                ("police investigation", '--k 5 --where topic EXISTS OR line < 20'),
                ("stock market", "--k 10 --hybrid 0.5")]
    shell = shell_json(path, ["use lee"] + [f"search {q} {o}" for q, o in searches])
    assert len(shell) == len(searches)
    with semdb.open(path) as db:
        col = db.get_collection("lee")
        python = [col.query("bushfires", k=10),
                  col.query("bushfires", k=7, where='half = "second"'),
                  col.query("police investigation", k=5, where="topic EXISTS OR line < 20"),
                  col.query("stock market", k=10, hybrid=0.5)]
    for got, expected in zip(python, shell):
        assert_same_hits([h.to_dict() for h in got], expected)
    # The shell reads what Python wrote.
    get = shell_json(path, ["use lee", "get _9"])[0]
    assert get["metadata"] == {"line": 9, "half": "first", "topic": "fire"}
    assert get["text"] == lee_texts[8]


def test_cranfield_queries_match_the_shell(tmp_path, cranfield):
    ids, texts, queries = cranfield
    path = str(tmp_path / "db")
    with semdb.open(path) as db:
        col = db.create_collection("cran", index="hnsw m=16 ef_search=64")
        col.add(ids=ids, documents=texts)
        python = col.query(queries[:40], k=10)
    shell = shell_json(path, ["use cran"] + [f"search {quote(q)} --k 10" for q in queries[:40]])
    assert len(shell) == 40
    for got, expected in zip(python, shell):
        assert_same_hits([h.to_dict() for h in got], expected)


def test_wikipedia_retriever_matches_the_shell(tmp_path, wikipedia_articles):
    folder, articles = wikipedia_articles
    path = str(tmp_path / "db")
    question = "Which philosopher tutored Alexander the Great and studied under Plato?"
    with semdb.open(path) as db:
        col = db.create_collection("wiki", chunking="sentences max_chars=800")
        names = sorted(articles)
        col.add(ids=names, documents=[articles[n] for n in names],
                metadatas=[{"source": str(folder / n)} for n in names])
        assert col.count() == len(articles)
        assert col.info()["passages"] > len(articles)
        retriever = col.as_retriever(k=3, neighbors=1)
        passages = retriever.invoke(question)
        assert retriever.retrieve(question) == passages
        hits = col.query(question, k=3, one_per_parent=True, neighbors=1)
    assert passages[0]["id"] == "Aristotle.txt"
    assert passages[0]["source"] == str(folder / "Aristotle.txt")
    assert len({p["id"] for p in passages}) == 3
    for p, hit in zip(passages, hits):
        data = articles[p["id"]].encode("utf-8")
        # The byte range is where the passage and the context lie.
        b, e = p["passage"]["begin"], p["passage"]["end"]
        assert data[b:e].decode("utf-8") == p["text"]
        assert p["begin"] <= b and e <= p["end"]
        assert p["context"] == hit.context
        assert p["text"] in p["context"]
        for n in p["neighbors"]:
            assert data[n["begin"]:n["end"]].decode("utf-8") == n["text"]
    shell = shell_json(path, ["use wiki",
                              f"search {question} --k 3 --dedupe --neighbors 1"])[0]
    strip = ("source", "context", "begin", "end")
    assert_same_hits([{k: v for k, v in p.items() if k not in strip} for p in passages], shell)
    assert_same_hits([h.to_dict() for h in hits], shell)
