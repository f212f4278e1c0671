// The word-vector readers and their cache, on the real files in
// ../shared/data/gensim and on damaged copies of them.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "catch2/catch.hpp"
#include "embedders/word_vector_cache.h"
#include "embedders/word_vector_loader.h"
#include "embedders/word_vector_reader.h"
#include "test_data.h"
#include "word_vector_test_util.h"

namespace semdb {
namespace {

namespace fs = std::filesystem;
using testing::LoadOk;
using testing::NaiveTextVectors;
using testing::SharedData;
using testing::TempDir;

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  REQUIRE(out.good());
}

// Every word of the file is in the model with the file's values.
void RequireMatchesFile(const WordVectorModel& m, const std::string& path) {
  const auto expected = NaiveTextVectors(path);
  REQUIRE(m.size() == static_cast<int64_t>(expected.size()));
  std::vector<float> v(m.dimension());
  for (const auto& [word, values] : expected) {
    INFO(word);
    REQUIRE(static_cast<int>(values.size()) == m.dimension());
    REQUIRE(m.Lookup(word, absl::MakeSpan(v)) == WordSource::kVocabulary);
    REQUIRE(v == values);
  }
}

TEST_CASE("GloVe text: every vector of test_glove.txt, in file order", "[wordvec][reader]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/test_glove.txt");
  TempDir dir;
  LoadedWordVectors loaded = LoadOk(SharedData("gensim/test_glove.txt"), WordVectorKind::kGlove, dir.path());
  const WordVectorModel& m = *loaded.model;
  CHECK(loaded.format == WordVectorFormat::kText);
  CHECK(m.dimension() == 50);
  CHECK(m.size() == 76);
  CHECK(m.word(0) == "the");
  CHECK(m.word(1) == "ö");  // non-ASCII words kept as UTF-8
  RequireMatchesFile(m, SharedData("gensim/test_glove.txt"));
  std::vector<float> v(50);
  CHECK(m.Find("xyzzy") == -1);
  CHECK(m.Lookup("xyzzy", absl::MakeSpan(v)) == WordSource::kUnknown);
  CHECK(std::all_of(v.begin(), v.end(), [](float x) { return x == 0; }));
}

TEST_CASE("word2vec text with header: EN.1-10 (300-d) and pretrained.vec", "[wordvec][reader]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/EN.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt");
  TempDir dir;
  const std::string path = SharedData("gensim/EN.1-10.cbow1_wind5_hs0_neg10_size300_smpl1e-05.txt");
  LoadedWordVectors loaded = LoadOk(path, WordVectorKind::kWord2Vec, dir.path());
  CHECK(loaded.format == WordVectorFormat::kText);  // binary=auto sniffed text
  CHECK(loaded.model->dimension() == 300);
  CHECK(loaded.model->size() == 20);
  RequireMatchesFile(*loaded.model, path);

  // pretrained.vec declares 3 vectors and holds 1: refused, as gensim does.
  absl::StatusOr<LoadedWordVectors> short_file = LoadWordVectors(
      {SharedData("gensim/pretrained.vec"), WordVectorKind::kWord2Vec, BinaryChoice::kAuto, dir.path()});
  REQUIRE(absl::IsInvalidArgument(short_file.status()));
  CHECK_THAT(std::string(short_file.status().message()),
             Catch::Contains("header declares 3 vectors but the file holds 1"));
}

