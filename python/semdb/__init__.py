"""semdb: an embedded vector database with semantic search.

The whole database runs in this process (the C++ library through the
extension ``semdb._semdb``); vectors go in and out as numpy float32 arrays.

    import semdb
    with semdb.open("my.semdb") as db:
        docs = db.get_or_create_collection("docs", chunking="sentences max_chars=800")
        docs.add(ids=["a"], documents=["Bushfires threaten Sydney"], metadatas=[{"year": 2001}])
        for hit in docs.query("fires near the city", k=5, where="year > 2000"):
            print(hit.id, hit.score, hit.text)

Errors are exceptions carrying the library's message: ``Error`` and its
subclasses ``NotFound``, ``AlreadyExists``, ``InvalidArgument`` and
``FailedPrecondition`` (also raised by any call on a closed database).

Threads: every call that does real work releases the GIL, so searches from
several Python threads run in parallel. Database and Collection methods may
be called from any thread; writes to one collection are serialized and
atomic, and a search sees each write entirely or not at all.
"""
from __future__ import annotations

import builtins
import numbers
import warnings
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from . import _semdb
from ._semdb import AlreadyExists, Error, FailedPrecondition, Hit, InvalidArgument, NotFound

__all__ = [
    "open", "Database", "Collection", "Retriever", "Hit", "Model", "model_info", "train_index",
    "fuse_rankings", "QueryWarning",
    "Error", "NotFound", "AlreadyExists", "InvalidArgument", "FailedPrecondition",
]

Hit.__doc__ = """One search result.

id: the document's id (in a chunked collection, of the passage's document);
score: higher is closer; score_kind: what the score is, "cosine" (a vector
search), "fusion score" (hybrid, the default for texts), "rank score"
(fusion="rrf") or "bm25" (keywords alone); text: the document's text or the
passage's; metadata: the document's metadata (a new dict at each access);
passage: None, or {"index", "count", "begin", "end"} (byte offsets into the
document's UTF-8 text) in chunked collections; neighbors: the passages asked
for with ``neighbors=N``, [{"index", "count", "begin", "end", "text"}];
parent_text: the whole document with ``include_parent=True``; context: the
passage joined with its neighbours, overlaps removed. ``to_dict()`` gives
the HTTP API's hit object."""


class QueryWarning(UserWarning):
    """A text query found nothing because of its words: stop words ("the",
    scikit-learn's list, which holds "fire") or words the model does not
    know. The message is the shell's note under an empty result and the
    HTTP API's "note"."""


Metadata = Mapping[str, Any]
Ids = Union[str, Sequence[str]]


def open(path: str, *, sync: bool = False, create_if_missing: bool = True) -> "Database":
    """Opens (or creates) the database in folder ``path``.

    sync: every write is durable (fsynced) before it returns. Only one
    process may open a database at a time (FailedPrecondition otherwise).
    The result is a context manager that closes the database on exit.
    """
    return Database(_semdb._Database.open(str(path), sync, create_if_missing))


