"""The GIL is released while the library works: another Python thread runs
during a search. (How much two searching threads gain is measured by
bench/python_bench.py, not here.)"""
import threading

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
    """A pure-Python thread keeps counting while searches run: they do not
    hold the GIL."""
    col, queries = cran
    counted = []
    stop = threading.Event()

    def count():
        n = 0
        while not stop.is_set():
            n += 1
        counted.append(n)

    t = threading.Thread(target=count)
    t.start()
    col.query(queries * 4, k=10)  # one call: the GIL is released for all of it
    stop.set()
    t.join()
    assert counted[0] > 1000
