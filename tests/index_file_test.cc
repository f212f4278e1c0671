// Saved index files (index/index_file.h): the CRC-32C against the check
// values of RFC 3720 and a bitwise reading of its definition, and an HNSW
// file read in one pass that is still refused, with a DataLoss error and no
// crash, whatever byte is damaged or wherever it is cut; files checksummed
// with zlib's CRC-32 (format versions 1-3) still load.
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "faiss/Index.h"
#include "checksum/crc32c.h"
#include "index/faiss_index.h"
#include "test_data.h"
#include "vector_data.h"
#include "zlib.h"

namespace semdb {
namespace {

// CRC-32C bit by bit, straight from its definition (reflected polynomial
// 0x82F63B78, register and result inverted).
uint32_t BitwiseCrc32c(const std::string& bytes) {
  uint32_t reg = 0xffffffffu;
  for (unsigned char c : bytes) {
    reg ^= c;
    for (int k = 0; k < 8; ++k) reg = reg & 1 ? (reg >> 1) ^ 0x82f63b78u : reg >> 1;
  }
  return ~reg;
}

uint32_t Crc32c(const std::string& bytes) { return ExtendCrc32c(0, bytes.data(), bytes.size()); }

TEST_CASE("CRC-32C matches RFC 3720's check values and its bitwise definition", "[index]") {
  REQUIRE(Crc32c("123456789") == 0xE3069283u);
  REQUIRE(Crc32c(std::string(32, '\0')) == 0x8A9136AAu);
  REQUIRE(Crc32c(std::string(32, '\xff')) == 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending += static_cast<char>(i);
    descending += static_cast<char>(31 - i);
  }
  REQUIRE(Crc32c(ascending) == 0x46DD794Eu);
  REQUIRE(Crc32c(descending) == 0x113FDB5Cu);
  REQUIRE(Crc32c("") == 0);

  // Lengths around the three-stream stripes (3 x 4096 bytes), and the CRC
  // extended piece by piece at odd cuts equals the whole's.
  std::mt19937 rng(5);
  std::string data(100003, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t n : {1, 7, 8, 9, 4095, 12287, 12288, 12289, 24577, 100003}) {
    const std::string part = data.substr(0, n);
    INFO(n << " bytes");
    REQUIRE(Crc32c(part) == BitwiseCrc32c(part));
  }
  uint32_t crc = 0;
  for (size_t at = 0, cut = 1; at < data.size(); at += cut, cut = cut * 3 + 1) {
    const size_t n = std::min(cut, data.size() - at);
    crc = ExtendCrc32c(crc, data.data() + at, n);
  }
  REQUIRE(crc == BitwiseCrc32c(data));

  // Rows scattered at a stride (row lengths short and long, odd and whole
  // words; row counts around a stripe of three groups) checksum as the
  // rows one after the other.
  for (size_t row_bytes : {1, 7, 8, 512, 1365, 4096, 5000}) {
    for (size_t rows : {0, 1, 2, 3, 23, 24, 25, 40, 1800}) {
      const size_t stride = row_bytes + 13;
      if (stride * rows > data.size()) continue;
      std::string joined;
      for (size_t r = 0; r < rows; ++r) joined += data.substr(r * stride, row_bytes);
      INFO(rows << " rows of " << row_bytes << " bytes");
      REQUIRE(ExtendCrc32cRows(0, data.data(), stride, row_bytes, rows) == BitwiseCrc32c(joined));
      REQUIRE(ExtendCrc32cRows(Crc32c("head"), data.data(), stride, row_bytes, rows) ==
              BitwiseCrc32c("head" + joined));
    }
  }
}

struct SavedHnsw {
  testing::TempDir dir;
  int n, dim;
  std::vector<float> data;
  std::vector<uint64_t> labels;
  std::string bytes;  // the saved file
  std::unique_ptr<FaissIndex> index;

