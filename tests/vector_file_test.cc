// The vector file (storage/vector_file.h) under Store: values written once
// beside RocksDB and referenced from it. Round trips of float32 and float16
// through every read (point, batched, scanned) and a reopen; reclaiming dead
// bytes (deletes, a dropped generation as a refit leaves) keeps each live
// vector bit for bit and shrinks the file; a database written before the
// vector file (vectors inside RocksDB, built here through RocksDB itself)
// still reads and writes; a process killed between the append and the
// WriteBatch, or inside a reclaim, leaves every acknowledged vector exact
// and nothing half-written visible; a truncated or bit-flipped file is
// DataLoss, not a crash.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "rocksdb/db.h"
#include "storage/store.h"
#include "storage/vector_file.h"
#include "test_data.h"

namespace semdb {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr int kDim = 24;

std::unique_ptr<Store> OpenStore(const std::string& path, StoreOptions options = {}) {
  absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(path, options);
  INFO(s.status());
  REQUIRE(s.ok());
  return *std::move(s);
}

// Vector `label` of generation `gen`: distinct, reproducible values (exact
// in float16 too when `halves`: multiples of 1/64 below 4).
std::vector<float> Values(uint64_t label, uint32_t gen, bool halves = false) {
  std::vector<float> v(kDim);
  std::mt19937 rng(static_cast<uint32_t>(label * 7919 + gen));
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  for (float& x : v) x = halves ? std::round(u(rng) * 64) / 64 : u(rng);
  return v;
}

// Writes labels [first, first + n) of `gen` in one synced batch.
void PutRange(Store& store, uint32_t cid, uint32_t gen, uint64_t first, uint64_t n,
              VectorStorage storage = VectorStorage::kFloat32) {
  StoreBatch batch(store);
  std::vector<std::vector<float>> values;
  for (uint64_t l = first; l < first + n; ++l) values.push_back(Values(l, gen));
  for (uint64_t i = 0; i < n; ++i) {
    batch.PutVector(cid, gen, storage, first + i, static_cast<int32_t>(first + i), 1, values[i]);
  }
  absl::Status s = store.Write(batch, true);
  INFO(s);
  REQUIRE(s.ok());
}

void DeleteRange(Store& store, uint32_t cid, uint32_t gen, uint64_t first, uint64_t n) {
  StoreBatch batch(store);
  for (uint64_t l = first; l < first + n; ++l) batch.DeleteVector(cid, gen, l);
  REQUIRE(store.Write(batch, true).ok());
}

// Every vector of (cid, gen) by a scan: label -> record.
std::map<uint64_t, VectorRecord> Scan(const Store& store, uint32_t cid, uint32_t gen,
                                      VectorStorage storage = VectorStorage::kFloat32) {
  std::map<uint64_t, VectorRecord> out;
  absl::Status s = store.ScanVectors(cid, gen, storage, [&](uint64_t label, VectorRecord& v) {
    out[label] = v;
    return absl::OkStatus();
  });
  INFO(s);
  REQUIRE(s.ok());
  return out;
}

// The scan holds labels [first, first + n) of `gen`, bit for bit, and the
// point reads agree.
void CheckExact(const Store& store, uint32_t cid, uint32_t gen, uint64_t first, uint64_t n) {
  std::map<uint64_t, VectorRecord> got = Scan(store, cid, gen);
  for (uint64_t l = first; l < first + n; ++l) {
    REQUIRE(got.count(l) == 1);
    const std::vector<float> want = Values(l, gen);
    REQUIRE(std::memcmp(got[l].values.data(), want.data(), sizeof(float) * kDim) == 0);
    CHECK(got[l].tokens == static_cast<int32_t>(l));
    absl::StatusOr<std::optional<VectorRecord>> one =
        store.GetVector(cid, gen, VectorStorage::kFloat32, l);
    REQUIRE(one.ok());
    REQUIRE(one->has_value());
    REQUIRE(std::memcmp((*one)->values.data(), want.data(), sizeof(float) * kDim) == 0);
  }
}

std::vector<std::string> VectorFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (VectorFile::ParseFileName(e.path().filename().string())) {
      out.push_back(e.path().filename().string());
    }
  }
  return out;
}

