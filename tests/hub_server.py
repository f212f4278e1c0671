#!/usr/bin/python3
"""A local stand-in for the Hugging Face Hub, for the download tests.

Serves model folders under the Hub's URL scheme, as huggingface_hub reads it:

  GET /api/models/{repo}/revision/{rev}[?blobs=true]
      {"id", "sha": the commit, "siblings": [{"rfilename", "size", "blobId",
      "lfs": {"sha256", "size", "pointerSize"}}]}; rev is "main" or the commit
  GET /{repo}/resolve/{rev}/{path}
      a small file with its ETag (its git blob id) and X-Repo-Commit; an LFS
      file (*.safetensors, *.bin) as a 302 to /cdn/{sha256} with
      X-Linked-Etag (its sha256) and X-Linked-Size, as the Hub does
  GET /cdn/{sha256}
      the LFS file's bytes
  GET /api/models/{repo}/tree/{rev}?recursive=true
  POST /api/models/{repo}/paths-info/{rev}   {"paths": [...]}
      the files and folders, as npm's @huggingface/hub lists them
Files honour "Range: bytes=A-" and "bytes=A-B" (206).

The commit is the sha1 of the folder's file hashes. Switches, to test the
client's failure handling:
  --drop-after N   the first --drop-times (default 1) LFS transfers send
                   their full Content-Length but only N bytes, then close the
                   connection
  --bad-checksum   LFS bytes are served with their first byte changed (the
                   listing keeps the true sha256)
  --token T        every repo route needs "Authorization: Bearer T": 401
                   without a token, 403 with another (a gated model)
  --log FILE       appends one line per request: method, path, Range header

Prints the port it listens on (127.0.0.1, chosen by the system) on the first
line of standard output, then serves until killed.

  hub_server.py --repo test-org/bert-tiny=tests/data/bert_tiny
"""
import argparse
import hashlib
import http.server
import json
import os
import re
import sys
import threading
import urllib.parse

LFS_SUFFIXES = (".safetensors", ".bin")