def _shown(value: Any) -> str:
    """repr(value) for a message, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:56] + "..."


def _a(value: Any) -> str:
    """'an int', 'a str': the type of value, for messages."""
    name = type(value).__name__
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _strings(values: Union[str, Iterable[str]], what: str) -> list:
    """A list of strings; one string is a list of one (not of its letters).
    TypeError naming the first item that is not a string."""
    items = [values] if isinstance(values, str) else builtins.list(values)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{what} must be strings; {what}[{i}] is {_a(item)}: {_shown(item)}")
    return items


# The query options' types (python/src/module.cc, QueryOptions), for a
# TypeError naming the option instead of pybind11's list of overloads.
_OPTION_TYPES = {"k": (numbers.Integral, "an int"), "where": (str, "a str"),
                 "hybrid": (numbers.Real, "a number"),
                 "recall_target": (numbers.Real, "a number"),
                 "nprobe": (numbers.Integral, "an int"),
                 "ef_search": (numbers.Integral, "an int"),
                 "one_per_parent": ((bool, np.bool_), "True or False"),
                 "neighbors": (numbers.Integral, "an int"),
                 "include_parent": ((bool, np.bool_), "True or False"),
                 "strategy": (str, "a str"), "fusion": (str, "a str")}


def _query_options(k: Any = 10, where: Any = None, hybrid: Any = None,
                   recall_target: Any = None, nprobe: Any = None, ef_search: Any = None,
                   one_per_parent: Any = False, neighbors: Any = 0,
                   include_parent: Any = False, strategy: Any = None, fusion: Any = "convex",
                   include: Any = ("text", "metadata")) -> "_semdb._QueryOptions":
    """The options of a search; TypeError naming an option of another type."""
    values = dict(k=k, where=where, hybrid=hybrid, recall_target=recall_target,
                  nprobe=nprobe, ef_search=ef_search, one_per_parent=one_per_parent,
                  neighbors=neighbors, include_parent=include_parent, strategy=strategy,
                  fusion=fusion)
    for name, value in values.items():
        kind, described = _OPTION_TYPES[name]
        if value is not None and not isinstance(value, kind) or (
                value is None and name in ("k", "neighbors", "fusion")):
            raise TypeError(f"{name} must be {described}, not {_a(value)}: {_shown(value)}")
    return _semdb._QueryOptions(**values, include=_strings(include, "include"))


def _query_vectors(queries: Any) -> np.ndarray:
    """Query vectors as float32 (a 1-d array is one query); TypeError for
    what is neither texts nor numbers."""
    try:
        vectors = np.asarray(queries, dtype=np.float32)
    except (TypeError, ValueError) as e:
        vectors, error = None, e
    if vectors is None or vectors.ndim == 0:
        raise TypeError("the query must be a text, a list of texts, a vector (a 1-d array of "
                        f"numbers) or rows of vectors, not {_a(queries)}: "
                        f"{_shown(queries)}" + (f" ({error})" if vectors is None else ""))
    return vectors


def _metadata_list(metadatas: Union[Metadata, Iterable[Optional[Metadata]]]) -> list:
    """A list of metadata dicts; one dict is a list of one."""
    return [metadatas] if isinstance(metadatas, Mapping) else builtins.list(metadatas)


def _matrix(vectors: Any) -> np.ndarray:
    """Rows of float32 (no copy when already a C-contiguous float32 array)."""
    a = np.asarray(vectors, dtype=np.float32)
    return a.reshape(1, -1) if a.ndim == 1 else a


class Database:
    """An open database: a folder of named collections. Use ``semdb.open``."""

    def __init__(self, handle: "_semdb._Database"):
        self._db = handle

    @property
    def path(self) -> str:
        return self._db.path

    @property
    def closed(self) -> bool:
        return self._db.closed

    def close(self) -> None:
        """Waits for calls in progress, saves every index and closes.
        Idempotent; later calls on the database or its collections raise
        FailedPrecondition."""
        self._db.close()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"semdb.Database({self.path!r}{', closed' if self.closed else ''})"

    def collections(self) -> list:
        """Every collection as a dict: name, documents, passages, dimension,
        embedder, index, chunking, model_version."""
        return self._db.collections()

    def create_collection(self, name: str, *, embedder: str = "tfidf", index: str = "flat",
                          chunking: str = "none", indexed: Union[str, Iterable[str]] = (),
                          keyword_index: bool = True, vector_storage: str = "auto",
                          model: Optional[bytes] = None) -> "Collection":
        """Creates a collection; AlreadyExists if the name is taken.

        embedder: "tfidf [dim=256]", "glove path=FILE", "word2vec path=FILE",
        "fasttext path=FILE", "transformer path=DIR", or "vectors dim=N" for
        caller-supplied vectors. index: "flat", "ivf nlist=... nprobe=...",
        "hnsw m=... ef_search=...". chunking: "none", "chars size=N",
        "tokens size=N", "sentences max_chars=N", "paragraphs max_chars=N".
        indexed: top-level metadata fields to keep a secondary index of
        (a list, or one name).
        keyword_index: keep a BM25 index for hybrid search.
        vector_storage: "float32", "float16" (half the disk, 11 significant
        bits) or "auto": float16 for TF-IDF with LSA, whose output is half
        precision already, else float32.
        model: an exported model (``Collection.export_model()``) to install
        at once, with no fit of its own; ``embedder`` is then the model's.
        """
        return self._create(name, False, embedder, index, chunking, indexed, keyword_index,
                            vector_storage, model)

    def get_collection(self, name: str) -> "Collection":
        """The collection ``name``; NotFound (listing the others) if none."""
        return Collection(self._db.get_collection(name))

    def get_or_create_collection(self, name: str, **spec: Any) -> "Collection":
        """The collection ``name``, created with ``spec`` (the arguments of
        create_collection) if it does not exist. An existing collection must
        agree with the spec given, absent arguments being the defaults (same
        embedder, index and chunking kinds with the parameters given, same
        indexed fields and keyword index), else FailedPrecondition naming the
        differences: as C++'s Database::GetOrCreateCollection and HTTP's
        PUT /collections/{c}. With no spec, an existing collection is
        returned whatever its spec."""
        try:
            existing = self.get_collection(name)
        except NotFound:
            try:
                return self.create_collection(name, **spec)
            except AlreadyExists:  # created by another thread meanwhile
                existing = self.get_collection(name)
        return self._create(name, True, **spec) if spec else existing

    def _create(self, name: str, existing_ok: bool, embedder: str = "tfidf",
                index: str = "flat", chunking: str = "none",
                indexed: Union[str, Iterable[str]] = (), keyword_index: bool = True,
                vector_storage: str = "auto", model: Optional[bytes] = None) -> "Collection":
        """create_collection; with existing_ok, the existing collection
        checked against the spec (Database::GetOrCreateCollection)."""
        if model is not None:
            embedder = model_info(model)["embedder"]
        c = Collection(self._db.create_collection(name, embedder, index, chunking,
                                                  _strings(indexed, "indexed"), keyword_index,
                                                  vector_storage, existing_ok))
        if model is not None and not existing_ok:
            c.install_model(model)
        return c

    def drop_collection(self, name: str) -> None:
        """Deletes a collection and everything in it; its handles then raise
        NotFound."""
        self._db.drop_collection(name)


class Collection:
    """A collection of documents, searchable by meaning. Get one from
    ``Database.create_collection`` or ``get_collection``."""

    def __init__(self, handle: "_semdb._Collection"):
        self._c = handle

    @property
    def name(self) -> str:
        return self._c.name

    def __repr__(self) -> str:
        return f"semdb.Collection({self.name!r})"

    def info(self) -> dict:
        """name, documents, passages, dimension, embedder, index, chunking,
        model_version."""
        return self._c.info()

    def stats(self) -> dict:
        """Counts, embedder and index facts, unknown-token totals."""
        return self._c.stats()

    def count(self, where: Optional[str] = None) -> int:
        """Documents (not passages), or those whose metadata matches the
        filter ``where`` (e.g. 'year >= 2000 AND topic IN ("fire", "flood")')."""
        return self._c.count(where)

    def add(self, ids: Optional[Ids] = None, documents: Union[str, Sequence[str], None] = None,
            metadatas: Union[Metadata, Iterable[Optional[Metadata]], None] = None,
            vectors: Any = None, *,
            sync: Optional[bool] = None) -> list:
        """Inserts documents in one atomic write and returns their ids.

        ids: new ids (None, or "" for one, generates it); documents: texts
        (one text, or any iterable of them); metadatas: a dict (JSON values;
        numpy scalars and arrays are stored as their tolist()) per document,
        in any iterable (one dict for one document); vectors: an (n, d)
        float32 array, only for "vectors dim=d" collections (which take no
        texts, or texts stored beside the vectors). AlreadyExists, and
        nothing written, if an id exists.
        """
        return self._write(ids, documents, metadatas, vectors, False, sync)

    def upsert(self, ids: Ids, documents: Union[str, Sequence[str], None] = None,
               metadatas: Union[Metadata, Iterable[Optional[Metadata]], None] = None,
               vectors: Any = None, *,
               sync: Optional[bool] = None) -> list:
        """Inserts documents, replacing those whose ids exist (text,
        metadata, vector and passages), in one atomic write."""
        return self._write(ids, documents, metadatas, vectors, True, sync)

    def _write(self, ids, documents, metadatas, vectors, upsert, sync):
        if ids is not None:
            ids = _strings(ids, "ids")
        if documents is not None:
            documents = _strings(documents, "documents")
        if metadatas is not None:
            metadatas = _metadata_list(metadatas)
        if vectors is not None:
            vectors = _matrix(vectors)
            if documents is None:
                documents = [""] * len(vectors)
        return self._c.add(ids, documents, metadatas, vectors, upsert, sync)

    def get(self, ids: Optional[Ids] = None, *, where: Optional[str] = None,
            limit: Optional[int] = None, offset: int = 0) -> dict:
        """Documents as columns: {"ids", "documents", "metadatas", "vectors"}
        ("vectors" an (n, d) float32 array in "vectors" collections, else
        None).

        With ids: those documents, in that order (missing ids are left out).
        Otherwise the documents in storage order (the order they were
        written; an upsert moves a document to the end), those matching the
        filter ``where`` if given, skipping ``offset``, at most ``limit``.
        """
        if ids is not None:
            if where is not None or limit is not None or offset:
                raise InvalidArgument("get takes ids, or where/limit/offset, not both")
            return self._c.get(_strings(ids, "ids"))
        for name, value in (("limit", limit), ("offset", offset)):
            if value is not None and not isinstance(value, numbers.Integral):
                raise TypeError(f"{name} must be an int, not {_a(value)}: {_shown(value)}")
        if limit is not None and limit < 0:  # -1 is the extension's "no limit"
            raise InvalidArgument(f"limit must be None (no limit) or 0 or more, got {limit}")
        return self._c.list(where, -1 if limit is None else limit, offset)

    def delete(self, ids: Optional[Ids] = None, *, where: Optional[str] = None,
               sync: Optional[bool] = None) -> int:
        """Deletes the documents with these ids (missing ones are ignored),
        or those matching the filter ``where``, in one atomic write; returns
        how many were deleted."""
        if (ids is None) == (where is None):
            raise InvalidArgument("delete takes ids or where (one of them)")
        if ids is not None:
            return self._c.delete(_strings(ids, "ids"), sync)
        return self._c.delete_where(where, sync)

    def update(self, ids: Ids, metadatas: Union[Metadata, Sequence[Optional[Metadata]]], *,
               merge: bool = False, sync: Optional[bool] = None) -> None:
        """Replaces the metadata of existing documents (one dict per id);
        texts and vectors stay. merge=True merges each dict into the stored
        metadata instead (RFC 7386, as HTTP's PATCH does by default): its
        fields are set, a None deletes a field, nested dicts merge. One
        atomic write; NotFound, and nothing changed, if an id has no
        document."""
        self._c.update(_strings(ids, "ids"), _metadata_list(metadatas), merge, sync)

    def query(self, queries: Any, k: int = 10, *, where: Optional[str] = None,
              hybrid: Optional[float] = None, recall_target: Optional[float] = None,
              nprobe: Optional[int] = None, ef_search: Optional[int] = None,
              one_per_parent: bool = False, neighbors: int = 0, include_parent: bool = False,
              strategy: Optional[str] = None, fusion: str = "convex",
              include: Union[str, Sequence[str]] = ("text", "metadata")) -> list:
        """The k nearest documents (passages, in chunked collections) by
        cosine similarity, best first, as a list of Hit.

        queries: a text or a vector (1-d array) gives one list of hits; a
        list (or numpy array) of texts or a 2-d array (one query per row)
        gives a list per query. where: a metadata filter ('year >= 2000 AND
        NOT draft = true'). hybrid: the weight in [0, 1] of the BM25 keyword
        ranking fused with the vector ranking (text queries). recall_target:
        in (0, 1], 1 for exact results only. nprobe / ef_search: IVF / HNSW
        search width (1 to 1048576).
        one_per_parent: the best passage of each document only. neighbors:
        up to N passages on each side of each hit (0..20). include_parent:
        the whole document in Hit.parent_text. strategy: force "exact_scan",
        "filtered_scan", "ann" or "ann_post_filter" (default: the planner's
        choice). fusion: how hybrid search fuses the two rankings, "convex"
        (weighted normalized scores) or "rrf" (reciprocal rank fusion).
        include: the hits' fields besides id and score, any of "text" and
        "metadata" (a field left out stays empty and is not read from
        storage; () gives ids and scores only).

        A text query with no hit because none of its words is known to the
        model (stop words, unknown words) also warns (QueryWarning).
        """
        options = _query_options(k, where, hybrid, recall_target, nprobe, ef_search,
                                 one_per_parent, neighbors, include_parent, strategy, fusion,
                                 include)
        if isinstance(queries, str):
            return self._query_texts([queries], options)[0]
        if isinstance(queries, np.ndarray) and queries.dtype.kind in "UO":  # df["q"].to_numpy()
            queries = queries.tolist()
        if isinstance(queries, (builtins.list, tuple)) and any(isinstance(q, str) for q in queries):
            return self._query_texts(_strings(queries, "queries"), options)
        if isinstance(queries, (builtins.list, tuple)) and not queries:
            return []
        vectors = _query_vectors(queries)
        if vectors.ndim == 1:
            return self._c.query_vectors(vectors.reshape(1, -1), options)[0]
        return self._c.query_vectors(vectors, options)

    def _query_texts(self, texts: list, options: "_semdb._QueryOptions") -> list:
        """The hits of each text; a QueryWarning for each that found nothing
        because of its words."""
        results = self._c.query_texts(texts, options)
        for text, hits in zip(texts, results):
            note = "" if hits else self._c.empty_note(text, options)
            if note:
                warnings.warn(f"query {_shown(text)}: {note}", QueryWarning, stacklevel=3)
        return results

    def explain(self, query: Any, *, analyze: bool = False, k: int = 10,
                where: Optional[str] = None, hybrid: Optional[float] = None,
                recall_target: Optional[float] = None, nprobe: Optional[int] = None,
                ef_search: Optional[int] = None, one_per_parent: bool = False,
                strategy: Optional[str] = None) -> dict:
        """The plan a query (a text or a vector) would follow, its estimates
        and every strategy's cost, as a dict; with analyze=True the search
        also runs and "analyze" holds its counts and timings."""
        options = _query_options(k, where, hybrid, recall_target, nprobe, ef_search,
                                 one_per_parent, strategy=strategy)
        if isinstance(query, str):
            return self._c.explain_text(query, options, analyze)
        return self._c.explain_vector(_query_vectors(query).ravel(), options, analyze)

    def embed(self, texts: Union[str, Sequence[str]]) -> np.ndarray:
        """The collection's embeddings of ``texts`` as an (n, dimension)
        float32 array: the vectors its model gives them (unit length; zero
        for a text with no known word). FailedPrecondition for "vectors"
        collections and before a TF-IDF collection's first fit."""
        return self._c.embed(_strings(texts, "texts"))

    def refit(self) -> None:
        """Refits the embedder on every stored text, re-embeds them and
        rebuilds the index (a new model version)."""
        self._c.refit()

    def checkpoint(self) -> None:
        """Saves the index now, so that the next open need not replay its log."""
        self._c.checkpoint()

    def set_index(self, spec: str) -> None:
        """Changes the index (e.g. "hnsw m=32 ef_search=64") and rebuilds it
        from the stored vectors; searches use the old one meanwhile."""
        self._c.set_index(spec)

    def export_model(self) -> bytes:
        """The fitted model in use as bytes (TF-IDF vocabulary, IDF and LSA
        basis; SIF weights; or the spec and probe of a file-based model), to
        install in other collections or load as a ``semdb.Model``.
        ``Model(bytes).fingerprint`` identifies it."""
        return self._c.export_model()

    def install_model(self, model: bytes) -> None:
        """Makes an exported model this collection's: every document is
        re-embedded (a new model version, switched in one write; searches
        use the old one meanwhile). The collection then keeps this model:
        it no longer refits itself as it grows, and ``refit()`` refuses."""
        self._c.install_model(bytes(model))

    def add_embedded(self, ids: Sequence[str], documents: Sequence[str], vectors: Any,
                     fingerprint: str, *, metadatas: Optional[Sequence[Optional[Metadata]]] = None,
                     tokens: Any = None, unknown_tokens: Any = None, upsert: bool = False,
                     sync: Optional[bool] = None) -> list:
        """Writes documents with their texts AND the vectors that the model
        ``fingerprint`` gave them (``Model.embed``), in one atomic write:
        nothing is embedded here. FailedPrecondition, and nothing written,
        when ``fingerprint`` is not this collection's model (the
        model-version guard). tokens / unknown_tokens: what the model saw
        (``Model.embed_with_stats``), for ``stats()``."""
        n = len(documents)
        zeros = np.zeros(n, dtype=np.int32)
        return self._c.write_embedded(
            builtins.list(ids), builtins.list(documents),
            None if metadatas is None else _metadata_list(metadatas), _matrix(vectors),
            zeros if tokens is None else np.asarray(tokens, dtype=np.int32),
            zeros if unknown_tokens is None else np.asarray(unknown_tokens, dtype=np.int32),
            fingerprint, upsert, sync)

    def keyword_statistics(self, text: str) -> dict:
        """The keyword index's statistics for the terms of ``text``:
        {"documents", "length" (total, in terms), "document_frequency":
        {term: documents containing it}}; summed over collections (shards)
        they give the corpus-wide figures for ``keyword_search``."""
        return self._c.keyword_statistics(text)

    def keyword_search(self, text: str, k: int = 10, *, where: Optional[str] = None,
                       statistics: Optional[dict] = None, one_per_parent: bool = False,
                       neighbors: int = 0, include_parent: bool = False,
                       include: Union[str, Sequence[str]] = ("text", "metadata")) -> list:
        """The BM25 keyword ranking alone: k Hit, Hit.score the BM25 score.
        statistics: corpus-wide keyword statistics (as keyword_statistics
        returns, summed) to score with instead of this collection's own.
        include: as query's."""
        options = _query_options(k, where, one_per_parent=one_per_parent, neighbors=neighbors,
                                 include_parent=include_parent, include=include)
        return self._c.keyword_search(text, options, statistics)

    def as_retriever(self, k: int = 4, *, where: Optional[str] = None, neighbors: int = 0,
                     one_per_parent: bool = True, hybrid: Optional[float] = None) -> "Retriever":
        """A retriever for RAG code: ``.invoke(question)`` (or
        ``.retrieve``) returns the k best passages with their provenance."""
        return Retriever(self, k=k, where=where, neighbors=neighbors,
                         one_per_parent=one_per_parent, hybrid=hybrid)


class Retriever:
    """The retrieval stage of a RAG pipeline over a collection.

    ``invoke(question)`` returns up to k passages, best first, each a dict
    of the HTTP API's hit shape ({"id", "score", "text", "metadata",
    "passage"?, "neighbors"?}) plus its provenance: "source" (the
    document's "source" metadata, else its id), "context" (the passage
    joined with its neighbours) and "begin"/"end", the byte range of the
    context in the document's UTF-8 text.
    """

    def __init__(self, collection: Collection, *, k: int = 4, where: Optional[str] = None,
                 neighbors: int = 0, one_per_parent: bool = True,
                 hybrid: Optional[float] = None):
        self.collection = collection
        self.k = k
        self.where = where
        self.neighbors = neighbors
        self.one_per_parent = one_per_parent
        self.hybrid = hybrid

    def invoke(self, question: str) -> list:
        """The passages for ``question`` (see the class)."""
        hits = self.collection.query(question, self.k, where=self.where, hybrid=self.hybrid,
                                     neighbors=self.neighbors,
                                     one_per_parent=self.one_per_parent)
        passages = []
        for hit in hits:
            p = hit.to_dict()
            p["source"] = p["metadata"].get("source", p["id"])
            p["context"] = hit.context
            parts = [p["passage"]] + p.get("neighbors", []) if "passage" in p else []
            p["begin"] = min(q["begin"] for q in parts) if parts else 0
            p["end"] = max(q["end"] for q in parts) if parts else len(p["text"].encode())
            passages.append(p)
        return passages

    retrieve = invoke
    __call__ = invoke

    def __repr__(self) -> str:
        return (f"semdb.Retriever({self.collection.name!r}, k={self.k}, where={self.where!r}, "
                f"neighbors={self.neighbors})")


class Model:
    """An exported model loaded without a database: embeds texts exactly as
    the collections holding it do (e.g. in a Dask task, so that partitions
    are embedded on the workers). Thread-safe.

        model = semdb.Model(collection.export_model())
        vectors = model.embed(["bushfires near Sydney"])   # (1, d) float32
    """

    def __init__(self, model: bytes):
        self._m = _semdb._Model(bytes(model))

    @property
    def dimension(self) -> int:
        return self._m.dimension

    @property
    def fingerprint(self) -> str:
        """16 hex digits identifying the model (FNV-1a 64 of its bytes)."""
        return self._m.fingerprint

    @property
    def embedder(self) -> str:
        """The model's embedder spec."""
        return self._m.embedder

    def embed(self, texts: Union[str, Sequence[str]], *, queries: bool = False) -> np.ndarray:
        """(n, dimension) float32, unit rows (zero for a text with no known
        word); queries=True embeds as search queries."""
        return self.embed_with_stats(texts, queries=queries)[0]

    def embed_with_stats(self, texts: Union[str, Sequence[str]], *,
                         queries: bool = False) -> tuple:
        """(vectors, tokens, unknown_tokens): the vectors and, per text, the
        tokens the model saw and how many of them it did not know."""
        return self._m.embed(_strings(texts, "texts"), queries)

    def __repr__(self) -> str:
        return f"semdb.Model({self.embedder!r}, fingerprint={self.fingerprint!r})"


def model_info(model: bytes) -> dict:
    """{"embedder", "dimension", "fingerprint", "index", "index_training"}
    of an exported model, read from its header without loading it
    (InvalidArgument for other bytes). index: the index spec whose training
    the model carries (see train_index), or None; index_training: those
    bytes (FAISS's serialization of the empty trained index)."""
    return _semdb.model_info(bytes(model))


def train_index(model: bytes, index: str, sample: np.ndarray) -> bytes:
    """The model with the training of an ``index`` (an IVF spec, e.g. "ivf
    nlist=64") learnt from ``sample``: the model's vectors ((n, dimension)
    float32, ``Model.embed``) of a sample of the corpus. Every collection
    created with (or installing) the result must have that index and
    builds it on these coarse centroids instead of training its own, so
    collections holding parts of one corpus partition it alike."""
    return _semdb.train_index(bytes(model), index, np.asarray(sample, dtype=np.float32))


def fuse_rankings(vector_hits: Sequence[tuple], keyword_hits: Sequence[tuple], *,
                  keyword_weight: float, fusion: str = "convex", depth: int = 0) -> list:
    """semdb's hybrid fusion (the C++ core's) of a vector ranking and a
    keyword ranking, each a list of (key: int, score) best first; returns
    [(key, fused score)] best first. fusion: "convex" or "rrf" (README,
    "Search quality"). depth: the length the rankings were cut at (0: they
    are complete); RRF gives no rank to the last group of equal scores of a
    ranking that reaches it."""
    return _semdb.fuse_rankings(builtins.list(vector_hits), builtins.list(keyword_hits),
                                fusion, keyword_weight, depth)
