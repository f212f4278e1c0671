// Readers search while a writer inserts, upserts and deletes and the index
// is saved and the model refitted. Every result must be consistent: no torn
// document (text, metadata and vector of different versions), no document
// whose delete had returned before the search began. Run under
// ThreadSanitizer by scripts/sanitize.sh.
#include <atomic>
#include <cmath>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "catch2/catch.hpp"
#include "semdb/database.h"
#include "test_data.h"

namespace semdb {
namespace {

constexpr int kDim = 8;

// The vector of (id, version): deterministic, so a reader can check that a
// hit's vector (its score for this exact query) belongs to its text.
std::vector<float> VectorOf(int id, int version) {
  std::mt19937 rng(static_cast<uint32_t>(id * 7919 + version));
  std::normal_distribution<float> normal;
  std::vector<float> v(kDim);
  for (float& x : v) x = normal(rng);
  return v;
}

Document DocOf(int id, int version) {
  return {.id = "d" + std::to_string(id),
          .text = "doc " + std::to_string(id) + " version " + std::to_string(version),
          .metadata = {{"id", id}, {"version", version}},
          .vector = VectorOf(id, version)};
}

// Ids whose delete has returned, and a counter to order reads after them.
class DeletedIds {
 public:
  void Add(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    ids_.insert(id);
  }
  absl::flat_hash_set<std::string> Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_;
  }

 private:
  mutable std::mutex mu_;
  absl::flat_hash_set<std::string> ids_;
};

TEST_CASE("concurrent searches see whole writes and no returned delete", "[concurrency]") {
  testing::TempDir dir;
  auto db = Database::Open(dir.path()).value();
  auto c = db->CreateCollection("v", {.embedder = "vectors dim=8"}).value();
  constexpr int kInitial = 1500;
  std::vector<Document> initial;
  for (int i = 0; i < kInitial; ++i) initial.push_back(DocOf(i, 0));
  REQUIRE(c->InsertBatch(std::move(initial)).ok());

  std::atomic<bool> stop{false};
  std::atomic<int64_t> searches{0}, hits_checked{0}, writes{0};
  std::atomic<int> failures{0};
  std::string first_failure;
  std::mutex failure_mu;
  auto fail = [&](const std::string& what) {
    if (failures++ == 0) {
      std::lock_guard<std::mutex> lock(failure_mu);
      first_failure = what;
    }
  };
  DeletedIds deleted;

  std::thread writer([&] {
    std::mt19937 rng(1);
    int next_id = kInitial;
    std::vector<int> versions(kInitial + 100000, 0);
    absl::flat_hash_set<int> gone;
    while (!stop) {
      const int op = rng() % 10;
      if (op < 5) {
        int id = rng() % kInitial;
        if (gone.contains(id)) continue;
        absl::Status s = c->Upsert(DocOf(id, ++versions[id]));
        if (!s.ok()) fail("upsert: " + std::string(s.message()));
      } else if (op < 8) {
        absl::StatusOr<std::string> s = c->Insert(DocOf(next_id++, 0));
        if (!s.ok()) fail("insert: " + std::string(s.status().message()));
      } else {
        int id = rng() % kInitial;
        if (!gone.insert(id).second) continue;
        absl::Status s = c->Delete("d" + std::to_string(id));
        if (!s.ok()) fail("delete: " + std::string(s.message()));
        deleted.Add("d" + std::to_string(id));
      }
      ++writes;
    }
  });

  std::thread maintainer([&] {
    while (!stop) {
      absl::Status s = c->Checkpoint();
      if (!s.ok()) fail("checkpoint: " + std::string(s.message()));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  auto reader = [&](int seed) {
    std::mt19937 rng(seed);
    while (!stop) {
      const int id = rng() % kInitial;
      const absl::flat_hash_set<std::string> gone_before = deleted.Snapshot();
      // Query with some version's vector of a random document; whatever
      // comes back must be internally consistent.
      std::vector<float> q = VectorOf(id, static_cast<int>(rng() % 3));
      absl::StatusOr<std::vector<Hit>> hits = c->SearchVector(q, {.k = 10});
      if (!hits.ok()) {
        fail("search: " + std::string(hits.status().message()));
        continue;
      }
      ++searches;
      for (const Hit& h : *hits) {
        ++hits_checked;
        if (gone_before.contains(h.id)) fail("deleted document returned: " + h.id);
        const int hid = h.metadata.value("id", -1);
        const int hver = h.metadata.value("version", -1);
        if (h.text != DocOf(hid, hver).text || h.id != "d" + std::to_string(hid)) {
          fail("torn document: " + h.id + " / " + h.text + " / " + h.metadata.dump());
          continue;
        }
        // The score must be the cosine of q with this version's vector.
        std::vector<float> v = VectorOf(hid, hver);
        double dot = 0, nq = 0, nv = 0;
        for (int j = 0; j < kDim; ++j) {
          dot += q[j] * v[j];
          nq += q[j] * q[j];
          nv += v[j] * v[j];
        }
        if (std::abs(dot / std::sqrt(nq * nv) - h.score) > 1e-4) {
          fail("score of another version for " + h.id);
        }
      }
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) readers.emplace_back(reader, 100 + r);

  // Until enough of both happened (not for a time: the machine may be
  // slow or busy; ctest's timeout bounds a stall).
  constexpr int64_t kEnough = 200;
  while (failures == 0 && (searches < kEnough || writes < kEnough)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  writer.join();
  maintainer.join();
  for (std::thread& t : readers) t.join();
  INFO(first_failure);
  REQUIRE(failures == 0);
  REQUIRE(searches >= kEnough);
  REQUIRE(writes >= kEnough);
}

TEST_CASE("searches keep working while a text collection refits", "[concurrency]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  testing::TempDir dir;
  auto db = Database::Open(dir.path()).value();
  auto c = db->CreateCollection("lee", {.embedder = "tfidf dim=32"}).value();
  std::vector<std::string> lines = testing::ReadLines(testing::SharedData("gensim/lee_background.cor"));
  std::vector<Document> docs;
  for (size_t i = 0; i < 150; ++i) docs.push_back({.id = std::to_string(i), .text = lines[i]});
  REQUIRE(c->InsertBatch(std::move(docs)).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int64_t> searches{0};
  std::thread refitter([&] {
    for (size_t i = 150; i < lines.size() && !stop; ++i) {
      if (!c->Insert({.id = std::to_string(i), .text = lines[i]}).ok()) ++failures;
      if (i % 50 == 0 && !c->Refit().ok()) ++failures;
    }
  });
  auto reader = [&](int seed) {
    std::mt19937 rng(seed);
    while (!stop) {
      const size_t i = rng() % 150;
      absl::StatusOr<std::vector<Hit>> hits = c->Search(lines[i], {.k = 3});
      // A document searched by its own text is its own nearest neighbour
      // (ties aside: the corpus has near-duplicates), under whichever model
      // version the search ran.
      if (!hits.ok() || hits->empty()) {
        ++failures;
      } else {
        bool found = false;
        for (const Hit& h : *hits) {
          found |= h.id == std::to_string(i) && h.score >= (*hits)[0].score - 1e-5;
        }
        if (!found) ++failures;
      }
      ++searches;
    }
  };
  std::thread r1(reader, 1), r2(reader, 2);
  refitter.join();
  stop = true;
  r1.join();
  r2.join();
  REQUIRE(failures == 0);
  REQUIRE(searches > 10);
  REQUIRE(c->Count() == static_cast<int64_t>(lines.size()));
}

}  // namespace
}  // namespace semdb
