// Crash-loop stress test: a worker runs a mixed workload against a database
// and is killed with SIGKILL at random moments (or at named crash points
// inside index saves, refits and rebuilds); after every kill the database is
// reopened and checked against a journal of what the worker was told.
//
//   semdb_crash_stress loop DIR [--cycles N] [--seed S]   the driver
//   semdb_crash_stress work DIR --seed S [--http 1]       one worker (internal)
//   semdb_crash_stress verify DIR                         one check
//
// The worker appends to DIR/journal, before each operation, its intent, and
// after it, whether it was acknowledged (OK) or refused (error). A SIGKILL
// loses nothing the worker wrote to the journal or RocksDB wrote to its WAL
// (both sit in the page cache), so after a kill every acknowledged write must
// be present, not only those made with sync; an operation in flight may or
// may not have happened, but entirely or not at all. Every third cycle's
// worker makes its writes through an HttpServer (the one of `semdb serve`,
// 4 threads) that it runs itself, from kHttpClients client threads at once,
// so that kills land in the server's request path under concurrency: up to
// kHttpClients operations are in flight at a kill. Each client thread owns
// the ids congruent to its number (mod kHttpClients), so that each
// document's history stays a sequence; a write is acknowledged once its
// 2xx response arrived.
// Checks after every kill:
//   - each document's text, metadata and (for the vectors collection) vector
//     equal those of its last acknowledged write, or of the write in flight;
//   - deleted documents stay deleted; the document count matches;
//   - the index agrees with storage: every live document is found by an
//     exact query for its own vector (or text), every hit is a live document,
//     and the index holds as many vectors as there are documents;
//   - the database opens without repair.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "semdb/database.h"
#include "shell/http_server.h"

