"""One shard: an ordinary semdb database owned by one Dask worker, held by a
Dask actor pinned to that worker (the coordinator, ``ShardedCollection``,
creates it). Everything here runs in the worker process; results are plain
Python values (dicts, lists, numpy arrays), which Dask serializes."""
from __future__ import annotations

import os
from typing import Any, Optional

import numpy as np

import semdb


def _hit_dict(hit: "semdb.Hit") -> dict:
    d = hit.to_dict()
    d["score"] = float(hit.score)  # the float32 score, exactly
    if hit.parent_text is not None:
        d["parent_text"] = hit.parent_text
    return d


class Shard:
    """A semdb collection ``name`` in the database at ``path``, holding the
    installed model ``model`` (bytes). Opening an existing shard checks that
    its model is that one (the model-version guard): a shard whose model
    differs is refused, not mixed in."""

    def __init__(self, path: str, name: str, model: bytes, spec: dict):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self.path = path
        self.fingerprint = semdb.model_info(model)["fingerprint"]
        self.db = semdb.open(path)
        self._rankings: dict = {}  # hybrid request -> {(id, passage): hit dict}
        try:
            self.col = self.db.get_collection(name)
        except semdb.NotFound:
            self.col = self.db.create_collection(name, model=model, **spec)
        if self.col.info()["model_version"] == 0:  # created, then the process died
            self.col.install_model(model)
        have = semdb.model_info(self.col.export_model())["fingerprint"]
        if have != self.fingerprint:
            self.db.close()
            raise semdb.FailedPrecondition(
                f"shard {path}: its model is {have}, the sharded collection's is "
                f"{self.fingerprint}; install the collection's model in every shard")

    # --- writes

    def write(self, ids: list, texts: list, metadatas: Optional[list], vectors: np.ndarray,
              tokens: np.ndarray, unknown: np.ndarray, fingerprint: str, upsert: bool) -> int:
        """Writes one batch in one atomic write; returns its size once it is
        in the shard's log (it then survives the process being killed)."""
        self.col.add_embedded(ids, texts, vectors, fingerprint, metadatas=metadatas,
                              tokens=tokens, unknown_tokens=unknown, upsert=upsert)
        return len(ids)

    def write_texts(self, ids: list, texts: list, metadatas: Optional[list],
                    upsert: bool) -> int:
        """Writes texts that this shard embeds itself (chunked collections)."""
        if upsert:
            self.col.upsert(ids, texts, metadatas)
        else:
            self.col.add(ids, texts, metadatas)
        return len(ids)

    def delete(self, ids: list) -> int:
        return self.col.delete(ids)

    def install_model(self, model: bytes) -> str:
        self.col.install_model(model)
        self.fingerprint = semdb.model_info(model)["fingerprint"]
        return self.fingerprint

    # --- reads

    def get(self, ids: list) -> dict:
        return self.col.get(ids)

    def count(self, where: Optional[str]) -> int:
        return self.col.count(where)

    def info(self) -> dict:
        info = self.col.info()
        info["path"] = self.path
        info["fingerprint"] = semdb.model_info(self.col.export_model())["fingerprint"]
        info["pid"] = os.getpid()
        info["index_facts"] = self.col.stats().get("index_facts", {})
        return info

    def search(self, vector: np.ndarray, k: int, options: dict) -> list:
        """The shard's top k for a query vector, as hit dicts."""
        return [_hit_dict(h) for h in self.col.query(vector, k, **options)]

    def keyword_statistics(self, text: str) -> dict:
        return self.col.keyword_statistics(text)

    def hybrid_rankings(self, request: int, vector: Optional[np.ndarray], text: str,
                        depth: int, options: dict, statistics: dict) -> tuple:
        """The shard's vector ranking (cosine; none when ``vector`` is None)
        and keyword ranking (BM25 under the global ``statistics``), each
        ``depth`` deep, for fusion at the coordinator: lists of (id,
        passage index or None, score). The hits themselves wait here for
        ``take(request, ...)``: only the fused top k travel."""
        vector_hits = [] if vector is None else self.search(vector, depth, options)
        keyword_options = {k: v for k, v in options.items()
                           if k in ("where", "one_per_parent", "neighbors", "include_parent",
                                     "include")}
        keyword_hits = [_hit_dict(h) for h in self.col.keyword_search(
            text, depth, statistics=statistics, **keyword_options)]
        kept = {}
        rankings = []
        for hits in (vector_hits, keyword_hits):
            ranking = []
            for d in hits:
                key = (d["id"], (d.get("passage") or {}).get("index"))
                kept.setdefault(key, d)
                ranking.append((key[0], key[1], d["score"]))
            rankings.append(ranking)
        while len(self._rankings) >= 64:  # requests whose take never came
            self._rankings.pop(next(iter(self._rankings)))
        self._rankings[request] = kept
        return rankings[0], rankings[1]

    def take(self, request: int, keys: list) -> list:
        """The hit dicts of ``keys`` [(id, passage index)] kept by
        hybrid_rankings(request, ...), which ends the request."""
        kept = self._rankings.pop(request, {})
        return [kept[tuple(k)] for k in keys]

    def explain(self, vector: np.ndarray, options: dict) -> dict:
        return self.col.explain(vector, **options)

    def close(self) -> None:
        self.db.close()
