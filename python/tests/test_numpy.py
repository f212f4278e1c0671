"""Vectors in and out as numpy float32 arrays: round trips, dtypes, layouts,
and embeddings that reproduce the collection's searches (Cranfield)."""
import numpy as np
import pytest

import semdb


@pytest.fixture
def db(tmp_path):
    with semdb.open(tmp_path / "db") as db:
        yield db


def test_vector_round_trip(db):
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((500, 32)).astype(np.float32)
    col = db.create_collection("v", embedder="vectors dim=32")
    ids = col.add(ids=[f"v{i}" for i in range(500)], vectors=vectors,
                  metadatas=[{"i": i} for i in range(500)])
    assert ids[499] == "v499"
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    got = col.get([f"v{i}" for i in (3, 1, 499)])
    assert got["vectors"].dtype == np.float32 and got["vectors"].shape == (3, 32)
    np.testing.assert_allclose(got["vectors"], unit[[3, 1, 499]], rtol=0, atol=1e-6)
    assert got["documents"] == ["", "", ""]
    page = col.get(limit=10, offset=100)
    np.testing.assert_allclose(page["vectors"], unit[100:110], atol=1e-6)

    # One vector gives one list; rows give a list per row; each finds itself.
    hit = col.query(vectors[42], k=1)[0]
    assert hit.id == "v42" and hit.score == pytest.approx(1, abs=1e-5)
    rows = col.query(vectors[10:20], k=3)
    assert [r[0].id for r in rows] == [f"v{i}" for i in range(10, 20)]
    # The same ranking as brute force in numpy.
    query = rng.standard_normal(32).astype(np.float32)
    expected = np.argsort(-(unit @ (query / np.linalg.norm(query))), kind="stable")[:10]
    assert [h.id for h in col.query(query, k=10)] == [f"v{i}" for i in expected]

    # float64, lists and non-contiguous views are converted.
    assert col.query(vectors[42].astype(np.float64), k=1)[0].id == "v42"
    assert col.query(vectors[42].tolist(), k=1)[0].id == "v42"
    strided = np.asfortranarray(vectors[5:8])
    assert [r[0].id for r in col.query(strided, k=1)] == ["v5", "v6", "v7"]
    assert [r[0].id for r in col.query(vectors[::100], k=1)] == [
        f"v{i}" for i in range(0, 500, 100)]
    col.upsert(ids=["v0"], vectors=vectors[1:2])
    np.testing.assert_allclose(col.get("v0")["vectors"][0], unit[1], atol=1e-6)


def test_embeddings_reproduce_text_search(db, cranfield):
    ids, texts, queries = cranfield
    col = db.create_collection("cran")
    col.add(ids=ids, documents=texts)
    dim = col.info()["dimension"]
    emb = col.embed(queries)
    assert emb.dtype == np.float32 and emb.shape == (225, dim)
    assert emb.flags["C_CONTIGUOUS"] and not emb.flags["OWNDATA"]  # the C++ buffer
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    # A text search fuses a keyword ranking by default: its vector side
    # (hybrid=0) is what the embeddings must reproduce.
    by_text = col.query(queries, k=10, hybrid=0)
    by_vector = col.query(emb, k=10)
    assert [[h.id for h in q] for q in by_text] == [[h.id for h in q] for q in by_vector]
    for a, b in zip(by_text[0], by_vector[0]):
        assert a.score == pytest.approx(b.score, abs=1e-6)
    assert col.embed([]).shape == (0, dim)

    # Embeddings moved into a "vectors" collection search the same way.
    docs = col.embed(texts)
    copy = db.create_collection("copy", embedder=f"vectors dim={dim}")
    copy.add(ids=ids, vectors=docs)
    np.testing.assert_allclose(copy.get(ids[:5])["vectors"], docs[:5], atol=1e-6)
    same = copy.query(emb[:20], k=10)
    for q in range(20):
        assert [h.id for h in same[q]] == [h.id for h in by_text[q]]


def test_numpy_values_in_metadata(db):
    """Metadata built from numpy arrays (labels[i], scores[i], mask[i]) is
    stored as the plain JSON values; a NaN is still refused."""
    labels = np.array([3, 7], dtype=np.int64)
    scores = np.array([0.5, 0.25], dtype=np.float32)
    flags = np.array([True, False])
    col = db.create_collection("m")
    col.add(ids=["a", "b"], documents=["cats on the roof", "dogs in the yard"],
            metadatas=[{"label": labels[i], "score": scores[i], "flag": flags[i],
                        "tags": np.arange(i + 1, dtype=np.int32),
                        "nested": {"u": np.uint8(200)}} for i in range(2)])
    assert col.get(["a", "b"])["metadatas"] == [
        {"label": 3, "score": 0.5, "flag": True, "tags": [0], "nested": {"u": 200}},
        {"label": 7, "score": 0.25, "flag": False, "tags": [0, 1], "nested": {"u": 200}}]
    assert col.count(where="label = 7 AND flag = false") == 1
    col.update("a", {"label": np.int16(4)})
    assert col.get("a")["metadatas"] == [{"label": 4}]
    with pytest.raises(semdb.InvalidArgument, match="NaN"):
        col.add(documents=["birds"], metadatas=[{"v": np.float32("nan")}])
    assert col.count() == 2


def test_a_numpy_array_of_texts_is_texts(db, lee_texts):
    """query(np.array([...texts])) (a DataFrame column's to_numpy()) asks
    those texts, as a list of them does; numpy tried to make floats of them
    ('could not convert string to float')."""
    col = db.create_collection("lee")
    col.add(documents=np.array(lee_texts))
    queries = ["bushfires near Sydney", "firefighters"]
    expected = [[h.id for h in hits] for hits in col.query(queries, k=3)]
    for array in (np.array(queries), np.array(queries, dtype=object)):
        assert [[h.id for h in hits] for hits in col.query(array, k=3)] == expected
    with pytest.raises(TypeError, match=r"queries must be strings; queries\[1\] is an int"):
        col.query(np.array(["rugby", 3], dtype=object))
