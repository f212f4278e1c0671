"""Every exception type with the library's message, and handles used after
close (never a crash)."""
import threading

import numpy as np
import pytest

import semdb


@pytest.fixture
def db(tmp_path):
    with semdb.open(tmp_path / "db") as db:
        yield db


def test_hierarchy():
    for cls in (semdb.NotFound, semdb.AlreadyExists, semdb.InvalidArgument,
                semdb.FailedPrecondition):
        assert issubclass(cls, semdb.Error) and issubclass(cls, Exception)
        assert cls.__module__ == "semdb"


def test_not_found(db):
    db.create_collection("a")
    with pytest.raises(semdb.NotFound, match=r"no collection 'b' \(have: a\)"):
        db.get_collection("b")
    with pytest.raises(semdb.NotFound):
        db.drop_collection("b")
    col = db.get_collection("a")
    db.drop_collection("a")
    with pytest.raises(semdb.NotFound, match="dropped"):
        col.count()
    with pytest.raises(semdb.NotFound, match="dropped"):
        col.get(["x"])


def test_already_exists(db):
    col = db.create_collection("a")
    with pytest.raises(semdb.AlreadyExists):
        db.create_collection("a")
    col.add(ids=["x"], documents=["the first text"])
    with pytest.raises(semdb.AlreadyExists, match="document 'x' already exists"):
        col.add(ids=["y", "x"], documents=["another text", "again"])
    assert col.count() == 1  # nothing of the batch


def test_invalid_argument(db):
    with pytest.raises(semdb.InvalidArgument, match="unknown parameter 'dimm'"):
        db.create_collection("t", embedder="tfidf dimm=3")
    with pytest.raises(semdb.InvalidArgument):
        db.create_collection("bad name!")
    col = db.create_collection("t")
    col.add(ids=["a", "b"], documents=["cats and dogs", "markets and shares"])
    with pytest.raises(semdb.InvalidArgument, match="k must be between 1 and"):
        col.query("cats", k=0)
    with pytest.raises(semdb.InvalidArgument, match="position|expected"):
        col.query("cats", where="year >>= 3")
    with pytest.raises(semdb.InvalidArgument, match="text is empty"):
        col.add(documents=["   "])
    with pytest.raises(semdb.InvalidArgument, match="not JSON"):
        col.add(documents=["x y"], metadatas=[{"when": object()}])
    with pytest.raises(semdb.InvalidArgument, match="keys must be strings"):
        col.add(documents=["x y"], metadatas=[{1: 2}])
    with pytest.raises(semdb.InvalidArgument, match="metadata must be a JSON object"):
        col.add(documents=["x y"], metadatas=[[1, 2]])
    with pytest.raises(semdb.InvalidArgument, match="NaN"):
        col.add(documents=["x y"], metadatas=[{"v": float("nan")}])
    with pytest.raises(semdb.InvalidArgument, match="^got 2 ids but 1 documents$"):
        col.add(ids=["c", "d"], documents=["one text"])
    with pytest.raises(semdb.InvalidArgument, match="unknown strategy|strategy"):
        col.query("cats", strategy="fastest")
    with pytest.raises(semdb.InvalidArgument, match="hybrid"):
        col.query("cats", hybrid=2.0)
    # The search widths in the shell's and HTTP's range (0 was the default).
    for width in ("nprobe", "ef_search"):
        for bad in (0, -3, 2**20 + 1):
            with pytest.raises(semdb.InvalidArgument,
                               match=rf"^{width} must be from 1 to 1048576, got {bad}$"):
                col.query("cats", **{width: bad})
        assert col.query("cats", **{width: 2**20})
    vec = db.create_collection("v", embedder="vectors dim=3")
    with pytest.raises(semdb.InvalidArgument, match="dimension 2, the collection has 3"):
        vec.add(vectors=np.ones((1, 2), np.float32))
    with pytest.raises(semdb.InvalidArgument, match="NaN or infinity"):
        vec.add(vectors=np.array([[1, np.nan, 0]], np.float32))
    with pytest.raises(semdb.InvalidArgument, match="zero length"):
        vec.add(vectors=np.zeros((1, 3), np.float32))
    with pytest.raises(semdb.InvalidArgument, match="2-d array"):
        vec.add(vectors=np.ones((1, 1, 3), np.float32))
    with pytest.raises(semdb.InvalidArgument, match="^got 2 ids but 1 vectors$"):  # not documents
        vec.add(ids=["a", "b"], vectors=np.ones((1, 3), np.float32))
    with pytest.raises(semdb.InvalidArgument, match="^got 1 vectors but 2 metadatas$"):
        vec.add(vectors=np.ones((1, 3), np.float32), metadatas=[{}, {}])
    for limit in (-1, -5):  # -1 was taken as no limit, -5 named -1
        with pytest.raises(semdb.InvalidArgument,
                           match=rf"^limit must be None \(no limit\) or 0 or more, got {limit}$"):
            col.get(limit=limit)
    with pytest.raises(semdb.InvalidArgument, match="^offset must not be negative$"):
        col.get(offset=-1)
    with pytest.raises(TypeError, match="^limit must be an int, not a str: '5'$"):
        col.get(limit="5")
    assert col.get(limit=0)["ids"] == [] and len(col.get(limit=None)["ids"]) == 2
    assert col.count() == 2 and vec.count() == 0


