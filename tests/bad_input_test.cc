// The bad-input catalogue (README, "Bad input"): rows not covered by the
// tests of the component concerned. Each checks the error is clear and the
// data already stored is intact.
#include <sched.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "catch2/catch.hpp"
#include "semdb/database.h"
#include "semdb/import.h"
#include "test_data.h"

namespace semdb {
namespace {

using testing::TempDir;

struct Fixture {
  TempDir dir;
  std::unique_ptr<Database> db = Database::Open(dir / "db").value();
  std::shared_ptr<Collection> c = db->CreateCollection("c").value();
  Fixture() { REQUIRE(c->Insert({.id = "keep", .text = "a stored document that must survive"}).ok()); }
  void RequireIntact() {
    REQUIRE(c->Count() == 1);
    REQUIRE(c->Get("keep")->text == "a stored document that must survive");
  }
};

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST_CASE("bad input: a 100 MB document", "[bad-input]") {
  Fixture f;
  std::string huge(100 << 20, 'w');
  for (size_t i = 7; i < huge.size(); i += 8) huge[i] = ' ';
  absl::Status s = f.c->Insert({.text = huge}).status();
  REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(Message(s).find("text is 100 MiB; the limit is 64 MiB") != std::string::npos);
  // The same as one line of an imported file: skipped and reported.
  const std::string path = f.dir / "huge.txt";
  std::ofstream(path) << "a short first line\n" << huge << "\nand a last line\n";
  ImportReport r = ImportPath(*f.c, path, {.format = ImportFormat::kLines}).value();
  REQUIRE(r.documents == 2);
  REQUIRE(r.skipped == 1);
  REQUIRE(r.problems[0].line == 2);
  REQUIRE(r.problems[0].reason.find("limit is 64 MiB") != std::string::npos);
  REQUIRE(f.c->Count() == 3);
}

TEST_CASE("bad input: import of a FIFO is refused at once, not waited on", "[bad-input]") {
  Fixture f;
  const std::string fifo = f.dir / "pipe";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  absl::StatusOr<ImportReport> r = ImportPath(*f.c, fifo, {});
  REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(Message(r.status()).find("is not a regular file or a directory") != std::string::npos);
  f.RequireIntact();
}

TEST_CASE("bad input: a huge sparse saved index file is refused before it is read",
          "[bad-input]") {
  TempDir dir;
  {
    std::unique_ptr<Database> db = Database::Open(dir / "db").value();
    std::shared_ptr<Collection> c =
        db->CreateCollection("v", {.embedder = "vectors dim=4", .index = "hnsw"})
            .value();  // HNSW: a flat index is not saved (src/index_files.h)
    REQUIRE(c->Insert({.id = "a", .vector = {1, 0, 0, 0}}).ok());
    REQUIRE(c->Insert({.id = "b", .vector = {0, 1, 0, 0}}).ok());
  }
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "db/indexes")) {
    std::filesystem::resize_file(e.path(), uintmax_t{10} << 30);  // sparse: no disk used
    ++files;
  }
  REQUIRE(files == 1);
  std::unique_ptr<Database> db = Database::Open(dir / "db").value();
  std::shared_ptr<Collection> c = db->GetCollection("v").value();
  const std::string origin = c->Stats().index_origin;
  INFO(origin);
  REQUIRE(origin.starts_with("rebuilt from 2 stored vectors"));
  REQUIRE(origin.find("the file is 10737418240 bytes") != std::string::npos);
  REQUIRE(c->SearchVector({0, 1, 0, 0}, {.k = 1}).value()[0].id == "b");
}

TEST_CASE("bad input: a binary file or an empty file imported as text", "[bad-input]") {
  Fixture f;
  const std::string binary = f.dir / "image.png";
  std::ofstream(binary, std::ios::binary) << std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  ImportReport r = ImportPath(*f.c, binary, {.format = ImportFormat::kText}).value();
  REQUIRE(r.documents == 0);
  REQUIRE(r.problems[0].reason == "binary file (contains NUL bytes), not imported");
  const std::string empty = f.dir / "empty.txt";
  std::ofstream(empty).close();
  r = ImportPath(*f.c, empty, {}).value();
  REQUIRE(r.documents == 0);
  REQUIRE(r.problems[0].reason == "empty text");
  // Latin-1 text: not UTF-8.
  const std::string latin1 = f.dir / "latin1.txt";
  std::ofstream(latin1) << "caf\xe9 cr\xe8me\n";
  r = ImportPath(*f.c, latin1, {.format = ImportFormat::kLines}).value();
  REQUIRE(r.problems[0].reason == "invalid UTF-8 at byte 3");
  f.RequireIntact();
}