  explicit SavedHnsw(int rows = 1500, int dimension = 16) : n(rows), dim(dimension) {
    data = testing::ClusteredVectors(n, dim, 20, 3);
    for (int i = 0; i < n; ++i) labels.push_back(100 + 3 * i);
    index = *FaissIndex::Create(*Spec::Parse("hnsw m=8 ef_construction=40"), dim);
    REQUIRE(index->Add(labels, data).ok());
    REQUIRE(index->Remove({labels[3], labels[77]}).ok());
    REQUIRE(index->Save(dir / "h.index").ok());
    bytes = testing::ReadFile(dir / "h.index");
  }
  std::string Write(const std::string& name, const std::string& content) {
    std::ofstream(dir / name, std::ios::binary) << content;
    return dir / name;
  }
  // The loaded index answers as the saved one.
  void RequireSameAnswers(const FaissIndex& loaded) {
    REQUIRE(loaded.size() == n - 2);
    for (int q = 0; q < 20; ++q) {
      absl::Span<const float> query(data.data() + (q * 37 % n) * dim, dim);
      auto a = index->Search(query, 10, {}, nullptr);
      auto b = loaded.Search(query, 10, {}, nullptr);
      REQUIRE(a.ok());
      REQUIRE(b.ok());
      REQUIRE(a->size() == b->size());
      for (size_t i = 0; i < a->size(); ++i) {
        REQUIRE((*a)[i].label == (*b)[i].label);
        REQUIRE((*a)[i].score == (*b)[i].score);
      }
    }
  }
};

uint32_t StoredChecksum(const std::string& file) {
  uint32_t crc;
  std::memcpy(&crc, file.data() + file.size() - 4, 4);
  return crc;
}

TEST_CASE("an HNSW index file is read in one pass and refused when damaged anywhere",
          "[index][hnsw]") {
  SavedHnsw saved;
  const std::string& bytes = saved.bytes;
  // Format version 4: checksummed with CRC-32C.
  uint32_t version;
  std::memcpy(&version, bytes.data() + 8, 4);
  REQUIRE(version == 4);
  const std::string payload = bytes.substr(0, bytes.size() - 4);
  REQUIRE(StoredChecksum(bytes) == BitwiseCrc32c(payload));

  auto loaded = FaissIndex::Load(saved.dir / "h.index");
  INFO(loaded.status().message());
  REQUIRE(loaded.ok());
  saved.RequireSameAnswers(**loaded);

  // A flipped bit in every stretch of the file (header, label table,
  // tombstones, the graph's arrays, the vectors, the checksum), and the
  // file cut at as many places: all refused as data loss.
  const size_t step = bytes.size() / 97 + 1;
  int refused = 0;
  for (size_t at = 0; at < bytes.size(); at += step) {
    for (const std::string& bad :
         {[&] {
            std::string flipped = bytes;
            flipped[at] ^= static_cast<char>(1 << (at % 8));
            return flipped;
          }(),
          bytes.substr(0, at)}) {
      auto r = FaissIndex::Load(saved.Write("bad.index", bad));
      INFO("damage at byte " << at << " of " << bytes.size());
      REQUIRE(r.status().code() == absl::StatusCode::kDataLoss);
      ++refused;
    }
  }
  for (size_t at = bytes.size() - 4; at < bytes.size(); ++at) {
    std::string flipped = bytes;
    flipped[at] ^= 0x40;
    REQUIRE(FaissIndex::Load(saved.Write("bad.index", flipped)).status().code() ==
            absl::StatusCode::kDataLoss);
  }
  REQUIRE(refused >= 190);
  // Trailing bytes, and a zlib CRC-32 in a version 4 file.
  REQUIRE(FaissIndex::Load(saved.Write("bad.index", bytes + "xyzw")).status().code() ==
          absl::StatusCode::kDataLoss);
  std::string wrong_kind = payload;
  const uint32_t zlib_crc = static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size())));
  wrong_kind.append(reinterpret_cast<const char*>(&zlib_crc), 4);
  REQUIRE(FaissIndex::Load(saved.Write("bad.index", wrong_kind)).status().code() ==
          absl::StatusCode::kDataLoss);
}

TEST_CASE("a large HNSW file, its vectors read by two threads, loads identically and is "
          "refused when damaged", "[index][hnsw]") {
  // 4.4 MB of vectors: past the size whose second half another thread
  // reads (index/hnsw_file.cc).
  SavedHnsw saved(8600, 128);
  const std::string& bytes = saved.bytes;
  auto loaded = FaissIndex::Load(saved.dir / "h.index");
  INFO(loaded.status().message());
  REQUIRE(loaded.ok());
  saved.RequireSameAnswers(**loaded);
  std::vector<float> vector(saved.dim);
  for (int p = 0; p < saved.n; p += 611) {
    (*loaded)->faiss_index().reconstruct(p, vector.data());
    REQUIRE(std::memcmp(vector.data(), saved.data.data() + static_cast<size_t>(p) * saved.dim,
                        sizeof(float) * saved.dim) == 0);
  }
  // Damage in the graph and all over the vectors (either thread's part, and
  // where one ends and the other begins, between rows 1/4 and 1/2 of them).
  const size_t vectors_at = bytes.size() - 4 - static_cast<size_t>(saved.n) * 128 * 4;
  std::vector<size_t> places = {bytes.size() / 20, bytes.size() / 10, bytes.size() - 5};
  for (size_t at = vectors_at; at < bytes.size() - 4; at += 37 * 512 + 13) places.push_back(at);
  for (size_t at : places) {
    std::string flipped = bytes;
    flipped[at] ^= 0x08;
    INFO("damage at byte " << at << " of " << bytes.size());
    REQUIRE(FaissIndex::Load(saved.Write("bad.index", flipped)).status().code() ==
            absl::StatusCode::kDataLoss);
    REQUIRE(FaissIndex::Load(saved.Write("bad.index", bytes.substr(0, at))).status().code() ==
            absl::StatusCode::kDataLoss);
  }
}