TEST_CASE("word2vec binary and text readers agree on high_precision.kv", "[wordvec][reader]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/high_precision.kv.bin");
  TempDir dir;
  LoadedWordVectors bin = LoadOk(SharedData("gensim/high_precision.kv.bin"), WordVectorKind::kWord2Vec, dir.path());
  LoadedWordVectors txt = LoadOk(SharedData("gensim/high_precision.kv.txt"), WordVectorKind::kWord2Vec, dir.path());
  CHECK(bin.format == WordVectorFormat::kWord2VecBinary);
  CHECK(txt.format == WordVectorFormat::kText);
  REQUIRE(bin.model->size() == 2);
  REQUIRE(txt.model->size() == 2);
  REQUIRE(bin.model->dimension() == 2);
  for (int64_t i = 0; i < 2; ++i) {
    CHECK(bin.model->word(i) == txt.model->word(i));
    const float* a = bin.model->vocabulary_vectors() + i * 2;
    const float* b = txt.model->vocabulary_vectors() + i * 2;
    // The binary file holds half-precision values (its float32s have 10-bit
    // mantissas); the text, full precision. They agree to half precision.
    for (int j = 0; j < 2; ++j) {
      uint32_t bits;
      std::memcpy(&bits, &a[j], 4);
      CHECK((bits & 0x1fff) == 0);
      CHECK(std::abs(a[j] - b[j]) <= std::ldexp(std::abs(b[j]), -11));
    }
  }
  CHECK(bin.model->word(0) == "kangaroo.n.01");
  CHECK(txt.model->vocabulary_vectors()[0] == -0.0007369244245224787f);
  CHECK(bin.model->vocabulary_vectors()[0] == -0.0007367134094238281f);
}

TEST_CASE("word2vec binary: euclidean_vectors.bin (word2vec.c layout)", "[wordvec][reader]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/euclidean_vectors.bin");
  TempDir dir;
  LoadedWordVectors loaded = LoadOk(SharedData("gensim/euclidean_vectors.bin"), WordVectorKind::kWord2Vec, dir.path());
  CHECK(loaded.format == WordVectorFormat::kWord2VecBinary);
  CHECK(loaded.model->size() == 2747);
  CHECK(loaded.model->dimension() == 10);
  CHECK(loaded.model->word(0) == "the");
  // Values are the raw little-endian floats after "the ".
  std::ifstream in(SharedData("gensim/euclidean_vectors.bin"), std::ios::binary);
  std::string head(8 + 4 + 40, '\0');
  in.read(head.data(), head.size());
  float first[10];
  std::memcpy(first, head.data() + 12, sizeof(first));
  for (int j = 0; j < 10; ++j) CHECK(loaded.model->vocabulary_vectors()[j] == first[j]);
  CHECK(loaded.model->Find(loaded.model->word(2746)) == 2746);
}

TEST_CASE("fastText .vec text files load", "[wordvec][reader]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_fasttext.vec");
  TempDir dir;
  for (const char* name : {"gensim/lee_fasttext.vec", "gensim/crime-and-punishment.vec", "gensim/toy-model.vec"}) {
    SECTION(name) {
      LoadedWordVectors loaded = LoadOk(SharedData(name), WordVectorKind::kFastText, dir.path());
      CHECK(loaded.format == WordVectorFormat::kText);
      RequireMatchesFile(*loaded.model, SharedData(name));
    }
  }
}

