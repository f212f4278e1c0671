"""semdb.distributed on a real Dask LocalCluster of 3 worker processes: a
collection sharded 4 ways returns the same top-k ids and scores as one
single-node semdb collection holding the same documents under the same
fitted model (flat index; 200 queries on the Lee corpus and on the
Wikipedia articles; with and without filters; vector and hybrid search);
writes route by the documented hash; a shard with another model is refused."""
import json
import os
import re
import zlib

import numpy

import pytest

import semdb
from conftest import same_hits, shared_path

pytest.importorskip("distributed", reason="python3-distributed is not installed")
import dask.bag as dask_bag  # noqa: E402
import dask.dataframe as dask_dataframe  # noqa: E402
import pandas  # noqa: E402

from semdb import distributed as sd  # noqa: E402


def fnv1a64(data: bytes) -> int:
    """FNV-1a 64 as published (Fowler, Noll, Vo), written here independently
    of semdb's, to check the README's routing function."""
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def sentences(texts, count, words=8, per_text=8):
    """`count` queries: runs of `words` words, at most `per_text` from each
    text, cycling through the texts."""
    out = []
    for round_ in range(per_text):
        for t in texts:
            w = t.split()[round_ * words:]
            if len(w) >= words:
                out.append(" ".join(w[:words]))
            if len(out) == count:
                return out
    raise AssertionError(f"only {len(out)} queries")


def lee_queries():
    """200 queries from the 50 Lee articles that are not in the corpus."""
    with open(shared_path("gensim/lee.cor"), encoding="latin-1") as f:
        return sentences(f.read().splitlines(), 200)


def compare(sharded, single, queries, k=10, tolerance=1e-6, **options):
    """Sharded top k against the single-node top k + 1 (to see ties at the
    cut). Hybrid search with one_per_parent fuses rankings 16k deep, which
    moves the fused scores with k: both then answer k + 1, and the first k
    of the sharded answer are compared."""
    deep = options.get("one_per_parent") and options.get("hybrid") != 0
    for q in queries:
        got = sharded.query(q, k + 1, **options)[:k] if deep else sharded.query(q, k, **options)
        same_hits(single.query(q, k + 1, **options), got, k, tolerance)


@pytest.fixture(scope="module")
def lee(dask_client, lee_texts, tmp_path_factory):
    """The Lee corpus in 4 shards (ingested from a Dask bag) and in one
    single-node collection, both with one model fitted once on a sample
    drawn across the bag's partitions."""
    root = tmp_path_factory.mktemp("lee")
    records = [{"id": f"lee-{i + 1}", "text": t, "line": i + 1} for i, t in enumerate(lee_texts)]
    bag = dask_bag.from_sequence(records, npartitions=6)
    model = sd.fit_model(bag.pluck("text"), "tfidf dim=64", client=dask_client, fraction=0.5)
    sharded = sd.ShardedCollection.create(dask_client, str(root / "sharded"), "lee", model,
                                          shards=4)
    acknowledged = []
    assert sharded.ingest(bag, batch_size=40, on_ack=acknowledged.append) == 300
    assert acknowledged[-1] == 300
    db = semdb.open(str(root / "single"))
    single = db.create_collection("lee", model=model)
    single.add(ids=[r["id"] for r in records], documents=lee_texts,
               metadatas=[{"line": r["line"]} for r in records])
    yield sharded, single, records
    db.close()
    sharded.close()


def test_lee_vector_top_k_equals_single_node(lee, dask_client):
    sharded, single, _ = lee
    queries = lee_queries()
    assert sharded.count() == single.count() == 300
    compare(sharded, single, queries, hybrid=0)
    compare(sharded, single, queries[:100], hybrid=0, where="line < 150")
    compare(sharded, single, queries[100:], k=5, hybrid=0,
            where="line >= 100 AND line < 250")
    # The sharded answer really comes from several shards.
    hits = sharded.query(queries[0], 20, hybrid=0)
    assert len({h.shard for h in hits}) > 1


def test_lee_hybrid_top_k_equals_single_node(lee):
    """BM25 under the summed keyword statistics, fused once at the
    coordinator: the default text search (keyword weight 0.3) and others."""
    sharded, single, _ = lee
    queries = lee_queries()
    compare(sharded, single, queries)
    compare(sharded, single, queries[:50], where="line < 150")
    compare(sharded, single, queries[50:70], hybrid=0.7)
    compare(sharded, single, queries[70:90], hybrid=1)
    # A query with no word the model knows is answered by keywords alone.
    compare(sharded, single, ["the of and", "zzzqqq bushfires"])


