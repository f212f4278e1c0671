"""The package's collection API on the Lee corpus: add, get, list, count,
update, delete, query options, explain, reopen."""
import pytest

import semdb


@pytest.fixture
def lee(tmp_path, lee_texts):
    with semdb.open(tmp_path / "db") as db:
        col = db.create_collection("lee", indexed=["half"])
        ids = col.add(ids=[f"lee-{i + 1}" for i in range(300)], documents=lee_texts,
                      metadatas=[{"line": i + 1, "tens": (i + 1) // 10,
                                  "half": "first" if i < 150 else "second"}
                                 for i in range(300)])
        assert ids[0] == "lee-1" and len(ids) == 300
        yield db, col


def test_database_and_collections(tmp_path):
    db = semdb.open(tmp_path / "db")
    assert db.collections() == []
    col = db.create_collection("notes", embedder="tfidf dim=32", index="hnsw m=16",
                               chunking="sentences max_chars=200")
    info = col.info()
    assert (info["name"], info["embedder"], info["chunking"]) == (
        "notes", "tfidf dim=32", "sentences max_chars=200")
    assert info["index"].startswith("hnsw")
    assert [c["name"] for c in db.collections()] == ["notes"]
    assert db.get_or_create_collection("notes").name == "notes"
    other = db.get_or_create_collection("other", embedder="vectors dim=4")
    assert other.info()["embedder"] == "vectors dim=4"
    assert sorted(c["name"] for c in db.collections()) == ["notes", "other"]
    db.drop_collection("other")
    with pytest.raises(semdb.NotFound, match="other"):
        db.get_collection("other")
    assert repr(db) == f"semdb.Database({str(tmp_path / 'db')!r})"
    db.close()
    assert db.closed


def test_create_collection_takes_every_setting(tmp_path):
    with semdb.open(tmp_path / "db") as db:
        col = db.create_collection("half", embedder="vectors dim=3", indexed=["kind"],
                                   keyword_index=False, vector_storage="float16")
        col.add(ids=["a"], vectors=[[0.1, 0.2, 0.3]], metadatas=[{"kind": "x"}])
        stats = col.stats()
        assert (stats["vector_storage"], stats["vector_encoding"]) == ("float16", "float16")
        assert stats["indexed_fields"] == ["kind"]
        assert "keyword_index" not in stats
        with pytest.raises(semdb.InvalidArgument, match="float8"):
            db.create_collection("bad", vector_storage="float8")
    with semdb.open(tmp_path / "db") as db:  # the settings stay with the collection
        assert db.get_collection("half").stats()["vector_storage"] == "float16"


def test_add_get_list_count(lee, lee_texts):
    db, col = lee
    assert col.count() == 300
    got = col.get(["lee-7", "nosuch", "lee-2"])
    assert got["ids"] == ["lee-7", "lee-2"]
    assert got["documents"] == [lee_texts[6], lee_texts[1]]
    assert got["metadatas"][1] == {"line": 2, "tens": 0, "half": "first"}
    assert got["vectors"] is None
    assert col.get("lee-9")["ids"] == ["lee-9"]
    page = col.get(limit=5, offset=10)
    assert page["ids"] == [f"lee-{i}" for i in range(11, 16)]
    assert len(col.get()["ids"]) == 300
    assert col.get(where='half = "second" AND tens = 20', limit=100)["ids"] == [
        f"lee-{i}" for i in range(200, 210)]
    assert col.count(where='half = "first"') == 150
    assert col.count(where="line <= 25 OR line > 290") == 35
    # Generated ids, and an upsert that replaces.
    new = col.add(documents=["A brand new article about rugby in Sydney"])
    assert len(new) == 1 and new[0] not in got["ids"]
    col.upsert(ids="lee-1", documents="Rugby fans celebrated in Sydney",
               metadatas=[{"line": 1, "half": "first", "v": 2}])
    assert col.get("lee-1")["metadatas"] == [{"line": 1, "half": "first", "v": 2}]
    assert col.count() == 301