namespace semdb {
namespace {

constexpr int kDim = 16;
// Above this many live documents a collection is mostly shrunk, so that
// long runs keep verification time per cycle bounded.
constexpr size_t kMaxLive = 1500;
// Documents per collection whose index consistency is checked each cycle.
constexpr size_t kIndexSample = 200;
// Client threads writing at once through the HTTP server.
constexpr int kHttpClients = 4;
// A TF-IDF collection (refits), and caller-vector collections on each
// index kind: flat, IVF (trained at 39 x nlist = 312 vectors, retrained as
// it grows) and HNSW (rebuilt once deletes pass 20%).
struct StressCollection {
  const char* name;
  const char* embedder;
  const char* index;
};
constexpr StressCollection kCollections[] = {
    {"text", "tfidf dim=16 docs_per_dim=2", "flat"},
    {"vecs", "vectors dim=16", "flat"},
    {"ivf", "vectors dim=16", "ivf nlist=8 nprobe=8"},
    {"hnsw", "vectors dim=16", "hnsw m=8 ef_construction=40 ef_search=32"},
};

bool HasTexts(const std::string& collection) { return collection == "text"; }

// The crash points armed in turn by every fourth cycle of the loop: index
// saves, refits, rebuilds, and the vector file (after a batch's values are
// appended but before the WriteBatch that references them; a reclaim after
// the live values are copied to the next file, and after the references
// were switched to it but before the old file is unlinked).
constexpr const char* kCrashPoints[] = {
    "index_save.written",     "index_save.saved",
    "refit.batch_written",    "refit.switched",
    "build.batch",            "build.trained",
    "store.vectors_appended", "store.vector_reclaim_copied",
    "store.vector_reclaim_switched",
};

// --- The documents: every (collection, id, version) has a fixed content.

std::string TextOf(int id, int version) {
  static const std::vector<std::string> words = [] {
    std::vector<std::string> w;
    const char* syllables[] = {"ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "pe", "du"};
    for (const char* a : syllables) {
      for (const char* b : syllables) {
        for (const char* c : syllables) w.push_back(std::string(a) + b + c);
      }
    }
    return w;
  }();
  std::mt19937 rng(static_cast<uint32_t>(id * 100003 + version));
  std::string text = absl::StrCat("doc", id, "v", version);
  const int n = 6 + static_cast<int>(rng() % 10);
  for (int i = 0; i < n; ++i) absl::StrAppend(&text, " ", words[rng() % words.size()]);
  return text;
}

std::vector<float> VectorOf(int id, int version) {
  std::mt19937 rng(static_cast<uint32_t>(id * 7919 + version * 31 + 5));
  std::normal_distribution<float> normal;
  std::vector<float> v(kDim);
  double norm = 0;
  for (float& x : v) norm += std::pow(x = normal(rng), 2);
  for (float& x : v) x /= static_cast<float>(std::sqrt(norm));
  return v;
}

Document DocumentOf(const std::string& collection, int id, int version) {
  Document d;
  d.id = absl::StrCat("d", id);
  d.text = TextOf(id, version);
  d.metadata = {{"id", id}, {"version", version}};
  if (!HasTexts(collection)) d.vector = VectorOf(id, version);
  return d;
}

// --- The journal.

enum class Op { kInsert, kUpsert, kDelete };

struct Entry {
  int64_t seq = 0;
  std::string collection;
  Op op = Op::kInsert;
  std::vector<int> ids;  // a batch for inserts
  int version = 0;
  bool sync = false;
  enum Outcome { kInFlight, kAcked, kRefused } outcome = kInFlight;
};

class Journal {
 public:
  explicit Journal(const std::string& path) : path_(path) {}

  // Appends a line; O_APPEND writes of one line are atomic, and a SIGKILL
  // cannot lose what write() returned.
  void Append(const std::string& line) {
    int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    std::string data = line + "\n";
    if (fd < 0 || ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
      std::perror("journal");
      std::_Exit(3);
    }
    ::close(fd);
  }

  std::vector<Entry> Read() const {
    std::vector<Entry> entries;
    std::map<int64_t, size_t> by_seq;
    std::ifstream in(path_);
    for (std::string line; std::getline(in, line);) {
      std::istringstream ls(line);
      std::string kind;
      int64_t seq;
      ls >> kind >> seq;
      if (kind == "I") {
        Entry e;
        e.seq = seq;
        std::string op, ids;
        int sync;
        ls >> e.collection >> op >> e.version >> sync >> ids;
        e.op = op == "insert" ? Op::kInsert : op == "upsert" ? Op::kUpsert : Op::kDelete;
        e.sync = sync != 0;
        std::istringstream is(ids);
        for (std::string id; std::getline(is, id, ',');) e.ids.push_back(std::stoi(id));
        by_seq[seq] = entries.size();
        entries.push_back(e);
      } else if (kind == "A" || kind == "R") {
        entries[by_seq.at(seq)].outcome = kind == "A" ? Entry::kAcked : Entry::kRefused;
      }
    }
    return entries;
  }

 private:
  std::string path_;
};

// What each document should be: its version, or deleted (-1); and the
// alternative for the operations in flight at the kill (on disjoint ids).
struct Expected {
  std::map<std::string, std::map<int, int>> version;  // collection -> id -> version
  std::map<std::string, std::map<int, int>> in_flight;
  std::vector<Entry> in_flight_entries;
  int max_id = 0;
  int max_version = 0;
  int64_t acked = 0, acked_sync = 0, next_seq = 1;
};

Expected Replay(const std::vector<Entry>& entries) {
  Expected x;
  for (const Entry& e : entries) {
    x.next_seq = std::max(x.next_seq, e.seq + 1);
    x.max_version = std::max(x.max_version, e.version);
    for (int id : e.ids) x.max_id = std::max(x.max_id, id);
    const int v = e.op == Op::kDelete ? -1 : e.version;
    if (e.outcome == Entry::kAcked) {
      ++x.acked;
      if (e.sync) ++x.acked_sync;
      for (int id : e.ids) x.version[e.collection][id] = v;
    } else if (e.outcome == Entry::kInFlight) {
      // Only the last worker's can be in flight, each on ids no other
      // touched since: each new worker first resolves its predecessor's
      // (see Work), and its client threads write disjoint ids.
      x.in_flight_entries.push_back(e);
      for (int id : e.ids) x.in_flight[e.collection][id] = v;
    }
  }
  return x;
}

// --- Worker.

Options StressOptions() {
  Options o;
  o.index_save_interval = 40;  // save often: exercise saves and log truncation
  return o;
}

// The HTTP service the writes of an HTTP cycle go through.
class HttpWriter {
 public:
  explicit HttpWriter(Database& db) : server_(db, {.port = 0, .threads = 4}) {
    const absl::StatusOr<int> port = server_.Bind();
    if (!port.ok()) {
      std::cerr << "worker: " << port.status().message() << "\n";
      std::_Exit(1);
    }
    port_ = *port;
    runner_ = std::thread([this] { (void)server_.Run(); });
  }
  ~HttpWriter() {
    server_.Stop();
    runner_.join();
  }

  // A keep-alive client of the server, for one thread.
  std::unique_ptr<httplib::Client> NewClient() const {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client->set_keep_alive(true);
    client->set_read_timeout(120);
    return client;
  }

  // Writes through the server: the status of the write, with the codes the
  // library would have returned (409 AlreadyExists, 404 NotFound).
  static absl::Status Write(httplib::Client& client, const std::string& collection, Op op,
                            const std::vector<Document>& docs, const std::string& delete_id) {
    nlohmann::json list = nlohmann::json::array();
    for (const Document& d : docs) {
      nlohmann::json j = {{"id", d.id}, {"text", d.text}, {"metadata", d.metadata}};
      if (!d.vector.empty()) j["vector"] = d.vector;
      list.push_back(std::move(j));
    }
    httplib::Result r =
        op == Op::kDelete
            ? client.Delete(absl::StrCat("/collections/", collection, "/documents/", delete_id))
            : client.Post(absl::StrCat("/collections/", collection, "/documents"),
                          nlohmann::json{{"documents", list}, {"upsert", op == Op::kUpsert}}
                              .dump(),
                          "application/json");
    if (!r) return absl::UnavailableError(httplib::to_string(r.error()));
    if (r->status == 200 || r->status == 201) return absl::OkStatus();
    if (r->status == 409) return absl::AlreadyExistsError(r->body);
    if (r->status == 404) return absl::NotFoundError(r->body);
    return absl::InternalError(absl::StrCat("HTTP ", r->status, ": ", r->body));
  }

 private:
  HttpServer server_;
  int port_ = 0;
  std::thread runner_;
};

int Work(const std::string& dir, uint64_t seed, bool http) {
  Journal journal(dir + "/journal");
  Expected x = Replay(journal.Read());
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(dir + "/db", StressOptions());
  if (!db.ok()) {
    std::cerr << "worker: open: " << db.status().message() << "\n";
    return 1;
  }
  // Each operation the previous worker was killed in happened entirely or
  // not at all (the verifier checked which): record which, so that the
  // journal stays exact.
  for (const Entry& e : x.in_flight_entries) {
    absl::StatusOr<std::shared_ptr<Collection>> c = (*db)->GetCollection(e.collection);
    bool applied = false;
    if (c.ok()) {
      absl::StatusOr<Document> doc = (*c)->Get(absl::StrCat("d", e.ids[0]));
      applied = e.op == Op::kDelete
                    ? absl::IsNotFound(doc.status())
                    : doc.ok() && doc->metadata.value("version", -2) == e.version;
    }
    journal.Append(absl::StrCat(applied ? "A " : "R ", e.seq));
  }
  if (!x.in_flight_entries.empty()) x = Replay(journal.Read());
  std::map<std::string, std::shared_ptr<Collection>> collections;
  for (const StressCollection& sc : kCollections) {
    absl::StatusOr<std::shared_ptr<Collection>> c = (*db)->GetCollection(sc.name);
    if (!c.ok()) {
      c = (*db)->CreateCollection(sc.name, {.embedder = sc.embedder, .index = sc.index});
    }
    if (!c.ok()) {
      std::cerr << "worker: collection: " << c.status().message() << "\n";
      return 1;
    }
    collections[sc.name] = *c;
  }
  std::unique_ptr<HttpWriter> server;
  if (http) server = std::make_unique<HttpWriter>(**db);
  const int threads = http ? kHttpClients : 1;
  std::mutex mu;  // guards x, version and seq
  int version = x.max_version + 1;
  int64_t seq = x.next_seq;
  // Thread t writes the ids congruent to t; it runs until the kill.
  auto run = [&](int t) {
    std::mt19937_64 rng(seed + static_cast<uint64_t>(t));
    std::unique_ptr<httplib::Client> client = http ? server->NewClient() : nullptr;
    int next_id = x.max_id + 1;
    while (next_id % threads != t) ++next_id;
    auto live_ids = [&](const std::string& c) {
      std::vector<int> ids;
      for (const auto& [id, v] : x.version[c]) {
        if (v >= 0 && id % threads == t) ids.push_back(id);
      }
      return ids;
    };
    while (true) {
      const std::string name = kCollections[rng() % std::size(kCollections)].name;
      Collection& c = *collections[name];
      const int dice = static_cast<int>(rng() % 100);
      if (dice < 8) {
        // Reads and maintenance, which the journal need not know about.
        if (dice < 4) {
          (void)c.Search(TextOf(static_cast<int>(rng() % next_id), 0), {.k = 5});
        } else if (dice < 6) {
          (void)c.Checkpoint();
        } else if (name == "text") {
          (void)c.Refit();
        }
        continue;
      }
      Entry e;
      e.collection = name;
      e.sync = !http && rng() % 2 == 0;  // the server writes without sync
      {
        std::lock_guard<std::mutex> lock(mu);
        e.seq = seq++;
        e.version = version++;
        std::vector<int> live = live_ids(name);
        const int insert_below = live.size() * threads > kMaxLive ? 25 : 55;
        if (dice < insert_below || live.empty()) {
          e.op = Op::kInsert;
          const int n = 1 + static_cast<int>(rng() % 4);
          for (int i = 0; i < n; ++i, next_id += threads) e.ids.push_back(next_id);
        } else if (dice < insert_below + 30) {
          e.op = Op::kUpsert;
          // Sometimes upsert a new id, mostly an existing one.
          if (rng() % 5 == 0) {
            e.ids.push_back(next_id);
            next_id += threads;
          } else {
            e.ids.push_back(live[rng() % live.size()]);
          }
        } else {
          e.op = Op::kDelete;
          e.ids.push_back(live[rng() % live.size()]);
        }
        std::string ids;
        for (int id : e.ids) absl::StrAppend(&ids, ids.empty() ? "" : ",", id);
        const char* op =
            e.op == Op::kInsert ? "insert" : e.op == Op::kUpsert ? "upsert" : "delete";
        journal.Append(absl::StrCat("I ", e.seq, " ", name, " ", op, " ", e.version, " ",
                                    e.sync ? 1 : 0, " ", ids));
      }
      WriteOptions wo{.sync = e.sync};
      absl::Status s;
      std::vector<Document> docs;
      if (e.op != Op::kDelete) {
        for (int id : e.ids) docs.push_back(DocumentOf(name, id, e.version));
      }
      if (client != nullptr) {
        s = HttpWriter::Write(*client, name, e.op, docs, absl::StrCat("d", e.ids[0]));
      } else if (e.op == Op::kDelete) {
        s = c.Delete(absl::StrCat("d", e.ids[0]), wo);
      } else {
        s = e.op == Op::kInsert ? c.InsertBatch(std::move(docs), wo).status()
                                : c.UpsertBatch(std::move(docs), wo);
      }
      std::lock_guard<std::mutex> lock(mu);
      journal.Append(absl::StrCat(s.ok() ? "A " : "R ", e.seq));
      if (s.ok()) {
        for (int id : e.ids) x.version[name][id] = e.op == Op::kDelete ? -1 : e.version;
      } else if (!absl::IsAlreadyExists(s) && !absl::IsNotFound(s)) {
        std::cerr << "worker: unexpected error: " << s.message() << "\n";
        std::_Exit(1);
      }
    }
  };
  std::vector<std::thread> others;
  for (int t = 1; t < threads; ++t) others.emplace_back(run, t);
  run(0);  // until the kill
  return 1;
}

// --- Verification.

struct Figures {
  int64_t cycles = 0;
  int64_t acked = 0;           // acknowledged writes in the journal
  int64_t acked_sync = 0;
  int64_t documents_checked = 0;
  int64_t index_queries = 0;
  int64_t losses = 0;          // violations found
};

// Runs in a process of its own that ends with _Exit: the database is never
// closed, so that the next worker finds it as a crash leaves it (a clean
// close would save every index and hide the log replay from the test).
bool Verify(const std::string& dir, Figures* figures, std::string* problem) {
  Expected x = Replay(Journal(dir + "/journal").Read());
  absl::StatusOr<std::unique_ptr<Database>> opened =
      Database::Open(dir + "/db", StressOptions());
  if (!opened.ok()) {
    *problem = absl::StrCat("database does not open: ", opened.status().message());
    return false;
  }
  Database* db = opened->release();  // deliberately never closed, see above
  figures->acked = x.acked;
  figures->acked_sync = x.acked_sync;
  for (const StressCollection& sc : kCollections) {
    const std::string name = sc.name;
    absl::StatusOr<std::shared_ptr<Collection>> c = db->GetCollection(name);
    if (!c.ok()) {
      if (x.version[name].empty()) continue;  // killed before it was created
      *problem = absl::StrCat("collection ", name, " lost: ", c.status().message());
      return false;
    }
    int64_t live = 0, live_if_in_flight_applied = 0;
    for (auto& [id, version] : x.version[name]) {
      auto flight = x.in_flight[name].find(id);
      std::vector<int> allowed = {version};
      if (flight != x.in_flight[name].end()) allowed.push_back(flight->second);
      absl::StatusOr<Document> doc = (*c)->Get(absl::StrCat("d", id));
      ++figures->documents_checked;
      int found = -1;
      if (doc.ok()) {
        found = doc->metadata.value("version", -2);
        const Document want = DocumentOf(name, id, found);
        bool same_vector = doc->vector.size() == want.vector.size();
        for (size_t j = 0; same_vector && j < want.vector.size(); ++j) {
          same_vector = std::abs(doc->vector[j] - want.vector[j]) < 1e-6;  // renormalized
        }
        if (doc->text != want.text || doc->metadata != want.metadata || !same_vector) {
          *problem = absl::StrCat(name, " d", id, ": torn or wrong content");
          return false;
        }
      } else if (!absl::IsNotFound(doc.status())) {
        *problem = absl::StrCat(name, " d", id, ": ", doc.status().message());
        return false;
      }
      if (std::find(allowed.begin(), allowed.end(), found) == allowed.end()) {
        ++figures->losses;
        *problem = absl::StrCat(name, " d", id, ": found version ", found, ", expected ",
                                version, flight != x.in_flight[name].end()
                                             ? absl::StrCat(" or ", flight->second)
                                             : "");
        return false;
      }
      if (found >= 0) ++live;
      if (version >= 0) ++live_if_in_flight_applied;
    }
    // Documents only the in-flight operation may have created.
    for (auto& [id, version] : x.in_flight[name]) {
      if (x.version[name].count(id)) continue;
      absl::StatusOr<Document> doc = (*c)->Get(absl::StrCat("d", id));
      if (doc.ok()) ++live;
    }
    if ((*c)->Count() != live) {
      *problem = absl::StrCat(name, ": count ", (*c)->Count(), ", documents found ", live);
      return false;
    }
    nlohmann::json stats = (*c)->Stats().ToJson();
    if (stats.contains("index_facts") && stats["index_facts"]["live"] != live) {
      *problem = absl::StrCat(name, ": the index holds ", stats["index_facts"]["live"].dump(),
                              " vectors for ", live, " documents");
      return false;
    }
    // The index agrees with storage: each live document is found by an
    // exact query for itself, and hits are live documents. A random sample
    // of documents, and those of the operation in flight.
    std::vector<int> sample;
    for (const auto& [id, version] : x.version[name]) sample.push_back(id);
    std::shuffle(sample.begin(), sample.end(), std::mt19937(static_cast<uint32_t>(x.next_seq)));
    if (sample.size() > kIndexSample) sample.resize(kIndexSample);
    for (const auto& [id, version] : x.in_flight[name]) sample.push_back(id);
    for (int id : sample) {
      absl::StatusOr<Document> doc = (*c)->Get(absl::StrCat("d", id));
      if (!doc.ok()) continue;
      const int v = doc->metadata["version"];
      // Recall target 1: exact strategies only, whatever the index kind.
      absl::StatusOr<std::vector<Hit>> hits =
          HasTexts(name) ? (*c)->Search(doc->text, {.k = 5, .recall_target = 1})
                         : (*c)->SearchVector(VectorOf(id, v), {.k = 5, .recall_target = 1});
      ++figures->index_queries;
      if (!hits.ok()) {
        if (HasTexts(name) && absl::IsInvalidArgument(hits.status())) continue;
        *problem = absl::StrCat(name, " d", id, ": search failed: ", hits.status().message());
        return false;
      }
      bool self = false;
      for (const Hit& h : *hits) {
        self |= h.id == doc->id && h.score >= (*hits)[0].score - 1e-4;
        if (!(*c)->Get(h.id).ok()) {
          *problem = absl::StrCat(name, ": search returned ", h.id, " which is not stored");
          return false;
        }
      }
      // The index's own (approximate) search returns stored documents only.
      if (!HasTexts(name)) {
        absl::StatusOr<std::vector<Hit>> ann = (*c)->SearchVector(VectorOf(id, v), {.k = 5});
        if (!ann.ok()) {
          *problem = absl::StrCat(name, " d", id, ": search failed: ", ann.status().message());
          return false;
        }
        for (const Hit& h : *ann) {
          if (!(*c)->Get(h.id).ok()) {
            *problem = absl::StrCat(name, ": index search returned ", h.id, ", not stored");
            return false;
          }
        }
      }
      // A text document with no word known to its model has a zero vector
      // and cannot be found by itself; every other one must be.
      if (!self && !(HasTexts(name) && doc->stats.zero_vector)) {
        *problem = absl::StrCat(name, " d", id, ": not found by an exact query for itself");
        return false;
      }
    }
  }
  return true;
}

// --- Driver.

std::string SelfPath() {
  return std::filesystem::read_symlink("/proc/self/exe").string();
}

int Loop(const std::string& dir, int cycles, uint64_t seed) {
  std::filesystem::create_directories(dir);
  std::mt19937_64 rng(seed);
  Figures figures;
  std::map<std::string, int> points_hit;  // worker runs that died at each point
  for (const char* point : kCrashPoints) points_hit[point] = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int cycle = 1; cycle <= cycles; ++cycle) {
    const char* point = cycle % 4 == 0 ? kCrashPoints[(cycle / 4) % std::size(kCrashPoints)]
                                       : nullptr;
    const int kill_after_ms = 30 + static_cast<int>(rng() % 400);
    const std::string worker_seed = std::to_string(rng());
    const char* http = cycle % 3 == 0 ? "1" : "0";
    pid_t pid = fork();
    if (pid == 0) {
      if (point != nullptr) setenv("SEMDB_CRASH_POINT", absl::StrCat(point, ":", 1 + cycle % 3).c_str(), 1);
      const std::string self = SelfPath();
      execl(self.c_str(), self.c_str(), "work", dir.c_str(), "--seed", worker_seed.c_str(),
            "--http", http, static_cast<char*>(nullptr));
      _exit(127);
    }
    // Wait for the kill time, or for the worker to die at its crash point.
    int status = 0;
    bool exited = false;
    for (int waited = 0; waited < (point ? 5000 : kill_after_ms); waited += 5) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!exited) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    if (WIFEXITED(status)) {
      std::cerr << "cycle " << cycle << ": the worker failed (exit " << WEXITSTATUS(status)
                << ")\n";
      return 1;
    }
    if (point != nullptr && exited) ++points_hit[point];
    pid_t verifier = fork();
    if (verifier == 0) {
      const std::string self = SelfPath();
      execl(self.c_str(), self.c_str(), "verify", dir.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    waitpid(verifier, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::cerr << "cycle " << cycle << (point ? absl::StrCat(" (crash point ", point, ")") : "")
                << ": verification failed\n";
      return 1;
    }
    std::ifstream in(dir + "/verify.json");
    nlohmann::json last = nlohmann::json::parse(in, nullptr, false);
    if (!last.is_discarded()) {
      figures.acked = last.value("acknowledged_writes", int64_t{0});
      figures.acked_sync = last.value("acknowledged_with_sync", int64_t{0});
      figures.documents_checked += last.value("documents_checked", int64_t{0});
      figures.index_queries += last.value("index_queries", int64_t{0});
    }
    ++figures.cycles;
    if (cycle % 25 == 0) {  // progress, should the loop be cut short
      std::cerr << "cycle " << cycle << ": " << figures.acked
                << " acknowledged writes checked, 0 lost\n";
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json report = {{"cycles", figures.cycles},
                           {"crash_points_hit", points_hit},
                           {"acknowledged_writes", figures.acked},
                           {"acknowledged_with_sync", figures.acked_sync},
                           {"document_checks", figures.documents_checked},
                           {"index_checks", figures.index_queries},
                           {"losses", figures.losses},
                           {"seconds", std::round(seconds * 10) / 10}};
  std::cout << report.dump() << "\n";
  return 0;
}

int Usage() {
  std::cerr << "usage: semdb_crash_stress loop DIR [--cycles N] [--seed S]\n"
               "       semdb_crash_stress work DIR --seed S [--http 1]\n"
               "       semdb_crash_stress verify DIR\n";
  return 2;
}

}  // namespace
}  // namespace semdb

int main(int argc, char** argv) {
  using namespace semdb;
  if (argc < 3) return Usage();
  const std::string mode = argv[1], dir = argv[2];
  int cycles = 50;
  uint64_t seed = 1;
  bool http = false;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--cycles") {
      cycles = std::atoi(argv[i + 1]);
    } else if (flag == "--seed") {
      seed = std::stoull(argv[i + 1]);
    } else if (flag == "--http") {
      http = std::string(argv[i + 1]) == "1";
    } else {
      return Usage();
    }
  }
  if (mode == "loop") return Loop(dir, cycles, seed);
  if (mode == "work") return Work(dir, seed, http);
  if (mode == "verify") {
    Figures f;
    std::string problem;
    if (!Verify(dir, &f, &problem)) {
      std::cerr << "verify: " << problem << "\n";
      std::_Exit(1);
    }
    std::ofstream(dir + "/verify.json")
        << nlohmann::json{{"acknowledged_writes", f.acked},
                          {"acknowledged_with_sync", f.acked_sync},
                          {"documents_checked", f.documents_checked},
                          {"index_queries", f.index_queries}}
               .dump();
    std::_Exit(0);
  }
  return Usage();
}
