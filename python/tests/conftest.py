"""Fixtures of the semdb Python tests: the package from the build tree,
the shared reference data (a visible skip when absent), the semdb shell for
comparisons, and the corpora (Lee, Cranfield, Wikipedia articles)."""
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.environ.get("SEMDB_BUILD_DIR", os.path.join(ROOT, "build")))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared", "data"))
WIKIPEDIA_DUMP = "gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"

# The package as built (build/python/semdb), not an installed copy.
sys.path.insert(0, os.path.join(BUILD, "python"))


def shared_path(relative):
    """The shared data file, or a visible skip naming it."""
    path = os.path.join(SHARED, relative)
    if not os.path.exists(path):
        pytest.skip(f"shared data {path} not found")
    return path


def shell_json(db_path, commands):
    """Runs the semdb shell (--json --bail) on a database; returns the JSON
    value printed by each command that prints one, in order."""
    binary = os.path.join(BUILD, "shell", "semdb")
    if not os.path.exists(binary):
        pytest.fail(f"{binary} is not built")
    args = [binary, db_path, "--json", "--bail"]
    for c in commands:
        args += ["-c", c]
    out = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith(("[", "{"))]


def assert_same_hits(python_hits, shell_hits):
    """Hits (dicts) from Python and from the shell's JSON are the same: the
    shell rounds scores to 4 decimals, so the scores agree to within half a
    unit of the 4th decimal and every other field is equal."""
    assert len(python_hits) == len(shell_hits)
    for p, s in zip(python_hits, shell_hits):
        assert abs(p["score"] - s["score"]) <= 0.5e-4 + 1e-9, (p, s)
        assert {k: v for k, v in p.items() if k != "score"} == \
            {k: v for k, v in s.items() if k != "score"}


@pytest.fixture(scope="session")
def lee_texts():
    with open(shared_path("gensim/lee_background.cor"), encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    assert len(texts) == 300
    return texts


@pytest.fixture(scope="session")
def cranfield():
    """(ids, texts, queries): the 1,398 non-empty abstracts (title and body) and 225 queries."""
    def records(path):
        with open(path, encoding="ascii") as f:
            parts = re.split(r"^\.I +", f.read(), flags=re.M)[1:]
        out = []
        for part in parts:
            number, _, body = part.partition("\n")
            fields = dict(re.findall(r"^\.([TAWB])\n(.*?)(?=^\.[TAWB]\n|\Z)", body, re.M | re.S))
            out.append((number.strip(), fields))
        return out

    docs = records(shared_path("cranfield/cran.all.1400"))
    queries = records(shared_path("cranfield/cran.qry"))
    assert len(docs) == 1400 and len(queries) == 225
    texts = {n: " ".join((f.get("T", "") + " " + f.get("W", "")).split()) for n, f in docs}
    ids = [n for n, _ in docs if texts[n]]  # two records (471, 995) are empty
    assert len(ids) == 1398
    return ids, [texts[n] for n in ids], [" ".join(f["W"].split()) for _, f in queries]


@pytest.fixture(scope="session")
def wikipedia_articles(tmp_path_factory):
    """{file name: text} of the Wikipedia dump's articles, extracted by
    scripts/wikipedia_to_text.py, and their folder."""
    dump = shared_path(WIKIPEDIA_DUMP)
    folder = tmp_path_factory.mktemp("articles")
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "wikipedia_to_text.py"),
                    dump, str(folder)], check=True, capture_output=True)
    articles = {}
    for name in sorted(os.listdir(folder)):
        with open(folder / name, encoding="utf-8") as f:
            articles[name] = f.read()
    assert len(articles) > 100
    return folder, articles


@pytest.fixture(scope="session")
def dask_client():
    """A LocalCluster of 3 worker processes, each under a nanny (which
    restarts a killed worker), and a client to it; shared by the
    distributed tests. The workers import the package under test."""
    pytest.importorskip("distributed", reason="python3-distributed is not installed")
    from semdb import distributed as sd
    client = sd.connect(n_workers=3)
    yield client
    cluster = client.cluster
    client.close()
    cluster.close()


def same_hits(expected, got, k, tolerance=1e-6):
    """Asserts that `got` (k hits) is the top k of `expected` (k + 1 hits,
    to see ties at the cut): the same scores in order, and the same ids
    wherever a score is not tied (tied hits may come in either order: each
    store breaks ties by its own internal labels)."""
    assert len(got) == min(k, len(expected)), ([h.id for h in expected], [h.id for h in got])
    scores = [h.score for h in expected]
    for i, (e, g) in enumerate(zip(expected, got)):
        assert g.score == pytest.approx(e.score, abs=tolerance), (i, e.id, g.id)
        tied = any(abs(scores[j] - e.score) <= tolerance
                   for j in (i - 1, i + 1) if 0 <= j < len(scores))
        if not tied:
            assert g.id == e.id, (i, e.id, g.id, e.score)