TEST_CASE("bad input: metadata that is not valid JSON data", "[bad-input]") {
  Fixture f;
  auto insert = [&](nlohmann::json meta) {
    return f.c->Insert({.text = "some words", .metadata = std::move(meta)}).status();
  };
  REQUIRE(Message(insert({{"name", "caf\xe9"}})) ==
          "document 1: metadata: 'name': invalid UTF-8 at byte 3");
  REQUIRE(Message(insert({{"x", std::nan("")}})) ==
          "document 1: metadata: 'x': holds a number that is NaN or infinite");
  REQUIRE(Message(insert({{"x", {1.0, INFINITY}}})) ==
          "document 1: metadata: 'x': holds a number that is NaN or infinite");
  nlohmann::json deep = 1;
  for (int i = 0; i < 40; ++i) deep = nlohmann::json{{"a", deep}};
  REQUIRE(Message(insert(deep)).find("nested deeper than 32 levels") != std::string::npos);
  REQUIRE(Message(insert(nlohmann::json::array({1, 2}))) ==
          "document 1: metadata must be a JSON object");
  REQUIRE(Message(insert("a string")) == "document 1: metadata must be a JSON object");
  f.RequireIntact();
}

TEST_CASE("bad input: filters nested too deeply", "[bad-input]") {
  std::string deep(200, '(');
  deep += "a = 1";
  deep += std::string(200, ')');
  absl::StatusOr<Filter> f = Filter::Parse(deep);
  REQUIRE(f.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(Message(f.status()).find("filter nested too deeply") != std::string::npos);
  std::string nots;
  for (int i = 0; i < 1000; ++i) nots += "NOT ";
  REQUIRE(Message(Filter::Parse(nots + "a = 1").status()).find("nested too deeply") !=
          std::string::npos);
}

TEST_CASE("bad input: a corrupted RocksDB file is reported, not repaired silently",
          "[bad-input]") {
  TempDir dir;
  // A process that dies after its writes (a clean close flushes the log
  // into table files): the documents are only in the write-ahead log.
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto db = Database::Open(dir.path());
    if (!db.ok()) _exit(2);
    // Caller vectors: no refit (which flushes the log) on the way.
    auto c = (*db)->CreateCollection("c", {.embedder = "vectors dim=4"});
    if (!c.ok()) _exit(3);
    for (int i = 0; i < 50; ++i) {
      const float v = static_cast<float>(i + 1);
      if (!(*c)->Insert({.id = "d" + std::to_string(i),
                         .metadata = {{"note", "document number " + std::to_string(i)}},
                         .vector = {v, 1, 2, 3}})
               .ok()) {
        _exit(4);
      }
    }
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  // Damage the middle of the write-ahead log, where the documents are.
  std::string wal;
  for (const auto& e : std::filesystem::directory_iterator(dir / "store")) {
    if (e.path().extension() == ".log" && std::filesystem::file_size(e.path()) > 4096) {
      wal = e.path().string();
    }
  }
  REQUIRE(!wal.empty());
  {
    // Inside the payload of the record that holds the middle of the file:
    // damage to a record's 7-byte header (CRC, length, type) can read as a
    // length past the end, which RocksDB takes for a torn last write and
    // tolerates (kTolerateCorruptedTailRecords), whatever follows. The log
    // is smaller than one 32 KB block: records follow each other unpadded.
    std::fstream f(wal, std::ios::in | std::ios::out | std::ios::binary);
    const uint64_t size = std::filesystem::file_size(wal), middle = size / 2;
    REQUIRE(size < 32768);
    uint64_t record = 0, length = 0;
    for (;;) {
      unsigned char header[7];
      f.seekg(static_cast<std::streamoff>(record));
      REQUIRE(f.read(reinterpret_cast<char*>(header), 7));
      length = header[4] | (header[5] << 8);
      if (record + 7 + length > middle) break;
      record += 7 + length;
    }
    REQUIRE(length > 16);
    f.seekp(static_cast<std::streamoff>(record + 7 + length / 2 - 4));
    f.write("\xde\xad\xbe\xef\xde\xad\xbe\xef", 8);
  }
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(dir.path());
  REQUIRE(db.status().code() == absl::StatusCode::kDataLoss);
  REQUIRE(Message(db.status()).find("Corruption") != std::string::npos);

  // A damaged CURRENT file names the problem too.
  TempDir other;
  { auto db2 = Database::Open(other.path()).value(); }
  std::ofstream(other / "store/CURRENT", std::ios::trunc) << "garbage";
  absl::StatusOr<std::unique_ptr<Database>> db2 = Database::Open(other.path());
  REQUIRE_FALSE(db2.ok());
  REQUIRE(Message(db2.status()).find("CURRENT") != std::string::npos);
}

// Runs `body` in a child process with a private mount namespace (an
// unprivileged user namespace), where `dir` is a tmpfs of `megabytes`.
// Returns false when the kernel refuses namespaces (the test then skips).
bool InSmallDisk(const std::string& dir, int megabytes,
                 const std::function<int(const std::function<bool(int)>& resize)>& body,
                 int* exit_code) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const uid_t uid = getuid();
    const gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) _exit(77);
    std::ofstream("/proc/self/setgroups") << "deny";
    std::ofstream("/proc/self/uid_map") << "0 " << uid << " 1";
    std::ofstream("/proc/self/gid_map") << "0 " << gid << " 1";
    auto mount_size = [&](int mb, unsigned long flags) {
      const std::string opts = "size=" + std::to_string(mb) + "m";
      return mount("tmpfs", dir.c_str(), "tmpfs", flags, opts.c_str()) == 0;
    };
    if (!mount_size(megabytes, 0)) _exit(77);
    _exit(body([&](int mb) { return mount_size(mb, MS_REMOUNT); }));
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  INFO("the child was killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
  REQUIRE(WIFEXITED(status));
  *exit_code = WEXITSTATUS(status);
  return *exit_code != 77;
}

