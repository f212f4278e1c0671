#!/usr/bin/python3
"""A Python RAG pipeline's retrieval step with the semdb package, in-process.

Load a folder of .txt/.md:    semdb_rag.py --db my.semdb --load FOLDER "a question"
Ask:                          semdb_rag.py --db my.semdb "a question"

The script prints a prompt for a language model: the question and
numbered, cited passages (source file and byte offsets) within a budget of
whitespace-separated words, from the collection's retriever
(Collection.as_retriever). Where a pipeline would call its model, it stops:
see "LLM hand-off" in semdb_rag_http.py, the HTTP client example, which
builds the prompt from passages of the same shape.

Options: --db (default ./semdb_data), --collection (default "docs"),
--budget WORDS (default 600).
"""
import argparse
import os
import sys

import semdb
from semdb_rag_http import answer


def load_folder(collection, folder, batch_bytes=4 << 20):
    """Upserts every .txt/.md file of the folder tree, its path relative to
    the folder as id and its path as "source", in batches; returns how many."""
    ids, texts, total, size = [], [], 0, 0

    def flush():
        collection.upsert(ids=ids, documents=texts,
                          metadatas=[{"source": os.path.join(folder, i)} for i in ids])
        return len(ids)

    for root, _, files in os.walk(folder):
        for name in sorted(files):
            if name.endswith((".txt", ".md")):
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as f:
                    texts.append(f.read())
                ids.append(os.path.relpath(path, folder))
                size += len(texts[-1].encode("utf-8"))
                if size >= batch_bytes:
                    total += flush()
                    ids, texts, size = [], [], 0
    return total + (flush() if ids else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("question")
    parser.add_argument("--db", default="semdb_data")
    parser.add_argument("--collection", default="docs")
    parser.add_argument("--load", metavar="FOLDER")
    parser.add_argument("--budget", type=int, default=600)
    args = parser.parse_args()
    try:
        with semdb.open(args.db) as db:
            docs = db.get_or_create_collection(args.collection,
                                               chunking="sentences max_chars=800")
            if args.load:
                n = load_folder(docs, args.load)
                print(f"loaded {n} documents from {args.load}", file=sys.stderr)
            passages = docs.as_retriever(k=8, neighbors=1).invoke(args.question)
    except semdb.Error as e:
        print(f"semdb: {e}", file=sys.stderr)
        return 1
    # The prompt and the LLM hand-off, as in the HTTP example.
    return answer(args.question, passages, args.budget)


if __name__ == "__main__":
    sys.exit(main())