TEST_CASE("vector file: float32 and float16 through every read and a reopen", "[vector_file]") {
  TempDir dir;
  const std::string path = dir / "db";
  const VectorRecord f16{5, 2, Values(1, 1, /*halves=*/true)};
  {
    std::unique_ptr<Store> store = OpenStore(path);
    REQUIRE(store->vector_file_mode());
    PutRange(*store, 1, 1, 0, 300);
    StoreBatch batch(*store);
    batch.PutVector(2, 1, VectorStorage::kFloat16, 1, f16);
    batch.PutVector(2, 1, VectorStorage::kFloat16, 2, 3, 0, f16.values);
    REQUIRE(store->Write(batch, false).ok());
    // Each value written once: 300 float32 vectors and 2 float16 ones.
    CHECK(store->vector_file_usage().bytes == 300 * kDim * 4 + 2 * kDim * 2);
    CheckExact(*store, 1, 1, 0, 300);
    CHECK(Scan(*store, 1, 1).size() == 300);
  }
  std::unique_ptr<Store> store = OpenStore(path);
  REQUIRE(store->vector_file_mode());
  CheckExact(*store, 1, 1, 0, 300);
  std::map<uint64_t, VectorRecord> halves = Scan(*store, 2, 1, VectorStorage::kFloat16);
  REQUIRE(halves.size() == 2);
  CHECK(halves[1].values == f16.values);
  CHECK(halves[1].tokens == 5);
  CHECK(halves[1].unknown_tokens == 2);
  CHECK(halves[2].values == f16.values);
  CHECK(halves[2].tokens == 3);
  std::vector<std::optional<VectorRecord>> got;
  const std::vector<uint64_t> labels = {299, 1000, 7};
  REQUIRE(store->MultiGetVectors(1, 1, VectorStorage::kFloat32, labels, &got).ok());
  REQUIRE(got.size() == 3);
  CHECK(got[0]->values == Values(299, 1));
  CHECK_FALSE(got[1].has_value());
  CHECK(got[2]->values == Values(7, 1));
  // Put and delete in one batch: the delete wins, nothing is referenced.
  StoreBatch batch(*store);
  batch.PutVector(1, 1, VectorStorage::kFloat32, 5000, 0, 0, Values(5000, 1));
  batch.DeleteVector(1, 1, 5000);
  REQUIRE(store->Write(batch, true).ok());
  CHECK_FALSE(store->GetVector(1, 1, VectorStorage::kFloat32, 5000)->has_value());
}

TEST_CASE("vector file: deletes, then a flush reclaims the dead bytes", "[vector_file]") {
  TempDir dir;
  const std::string path = dir / "db";
  std::unique_ptr<Store> store = OpenStore(path);
  PutRange(*store, 1, 1, 0, 500);
  const uint64_t full = store->vector_file_usage().bytes;
  REQUIRE(full == 500 * kDim * 4);
  // 200 dead of 500: not worth a rewrite yet.
  DeleteRange(*store, 1, 1, 0, 200);
  REQUIRE(store->Flush().ok());
  CHECK(store->vector_file_usage().number == 1);
  CHECK(store->vector_file_usage().bytes == full);
  // 350 dead of 500: the live 150 move to file 2.
  DeleteRange(*store, 1, 1, 300, 150);
  REQUIRE(store->Flush().ok());
  CHECK(store->vector_file_usage().number == 2);
  CHECK(store->vector_file_usage().bytes == 150 * kDim * 4);
  CHECK(VectorFiles(path) == std::vector<std::string>{VectorFile::FileName(2)});
  CheckExact(*store, 1, 1, 200, 100);
  CheckExact(*store, 1, 1, 450, 50);
  CHECK(Scan(*store, 1, 1).size() == 150);
  // Appends go on in the new file, and all survives a reopen.
  PutRange(*store, 1, 1, 1000, 10);
  store.reset();
  store = OpenStore(path);
  CheckExact(*store, 1, 1, 200, 100);
  CheckExact(*store, 1, 1, 1000, 10);
}

