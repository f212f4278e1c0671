"""The GIL is released while the library works: another Python thread runs
during a search. (How much two searching threads gain is measured by
bench/python_bench.py, not here.)"""
import sys
import threading
import time

import pytest

import semdb


@pytest.fixture(scope="module")
def cran(tmp_path_factory, cranfield):
    ids, texts, queries = cranfield
    db = semdb.open(tmp_path_factory.mktemp("threads") / "db")
    col = db.create_collection("cran", embedder="tfidf dim=256")
    col.add(ids=ids, documents=texts)
    yield col, queries
    db.close()


def test_another_thread_runs_during_a_search(cran):
    """A pure-Python thread runs while a search call is in progress: the
    call releases the GIL. An occurrence, not a speed: with a switch interval
    far longer than the call, Python never takes the GIL from the searching
    thread on its own, so the counter can only move between the two reads
    around the call if the library let go of the GIL inside it (the counter
    releases it at every step through time.sleep(0), so the searching thread
    gets it back at once)."""
    col, queries = cran
    counter = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1
            time.sleep(0)

    previous = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    t = threading.Thread(target=count)
    try:
        t.start()
        before = counter[0]
        col.query(queries * 4, k=10)
        after = counter[0]
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(previous)
    assert after > before