def test_lee_rrf_hybrid_equals_single_node(lee):
    """Reciprocal rank fusion of the merged rankings, as single-node fuses
    its own."""
    sharded, single, _ = lee
    queries = lee_queries()
    compare(sharded, single, queries[:100], fusion="rrf", tolerance=1e-5)
    compare(sharded, single, queries[100:150], fusion="rrf", hybrid=0.7, where="line < 200",
            tolerance=1e-5)


def test_include_reads_only_the_fields_asked_for(lee):
    """include= as single-node: the same ids and scores, the other fields
    empty, on vector and hybrid search; a wrong field name is refused before
    any shard is asked."""
    sharded, single, _ = lee
    for q in lee_queries()[:20]:
        for hybrid in (0, None):
            # Equal scores come back in shard order, whichever shard answers
            # first: the same query gives the same order every time.
            full = {h.id: h for h in sharded.query(q, 5, hybrid=hybrid)}
            assert [h.id for h in sharded.query(q, 5, hybrid=hybrid)] == list(full)
            for include in ((), "text", ["metadata"]):
                got = sharded.query(q, 5, hybrid=hybrid, include=include)
                # (Tied documents, e.g. lee-116 and lee-120, may swap
                # places between the full and the bare query.)
                assert sorted((h.score, h.id) for h in got) == sorted(
                    (h.score, h.id) for h in full.values())
                fields = {include} if isinstance(include, str) else set(include)
                for h in got:
                    assert h.text == (full[h.id].text if "text" in fields else "")
                    assert h.metadata == (full[h.id].metadata if "metadata" in fields else None)
    with pytest.raises(semdb.InvalidArgument, match="got 'title'"):
        sharded.query("bushfires", include=("text", "title"))
    bare = single.keyword_search("bushfires", 3, include=())
    assert [h.id for h in bare] == [h.id for h in single.keyword_search("bushfires", 3)]
    assert all(h.text == "" and not h.metadata for h in bare)


def centroids_of(model):
    """The coarse centroids in a model's index training, read by FAISS's own
    Python package from the bytes (FAISS's serialization of the trained
    empty index), and their CRC-32."""
    faiss = pytest.importorskip("faiss", reason="python3-faiss is not installed")
    trained = faiss.deserialize_index(
        numpy.frombuffer(semdb.model_info(model)["index_training"], dtype=numpy.uint8))
    quantizer = faiss.downcast_index(trained.quantizer)
    centroids = quantizer.reconstruct_n(0, quantizer.ntotal)
    return centroids, zlib.crc32(numpy.ascontiguousarray(centroids, dtype=numpy.float32).tobytes())