TEST_CASE("vector file: writes count the dead bytes, which decide flushes and survive a reopen",
          "[vector_file]") {
  TempDir dir;
  const std::string path = dir / "db";
  constexpr uint64_t kBytes = kDim * 4;  // one float32 vector's values
  auto dead = [](const Store& store) { return store.vector_file_usage().dead_bytes; };
  {
    std::unique_ptr<Store> store = OpenStore(path);
    CHECK(dead(*store) == 0u);
    PutRange(*store, 1, 1, 0, 500);
    PutRange(*store, 2, 1, 0, 50);
    CHECK(dead(*store) == 0u);
    DeleteRange(*store, 1, 1, 0, 200);
    CHECK(dead(*store) == 200 * kBytes);
    // Deleting what is gone or never was adds nothing; nor does a vector put
    // and deleted in one batch (its values are never appended).
    DeleteRange(*store, 1, 1, 0, 10);
    DeleteRange(*store, 1, 1, 9000, 5);
    {
      StoreBatch batch(*store);
      const std::vector<float> v = Values(7000, 1);
      batch.PutVector(1, 1, VectorStorage::kFloat32, 7000, 1, 0, v);
      batch.DeleteVector(1, 1, 7000);
      batch.DeleteVector(1, 1, 300);
      batch.DeleteVector(1, 1, 300);
      REQUIRE(store->Write(batch, false).ok());
    }
    CHECK(dead(*store) == 201 * kBytes);
    // 201 of 550 dead: the flush keeps the file.
    REQUIRE(store->Flush().ok());
    CHECK(store->vector_file_usage().number == 1);
    CHECK(dead(*store) == 201 * kBytes);
    // A full recount (what a refit's Reclaim does) finds the same.
    REQUIRE(store->Reclaim(1).ok());
    CHECK(store->vector_file_usage().number == 1);
    CHECK(dead(*store) == 201 * kBytes);
  }
  {
    std::unique_ptr<Store> store = OpenStore(path);
    CHECK(dead(*store) == 201 * kBytes);  // recorded with the deletes
    // A dropped collection's vectors are not counted one by one: not known
    // until the next flush counts them.
    CollectionRecord two;
    two.id = 2;
    two.name = "two";
    StoreBatch drop(*store);
    drop.DeleteCollection(two);
    REQUIRE(store->Write(drop, true).ok());
    CHECK_FALSE(dead(*store).has_value());
    REQUIRE(store->Flush().ok());
    CHECK(store->vector_file_usage().number == 1);
    CHECK(dead(*store) == 251 * kBytes);  // 251 of 550: kept
    // Past half: the next flush rewrites the file, and the count restarts.
    DeleteRange(*store, 1, 1, 400, 100);
    CHECK(dead(*store) == 351 * kBytes);
    REQUIRE(store->Flush().ok());
    CHECK(store->vector_file_usage().number == 2);
    CHECK(store->vector_file_usage().bytes == 199 * kBytes);
    CHECK(dead(*store) == 0u);
    DeleteRange(*store, 1, 1, 200, 10);
    CHECK(dead(*store) == 10 * kBytes);
  }
  std::unique_ptr<Store> store = OpenStore(path);
  CHECK(dead(*store) == 10 * kBytes);
  CheckExact(*store, 1, 1, 210, 90);
  CheckExact(*store, 1, 1, 301, 99);
}

TEST_CASE("vector file: a reclaim runs while a scan is under way, which reads on unchanged",
          "[vector_file]") {
  TempDir dir;
  const std::string path = dir / "db";
  std::unique_ptr<Store> store = OpenStore(path);
  // More vectors than one step of the scan reads (4,096 references), so
  // that it reads on after the reclaim; and a dropped collection's dead
  // bytes, more than the live ones, for the reclaim to move them.
  constexpr uint64_t kLive = 5000;
  PutRange(*store, 1, 1, 0, kLive);
  PutRange(*store, 2, 1, 0, 3 * kLive);
  DeleteRange(*store, 2, 1, 0, 3 * kLive);
  std::map<uint64_t, VectorRecord> seen;
  absl::Status flushed = absl::UnknownError("no flush ran");
  absl::Status s = store->ScanVectors(1, 1, VectorStorage::kFloat32, [&](uint64_t label,
                                                                           VectorRecord& v) {
    seen[label] = v;
    // A flush from inside the scan reclaims the dead bytes. The scan (an
    // index build, in the database) must hold no lock a reclaim waits for
    // while it calls back: with the file's lock held here, this call would
    // wait for the scan, which waits for it (Debian's abseil detects that
    // deadlock and aborts the test). No clock is involved.
    if (seen.size() == 1) flushed = store->Flush();
    return absl::OkStatus();
  });
  INFO(s << " " << flushed);
  REQUIRE(s.ok());
  REQUIRE(flushed.ok());
  CHECK(store->vector_file_usage().number == 2);
  REQUIRE(seen.size() == kLive);
  for (const auto& [label, v] : seen) {
    const std::vector<float> want = Values(label, 1);
    REQUIRE(std::memcmp(v.values.data(), want.data(), sizeof(float) * kDim) == 0);
  }
  CheckExact(*store, 1, 1, 0, kLive);
}