def test_update_and_delete(lee):
    db, col = lee
    before = [h.id for h in col.query("bushfires", k=10)]
    col.update(["lee-1", "lee-9", "lee-34"], [{"topic": "fire", "half": "second"},
                                              {"topic": "fire"}, {"topic": "fire"}])
    assert col.get("lee-9")["metadatas"] == [{"topic": "fire"}]
    assert col.count(where='topic = "fire"') == 3
    assert col.count(where='half = "first"') == 147
    for strategy in ("filtered_scan", "exact_scan", "ann"):
        hits = col.query("bushfires", k=10, where='topic = "fire"', strategy=strategy)
        assert sorted(h.id for h in hits) == ["lee-1", "lee-34", "lee-9"]
    # Same texts and vectors: the same ranking.
    assert [h.id for h in col.query("bushfires", k=10)] == before
    with pytest.raises(semdb.NotFound, match="nothing was updated"):
        col.update(["lee-2", "nosuch"], [{"topic": "x"}, {"topic": "x"}])
    assert col.count(where='topic = "x"') == 0

    assert col.delete(["lee-1", "nosuch"]) == 1
    assert col.delete(where="tens = 3") == 9  # lee-34's new metadata has no "tens"
    assert col.count() == 290
    assert col.get([f"lee-{i}" for i in range(30, 40)])["ids"] == ["lee-34"]
    with pytest.raises(semdb.InvalidArgument):
        col.delete()
    with pytest.raises(semdb.InvalidArgument):
        col.delete(["lee-2"], where="tens = 0")


def test_query_options_and_explain(lee):
    db, col = lee
    hits = col.query("bushfires", k=3)
    assert len(hits) == 3 and hits[0].score >= hits[1].score >= hits[2].score
    top = hits[0]
    assert top.metadata["line"] == int(top.id.split("-")[1])
    assert "fire" in top.text
    assert top.passage is None and top.neighbors == [] and top.parent_text is None
    assert top.to_dict() == {"id": top.id, "score": top.score, "score_kind": "fusion score",
                             "text": top.text, "metadata": top.metadata}
    assert repr(top).startswith(f"Hit(id='{top.id}', score=")
    # include: the fields asked for only; ids and scores are the same.
    bare = col.query("bushfires", k=3, include=())
    assert [(h.id, h.score) for h in bare] == [(h.id, h.score) for h in hits]
    assert all(h.text == "" and not h.metadata for h in bare)
    texts = col.query("bushfires", k=3, include="text")
    assert [h.text for h in texts] == [h.text for h in hits]
    assert all(not h.metadata for h in texts)
    with pytest.raises(semdb.InvalidArgument, match="got 'title'"):
        col.query("bushfires", include=("text", "title"))
    many = col.query(["bushfires", "stock market"], k=3)
    assert [[h.id for h in q] for q in many] == [
        [h.id for h in hits], [h.id for h in col.query("stock market", k=3)]]
    filtered = col.query("bushfires", k=5, where='half = "second"')
    assert all(h.metadata["half"] == "second" for h in filtered) and len(filtered) == 5
    hybrid = col.query("bushfires", k=5, hybrid=1.0)
    assert hybrid and all("bushfire" in h.text.lower() for h in hybrid)
    exact = col.query("bushfires", k=5, recall_target=1.0)
    assert [h.id for h in exact] == [h.id for h in col.query("bushfires", k=5)]
    plan = col.explain("bushfires", where='half = "first"')
    assert plan["plan"]["strategy"] in ("exact_scan", "filtered_scan", "ann", "ann_post_filter")
    assert "analyze" in col.explain("bushfires", analyze=True)
    stats = col.stats()
    assert stats["documents"] == 300


def test_reopen_keeps_everything(tmp_path, lee_texts):
    path = tmp_path / "db"
    with semdb.open(path, sync=True) as db:
        col = db.create_collection("lee")
        col.add(documents=lee_texts[:100], metadatas=[{"n": i} for i in range(100)])
        col.update(col.get(limit=1)["ids"], [{"n": -1}])
        before = [(h.id, h.score) for h in col.query("police", k=10)]
    with semdb.open(path, create_if_missing=False) as db:
        col = db.get_collection("lee")
        assert col.count() == 100
        assert col.count(where="n = -1") == 1
        assert [(h.id, h.score) for h in col.query("police", k=10)] == before
    with pytest.raises(semdb.Error):
        semdb.open(tmp_path / "missing", create_if_missing=False)