def test_ivf_shards_use_the_coordinators_centroids(dask_client, lee_texts, tmp_path):
    """IVF trained once at the coordinator (on the fitted model's vectors
    of a sample drawn across the bag): every shard's index uses exactly
    those centroids, so with one nprobe the shards probe the same lists as
    one collection holding everything, and the merged top k is its top k.
    A refit installs new centroids everywhere."""
    index = "ivf nlist=8 nprobe=3"
    records = [{"id": f"lee-{i + 1}", "text": t, "line": i + 1} for i, t in enumerate(lee_texts)]
    bag = dask_bag.from_sequence(records, npartitions=6)
    model = sd.fit_model(bag.pluck("text"), "tfidf dim=64", client=dask_client, fraction=0.6,
                         index=index)
    assert semdb.model_info(model)["index"] == index
    centroids, crc = centroids_of(model)
    assert centroids.shape == (8, semdb.Model(model).dimension)
    with pytest.raises(semdb.InvalidArgument, match="carry its training"):
        sd.ShardedCollection.create(dask_client, str(tmp_path / "bad"), "bad",
                                    sd.fit_model(lee_texts, "tfidf dim=64"), shards=3,
                                    index=index)
    sharded = sd.ShardedCollection.create(dask_client, str(tmp_path / "ivf"), "lee", model,
                                          shards=3)
    assert sharded.ingest(bag, batch_size=40) == 300

    def facts():
        return [(i["index_facts"]["type"], i["index_facts"]["training"],
                 i["index_facts"]["centroids_crc32"]) for i in sharded.info()]

    assert facts() == [("ivf", "installed", crc)] * 3
    queries = lee_queries()
    with semdb.open(str(tmp_path / "single")) as db:
        single = db.create_collection("lee", model=model, index=index)
        single.add(ids=[r["id"] for r in records], documents=lee_texts,
                   metadatas=[{"line": r["line"]} for r in records])
        assert single.stats()["index_facts"]["centroids_crc32"] == crc
        ivf = {"hybrid": 0, "strategy": "ann", "nprobe": 3}
        compare(sharded, single, queries, tolerance=1e-5, **ivf)
        # (Not with a filter: a collection whose probed lists hold fewer
        # than k matches falls back to an exact scan, and a small shard
        # does so where the whole collection does not.)
        # IVF at nprobe 3 of 8 is approximate: not the flat top k.
        exact = [[h.id for h in single.query(q, 10, hybrid=0, strategy="exact_scan")]
                 for q in queries]
        assert exact != [[h.id for h in sharded.query(q, 10, **ivf)] for q in queries]

        # A refit, on another sample: new centroids in every shard.
        refit = sd.fit_model(bag.pluck("text"), "tfidf dim=64", client=dask_client,
                             fraction=0.6, seed=1, index=index)
        _, new_crc = centroids_of(refit)
        assert new_crc != crc
        sharded.install_model(refit)
        assert facts() == [("ivf", "installed", new_crc)] * 3
        single.install_model(refit)
        compare(sharded, single, queries[:50], tolerance=1e-5, **ivf)
    # Reopened: the shards load their saved indexes, on the same centroids.
    sharded.close()
    sharded = sd.ShardedCollection.open(dask_client, str(tmp_path / "ivf"))
    assert facts() == [("ivf", "installed", new_crc)] * 3
    sharded.close()


def test_routing_get_upsert_delete(lee, dask_client):
    sharded, single, records = lee
    # Every document is in the shard the README's function names.
    per_shard = [0] * sharded.shards
    for r in records:
        assert sharded.shard_of(r["id"]) == fnv1a64(r["id"].encode()) % 4
        per_shard[fnv1a64(r["id"].encode()) % 4] += 1
    assert [i["documents"] for i in sharded.info()] == per_shard
    assert len({i["fingerprint"] for i in sharded.info()}) == 1

    got = sharded.get(["lee-3", "missing", "lee-250"])
    assert got["ids"] == ["lee-3", "lee-250"]
    assert got["documents"][0] == records[2]["text"]
    assert got["metadatas"][1] == {"line": 250}

    sharded.upsert(["lee-3", "extra-1"], ["Bushfires rage near Sydney again", "A new text"],
                   [{"line": 3, "edited": True}, {"line": 301}])
    single.upsert(["lee-3", "extra-1"], ["Bushfires rage near Sydney again", "A new text"],
                  metadatas=[{"line": 3, "edited": True}, {"line": 301}])
    assert sharded.get("lee-3")["metadatas"] == [{"line": 3, "edited": True}]
    assert sharded.count() == 301
    compare(sharded, single, ["bushfires near Sydney", "a new text"], hybrid=0)
    with pytest.raises(sd.IngestError, match="already exists"):
        sharded.add(["extra-1"], ["again"])
    assert sharded.delete(["extra-1", "missing"]) == 1
    single.delete(["extra-1"])
    assert sharded.count() == 300 and sharded.count("line > 290") == 10


def test_explain_has_each_shards_plan_and_the_merge(lee):
    sharded, _, _ = lee
    plan = sharded.explain("bushfires near Sydney", k=5, where="line < 100", analyze=True)
    assert [p["shard"] for p in plan["shards"]] == [0, 1, 2, 3]
    assert all("plan" in p and "analyze" in p for p in plan["shards"])
    assert plan["merge"]["kind"] == "hybrid" and plan["merge"]["depth"] == 60
    assert sharded.explain("bushfires", k=5, hybrid=0)["merge"]["kind"] == "vector"