def test_failed_precondition(db, tmp_path):
    vec = db.create_collection("v", embedder="vectors dim=3")
    vec.add(vectors=[[1, 0, 0]])
    with pytest.raises(semdb.FailedPrecondition, match="search it with a vector"):
        vec.query("a text")
    with pytest.raises(semdb.FailedPrecondition, match="no embedder"):
        vec.embed(["a text"])
    # Opened again in this process (a notebook cell run twice): the message
    # says so (it spoke of another process only).
    with pytest.raises(semdb.FailedPrecondition,
                       match=r"is locked: another process has it open, or this one through "
                             r"another handle \(close that one first\)"):
        semdb.open(tmp_path / "db")
    with pytest.raises(semdb.InvalidArgument, match="^the database path is empty$"):
        semdb.open("")  # was the base Error "cannot create : Invalid argument"
    empty = db.create_collection("empty")
    with pytest.raises(semdb.FailedPrecondition, match="no fitted model"):
        empty.embed("words")


def test_use_after_close(tmp_path):
    db = semdb.open(tmp_path / "db")
    col = db.create_collection("c")
    col.add(documents=["some text about cats", "other text about dogs"])
    db.close()
    db.close()  # idempotent
    assert db.closed
    for call in (lambda: col.query("cats"), lambda: col.count(), lambda: col.get(["1"]),
                 lambda: col.add(documents=["x"]), lambda: col.embed(["cats"]),
                 lambda: col.info(), lambda: db.collections(),
                 lambda: db.get_collection("c"), lambda: db.create_collection("d")):
        with pytest.raises(semdb.FailedPrecondition, match="is closed"):
            call()
    # The database can be opened again (the lock was released).
    with semdb.open(tmp_path / "db") as again:
        assert again.get_collection("c").count() == 2
    assert again.closed


def test_close_while_other_threads_search(tmp_path, lee_texts):
    """close() waits for searches in flight; later ones raise; no crash.
    The close comes once every thread has finished a search (an event, not
    a time: the machine may be loaded)."""
    db = semdb.open(tmp_path / "db")
    col = db.create_collection("lee")
    col.add(documents=lee_texts)
    outcomes = []
    searched = [threading.Event() for _ in range(3)]

    def search(first_done):
        done = 0
        try:
            while True:
                assert len(col.query("bushfires near Sydney", k=5)) == 5
                done += 1
                first_done.set()
        except semdb.FailedPrecondition as e:
            outcomes.append((done, str(e)))
            first_done.set()

    threads = [threading.Thread(target=search, args=(e,)) for e in searched]
    for t in threads:
        t.start()
    for e in searched:
        assert e.wait(timeout=120), "a searching thread never finished a search"
    db.close()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == 3
    assert all("is closed" in message for _, message in outcomes)
    assert all(done > 0 for done, _ in outcomes)