def test_help_documents_the_api():
    assert "where" in semdb.Collection.query.__doc__
    assert "Retriever" in semdb.Collection.as_retriever.__annotations__["return"]
    assert semdb.Hit.__doc__.startswith("One search result")


def test_one_indexed_field_given_as_a_string(tmp_path):
    """indexed="kind" indexes the field kind, as indexed=["kind"] does (it
    indexed the fields k, i, n and d)."""
    with semdb.open(tmp_path / "db") as db:
        col = db.create_collection("c", indexed="kind")
        assert col.stats()["indexed_fields"] == ["kind"]
        col.add(documents=["cats on the roof", "dogs in the yard"],
                metadatas=[{"kind": "pet"}, {"kind": "wild"}])
        plan = col.explain("cats", where='kind = "pet"')
        assert plan["estimates"]["field_index_covers_filter"] is True, plan


def test_get_or_create_checks_the_spec_given(tmp_path):
    """get_or_create_collection with a spec the existing collection does not
    have is refused, naming the difference, as C++'s GetOrCreateCollection
    and HTTP's PUT are; it silently returned the other collection."""
    with semdb.open(tmp_path / "db") as db:
        col = db.get_or_create_collection("news", embedder="tfidf dim=64", indexed=["line"])
        col.add(documents=["bushfires near Sydney", "rugby in Sydney"])
        again = db.get_or_create_collection("news", embedder="tfidf dim=64", indexed="line")
        assert again.count() == 2
        assert db.get_or_create_collection("news").count() == 2  # no spec: as it is
        with pytest.raises(semdb.FailedPrecondition,
                           match="collection 'news' exists with another spec: .*vectors"):
            db.get_or_create_collection("news", embedder="vectors dim=3", indexed=["line"])
        with pytest.raises(semdb.FailedPrecondition, match="exists with another spec"):
            db.get_or_create_collection("news", embedder="tfidf dim=64")  # no indexed field
        with pytest.raises(TypeError):
            db.get_or_create_collection("news", embeder="tfidf")
        model = col.export_model()
        shared = db.get_or_create_collection("shared", model=model)
        assert semdb.Model(shared.export_model()).fingerprint == semdb.Model(model).fingerprint
        assert db.get_or_create_collection("shared", model=model).name == "shared"


def test_metadatas_take_what_documents_take(tmp_path):
    """add and upsert take one metadata dict for one document (as update
    does, and as documents= takes one text) and metadatas from any
    iterable (as documents= does); both raised pybind11's TypeError."""
    with semdb.open(tmp_path / "db") as db:
        col = db.create_collection("c")
        col.add(ids="a", documents="cats on the roof", metadatas={"kind": "pet"})
        col.add(ids=(f"g{i}" for i in range(2)),
                documents=(t for t in ["dogs in the yard", "fish in the pond"]),
                metadatas=({"kind": k} for k in ["pet", "wild"]))
        col.upsert("a", documents="cats under the roof", metadatas={"kind": "cat"})
        assert col.get(["a", "g0", "g1"])["metadatas"] == [
            {"kind": "cat"}, {"kind": "pet"}, {"kind": "wild"}]
        with pytest.raises(semdb.InvalidArgument, match="^got 2 documents but 1 metadatas$"):
            col.add(documents=["birds", "bees"], metadatas={"kind": "x"})


