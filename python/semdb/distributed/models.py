"""Loaded models, cached per process by fingerprint: a Dask worker loads an
exported model once, whatever number of partitions it embeds."""
from __future__ import annotations

import threading

import semdb

_lock = threading.Lock()
_models: dict = {}


def load(model: bytes) -> "semdb.Model":
    """The semdb.Model of these bytes, loaded once per process."""
    key = semdb._semdb.fnv1a64(model)
    with _lock:
        m = _models.get(key)
        if m is None:
            m = _models[key] = semdb.Model(model)
        return m
