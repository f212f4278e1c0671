"""ShardedCollection: one semdb collection split over N shards, each an
ordinary semdb database owned by one Dask worker (shard.py), with one model
installed in all of them. The coordinator (this process) routes writes by
the id's hash (routing.py), embeds queries once, fans searches out to every
shard in parallel and merges: exact top-k for vector search; for hybrid
search, BM25 under corpus-wide keyword statistics and the core's own fusion
once, here. Faults are reported, never hidden (README, "Scaling out")."""
from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

import semdb

from . import models
from .routing import shard_of
from .shard import Shard

MANIFEST = "sharded.json"
MODEL_FILE = "model.bin"
DEFAULT_KEYWORD_WEIGHT = 0.3  # the core's kDefaultKeywordWeight (include/semdb/options.h)
MAX_K = 10000                 # the core's kMaxK
OPEN_TIMEOUT = 120            # s: at least this long for a shard to open on a live worker


class ShardUnavailable(semdb.Error):
    """Shards could not answer (their worker is down or restarting). ``shards``:
    their numbers; ``reasons``: {shard: message}."""

    def __init__(self, reasons: dict):
        self.shards = sorted(reasons)
        self.reasons = reasons
        detail = "; ".join(f"shard {i}: {reasons[i]}" for i in self.shards)
        super().__init__(f"{len(self.shards)} shard(s) unavailable ({detail}); retry once "
                         f"the workers are back (wait_until_available), or query with "
                         f"partial=True")


class IngestError(semdb.Error):
    """Some batches were not acknowledged. ``acknowledged``: documents whose
    shard write returned (they are stored); ``failed``: {id: reason} of the
    documents of the batches that were not (they may or may not be stored:
    write them again with upsert)."""

    def __init__(self, acknowledged: int, failed: dict):
        self.acknowledged = acknowledged
        self.failed = failed
        reasons = sorted(set(failed.values()))
        super().__init__(f"{len(failed)} document(s) not acknowledged ({acknowledged} were): "
                         + "; ".join(reasons[:3]))


class PartialResults(list):
    """Hits from the shards that answered, when a query asked for
    partial=True and some did not: ``missing_shards`` names them."""

    def __init__(self, hits: list, missing_shards: list):
        super().__init__(hits)
        self.missing_shards = missing_shards
        self.partial = bool(missing_shards)


class Hit:
    """One result of a sharded search: as semdb.Hit, plus the shard."""

    __slots__ = ("id", "score", "text", "metadata", "passage", "neighbors", "parent_text",
                 "shard")

    def __init__(self, d: dict, shard: int, score: Optional[float] = None):
        self.id = d["id"]
        self.score = d["score"] if score is None else score
        self.text = d["text"]
        self.metadata = d.get("metadata", {})
        self.passage = d.get("passage")
        self.neighbors = d.get("neighbors", [])
        self.parent_text = d.get("parent_text")
        self.shard = shard

    def to_dict(self) -> dict:
        d = {"id": self.id, "score": self.score, "text": self.text, "metadata": self.metadata}
        if self.passage is not None:
            d["passage"] = self.passage
        if self.neighbors:
            d["neighbors"] = self.neighbors
        return d

    def __repr__(self) -> str:
        return f"Hit(id={self.id!r}, score={self.score:.4f}, shard={self.shard})"


def connect(address: Optional[str] = None, *, n_workers: int = 2, threads_per_worker: int = 1,
            **cluster_options: Any):
    """A dask.distributed Client. With ``address`` (e.g. "tcp://host:8786"),
    it joins that cluster (``dask-scheduler`` and ``dask-worker``, or any
    deployment: Kubernetes, YARN, SLURM), whose workers must import semdb.
    Without, it starts a LocalCluster on this machine: ``n_workers``
    processes, each under a nanny that restarts it when it dies, which
    import the same semdb package as this process."""
    from distributed import Client, LocalCluster
    if address is not None:
        return Client(address)
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(semdb.__file__)))
    path = os.environ.get("PYTHONPATH")
    env = {"PYTHONPATH": package_parent + (os.pathsep + path if path else ""),
           "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    cluster_options.setdefault("dashboard_address", ":0")  # no fixed port to collide on
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                           processes=True, env=env, **cluster_options)
    return Client(cluster)


def _fit(texts: list, embedder: str, index: Optional[str]) -> bytes:
    import tempfile
    with tempfile.TemporaryDirectory(prefix="semdb-fit-") as folder:
        with semdb.open(os.path.join(folder, "db")) as db:
            c = db.create_collection("sample", embedder=embedder, keyword_index=False)
            c.add(documents=texts)
            model = c.export_model()
    if index is None:
        return model
    # The index is trained on the fitted model's vectors of the same sample.
    return semdb.train_index(model, index, semdb.Model(model).embed(texts))