def git_blob_id(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Repo:
    def __init__(self, folder):
        self.files = {}  # path -> bytes
        for root, _, names in os.walk(folder):
            for name in names:
                full = os.path.join(root, name)
                rel = os.path.relpath(full, folder).replace(os.sep, "/")
                with open(full, "rb") as f:
                    self.files[rel] = f.read()
        digest = hashlib.sha1()
        for rel in sorted(self.files):
            digest.update(rel.encode() + hashlib.sha256(self.files[rel]).digest())
        self.commit = digest.hexdigest()

    def entries(self):
        """The tree API's entries: every folder and file."""
        folders = sorted({rel.rsplit("/", 1)[0] for rel in self.files if "/" in rel})
        out = [{"type": "directory", "oid": "0" * 40, "size": 0, "path": d} for d in folders]
        return out + [self.entry(rel) for rel in sorted(self.files)]

    def entry(self, rel):
        s = self.sibling(rel)
        e = {"type": "file", "oid": s["blobId"], "size": s["size"], "path": rel,
             "lastCommit": {"id": self.commit, "title": "upload", "date": "2024-01-01T00:00:00Z"}}
        if "lfs" in s:
            e["lfs"] = {"oid": s["lfs"]["sha256"], "size": s["size"], "pointerSize": 134}
        return e

    def sibling(self, rel):
        data = self.files[rel]
        s = {"rfilename": rel, "size": len(data), "blobId": git_blob_id(data)}
        if rel.endswith(LFS_SUFFIXES):
            s["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                        "pointerSize": 134}
        return s


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", action="append", default=[], help="ORG/NAME=FOLDER")
    parser.add_argument("--drop-after", type=int, default=-1)
    parser.add_argument("--drop-times", type=int, default=1)
    parser.add_argument("--bad-checksum", action="store_true")
    parser.add_argument("--token", default="")
    parser.add_argument("--log", default="")
    args = parser.parse_args()

    repos = {}
    for r in args.repo:
        name, folder = r.split("=", 1)
        repos[name] = Repo(folder)
    blobs = {}  # sha256 -> bytes, for /cdn/
    for repo in repos.values():
        for rel, data in repo.files.items():
            if rel.endswith(LFS_SUFFIXES):
                blobs[hashlib.sha256(data).hexdigest()] = data
    state = {"drops_left": args.drop_times if args.drop_after >= 0 else 0}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):
            pass

        def log_request_line(self):
            if args.log:
                with lock, open(args.log, "a") as f:
                    f.write("%s %s %s\n" % (self.command, self.path,
                                            self.headers.get("Range", "-")))

        def send_json(self, status, obj, extra=None):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def authorized(self):
            if not args.token:
                return True
            given = self.headers.get("Authorization", "")
            if not given:
                self.send_json(401, {"error": "Access to this model is restricted. You must "
                                              "be authenticated to access it."},
                               {"X-Error-Code": "GatedRepo"})
                return False
            if given != "Bearer " + args.token:
                self.send_json(403, {"error": "Access to this model is restricted and you "
                                              "are not in the authorized list."},
                               {"X-Error-Code": "GatedRepo"})
                return False
            return True

        def find_repo(self, parts):
            # parts: the path's segments; a repo id is ORG/NAME or NAME.
            for n in (2, 1):
                name = "/".join(parts[:n])
                if name in repos:
                    return name, repos[name], parts[n:]
            return None, None, None

        def do_HEAD(self):
            self.do_GET()

        def do_POST(self):
            self.do_GET()

        def do_GET(self):
            self.log_request_line()
            url = urllib.parse.urlsplit(self.path)
            parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
            if parts[:2] == ["api", "models"]:
                name, repo, rest = self.find_repo(parts[2:])
                if repo is not None and len(rest) == 2 and rest[0] in ("tree", "paths-info"):
                    if not self.authorized():
                        return
                    entries = repo.entries()
                    if rest[0] == "paths-info":
                        length = int(self.headers.get("Content-Length", "0"))
                        wanted = json.loads(self.rfile.read(length))["paths"]
                        entries = [e for e in entries if e["path"] in wanted]
                    return self.send_json(200, entries)
                if repo is None or len(rest) != 2 or rest[0] != "revision":
                    return self.send_json(404, {"error": "Repository not found"},
                                          {"X-Error-Code": "RepoNotFound"})
                if not self.authorized():
                    return
                if rest[1] not in ("main", repo.commit):
                    return self.send_json(404, {"error": "Invalid rev id: " + rest[1]},
                                          {"X-Error-Code": "RevisionNotFound"})
                blobs_asked = "blobs=true" in url.query
                siblings = []
                for rel in sorted(repo.files):
                    s = repo.sibling(rel)
                    siblings.append(s if blobs_asked else {"rfilename": rel})
                return self.send_json(200, {"id": name, "modelId": name, "sha": repo.commit,
                                            "private": False, "gated": bool(args.token),
                                            "siblings": siblings})
            if parts[0] == "cdn" and len(parts) == 2 and parts[1] in blobs:
                return self.send_blob(parts[1], blobs[parts[1]])
            name, repo, rest = self.find_repo(parts)
            if repo is None or len(rest) < 3 or rest[0] != "resolve":
                return self.send_json(404, {"error": "Repository not found"},
                                      {"X-Error-Code": "RepoNotFound"})
            if not self.authorized():
                return
            if rest[1] not in ("main", repo.commit):
                return self.send_json(404, {"error": "Invalid rev id"},
                                      {"X-Error-Code": "RevisionNotFound"})
            rel = "/".join(rest[2:])
            if rel not in repo.files:
                return self.send_json(404, {"error": "Entry not found"},
                                      {"X-Error-Code": "EntryNotFound"})
            s = repo.sibling(rel)
            if "lfs" in s:
                self.send_response(302)
                self.send_header("Location", "/cdn/" + s["lfs"]["sha256"])
                self.send_header("X-Linked-Etag", '"%s"' % s["lfs"]["sha256"])
                self.send_header("X-Linked-Size", str(s["size"]))
                self.send_header("X-Repo-Commit", repo.commit)
                self.send_header("ETag", '"%s"' % s["blobId"])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_bytes(repo.files[rel], {"ETag": '"%s"' % s["blobId"],
                                              "X-Repo-Commit": repo.commit}, False)

        def send_blob(self, sha256, data):
            if args.bad_checksum:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            self.send_bytes(data, {"ETag": '"%s"' % sha256}, True)

        def send_bytes(self, data, headers, may_drop):
            # "Range: bytes=A-" or "bytes=A-B" (inclusive), else everything.
            start, end = 0, len(data)
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            if m:
                start = int(m.group(1))
                if m.group(2):
                    end = min(end, int(m.group(2)) + 1)
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", "bytes */%d" % len(data))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end - 1, len(data)))
            else:
                self.send_response(200)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(end - start))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if self.command == "HEAD":
                return
            with lock:
                drop = may_drop and state["drops_left"] > 0
                if drop:
                    state["drops_left"] -= 1
            if drop:
                self.wfile.write(data[start:min(end, start + args.drop_after)])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(data[start:end])

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