TEST_CASE("bad input: the disk fills up", "[bad-input]") {
  TempDir dir;
  std::string error;
  int code = 0;
  const std::string report = dir / "report.txt";
  TempDir mount_point;
  bool ran = InSmallDisk(mount_point.path(), 24, [&](const std::function<bool(int)>& resize) {
    std::ofstream log(report);
    int64_t acked = 0;
    {
      auto db = Database::Open(mount_point / "db");
      if (!db.ok()) return 10;
      auto c = (*db)->CreateCollection("v", {.embedder = "vectors dim=256"});
      if (!c.ok()) return 11;
      std::vector<float> v(256, 1.0f);
      absl::Status s;
      for (int i = 0; s.ok() && i < 200000; ++i) {
        v[i % 256] += 1.0f;
        std::vector<Document> batch;
        for (int j = 0; j < 20; ++j) {
          batch.push_back({.id = std::to_string(i * 20 + j), .text = std::string(2000, 'x'),
                           .vector = v});
        }
        s = (*c)->InsertBatch(std::move(batch)).status();
        if (s.ok()) acked += 20;
      }
      log << "error: " << s.message() << "\n" << "code: " << static_cast<int>(s.code()) << "\n";
      if (s.ok()) return 12;  // the disk never filled
      // Reads still work on what was stored.
      if (!(*c)->Get("0").ok() || (*c)->Count() != acked) return 13;
    }
    // With room again, everything acknowledged is there.
    if (!resize(256)) return 14;
    auto db = Database::Open(mount_point / "db");
    if (!db.ok()) {
      log << "reopen: " << db.status().message() << "\n";
      return 15;
    }
    auto c = (*db)->GetCollection("v");
    if (!c.ok() || (*c)->Count() != acked) return 16;
    for (int64_t i = 0; i < acked; i += 97) {
      if (!(*c)->Get(std::to_string(i)).ok()) return 17;
    }
    if (!(*c)->Insert({.id = "after", .vector = std::vector<float>(256, 2.0f)}).ok()) return 18;
    log << "acked: " << acked << "\n";
    return 0;
  }, &code);
  if (!ran) SEMDB_SKIP("no user/mount namespaces for a small tmpfs here");
  const std::string log = testing::ReadFile(report);
  INFO(log);
  REQUIRE(code == 0);
  REQUIRE(log.find("No space left on device") != std::string::npos);
  REQUIRE(log.find("code: " + std::to_string(static_cast<int>(absl::StatusCode::kResourceExhausted))) !=
          std::string::npos);
}

}  // namespace
}  // namespace semdb