TEST_CASE("A word that is not UTF-8 is refused with its line", "[wordvec][reader][errors]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/pang_lee_polarity_fasttext.vec");
  // This real file holds Latin-1 words (e.g. "clich\xe9s"); the first bad one
  // is the lone byte 0x97 on line 150.
  TempDir dir;
  absl::StatusOr<LoadedWordVectors> loaded = LoadWordVectors(
      {SharedData("gensim/pang_lee_polarity_fasttext.vec"), WordVectorKind::kFastText, BinaryChoice::kAuto, dir.path()});
  REQUIRE(absl::IsInvalidArgument(loaded.status()));
  CHECK_THAT(std::string(loaded.status().message()),
             Catch::Contains("pang_lee_polarity_fasttext.vec:150: the word is not valid UTF-8"));
  // No cache (not even a temporary file) is left behind.
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("Malformed text files give errors with line numbers", "[wordvec][reader][errors]") {
  TempDir dir;
  struct Case {
    const char* name;
    std::string content;
    const char* message;
  };
  const Case cases[] = {
      {"empty", "", "holds no word vectors (empty file)"},
      {"blank", "\n\n  \n", "holds no word vectors (empty file)"},
      {"header_only", "0 3\n", "holds a header but no vectors"},
      {"too_few", "a 1 2 3\nb 1 2\n", "bad.txt:2: expected 3 values after the word, found 2"},
      {"too_many", "a 1 2 3\nb 1 2 3 4\n", "bad.txt:2: expected 3 values after the word, found 4"},
      {"header_dim", "2 3\na 1 2 3\nb 1 2\n", "bad.txt:3: expected 3 values after the word, found 2"},
      {"nan", "a 1 2 3\nb 1 nan 3\n", "bad.txt:2: value 2 of 'b' is not finite (nan)"},
      {"inf", "a 1 2 3\nb 1 2 -inf\n", "bad.txt:2: value 3 of 'b' is not finite (-inf)"},
      {"overflow", "a 1 2 3\nb 1 2 1e39\n", "bad.txt:2: value 3 of 'b' is not a number: '1e39'"},
      {"not_number", "a 1 2 3\nb 1 x2 3\n", "bad.txt:2: value 2 of 'b' is not a number: 'x2'"},
      {"utf8", "a 1 2 3\n\xff\xfe 1 2 3\n", "bad.txt:2: the word is not valid UTF-8"},
      {"count", "3 2\na 1 2\nb 1 2\n", "the header declares 3 vectors but the file holds 2 (truncated?)"},
      {"bad_header", "2 0\na\n", "bad.txt:1: header '2 0' is not a valid '<count> <dim>'"},
      {"lonely_word", "word\n", "bad.txt:1: expected a word followed by its vector values"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const std::string path = dir / "bad.txt";
      WriteFile(path, c.content);
      absl::StatusOr<LoadedWordVectors> loaded =
          LoadWordVectors({path, WordVectorKind::kGlove, BinaryChoice::kAuto, dir / "cache"});
      INFO(loaded.status().ToString());
      REQUIRE(absl::IsInvalidArgument(loaded.status()));
      CHECK_THAT(std::string(loaded.status().message()), Catch::Contains(c.message));
    }
  }
}

TEST_CASE("Text quirks real files have are read", "[wordvec][reader]") {
  TempDir dir;
  const std::string path = dir / "quirks.txt";
  // CRLF line ends, a trailing space (word2vec.c), tabs, a blank line, a
  // word with spaces (GloVe 840B has some), a repeated word (first wins).
  WriteFile(path,
            "\xEF\xBB\xBFthe 1 2 3 \r\n"
            "\n"
            ". . . 4\t5 6\r\n"
            "the 7 8 9\n"
            "end 1e-3 -2.5E+1 0");
  LoadedWordVectors loaded = LoadOk(path, WordVectorKind::kGlove, dir / "cache");
  const WordVectorModel& m = *loaded.model;
  REQUIRE(m.size() == 3);
  std::vector<float> v(3);
  REQUIRE(m.Lookup("the", absl::MakeSpan(v)) == WordSource::kVocabulary);
  CHECK(v == std::vector<float>{1, 2, 3});
  REQUIRE(m.Lookup(". . .", absl::MakeSpan(v)) == WordSource::kVocabulary);
  CHECK(v == std::vector<float>{4, 5, 6});
  REQUIRE(m.Lookup("end", absl::MakeSpan(v)) == WordSource::kVocabulary);
  CHECK(v == std::vector<float>{1e-3f, -25.0f, 0.0f});
  auto* mapped = dynamic_cast<const MappedWordVectors*>(&m);
  REQUIRE(mapped != nullptr);
  CHECK(mapped->duplicates() == 1);
}