def test_a_shard_with_another_model_is_refused(dask_client, lee_texts, tmp_path):
    a = sd.fit_model(lee_texts[:150], "tfidf dim=16")
    b = sd.fit_model(lee_texts[150:], "tfidf dim=16")
    sharded = sd.ShardedCollection.create(dask_client, str(tmp_path / "c"), "c", a, shards=2)
    sharded.add(["x"], ["bushfires near Sydney"])
    sharded.close()
    # The manifest now names model b: the shards hold a and refuse to open.
    with open(tmp_path / "c" / "model.bin", "wb") as f:
        f.write(b)
    manifest = json.loads((tmp_path / "c" / "sharded.json").read_text())
    manifest["fingerprint"] = semdb.Model(b).fingerprint
    (tmp_path / "c" / "sharded.json").write_text(json.dumps(manifest))
    with pytest.raises(semdb.FailedPrecondition, match="install the collection's model"):
        sd.ShardedCollection.open(dask_client, str(tmp_path / "c"))


def test_wikipedia_from_a_dataframe(dask_client, wikipedia_articles, tmp_path):
    """The Wikipedia articles from a Dask dataframe (metadata: the other
    columns) into 4 shards; 200 queries, with and without a filter."""
    _, articles = wikipedia_articles
    names = sorted(articles)
    frame = pandas.DataFrame({"id": names, "text": [articles[n] for n in names],
                              "chars": [len(articles[n]) for n in names]})
    ddf = dask_dataframe.from_pandas(frame, npartitions=4)
    model = sd.fit_model(list(frame["text"]), "tfidf dim=128")
    sharded = sd.ShardedCollection.create(dask_client, str(tmp_path / "wiki"), "wiki", model,
                                          shards=4)
    assert sharded.ingest(ddf, batch_size=25) == len(names)
    with semdb.open(str(tmp_path / "single")) as db:
        single = db.create_collection("wiki", model=model)
        single.add(ids=names, documents=list(frame["text"]),
                   metadatas=[{"chars": int(c)} for c in frame["chars"]])
        queries = sentences([articles[n] for n in names], 200)
        for qs, options in [(queries, {"hybrid": 0}),
                            (queries[:50], {"hybrid": 0, "where": "chars > 20000"}),
                            (queries[100:150], {})]:
            compare(sharded, single, qs, **options)
    sharded.close()


def test_chunked_passages_one_per_parent_and_neighbours(dask_client, lee_texts, tmp_path):
    """A chunked sharded collection (the shards embed their passages with
    the installed model): best passage per document (vector and hybrid
    search, convex and RRF fusion) and neighbouring passages as single-node
    gives them."""
    model = sd.fit_model(lee_texts, "tfidf dim=48")
    chunking = "sentences max_chars=300"
    sharded = sd.ShardedCollection.create(dask_client, str(tmp_path / "p"), "p", model,
                                          shards=3, chunking=chunking)
    ids = [f"lee-{i + 1}" for i in range(len(lee_texts))]
    metadatas = [{"line": i + 1} for i in range(len(lee_texts))]
    assert sharded.ingest(dask_bag.from_sequence(
        [{"id": i, "text": t, "line": m["line"]} for i, t, m in zip(ids, lee_texts, metadatas)],
        npartitions=4)) == 300
    with semdb.open(str(tmp_path / "single")) as db:
        single = db.create_collection("p", model=model, chunking=chunking)
        single.add(ids=ids, documents=lee_texts, metadatas=metadatas)
        queries = lee_queries()[:50]
        compare(sharded, single, queries, hybrid=0, one_per_parent=True)
        # Hybrid: the passage rankings fused, then the best passage of each
        # document, fetching deeper while fewer than k documents come out.
        compare(sharded, single, queries, one_per_parent=True, tolerance=1e-5)
        compare(sharded, single, queries[:20], one_per_parent=True, fusion="rrf",
                tolerance=1e-5)
        compare(sharded, single, queries[20:40], k=30, one_per_parent=True, hybrid=0.7,
                where="line > 50", tolerance=1e-5)
        compare(sharded, single, queries[:20], hybrid=0, neighbors=1, where="line > 50")
        for q in queries[:10]:
            want = single.query(q, 5, hybrid=0, neighbors=1)
            got = sharded.query(q, 5, hybrid=0, neighbors=1)
            context = {(h.id, h.passage["index"]): h.neighbors for h in want}
            for h in got:  # (tied hits may differ in order, not in content)
                if (h.id, h.passage["index"]) in context:
                    assert h.neighbors == context[(h.id, h.passage["index"])]
    sharded.close()