def fit_model(texts: Union[Sequence[str], Any], embedder: str = "tfidf", *, client=None,
              fraction: Optional[float] = None, seed: int = 0,
              index: Optional[str] = None) -> bytes:
    """Fits ``embedder`` once on a sample of texts and returns the exported
    model (bytes) to create a ShardedCollection with. ``texts``: a list, or
    a Dask bag of texts from which ``fraction`` is drawn at random across
    all partitions (``seed`` fixes the draw). With ``index`` (an IVF spec,
    e.g. "ivf nlist=256"), the index's coarse centroids are trained once
    too, on the fitted model's vectors of the same sample, and travel in
    the model: every shard builds its IVF index on exactly these centroids
    (semdb.train_index). With ``client`` the fit runs as a task on a
    worker."""
    if hasattr(texts, "random_sample"):
        sample = texts.random_sample(fraction or 1.0, random_state=seed) if fraction else texts
        texts = sample.compute() if client is None else client.compute(sample).result()
    texts = list(texts)
    if client is None:
        return _fit(texts, embedder, index)
    return client.submit(_fit, texts, embedder, index, pure=False).result()


def _check_index_training(model: bytes, index: str) -> None:
    """An index that learns its lists from data must come trained with the
    model: shards training their own would each partition differently."""
    carried = semdb.model_info(model)["index"]
    if index.split()[0] == "ivf" and carried is None:
        raise semdb.InvalidArgument(
            f"a sharded '{index}' index needs the model to carry its training, trained once "
            f"for every shard: fit_model(..., index={index!r})")