TEST_CASE("vector file: a refit's dropped generation is reclaimed, then a reopen",
          "[vector_file]") {
  TempDir dir;
  const std::string path = dir / "db";
  {
    std::unique_ptr<Store> store = OpenStore(path);
    PutRange(*store, 1, 1, 0, 400);  // the old model's vectors
    PutRange(*store, 7, 1, 0, 50);   // another collection, untouched
    PutRange(*store, 1, 2, 0, 200);  // the refit's
    StoreBatch batch(*store);
    batch.DeleteOtherGenerations(1, 2);
    REQUIRE(store->Write(batch, true).ok());
    REQUIRE(store->Reclaim(1).ok());
    CHECK(store->vector_file_usage().bytes == 250 * kDim * 4);
  }
  std::unique_ptr<Store> store = OpenStore(path);
  CHECK(Scan(*store, 1, 1).empty());
  CheckExact(*store, 1, 2, 0, 200);
  CheckExact(*store, 7, 1, 0, 50);
  CHECK(Scan(*store, 1, 2).size() == 200);
  CHECK(Scan(*store, 7, 1).size() == 50);
  CHECK(VectorFiles(path).size() == 1);
}

TEST_CASE("vector file: a database with its vectors inside RocksDB reads and writes as before",
          "[vector_file]") {
  TempDir dir;
  const std::string path = dir / "db";
  {
    // The layout before the vector file: the vectors family holds the
    // VectorRecord encoding; a collection exists (the id counter).
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {"default", rocksdb::ColumnFamilyOptions()}, {"vectors", rocksdb::ColumnFamilyOptions()}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(options, path, families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string next;
    AppendBigEndian32(&next, 2);
    REQUIRE(db->Put(rocksdb::WriteOptions(), handles[0], "next_collection_id", next).ok());
    for (uint64_t l = 0; l < 20; ++l) {
      std::string key;
      AppendBigEndian32(&key, 1);
      AppendBigEndian32(&key, 1);
      AppendBigEndian64(&key, l);
      const VectorRecord r{static_cast<int32_t>(l), 1, Values(l, 1)};
      REQUIRE(db->Put(rocksdb::WriteOptions(), handles[1], key,
                      r.Encode(VectorStorage::kFloat32)).ok());
    }
    for (rocksdb::ColumnFamilyHandle* h : handles) REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
  }
  std::unique_ptr<Store> store = OpenStore(path);
  CHECK_FALSE(store->vector_file_mode());
  CheckExact(*store, 1, 1, 0, 20);
  PutRange(*store, 1, 1, 20, 10);
  DeleteRange(*store, 1, 1, 0, 5);
  REQUIRE(store->Flush().ok());
  store.reset();
  store = OpenStore(path);
  CHECK_FALSE(store->vector_file_mode());
  CheckExact(*store, 1, 1, 5, 25);
  CHECK(Scan(*store, 1, 1).size() == 25);
  CHECK(VectorFiles(path).empty());
}

// The crashing writer below, in a fresh process (this binary re-executed):
// SEMDB_CRASH_POINT is read once per process.
void RunCrashingWriter(const std::string& dir, const std::string& scenario,
                       const char* crash_point) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    setenv("SEMDB_VECTOR_CRASH_DIR", dir.c_str(), 1);
    setenv("SEMDB_VECTOR_CRASH_SCENARIO", scenario.c_str(), 1);
    setenv("SEMDB_CRASH_POINT", crash_point, 1);
    const char* argv[] = {"vector_file_test", "vector file crashing writer", nullptr};
    execv("/proc/self/exe", const_cast<char**>(argv));
    _exit(127);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  INFO("status " << status);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
}

// Hidden: run only by RunCrashingWriter. "append": synced batches of 10
// vectors (labels 10b..10b+9 for batch b) until the crash point kills it.
// "reclaim": 100 vectors, 60 deleted, then the flush that reclaims.
TEST_CASE("vector file crashing writer", "[.]") {
  const char* dir = getenv("SEMDB_VECTOR_CRASH_DIR");
  const char* scenario = getenv("SEMDB_VECTOR_CRASH_SCENARIO");
  if (dir == nullptr || scenario == nullptr) return;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir, {});
  if (!store.ok()) _exit(3);
  if (std::string(scenario) == "append") {
    for (uint64_t b = 0; b < 100; ++b) PutRange(**store, 1, 1, 10 * b, 10);
  } else {
    PutRange(**store, 1, 1, 0, 100);
    DeleteRange(**store, 1, 1, 20, 60);
    (void)(*store)->Flush();
  }
  _exit(4);  // the crash point did not fire
}