def test_wrong_types_name_the_argument(db):
    """A value of the wrong type is a TypeError naming the argument, not
    pybind11's list of the extension's overloads (which named internals
    such as _QueryOptions) nor numpy's conversion error."""
    col = db.create_collection("t")
    col.add(ids=["a", "b"], documents=["cats and dogs", "markets and shares"])
    for call, message in (
            (lambda: col.query("cats", k="3"), r"^k must be an int, not a str: '3'$"),
            (lambda: col.query("cats", k=2.5), r"^k must be an int, not a float: 2.5$"),
            (lambda: col.query("cats", where=5), r"^where must be a str, not an int: 5$"),
            (lambda: col.query("cats", hybrid="0.5"), r"^hybrid must be a number"),
            (lambda: col.query("cats", one_per_parent=1), r"^one_per_parent must be True or"),
            (lambda: col.explain("cats", nprobe="8"), r"^nprobe must be an int"),
            (lambda: col.keyword_search("cats", k=None), r"^k must be an int, not a NoneType"),
            (lambda: col.query("cats", include=["text", 3]), r"^include must be strings; "
                                                             r"include\[1\] is an int"),
            (lambda: col.query(None), r"^the query must be a text, a list of texts, a vector"),
            (lambda: col.query(5), r"^the query must be a text.*not an int: 5$"),
            (lambda: col.query(["cats", 1]), r"^queries must be strings; queries\[1\] is an int"),
            (lambda: col.query([[1, 2], [3]]), r"^the query must be a text.*inhomogeneous"),
            (lambda: col.explain({"q": 1}), r"^the query must be a text"),
            (lambda: col.add(ids=[1, 2], documents=["x y", "z w"]),
             r"^ids must be strings; ids\[0\] is an int: 1$"),
            (lambda: col.add(documents=["fine text", None]),
             r"^documents must be strings; documents\[1\] is a NoneType"),
            (lambda: col.get([1]), r"^ids must be strings"),
            (lambda: col.delete(["a", 2]), r"^ids must be strings; ids\[1\]"),
            (lambda: col.update([7], {"x": 1}), r"^ids must be strings"),
            (lambda: col.embed(["cats", b"dogs"]), r"^texts must be strings; texts\[1\] is a "
                                                   r"bytes"),
            (lambda: db.create_collection("u", indexed=["kind", 3]), r"^indexed must be")):
        with pytest.raises(TypeError, match=message):
            call()
    assert col.count() == 2
    assert [h.id for h in col.query(("cats", "markets"), k=np.int64(1))[1]] == ["b"]
    assert col.query("cats", k=1, hybrid=np.float32(0.5), one_per_parent=np.bool_(True))


def test_bad_keyword_statistics(db):
    """keyword_search(statistics=) of another shape is InvalidArgument (it
    raised KeyError 'length' or pybind11's 'Unable to cast')."""
    col = db.create_collection("t")
    col.add(documents=["cats and dogs", "markets and shares"])
    good = col.keyword_statistics("cats")
    assert [h.text for h in col.keyword_search("cats", statistics=good)] == ["cats and dogs"]
    for bad in ({"documents": 3}, {**good, "length": "x"}, {**good, "documents": -1},
                {**good, "document_frequency": {"cat": "many"}}, {**good, "document_frequency": [1]}):
        with pytest.raises(semdb.InvalidArgument, match="^statistics must be"):
            col.keyword_search("cats", statistics=bad)
