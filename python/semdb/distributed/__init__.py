"""semdb.distributed: one collection sharded over a Dask cluster.

    from semdb import distributed as sd
    client = sd.connect()                          # a LocalCluster; or connect("tcp://host:8786")
    model = sd.fit_model(sample_texts, "tfidf dim=256")   # fitted once
    docs = sd.ShardedCollection.create(client, "/data/news", "news", model, shards=4)
    docs.ingest(bag_of_dicts)                      # {"id", "text", other fields: metadata}
    hits = docs.query("bushfires near Sydney", k=10, where="year >= 2000")

Each shard is an ordinary semdb database owned by one Dask worker; all
heavy work (embedding, search) runs in semdb's C++ core on the workers.
README, "Scaling out", documents routing, merging, faults and capacity.
"""
from .routing import shard_of
from .sharded import (Hit, IngestError, PartialResults, ShardedCollection, ShardUnavailable,
                      connect, fit_model)

__all__ = ["connect", "fit_model", "ShardedCollection", "Hit", "ShardUnavailable",
           "IngestError", "PartialResults", "shard_of"]