TEST_CASE("Malformed word2vec binary files are refused cleanly", "[wordvec][reader][errors]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/high_precision.kv.bin");
  TempDir dir;
  const std::string good = testing::ReadFile(SharedData("gensim/high_precision.kv.bin"));
  REQUIRE(good.size() == 45);
  struct Case {
    const char* name;
    std::string content;
    const char* message;
  };
  std::string nan_file = good;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(nan_file.data() + 4 + 14, &nan, 4);  // first value of word 1
  const Case cases[] = {
      {"cut_in_vector", good.substr(0, good.size() - 3),
       "word 2 of 2 (byte 26): the file is truncated: 'horse.n.01' needs 8 bytes of floats"},
      {"cut_in_word", good.substr(0, 30), "word 2 of 2 (byte 26): the file is truncated: it ends inside the word"},
      {"cut_before_word", good.substr(0, 26), "word 2 of 2 (byte 26): the file is truncated: it ends before the word"},
      {"nan", nan_file, "word 1 of 2 (byte 4): value 1 of 'kangaroo.n.01' is not finite"},
      {"trailing", good + "extra", "unexpected data at byte 45 after the 2 vectors"},
      {"no_header", good.substr(4), "not a word2vec binary file"},
      {"empty", "", "holds no word vectors (empty file)"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const std::string path = dir / "bad.bin";
      WriteFile(path, c.content);
      absl::StatusOr<LoadedWordVectors> loaded =
          LoadWordVectors({path, WordVectorKind::kWord2Vec, BinaryChoice::kBinary, dir / "cache"});
      INFO(loaded.status().ToString());
      REQUIRE(absl::IsInvalidArgument(loaded.status()));
      CHECK_THAT(std::string(loaded.status().message()), Catch::Contains(c.message));
    }
  }
}

TEST_CASE("A missing file is NotFound", "[wordvec][reader][errors]") {
  TempDir dir;
  for (WordVectorKind kind : {WordVectorKind::kGlove, WordVectorKind::kWord2Vec, WordVectorKind::kFastText}) {
    absl::StatusOr<LoadedWordVectors> loaded =
        LoadWordVectors({dir / "nope.bin", kind, BinaryChoice::kAuto, dir.path()});
    CHECK(absl::IsNotFound(loaded.status()));
  }
}