TEST_CASE("vector file: a kill between the append and the WriteBatch loses only that batch",
          "[vector_file][crash]") {
  TempDir dir;
  const std::string path = dir / "db";
  // The third batch's values reach the file, its references do not.
  RunCrashingWriter(path, "append", "store.vectors_appended:3");
  std::unique_ptr<Store> store = OpenStore(path);
  CheckExact(*store, 1, 1, 0, 20);
  CHECK(Scan(*store, 1, 1).size() == 20);  // nothing of the third batch
  // The unreferenced tail is dead space after which appends go on.
  CHECK(store->vector_file_usage().bytes == 30 * kDim * 4);
  PutRange(*store, 1, 1, 20, 10);
  store.reset();
  store = OpenStore(path);
  CheckExact(*store, 1, 1, 0, 30);
  CHECK(Scan(*store, 1, 1).size() == 30);
}

TEST_CASE("vector file: a kill inside a reclaim leaves one consistent file",
          "[vector_file][crash]") {
  for (const char* point : {"store.vector_reclaim_copied", "store.vector_reclaim_switched"}) {
    INFO(point);
    TempDir dir;
    const std::string path = dir / "db";
    RunCrashingWriter(path, "reclaim", point);
    std::unique_ptr<Store> store = OpenStore(path);
    CheckExact(*store, 1, 1, 0, 20);
    CheckExact(*store, 1, 1, 80, 20);
    CHECK(Scan(*store, 1, 1).size() == 40);
    const uint32_t number = std::string(point) == "store.vector_reclaim_copied" ? 1 : 2;
    CHECK(store->vector_file_usage().number == number);
    CHECK(VectorFiles(path) == std::vector<std::string>{VectorFile::FileName(number)});
    // A later reclaim (one more delete) still works from here.
    DeleteRange(*store, 1, 1, 0, 1);
    REQUIRE(store->Flush().ok());
    CheckExact(*store, 1, 1, 1, 19);
    CHECK(Scan(*store, 1, 1).size() == 39);
  }
}

TEST_CASE("vector file: a truncated or bit-flipped file is DataLoss, not a crash",
          "[vector_file]") {
  TempDir dir;
  const std::string path = dir / "db";
  {
    std::unique_ptr<Store> store = OpenStore(path);
    PutRange(*store, 1, 1, 0, 10);
  }
  const std::string file = path + "/" + VectorFile::FileName(1);
  auto expect_data_loss = [&](uint64_t label) {
    std::unique_ptr<Store> store = OpenStore(path);
    absl::StatusOr<std::optional<VectorRecord>> one =
        store->GetVector(1, 1, VectorStorage::kFloat32, label);
    INFO(one.status());
    CHECK(absl::IsDataLoss(one.status()));
    absl::Status scan = store->ScanVectors(1, 1, VectorStorage::kFloat32,
                                           [](uint64_t, VectorRecord&) { return absl::OkStatus(); });
    INFO(scan);
    CHECK(absl::IsDataLoss(scan));
    CHECK(scan.message().find("corrupt") != std::string::npos);
    std::vector<std::optional<VectorRecord>> got;
    const std::vector<uint64_t> labels = {label};
    CHECK(absl::IsDataLoss(store->MultiGetVectors(1, 1, VectorStorage::kFloat32, labels, &got)));
  };
  SECTION("a flipped bit in vector 4") {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(4 * kDim * 4 + 13);
    char c = 0;
    f.read(&c, 1);
    c ^= 0x10;
    f.seekp(4 * kDim * 4 + 13);
    f.write(&c, 1);
    f.close();
    expect_data_loss(4);
  }
  SECTION("the last vector cut short") {
    fs::resize_file(file, 10 * kDim * 4 - 6);
    expect_data_loss(9);
  }
  SECTION("the file missing") {
    fs::remove(file);
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(path, {});
    CHECK(absl::IsDataLoss(s.status()));
  }
}

}  // namespace
}  // namespace semdb