def test_the_documented_filter_examples_work(tmp_path):
    """The filters the package's help shows (query, count, the module) and
    the README's Python section parse and select what they say; query's
    ('year >= 2000 AND NOT draft') was refused ('expected an operator')."""
    import os
    import re
    from conftest import ROOT
    docs = " ".join([semdb.__doc__, semdb.Collection.query.__doc__,
                     semdb.Collection.count.__doc__]).replace("\n", " ")
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    python_section = readme[readme.index("### Python"):readme.index("### C++")]
    examples = re.findall(r"where: a metadata filter\s+\('([^']+)'\)", docs)
    examples += re.findall(r"where=\"([^\"]+)\"", docs)
    examples += re.findall(r"e\.g\. '([^']+)'", docs)
    examples += re.findall(r"e\.g\.\s+`'([^`]+)'`", python_section)
    examples = [re.sub(r"\s+", " ", e) for e in examples]
    assert len(examples) == 4, examples
    with semdb.open(tmp_path / "db") as db:
        col = db.create_collection("c")
        col.add(ids=["new", "draft", "old"], documents=["fire in the hills", "flood in town",
                                                        "storm at sea"],
                metadatas=[{"year": 2001, "draft": False, "topic": "fire"},
                           {"year": 2005, "draft": True, "topic": "flood"},
                           {"year": 1990, "draft": False, "topic": "fire"}])
        for where in examples:
            got = col.get(where=where)["ids"]
            assert got and "old" not in got, (where, got)


def test_hits_say_what_their_score_is(lee):
    """Hit.score_kind, as the shell's column header, the HTTP hit and
    Hit.to_dict() say it; a Hit had no such attribute."""
    _, col = lee
    for hits, kind in ((col.query("bushfires", k=3), "fusion score"),
                       (col.query("bushfires", k=3, hybrid=0), "cosine"),
                       (col.query("bushfires", k=3, fusion="rrf"), "rank score"),
                       (col.query("bushfires", k=3, hybrid=1), "bm25"),
                       (col.query(col.embed("bushfires")[0], k=3), "cosine"),
                       (col.keyword_search("bushfires", k=3), "bm25")):
        assert hits and all(h.score_kind == kind == h.to_dict()["score_kind"] for h in hits)


def test_update_merges_as_http_patch_does(tmp_path):
    """update(merge=True) is HTTP PATCH's default (RFC 7386); the package
    could only replace."""
    with semdb.open(tmp_path / "db") as db:
        col = db.create_collection("c")
        col.add(ids=["a", "b"], documents=["cats on the roof", "dogs in the yard"],
                metadatas=[{"kind": "pet", "legs": 4, "owner": {"name": "Ann", "age": 30}},
                           {"kind": "pet"}])
        col.update(["a", "b"], [{"legs": None, "owner": {"age": 31}, "new": True},
                                {"kind": "wild"}], merge=True)
        assert col.get(["a", "b"])["metadatas"] == [
            {"kind": "pet", "owner": {"name": "Ann", "age": 31}, "new": True}, {"kind": "wild"}]
        col.update("a", {"only": 1})  # the default still replaces
        assert col.get("a")["metadatas"] == [{"only": 1}]
        with pytest.raises(semdb.NotFound, match="nothing was updated"):
            col.update(["a", "zz"], [{"x": 1}, {"x": 2}], merge=True)
        assert col.get("a")["metadatas"] == [{"only": 1}]


def test_a_query_that_finds_nothing_because_of_its_words_warns(lee):
    """QueryWarning with the shell's note (and HTTP's "note") when a text
    query has no hit because no word of it is known ("fire" is one of
    scikit-learn's stop words); the package returned [] silently."""
    import warnings
    _, col = lee
    note = ("no word of the query is known to the model (stop words or unknown words): "
            "answered by the keyword ranking alone")
    with pytest.warns(semdb.QueryWarning) as caught:
        assert col.query("fire") == []
        assert [len(hits) > 0 for hits in col.query(["fires", "the zzyzx"])] == [True, False]
    assert [str(w.message) for w in caught] == [f"query 'fire': {note}",
                                                f"query 'the zzyzx': {note}"]
    assert all(w.filename == __file__ for w in caught)  # the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert col.query("bushfires", k=1)  # hits: no warning
        assert col.query("bushfires", where="line < 0") == []  # the filter's doing
        assert col.query(col.embed("bushfires")[0], k=1)