TEST_CASE("The cache is reused, and rebuilt when the source changes or is damaged", "[wordvec][cache]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/test_glove.txt");
  TempDir dir;
  const std::string source = dir / "vectors.txt";
  fs::copy_file(SharedData("gensim/test_glove.txt"), source);
  const std::string cache_dir = dir / "cache";

  std::string cache_path;
  std::vector<float> the(50);
  {
    WordVectorModels models;  // one database's
    LoadedWordVectors first =
        LoadOk(source, WordVectorKind::kGlove, cache_dir, BinaryChoice::kAuto, &models);
    CHECK(first.built_cache);
    cache_path = first.cache_path;
    CHECK(fs::path(cache_path).parent_path() == fs::path(cache_dir));
    CHECK(fs::exists(cache_path));
    first.model->Lookup("the", absl::MakeSpan(the));
    // While a model is open, opening the file again through the same
    // registry shares it; another registry (another database) maps the
    // cache for itself.
    LoadedWordVectors again =
        LoadOk(source, WordVectorKind::kGlove, cache_dir, BinaryChoice::kAuto, &models);
    CHECK(again.model == first.model);
    WordVectorModels others;
    LoadedWordVectors elsewhere =
        LoadOk(source, WordVectorKind::kGlove, cache_dir, BinaryChoice::kAuto, &others);
    CHECK(elsewhere.model != first.model);
    CHECK_FALSE(elsewhere.built_cache);
    std::vector<float> v(50);
    REQUIRE(elsewhere.model->Lookup("the", absl::MakeSpan(v)) == WordSource::kVocabulary);
    CHECK(v == the);
  }
  // Only the finished cache is in the folder: no temporary files.
  CHECK(std::distance(fs::directory_iterator(cache_dir), fs::directory_iterator()) == 1);

  {
    LoadedWordVectors reopened = LoadOk(source, WordVectorKind::kGlove, cache_dir);
    CHECK_FALSE(reopened.built_cache);
    CHECK(reopened.cache_path == cache_path);
    std::vector<float> v(50);
    REQUIRE(reopened.model->Lookup("the", absl::MakeSpan(v)) == WordSource::kVocabulary);
    CHECK(v == the);
    CHECK(reopened.model->size() == 76);
  }

  // A changed source (size and modification time) invalidates the cache.
  {
    std::ofstream out(source, std::ios::app);
    out << "semdb";
    for (int j = 0; j < 50; ++j) out << " 0.5";
    out << "\n";
  }
  {
    LoadedWordVectors changed = LoadOk(source, WordVectorKind::kGlove, cache_dir);
    CHECK(changed.built_cache);
    CHECK(changed.model->size() == 77);
    CHECK(changed.model->Find("semdb") == 76);
  }

  // Same size, new modification time: rebuilt too.
  {
    struct timespec times[2] = {{0, UTIME_OMIT}, {1'000'000'000, 0}};
    REQUIRE(::utimensat(AT_FDCWD, source.c_str(), times, 0) == 0);
    LoadedWordVectors touched = LoadOk(source, WordVectorKind::kGlove, cache_dir);
    CHECK(touched.built_cache);
  }

  // A damaged cache (truncated, or its header altered) is rebuilt.
  fs::resize_file(cache_path, fs::file_size(cache_path) - 100);
  {
    absl::StatusOr<SourceStamp> stamp = StampOf(source, static_cast<uint32_t>(WordVectorFormat::kText));
    REQUIRE(stamp.ok());
    CHECK(absl::IsDataLoss(MappedWordVectors::Open(cache_path, *stamp).status()));
    LoadedWordVectors repaired = LoadOk(source, WordVectorKind::kGlove, cache_dir);
    CHECK(repaired.built_cache);
  }
  {
    std::fstream f(cache_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x7f');
  }
  {
    LoadedWordVectors repaired = LoadOk(source, WordVectorKind::kGlove, cache_dir);
    CHECK(repaired.built_cache);
    CHECK(repaired.model->size() == 77);
  }
}

TEST_CASE("Cache location: cache_dir, beside the source, or the user cache folder", "[wordvec][cache]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/test_glove.txt");
  TempDir dir;
  const std::string source = dir / "vectors.txt";
  fs::copy_file(SharedData("gensim/test_glove.txt"), source);
  absl::StatusOr<std::string> beside = WordVectorCachePath(source, "");
  REQUIRE(beside.ok());
  CHECK(*beside == source + ".wvcache");

  // The shared data folder is read-only: the cache goes to $XDG_CACHE_HOME.
  const std::string shared = fs::canonical(SharedData("gensim/test_glove.txt")).string();
  if ((fs::status(fs::path(shared).parent_path()).permissions() & fs::perms::all &
       (fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write)) != fs::perms::none) {
    SEMDB_SKIP("the read-only case: the shared data folder is writable here");
  }
  const char* old = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old ? old : "";
  ::setenv("XDG_CACHE_HOME", (dir / "xdg").c_str(), 1);
  absl::StatusOr<std::string> fallback = WordVectorCachePath(shared, "");
  LoadedWordVectors loaded = LoadOk(shared, WordVectorKind::kGlove, "");
  if (old) {
    ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  } else {
    ::unsetenv("XDG_CACHE_HOME");
  }
  REQUIRE(fallback.ok());
  CHECK(fs::path(*fallback).parent_path() == fs::path(dir / "xdg/semdb/word-vectors"));
  CHECK(loaded.cache_path == *fallback);
  CHECK(fs::exists(*fallback));
}

TEST_CASE("word2vec binary=auto sniffs the format", "[wordvec][reader]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/high_precision.kv.bin");
  for (const char* name : {"gensim/high_precision.kv.bin", "gensim/euclidean_vectors.bin"}) {
    absl::StatusOr<bool> binary = IsWord2VecBinary(SharedData(name));
    REQUIRE(binary.ok());
    CHECK(*binary);
  }
  for (const char* name : {"gensim/high_precision.kv.txt", "gensim/lee_fasttext.vec", "gensim/test_glove.txt"}) {
    absl::StatusOr<bool> binary = IsWord2VecBinary(SharedData(name));
    REQUIRE(binary.ok());
    CHECK_FALSE(*binary);
  }
}

}  // namespace
}  // namespace semdb