TEST_CASE("index files of format version 3 (zlib's CRC-32) still load", "[index][hnsw]") {
  SavedHnsw saved;
  // The same payload as version 3: the layout is unchanged, the checksum
  // is zlib's CRC-32.
  std::string payload = saved.bytes.substr(0, saved.bytes.size() - 4);
  const uint32_t three = 3;
  std::memcpy(payload.data() + 8, &three, 4);
  const uint32_t zlib_crc = static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size())));
  std::string old = payload;
  old.append(reinterpret_cast<const char*>(&zlib_crc), 4);
  auto loaded = FaissIndex::Load(saved.Write("old.index", old));
  INFO(loaded.status().message());
  REQUIRE(loaded.ok());
  saved.RequireSameAnswers(**loaded);

  // Damaged, it is refused as before.
  std::string flipped = old;
  flipped[old.size() / 2] ^= 0x10;
  REQUIRE(FaissIndex::Load(saved.Write("bad.index", flipped)).status().code() ==
          absl::StatusCode::kDataLoss);
  // A CRC-32C where version 3 has zlib's CRC-32.
  std::string wrong_kind = payload;
  const uint32_t crc32c = ExtendCrc32c(0, payload.data(), payload.size());
  wrong_kind.append(reinterpret_cast<const char*>(&crc32c), 4);
  REQUIRE(FaissIndex::Load(saved.Write("bad.index", wrong_kind)).status().code() ==
          absl::StatusCode::kDataLoss);

  // Saved again, it is version 4.
  REQUIRE((*loaded)->Save(saved.dir / "again.index").ok());
  const std::string again = testing::ReadFile(saved.dir / "again.index");
  REQUIRE(again == saved.bytes);
}

// The label table of a saved file: its offset and size (index/faiss_index.cc
// Save, version 4).
size_t LabelTableOffset(const std::string& file) {
  uint32_t spec_size;
  std::memcpy(&spec_size, file.data() + 12, 4);
  return 16 + spec_size + 4 + 8 + 1 + 8;
}

// `payload` with a fresh CRC-32C: a file damaged by a bug rather than the disk.
std::string WithChecksum(const std::string& payload) {
  const uint32_t crc = ExtendCrc32c(0, payload.data(), payload.size());
  return payload + std::string(reinterpret_cast<const char*>(&crc), 4);
}

TEST_CASE("after a reopen, writes find the labels the file holds", "[index][hnsw]") {
  SavedHnsw saved;
  auto loaded = *FaissIndex::Load(saved.dir / "h.index");
  REQUIRE(loaded->size() == saved.n - 2);
  std::vector<float> one(saved.data.begin(), saved.data.begin() + saved.dim);
  // A live label is refused, a removed one may come back, and removes count
  // only live labels.
  REQUIRE(loaded->Add({saved.labels[10]}, one).code() == absl::StatusCode::kAlreadyExists);
  REQUIRE(loaded->Add({saved.labels[3]}, one).ok());
  REQUIRE(loaded->size() == saved.n - 1);
  REQUIRE(*loaded->Remove({saved.labels[77], saved.labels[10], 999999}) == 1);
  REQUIRE(loaded->size() == saved.n - 2);
  auto hits = loaded->Search(one, 3, {.exact = true}, nullptr);
  REQUIRE(hits.ok());
  REQUIRE((*hits)[0].label == saved.labels[3]);

  // Labels out of order load too; two live positions with one label are
  // refused even with a valid checksum.
  const std::string payload = saved.bytes.substr(0, saved.bytes.size() - 4);
  const size_t at = LabelTableOffset(payload);
  std::string swapped = payload;
  std::memcpy(swapped.data() + at, payload.data() + at + 8, 8);
  std::memcpy(swapped.data() + at + 8, payload.data() + at, 8);
  auto unordered = FaissIndex::Load(saved.Write("swapped.index", WithChecksum(swapped)));
  INFO(unordered.status().message());
  REQUIRE(unordered.ok());
  REQUIRE((*unordered)->size() == saved.n - 2);
  REQUIRE((*unordered)->Add({saved.labels[0]}, one).code() == absl::StatusCode::kAlreadyExists);
  std::string twice = payload;
  std::memcpy(twice.data() + at + 8, payload.data() + at, 8);
  REQUIRE(FaissIndex::Load(saved.Write("twice.index", WithChecksum(twice))).status().code() ==
          absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace semdb