def _plain(value: Any) -> Any:
    """A JSON-compatible Python value (numpy and pandas scalars unwrapped)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value


def _batches(ids: list, texts: list, metadatas: list, model: bytes, shards: int, embed: bool,
             batch_size: int) -> list:
    """Groups documents into batches by shard, each with the vectors (and
    what the model saw) when ``embed``. Returns [(shard, batch dict)]."""
    groups: dict = {}
    for doc_id, text, meta in zip(ids, texts, metadatas):
        g = groups.setdefault(shard_of(doc_id, shards), ([], [], []))
        g[0].append(doc_id)
        g[1].append(text)
        g[2].append(meta)
    m = models.load(model) if embed else None
    out = []
    for shard, (g_ids, g_texts, g_metas) in sorted(groups.items()):
        for at in range(0, len(g_ids), batch_size):
            batch = {"ids": g_ids[at:at + batch_size], "texts": g_texts[at:at + batch_size],
                     "metadatas": g_metas[at:at + batch_size]}
            if m is not None:
                batch["vectors"], batch["tokens"], batch["unknown"] = m.embed_with_stats(
                    batch["texts"])
            out.append((shard, batch))
    return out


def _embed_partition(records: list, model: bytes, shards: int, id_field: str,
                     text_field: str, metadata_fields: Optional[list], embed: bool,
                     batch_size: int) -> list:
    """Runs on a worker: a partition's records (dicts) embedded with the
    model (loaded once per process) and grouped into batches by shard."""
    ids, texts, metas = [], [], []
    for r in records:
        if not isinstance(r, dict):
            raise semdb.InvalidArgument("ingest needs records with an id (dicts or dataframe "
                                        "rows), not bare texts: routing is by id")
        ids.append(str(r[id_field]))
        texts.append(str(r[text_field]))
        metas.append(_plain({k: v for k, v in r.items() if k not in (id_field, text_field)}
                            if metadata_fields is None
                            else {k: r[k] for k in metadata_fields if k in r}))
    return [_batches(ids, texts, metas, model, shards, embed, batch_size)]


def _is_lost(e: BaseException) -> bool:
    """An actor call failed because its worker is gone, not because of the
    request."""
    return isinstance(e, (OSError, KeyError)) or (
        isinstance(e, ValueError) and "Actor was lost" in str(e))


class ShardedCollection:
    """A collection over N shards on a Dask cluster. Create one with
    ``ShardedCollection.create`` or open it with ``ShardedCollection.open``;
    ``root`` is the folder of the shards (shard i in root/shard-i), on a disk
    their workers reach (a local disk per worker: each shard stays on its
    worker)."""

    def __init__(self, client, root: str, manifest: dict, model: bytes):
        self._client = client
        self.root = root
        self._manifest = manifest
        self._model_bytes = model
        self._model = semdb.Model(model)
        self._actors: list = [None] * manifest["shards"]
        self._futures: list = [None] * manifest["shards"]
        self._addresses: list = [None] * manifest["shards"]
        self._down: dict = {}  # shard -> why it is not open
        self._requests = itertools.count()

    # --- creation

    @classmethod
    def create(cls, client, root: str, name: str, model: bytes, *, shards: int,
               index: Optional[str] = None, chunking: str = "none",
               indexed: Sequence[str] = (), keyword_index: bool = True,
               vector_storage: str = "auto") -> "ShardedCollection":
        """Creates the shards, each with the exported ``model`` (see
        fit_model) installed: one embedding space. Shard i is placed on the
        i-th worker (by name, round robin) and stays there. ``index``: the
        model's (an IVF index fitted with fit_model(index=...)) by default,
        else "flat"; an IVF index needs a model carrying its training, and
        every shard uses exactly its centroids."""
        if index is None:
            index = semdb.model_info(model)["index"] or "flat"
        _check_index_training(model, index)
        root = os.path.abspath(root)
        if os.path.exists(os.path.join(root, MANIFEST)):
            raise semdb.AlreadyExists(f"a sharded collection exists in {root}")
        if shards < 1:
            raise semdb.InvalidArgument("shards must be at least 1")
        os.makedirs(root, exist_ok=True)
        workers = sorted(cls._worker_names(client).keys())
        if not workers:
            raise semdb.FailedPrecondition("the Dask cluster has no workers")
        manifest = {"name": name, "shards": shards, "fingerprint": semdb.model_info(model)["fingerprint"],
                    "spec": {"index": index, "chunking": chunking, "indexed": list(indexed),
                             "keyword_index": keyword_index, "vector_storage": vector_storage},
                    "workers": [workers[i % len(workers)] for i in range(shards)]}
        with open(os.path.join(root, MODEL_FILE), "wb") as f:
            f.write(model)
        with open(os.path.join(root, MANIFEST), "w") as f:
            json.dump(manifest, f, indent=1)
        sc = cls(client, root, manifest, model)
        sc._open_all(wait=30)
        return sc

    @classmethod
    def open(cls, client, root: str) -> "ShardedCollection":
        """Opens the sharded collection in ``root``; every shard's model must
        be the collection's (FailedPrecondition otherwise)."""
        root = os.path.abspath(root)
        try:
            with open(os.path.join(root, MANIFEST)) as f:
                manifest = json.load(f)
            with open(os.path.join(root, MODEL_FILE), "rb") as f:
                model = f.read()
        except FileNotFoundError:
            raise semdb.NotFound(f"no sharded collection in {root}") from None
        sc = cls(client, root, manifest, model)
        sc._open_all(wait=30)
        return sc

    @property
    def name(self) -> str:
        return self._manifest["name"]

    @property
    def shards(self) -> int:
        return self._manifest["shards"]

    @property
    def fingerprint(self) -> str:
        return self._manifest["fingerprint"]

    @property
    def model(self) -> bytes:
        return self._model_bytes

    @property
    def workers(self) -> list:
        """The name of the worker of each shard."""
        return list(self._manifest["workers"])

    def shard_of(self, doc_id: str) -> int:
        return shard_of(doc_id, self.shards)

    def __repr__(self) -> str:
        return f"semdb.distributed.ShardedCollection({self.name!r}, shards={self.shards})"

    # --- shards and their workers

    @staticmethod
    def _worker_names(client) -> dict:
        """{worker name: address} of the live workers, from the scheduler."""
        def names(dask_scheduler=None):
            return {str(ws.name): addr for addr, ws in dask_scheduler.workers.items()}
        return client.run_on_scheduler(names)

    def _path(self, i: int) -> str:
        return os.path.join(self.root, f"shard-{i:04d}")

    def _open_shards(self, addresses: dict, deadline: float) -> None:
        """Opens shards {shard: worker address} in parallel, each as an actor
        pinned to its worker. A shard whose worker leaves the cluster, or
        that is not open by ``deadline`` (time.monotonic()), is marked down."""
        if not addresses:
            return
        # The model goes to each worker once, not with every shard; a new
        # key each time (a scattered key whose worker died may be gone).
        model = self._client.scatter(self._model_bytes, workers=sorted(set(addresses.values())),
                                     broadcast=True, hash=False)
        spec = self._manifest["spec"]
        futures = {}
        for i, address in addresses.items():
            self._release(i)
            futures[i] = self._client.submit(
                Shard, self._path(i), self.name, model,
                {"index": spec["index"], "chunking": spec["chunking"],
                 "indexed": spec["indexed"], "keyword_index": spec["keyword_index"],
                 # manifests written before the setting: the default
                 "vector_storage": spec.get("vector_storage", "auto")},
                actor=True, workers=[address], allow_other_workers=False, pure=False)
        from distributed import wait as wait_for_futures
        error = None
        pending = dict(futures)
        while pending:
            try:  # woken by the first open that ends; 1 s to look at the cluster
                wait_for_futures(list(pending.values()), timeout=1, return_when="FIRST_COMPLETED")
            except Exception:  # noqa: BLE001 - dask's TimeoutError: none ended yet
                pass
            for i, future in list(pending.items()):
                if not future.done():
                    continue
                del pending[i]
                try:
                    self._actors[i] = future.result()
                except semdb.Error as e:  # the shard refused: e.g. another model
                    future.release()
                    error = error or e
                    continue
                except Exception as e:  # noqa: BLE001 - its worker went away meanwhile
                    future.release()
                    self._down[i] = f"could not open on its worker ({type(e).__name__}: {e})"
                    continue
                self._futures[i], self._addresses[i] = future, addresses[i]
                self._down.pop(i, None)
            if not pending:
                break
            # An open sent to a worker that died waits for it forever.
            live = set(self._worker_names(self._client).values())
            for i, future in list(pending.items()):
                if addresses[i] not in live or time.monotonic() > deadline:
                    del pending[i]
                    future.release()
                    self._down[i] = (f"its worker {addresses[i]} left the cluster while it opened"
                                     if addresses[i] not in live else
                                     "it did not open on its worker in time")
        model.release()
        if error is not None:
            raise error

    def _open_all(self, wait: float) -> None:
        """Opens every shard not open, on its worker; waits up to ``wait``
        seconds for absent workers (a nanny restarting one)."""
        deadline = time.monotonic() + wait
        while True:
            live = self._worker_names(self._client)
            ready = {}
            for i in range(self.shards):
                if self._actors[i] is not None and i not in self._down:
                    continue
                worker = self._manifest["workers"][i]
                if worker in live:
                    ready[i] = live[worker]
                else:
                    self._down[i] = f"its worker {worker!r} is not in the cluster"
            # Opening (a reopen may rebuild an index) may outlast the wait
            # for workers to appear.
            self._open_shards(ready, max(deadline, time.monotonic() + OPEN_TIMEOUT))
            if not self._down or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        if self._down:
            raise ShardUnavailable(dict(self._down))

    def _release(self, i: int) -> None:
        if self._futures[i] is not None:
            self._futures[i].release()
        self._futures[i] = self._actors[i] = self._addresses[i] = None

    def _mark_down(self, i: int, why: str) -> None:
        self._down[i] = why

    def wait_until_available(self, timeout: float = 60) -> None:
        """Reopens every shard whose worker went down, once the worker is
        back (Dask's nanny restarts a killed worker): the shard reopens from
        its disk with every acknowledged write. ShardUnavailable after
        ``timeout`` seconds."""
        self._open_all(wait=timeout)

    def _revive(self) -> None:
        """Reopens, without waiting, the shards that are down and whose
        worker is back."""
        if self._down:
            try:
                self._open_all(wait=0)
            except ShardUnavailable:
                pass

    @staticmethod
    async def _wait(pending: dict, seconds: float) -> list:
        """Waits up to ``seconds`` (in the client's event loop) for the
        actor calls {shard: ActorFuture}; returns [(shard, ok, result or
        exception)] of those that finished."""
        async def one(i, future):
            try:
                return i, True, await future
            except Exception as e:  # noqa: BLE001 - returned to _gather
                return i, False, e
        tasks = [asyncio.ensure_future(one(i, f)) for i, f in pending.items()]
        done, not_done = await asyncio.wait(tasks, timeout=seconds)
        for t in not_done:
            t.cancel()
        return [t.result() for t in done]

    def _gather(self, calls: dict, timeout: float = 300) -> tuple:
        """Waits for actor calls {shard: ActorFuture}. Returns ({shard:
        result}, {shard: why unavailable}); errors of the request itself
        (semdb.Error) are raised."""
        results, lost = {}, {}
        pending = dict(calls)
        start = time.monotonic()
        while pending:
            for i, ok, value in self._client.sync(self._wait, pending, 1.0):
                del pending[i]
                if ok:
                    results[i] = value
                elif isinstance(value, semdb.Error) or not _is_lost(value):
                    raise value
                else:
                    lost[i] = f"its worker was lost ({type(value).__name__}: {value})"
            if pending:
                # A call in flight when its worker died may never answer.
                live = set(self._worker_names(self._client).values())
                for i in list(pending):
                    if self._addresses[i] not in live:
                        lost[i] = "its worker died during the call"
                        del pending[i]
            if pending and time.monotonic() - start > timeout:
                for i in pending:
                    lost[i] = f"no answer in {timeout} s"
                break
        for i, why in lost.items():
            self._mark_down(i, why)
        return results, lost

    def _call(self, method: str, args_by_shard: dict) -> tuple:
        """Calls ``method`` on each shard of ``args_by_shard`` ({shard: args
        tuple}) in parallel; returns ({shard: result}, {shard: why
        unavailable}). Shards known to be down are not called."""
        self._revive()
        calls, lost = {}, {}
        for i, args in args_by_shard.items():
            if i in self._down:
                lost[i] = self._down[i]
                continue
            try:
                calls[i] = getattr(self._actors[i], method)(*args)
            except Exception as e:  # noqa: BLE001
                if not _is_lost(e):
                    raise
                lost[i] = f"its worker was lost ({e})"
                self._mark_down(i, lost[i])
        results, more = self._gather(calls)
        lost.update(more)
        return results, lost

    def _fan_out(self, method: str, *args: Any) -> tuple:
        """``method(*args)`` on every shard (see _call)."""
        return self._call(method, {i: args for i in range(self.shards)})

    def _call_all(self, method: str, *args: Any) -> dict:
        results, lost = self._fan_out(method, *args)
        if lost:
            raise ShardUnavailable(lost)
        return results

    # --- writes

    def _write(self, ids, documents, metadatas, upsert: bool) -> int:
        ids = [ids] if isinstance(ids, str) else list(ids)
        documents = [documents] if isinstance(documents, str) else list(documents)
        metadatas = [{}] * len(ids) if metadatas is None else [m or {} for m in metadatas]
        if len(ids) != len(documents) or len(metadatas) != len(ids):
            raise semdb.InvalidArgument("ids, documents and metadatas differ in length")
        batches = _batches(ids, documents, metadatas, self._model_bytes, self.shards,
                           self._embeds(), max(1, len(ids)))
        acknowledged, failed = self._send(batches, upsert, None)
        if failed:
            raise IngestError(acknowledged, failed)
        return acknowledged

    def add(self, ids: Union[str, Sequence[str]], documents: Union[str, Sequence[str]],
            metadatas: Optional[Sequence[dict]] = None) -> int:
        """Inserts documents (ids required: they route), embedded here once
        by the collection's model; one atomic write per shard touched.
        Returns how many were acknowledged; IngestError if some were not."""
        return self._write(ids, documents, metadatas, False)

    def upsert(self, ids: Union[str, Sequence[str]], documents: Union[str, Sequence[str]],
               metadatas: Optional[Sequence[dict]] = None) -> int:
        """Inserts or replaces documents (see add)."""
        return self._write(ids, documents, metadatas, True)

    def _embeds(self) -> bool:
        """Whether writes carry vectors embedded by the coordinator or a
        task; a chunked collection embeds its passages in the shard."""
        return self._manifest["spec"]["chunking"] == "none"

    def _send(self, batches: list, upsert: bool, on_ack: Optional[Callable]) -> tuple:
        """Sends [(shard, batch)] to their shards in parallel; returns
        (documents acknowledged, {id: reason} of those not)."""
        self._revive()
        calls, failed, sizes = {}, {}, {}
        for n, (shard, b) in enumerate(batches):
            if shard in self._down:
                failed.update((i, f"shard {shard}: {self._down[shard]}") for i in b["ids"])
                continue
            actor = self._actors[shard]
            try:
                if "vectors" in b:
                    f = actor.write(b["ids"], b["texts"], b["metadatas"], b["vectors"],
                                    b["tokens"], b["unknown"], self.fingerprint, upsert)
                else:
                    f = actor.write_texts(b["ids"], b["texts"], b["metadatas"], upsert)
            except Exception as e:  # noqa: BLE001
                if not _is_lost(e):
                    raise
                self._mark_down(shard, f"its worker was lost ({e})")
                failed.update((i, f"shard {shard}: its worker was lost") for i in b["ids"])
                continue
            calls[n] = f
            sizes[n] = (shard, b["ids"])
        acknowledged = 0
        pending = dict(calls)
        while pending:
            # One batch at a time: an error in one must not hide the others.
            n = next(iter(pending))
            try:
                done, lost = self._gather({n: pending.pop(n)})
            except semdb.Error as e:
                failed.update((i, f"{type(e).__name__}: {e}") for i in sizes[n][1])
                continue
            if lost:
                shard = sizes[n][0]
                self._mark_down(shard, lost[n])
                failed.update((i, f"shard {shard}: {lost[n]}") for i in sizes[n][1])
                continue
            acknowledged += done[n]
            if on_ack is not None:
                on_ack(acknowledged)
        return acknowledged, failed

    def ingest(self, data: Any, *, id: str = "id", text: str = "text",
               metadata: Optional[Sequence[str]] = None, upsert: bool = False,
               batch_size: int = 512, on_ack: Optional[Callable[[int], None]] = None) -> int:
        """Bulk ingest from a Dask bag of dicts or a Dask dataframe (one row
        per document): the partitions are embedded in parallel on the
        workers (Dask tasks with the exported model), grouped by shard into
        batches of at most ``batch_size``, and each batch is written by its
        shard in one atomic write. A document counts as acknowledged only
        once its shard's write has returned; ``on_ack(total)`` is called
        after each batch. Returns the number acknowledged; raises
        IngestError (with ``acknowledged`` and ``failed``) if some batch was
        not. ``id`` and ``text`` name the fields; the metadata is the other
        fields, or those listed in ``metadata``."""
        from distributed import as_completed
        import dask
        if hasattr(data, "to_bag") and hasattr(data, "columns"):  # a Dask dataframe
            data = data.to_bag(index=False, format="dict")
        if not hasattr(data, "map_partitions"):
            raise semdb.InvalidArgument("ingest takes a Dask bag or dataframe")
        model = dask.delayed(self._model_bytes, pure=True)
        embedded = data.map_partitions(_embed_partition, model, self.shards, id, text,
                                       None if metadata is None else list(metadata),
                                       self._embeds(), batch_size)
        futures = self._client.compute(embedded.to_delayed())
        acknowledged, failed = 0, {}
        base = 0
        for future in as_completed(futures):
            [batches] = future.result()  # the partition: one list of batches
            future.release()
            ack, fail = self._send(batches, upsert,
                                   None if on_ack is None else (lambda n: on_ack(base + n)))
            base += ack
            acknowledged += ack
            failed.update(fail)
        if failed:
            raise IngestError(acknowledged, failed)
        return acknowledged

    def _by_shard(self, ids: Union[str, Sequence[str]]) -> tuple:
        ids = [ids] if isinstance(ids, str) else list(ids)
        groups: dict = {}
        for i in ids:
            groups.setdefault(self.shard_of(i), []).append(i)
        return ids, groups

    def delete(self, ids: Union[str, Sequence[str]]) -> int:
        """Deletes these documents (each on its shard, in parallel); returns
        how many existed."""
        _, groups = self._by_shard(ids)
        results, lost = self._call("delete", {s: (g,) for s, g in groups.items()})
        if lost:
            raise ShardUnavailable(lost)
        return sum(results.values())

    def install_model(self, model: bytes) -> None:
        """Installs a new model (e.g. fitted again on a new sample) in every
        shard, each re-embedding its documents (and rebuilding its IVF index
        on the model's new centroids); the collection then writes and
        queries with it."""
        fingerprint = semdb.model_info(model)["fingerprint"]
        _check_index_training(model, self._manifest["spec"]["index"])
        self._call_all("install_model", model)
        self._model_bytes, self._model = model, semdb.Model(model)
        self._manifest["fingerprint"] = fingerprint
        with open(os.path.join(self.root, MODEL_FILE), "wb") as f:
            f.write(model)
        with open(os.path.join(self.root, MANIFEST), "w") as f:
            json.dump(self._manifest, f, indent=1)

    # --- reads

    def get(self, ids: Union[str, Sequence[str]]) -> dict:
        """Columns {"ids", "documents", "metadatas"} of the documents that
        exist among ``ids``, in that order (each read from its shard)."""
        ids, groups = self._by_shard(ids)
        results, lost = self._call("get", {s: (g,) for s, g in groups.items()})
        if lost:
            raise ShardUnavailable(lost)
        found = {}
        for cols in results.values():
            for j, doc_id in enumerate(cols["ids"]):
                found[doc_id] = (cols["documents"][j], cols["metadatas"][j])
        out = {"ids": [], "documents": [], "metadatas": []}
        for i in ids:
            if i in found:
                out["ids"].append(i)
                out["documents"].append(found[i][0])
                out["metadatas"].append(found[i][1])
        return out

    def count(self, where: Optional[str] = None) -> int:
        """Documents in all shards (matching ``where`` if given)."""
        return sum(self._call_all("count", where).values())

    def info(self) -> list:
        """Per shard: its collection's info, path, model fingerprint and the
        worker process's id."""
        results = self._call_all("info")
        return [results[i] for i in range(self.shards)]

    def query(self, query: Any, k: int = 10, *, where: Optional[str] = None,
              hybrid: Optional[float] = None, fusion: str = "convex",
              one_per_parent: bool = False, neighbors: int = 0, include_parent: bool = False,
              nprobe: Optional[int] = None, ef_search: Optional[int] = None,
              recall_target: Optional[float] = None, strategy: Optional[str] = None,
              partial: bool = False,
              include: Union[str, Sequence[str]] = ("text", "metadata")) -> list:
        """The k best documents over all shards, as semdb's single-node
        query gives them for the same documents and model: the query is
        embedded once here and the vector fanned out; the exact top k of the
        shards' top k is kept. hybrid (text queries; default 0.3 with a
        keyword index, as single-node): each shard ranks by cosine and by
        BM25 under the corpus-wide keyword statistics (summed over the
        shards), and the two merged rankings are fused once, here, by the
        core's fusion. nprobe, ef_search, recall_target, strategy: as
        single-node, applied by every shard (with IVF shards on the model's
        centroids, one nprobe probes the same lists everywhere). A shard
        that cannot answer raises ShardUnavailable; with partial=True the
        answer of the others comes back as PartialResults, its
        ``missing_shards`` set. include: as single-node, the hits' fields
        besides id and score ("text", "metadata"); the shards read only
        those, and only those travel."""
        if not 1 <= k <= MAX_K:
            raise semdb.InvalidArgument(f"k must be between 1 and {MAX_K}, got {k}")
        include = [include] if isinstance(include, str) else list(include)
        semdb._semdb.check_hit_fields(include)
        options = {"where": where, "one_per_parent": one_per_parent, "neighbors": neighbors,
                   "include_parent": include_parent, "nprobe": nprobe, "ef_search": ef_search,
                   "recall_target": recall_target, "strategy": strategy,
                   "include": include}
        if isinstance(query, str):
            if not query.strip():
                raise semdb.InvalidArgument("the query is empty")
            keywords = self._manifest["spec"]["keyword_index"]
            weight = hybrid if hybrid is not None else (DEFAULT_KEYWORD_WEIGHT if keywords else 0)
            vector = None
            if weight < 1:
                vector = self._model.embed(query, queries=True)[0]
                if not vector.any():  # no word the model knows: as single-node
                    if not keywords:
                        return []
                    weight, vector = 1.0, None
            if weight > 0:
                return self._hybrid(query, vector, k, weight, fusion, options, partial)
        else:
            if hybrid:
                raise semdb.InvalidArgument("hybrid search needs a text query, not a vector")
            vector = np.asarray(query, dtype=np.float32).ravel()
        results, lost = self._fan_out("search", vector, k, options)
        if lost and not partial:
            raise ShardUnavailable(lost)
        hits = [Hit(d, shard) for shard, found in results.items() for d in found]
        hits.sort(key=lambda h: (-h.score, h.shard))  # ties in shard order, whoever answered first
        return self._answer(hits[:k], lost, partial)

    @staticmethod
    def _answer(hits: list, lost: dict, partial: bool) -> list:
        return PartialResults(hits, sorted(lost)) if partial else hits

    def _hybrid(self, text: str, vector: Optional[np.ndarray], k: int, weight: float,
                fusion: str, options: dict, partial: bool) -> list:
        results, lost = self._fan_out("keyword_statistics", text)
        if lost:
            # Without every shard's statistics no BM25 score is comparable.
            raise ShardUnavailable(lost)
        statistics = {"documents": 0, "length": 0, "document_frequency": {}}
        for s in results.values():
            statistics["documents"] += s["documents"]
            statistics["length"] += s["length"]
            for term, n in s["document_frequency"].items():
                statistics["document_frequency"][term] = (
                    statistics["document_frequency"].get(term, 0) + n)
        # As the core (src/search/search_driver.cc): fuse the passage rankings,
        # each 4 x `fetch` deep (at least 60), keep the first `fetch`; with
        # one_per_parent, fetch 4k passages and 4 times more while fewer
        # than k documents come out of rankings that may hold more.
        one_per_parent = options["one_per_parent"]
        ranking_options = dict(options, one_per_parent=False)
        fetch = 4 * k if one_per_parent else k
        while True:
            depth = min(MAX_K, max(4 * fetch, 60))
            request = next(self._requests)
            results, lost = self._fan_out("hybrid_rankings", request, vector, text, depth,
                                          ranking_options, statistics)
            if lost and not partial:
                raise ShardUnavailable(lost)
            fused, origin = self._fuse(results, depth, weight, fusion)
            winners, parents = [], set()
            for key, score in fused[:fetch]:
                shard, (doc_id, passage) = origin[key]
                if one_per_parent and passage is not None:
                    if doc_id in parents:
                        continue
                    parents.add(doc_id)
                winners.append((shard, (doc_id, passage), score))
                if len(winners) == k:
                    break
            if (not one_per_parent or len(winners) == k or len(fused) < fetch or
                    depth == MAX_K):
                break
            fetch *= 4
        wanted = {shard: [] for shard in results}
        for shard, ident, _ in winners:
            wanted[shard].append(ident)
        taken, more = self._call("take", {shard: (request, w) for shard, w in wanted.items()})
        lost.update(more)
        if more and not partial:
            raise ShardUnavailable(more)
        position = {shard: 0 for shard in taken}
        hits = []
        for shard, _, score in winners:
            if shard in taken:
                hits.append(Hit(taken[shard][position[shard]], shard, score))
                position[shard] += 1
        return self._answer(hits, lost, partial)

    @staticmethod
    def _fuse(results: dict, depth: int, weight: float, fusion: str) -> tuple:
        """The shards' rankings {shard: (vector ranking, keyword ranking)}
        merged, each to its global top ``depth``, and fused once by the
        core's fusion. Returns ([(key, fused score)] best first, origin:
        key -> (shard, (id, passage index)))."""
        keys: dict = {}  # (id, passage index) -> integer key for the fusion
        origin = []      # integer key -> (shard, (id, passage index))
        merged = []
        for side in (0, 1):
            ranking = [(score, shard, (doc_id, passage)) for shard, r in results.items()
                       for doc_id, passage, score in r[side]]
            ranking.sort(key=lambda x: (-x[0], x[1]))  # ties in shard order
            merged.append([])
            for score, shard, ident in ranking[:depth]:
                if ident not in keys:
                    keys[ident] = len(origin)
                    origin.append((shard, ident))
                merged[side].append((keys[ident], score))
        return semdb.fuse_rankings(merged[0], merged[1], keyword_weight=weight,
                                   fusion=fusion, depth=depth), origin

    def explain(self, query: Any, *, k: int = 10, where: Optional[str] = None,
                hybrid: Optional[float] = None, fusion: str = "convex",
                analyze: bool = False) -> dict:
        """The plan of a sharded query: each shard's own plan (EXPLAIN of
        the query vector there, with ``analyze`` its run) and how the
        coordinator merges them."""
        if isinstance(query, str):
            vector = self._model.embed(query, queries=True)[0]
            keywords = self._manifest["spec"]["keyword_index"]
            weight = hybrid if hybrid is not None else (DEFAULT_KEYWORD_WEIGHT if keywords else 0)
        else:
            vector, weight = np.asarray(query, dtype=np.float32).ravel(), 0
        depth = min(MAX_K, max(4 * k, 60)) if weight > 0 else k
        plans = {}
        if weight < 1 and vector.any():
            plans = self._call_all("explain", vector,
                                   {"k": depth, "where": where, "analyze": analyze})
        merge = {"shards": self.shards, "k": k, "query_embedded": "once, at the coordinator",
                 "model_fingerprint": self.fingerprint}
        if weight > 0:
            merge.update({"kind": "hybrid", "keyword_weight": weight, "fusion": fusion,
                          "depth": depth,
                          "steps": ["keyword statistics of the query's terms from every shard, "
                                    "summed (documents, length, document frequencies)",
                                    f"each shard: its top {depth} by cosine and by BM25 under "
                                    "the summed statistics",
                                    f"merge each ranking to the global top {depth}",
                                    f"fuse once ({fusion}, keyword weight {weight}) and keep "
                                    f"the top {k}"]})
        else:
            merge.update({"kind": "vector",
                          "steps": [f"each shard: its top {k} by cosine",
                                    f"merge: the top {k} of the {self.shards} x {k} by score"]})
        return {"merge": merge,
                "shards": [dict(plans[i], shard=i, worker=self._manifest["workers"][i])
                           for i in sorted(plans)]}

    def close(self) -> None:
        """Closes every shard that is open (saving its index) and releases
        the actors."""
        self._call("close", {i: () for i in range(self.shards) if i not in self._down})
        for i in range(self.shards):
            self._release(i)
