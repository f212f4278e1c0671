// The C++ side of bench/python_bench.py: the same work through the C++ API,
// timed in this process, so that the Python package's overhead is their
// ratio. Prints one JSON object with the seconds of the timed part.
//
//   api_peer_bench insert DB INDEX VECTORS N DIM BATCH
//       creates collection "v" ("vectors dim=DIM", index INDEX) in a new
//       database DB and inserts the first N rows of VECTORS (raw float32)
//       in batches of BATCH, ids "0".."N-1", metadata {"i": row}.
//   api_peer_bench search DB QUERIES NQ DIM K
//       NQ searches (k = K) of collection "v" of DB, one query vector at a
//       time (raw float32 rows), after one warm-up pass.
//   api_peer_bench search-text DB COLLECTION QUERIES K
//       the same with the text queries of a file (one per line).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "semdb/database.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<float> ReadFloats(const std::string& path, size_t count) {
  std::vector<float> v(count);
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * sizeof(float)));
  if (!in) {
    std::fprintf(stderr, "cannot read %zu floats from %s\n", count, path.c_str());
    std::exit(1);
  }
  return v;
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "%s\n", s.ToString().c_str());
  return 1;
}

int Insert(char** argv) {
  const std::string db_path = argv[2], index = argv[3], vectors_path = argv[4];
  const size_t n = std::stoul(argv[5]), dim = std::stoul(argv[6]), batch = std::stoul(argv[7]);
  std::vector<float> data = ReadFloats(vectors_path, n * dim);
  auto db = semdb::Database::Open(db_path);
  if (!db.ok()) return Fail(db.status());
  auto col = (*db)->CreateCollection(
      "v", {.embedder = "vectors dim=" + std::to_string(dim), .index = index});
  if (!col.ok()) return Fail(col.status());
  const Clock::time_point start = Clock::now();
  for (size_t first = 0; first < n; first += batch) {
    std::vector<semdb::Document> docs;
    for (size_t i = first; i < std::min(n, first + batch); ++i) {
      docs.push_back({.id = std::to_string(i),
                      .metadata = {{"i", i}},
                      .vector = std::vector<float>(data.begin() + i * dim,
                                                   data.begin() + (i + 1) * dim)});
    }
    if (auto ids = (*col)->InsertBatch(std::move(docs)); !ids.ok()) return Fail(ids.status());
  }
  std::printf("%s\n", nlohmann::json{{"seconds", Seconds(start)}}.dump().c_str());
  return 0;
}

template <typename Search>
int TimeSearches(size_t nq, const Search& search) {
  for (size_t q = 0; q < nq; ++q) {  // warm-up
    if (absl::Status s = search(q); !s.ok()) return Fail(s);
  }
  const Clock::time_point start = Clock::now();
  for (size_t q = 0; q < nq; ++q) {
    if (absl::Status s = search(q); !s.ok()) return Fail(s);
  }
  std::printf("%s\n", nlohmann::json{{"seconds", Seconds(start)}}.dump().c_str());
  return 0;
}

int SearchVectors(char** argv) {
  const std::string db_path = argv[2], queries_path = argv[3];
  const size_t nq = std::stoul(argv[4]), dim = std::stoul(argv[5]);
  const int k = std::stoi(argv[6]);
  std::vector<float> queries = ReadFloats(queries_path, nq * dim);
  auto db = semdb::Database::Open(db_path);
  if (!db.ok()) return Fail(db.status());
  auto col = (*db)->GetCollection("v");
  if (!col.ok()) return Fail(col.status());
  return TimeSearches(nq, [&](size_t q) {
    return (*col)->SearchVector(absl::MakeConstSpan(queries.data() + q * dim, dim), {.k = k})
        .status();
  });
}

int SearchTexts(char** argv) {
  const std::string db_path = argv[2], name = argv[3], queries_path = argv[4];
  const int k = std::stoi(argv[5]);
  std::vector<std::string> queries;
  std::ifstream in(queries_path);
  for (std::string line; std::getline(in, line);) queries.push_back(line);
  auto db = semdb::Database::Open(db_path);
  if (!db.ok()) return Fail(db.status());
  auto col = (*db)->GetCollection(name);
  if (!col.ok()) return Fail(col.status());
  return TimeSearches(queries.size(),
                      [&](size_t q) { return (*col)->Search(queries[q], {.k = k}).status(); });
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "insert" && argc == 8) return Insert(argv);
  if (mode == "search" && argc == 7) return SearchVectors(argv);
  if (mode == "search-text" && argc == 6) return SearchTexts(argv);
  std::fprintf(stderr, "usage: see the comment at the top of bench/api_peer_bench.cc\n");
  return 2;
}
