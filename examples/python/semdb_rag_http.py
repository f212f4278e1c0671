#!/usr/bin/python3
"""A Python RAG pipeline's retrieval step through semdb's HTTP service,
with only the standard library.

Start the service first:      semdb serve my.semdb            (port 8080)
Load a folder of .txt/.md:    semdb_rag_http.py --load FOLDER "a question"
Ask:                          semdb_rag_http.py "a question"

(examples/python/semdb_rag.py does the same in-process with the semdb
package.)

The script prints a prompt for a language model: the question and
numbered, cited passages (source file and byte offsets) within a budget
of whitespace-separated words. Where a pipeline would call its model,
it stops: see "LLM hand-off" below.

Options: --url (default http://127.0.0.1:8080, or $SEMDB_URL),
--api-key (default $SEMDB_API_KEY), --collection (default "docs"),
--budget WORDS (default 600).
"""
import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


class SemdbError(Exception):
    """An error answered by the service: HTTP status, code and message."""

    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


class Semdb:
    """A minimal client of semdb's HTTP/JSON API (see the README)."""

    def __init__(self, url, api_key=None, timeout=120):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.api_key:
            request.add_header("Authorization", "Bearer " + self.api_key)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as e:
            error = json.load(e).get("error", {})
            raise SemdbError(e.code, error.get("code"), error.get("message")) from None

    def create_collection(self, name, **spec):
        return self._call("POST", "/collections", {"name": name, **spec})

    def add_documents(self, collection, documents, upsert=False):
        return self._call("POST", f"/collections/{urllib.parse.quote(collection)}/documents",
                          {"documents": documents, "upsert": upsert})

    def search(self, collection, query, **options):
        return self._call("POST", f"/collections/{urllib.parse.quote(collection)}/search",
                          {"query": query, **options})["hits"]

    def get(self, collection, doc_id):
        return self._call("GET", f"/collections/{urllib.parse.quote(collection)}/documents/"
                          + urllib.parse.quote(doc_id, safe=""))


def load_folder(db, collection, folder, batch_bytes=4 << 20):
    """Creates the collection (sentences of up to 800 characters) unless it
    exists, and upserts every .txt/.md file of the folder tree, its path
    relative to the folder as id, in batches under the body limit."""
    try:
        db.create_collection(collection, chunking="sentences max_chars=800")
    except SemdbError as e:
        if e.status != 409:  # 409: it exists already
            raise
    batch, size, total = [], 0, 0
    for root, _, files in os.walk(folder):
        for name in sorted(files):
            if not name.endswith((".txt", ".md")):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            batch.append({"id": os.path.relpath(path, folder), "text": text,
                          "metadata": {"source": path}})
            size += len(text.encode("utf-8"))
            if size >= batch_bytes:
                total += len(db.add_documents(collection, batch, upsert=True)["ids"])
                batch, size = [], 0
    if batch:
        total += len(db.add_documents(collection, batch, upsert=True)["ids"])
    return total


def joined_context(hit):
    """The hit's passage and its neighbours as one stretch of the document,
    overlaps removed (offsets are bytes of the UTF-8 text), and its range."""
    parts = sorted([dict(hit["passage"], text=hit["text"])] + hit.get("neighbors", []),
                   key=lambda p: p["begin"])
    out = parts[0]["text"].encode("utf-8")
    end = parts[0]["end"]
    for p in parts[1:]:
        data = p["text"].encode("utf-8")
        if p["end"] <= end:
            continue
        out += b" " + data if p["begin"] >= end else data[end - p["begin"]:]
        end = p["end"]
    return out.decode("utf-8"), parts[0]["begin"], end


def with_provenance(hit):
    """The hit with "source", "context" and the context's byte range
    "begin"/"end": the passage shape of the package's Retriever."""
    context, begin, end = joined_context(hit)
    return dict(hit, source=hit["metadata"].get("source", hit["id"]), context=context,
                begin=begin, end=end)


def build_prompt(question, passages, budget):
    """The question and numbered, cited sources, within `budget` words.
    `passages`: hits with their provenance (with_provenance)."""
    instructions = ("Answer the question using only the numbered sources below. "
                    "Cite them like [1]. If the sources do not contain the answer, say so.")
    used = len(instructions.split()) + len(question.split()) + 4
    sources = []
    for hit in passages:
        # The passage with its neighbours if that fits, else the passage
        # alone, else the passage cut to what is left ("…" counts as a word).
        context, begin, end, source = hit["context"], hit["begin"], hit["end"], hit["source"]
        header_words = len(f"[N] {source}, bytes B-E".split())
        left = budget - used - header_words
        if left <= 20:
            break
        if len(context.split()) > left:
            context, begin, end = hit["text"], hit["passage"]["begin"], hit["passage"]["end"]
        if len(context.split()) > left:
            context = " ".join(context.split()[:left - 1]) + " …"
        sources.append(f"[{len(sources) + 1}] {source}, bytes {begin}-{end}\n{context}")
        used += header_words + len(context.split())
    prompt = (instructions + "\n\nQuestion: " + question + "\n\nSources:\n\n"
              + "\n\n".join(sources) + "\n\nAnswer:\n")
    return prompt, len(sources), used


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("question")
    parser.add_argument("--url", default=os.environ.get("SEMDB_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--api-key", default=os.environ.get("SEMDB_API_KEY"))
    parser.add_argument("--collection", default="docs")
    parser.add_argument("--load", metavar="FOLDER")
    parser.add_argument("--budget", type=int, default=600)
    args = parser.parse_args()
    db = Semdb(args.url, args.api_key)
    try:
        if args.load:
            n = load_folder(db, args.collection, args.load)
            print(f"loaded {n} documents from {args.load}", file=sys.stderr)
        hits = db.search(args.collection, args.question, k=8, one_per_parent=True, neighbors=1)
    except SemdbError as e:
        print(f"semdb: {e}", file=sys.stderr)
        return 1
    except urllib.error.URLError as e:
        print(f"cannot reach semdb at {args.url}: {e.reason}", file=sys.stderr)
        return 1
    return answer(args.question, [with_provenance(h) for h in hits], args.budget)


def answer(question, passages, budget):
    """Prints the prompt; returns the exit status (1 when nothing was cited)."""
    prompt, cited, used = build_prompt(question, passages, budget)
    print(prompt)
    print(f"prompt: {used} of {budget} words, {cited} sources", file=sys.stderr)
    # ===== LLM HAND-OFF ====================================================
    # A pipeline sends `prompt` to its language model here and shows the
    # answer. This example calls no model and prints no answer.
    # =======================================================================
    print("LLM hand-off: send the prompt on standard output to a language model "
          "(not done here)", file=sys.stderr)
    return 0 if cited else 1


if __name__ == "__main__":
    sys.exit(main())
