"""Which shard holds a document: a stable hash of its id.

    shard_of(id, n) = FNV-1a-64(UTF-8 bytes of id) mod n

FNV-1a 64 (offset basis 14695981039346656037, prime 1099511628211) is the
hash the C++ core exports as ``semdb._semdb.fnv1a64``; it depends on nothing
but the id's bytes, so every process, machine and Python version routes an
id to the same shard (Python's own ``hash`` of a str is salted per process).
"""
from __future__ import annotations

from .. import _semdb


def shard_of(doc_id: str, shards: int) -> int:
    """The shard (0 .. shards-1) of the document ``doc_id``."""
    return _semdb.fnv1a64(doc_id.encode("utf-8")) % shards
