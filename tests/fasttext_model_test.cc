// fastText .bin models against Debian's `fasttext` command
// (tests/golden/make_fasttext_golden.py), against their own .vec files, and
// damaged or old-format models.
#include "embedders/fasttext_model.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "test_data.h"
#include "word_vector_test_util.h"

namespace semdb {
namespace {

namespace fs = std::filesystem;
using testing::HalfUnitOfLastDigit;
using testing::PrintedLikeFastText;
using testing::PrintedTolerance;
using testing::ReadFile;
using testing::SharedData;
using testing::SplitPrinted;
using testing::TempDir;
using testing::TestData;

std::unique_ptr<FastTextModel> OpenOk(const std::string& path) {
  absl::StatusOr<std::unique_ptr<FastTextModel>> m = FastTextModel::Open(path);
  INFO(m.status().ToString());
  REQUIRE(m.ok());
  return *std::move(m);
}

// How ours compare with what fastText printed: the largest difference, the
// largest in units of the printed last digit, and how many values print
// differently.
struct Diff {
  double max_abs = 0;
  double max_units = 0;
  int values = 0;
  int printed_differently = 0;
};
void Compare(const std::vector<float>& ours, const std::string& printed, Diff* diff) {
  const std::vector<std::string> values = SplitPrinted(printed);
  REQUIRE(values.size() == ours.size());
  for (size_t j = 0; j < values.size(); ++j) {
    const double want = std::stod(values[j]);
    const double d = std::abs(ours[j] - want);
    diff->max_abs = std::max(diff->max_abs, d);
    diff->max_units = std::max(diff->max_units, d / (2 * HalfUnitOfLastDigit(values[j])));
    ++diff->values;
    if (PrintedLikeFastText(ours[j]) != values[j]) {
      ++diff->printed_differently;
      UNSCOPED_INFO("component " << j << ": ours " << PrintedLikeFastText(ours[j])
                                 << ", fasttext printed " << values[j]);
    }
  }
}

TEST_CASE("fastText word and sentence vectors equal `fasttext print-*-vectors`",
          "[wordvec][fasttext][golden]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_fasttext_new.bin");
  const nlohmann::json golden =
      nlohmann::json::parse(ReadFile(TestData("golden/fasttext_vectors.json")));
  REQUIRE(golden["models"].size() == 5);
  for (const nlohmann::json& g : golden["models"]) {
    const std::string file = g["file"];
    SECTION(file) {
      auto model = OpenOk(SharedData(file));
      REQUIRE(model->dimension() == g["dim"].get<int>());
      CHECK(model->supervised() == (g["model"] == "sup"));
      std::vector<float> v(model->dimension());
      Diff in_vocab, oov, sentences;
      for (const auto& [word, printed] : g["in_vocabulary"].items()) {
        INFO(file << " word '" << word << "'");
        CHECK(model->Lookup(word, absl::MakeSpan(v)) == WordSource::kVocabulary);
        Compare(v, printed, &in_vocab);
      }
      for (const auto& [word, printed] : g["out_of_vocabulary"].items()) {
        INFO(file << " unknown word '" << word << "'");
        REQUIRE(model->Find(word) == -1);
        const WordSource source = model->Lookup(word, absl::MakeSpan(v));
        // Models without n-grams (maxn 0) have no vector for unknown words,
        // and fastText prints zeros.
        CHECK(source == (g["maxn"].get<int>() > 0 ? WordSource::kSubwords : WordSource::kUnknown));
        Compare(v, printed, &oov);
      }
      for (const nlohmann::json& s : g["sentences"]) {
        INFO(file << " sentence '" << s["text"].get<std::string>() << "'");
        Compare(model->SentenceVector(s["text"].get<std::string>()), s["vector"], &sentences);
      }
      // Ours print exactly as fastText's: each value is within half a unit
      // of the printed last digit (so within 1e-5 for |value| < 0.2, and
      // within fastText's 5 significant digits above).
      CHECK(in_vocab.printed_differently == 0);
      CHECK(oov.printed_differently == 0);
      CHECK(sentences.printed_differently == 0);
      CHECK(in_vocab.max_units <= 0.5 + 1e-6);
      CHECK(oov.max_units <= 0.5 + 1e-6);
      CHECK(sentences.max_units <= 0.5 + 1e-6);
      WARN(file << ": " << in_vocab.values + oov.values + sentences.values
                << " values; max |ours - printed| words " << in_vocab.max_abs
                << ", unknown words " << oov.max_abs << ", sentences " << sentences.max_abs
                << "; in units of the printed last digit at most "
                << std::max({in_vocab.max_units, oov.max_units, sentences.max_units}));
    }
  }
}

TEST_CASE("fastText .vec and .bin forms of a model agree", "[wordvec][fasttext]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/crime-and-punishment.bin");
  TempDir dir;
  // The pairs saved together (lee_fasttext.vec belongs to an older model than
  // lee_fasttext_new.bin; pang_lee_polarity_fasttext.vec is not UTF-8).
  const std::pair<const char*, const char*> pairs[] = {
      {"gensim/crime-and-punishment.bin", "gensim/crime-and-punishment.vec"},
      {"gensim/toy-model.bin", "gensim/toy-model.vec"},
  };
  for (const auto& [bin_name, vec_name] : pairs) {
    SECTION(vec_name) {
      auto bin = OpenOk(SharedData(bin_name));
      LoadedWordVectors vec = testing::LoadOk(SharedData(vec_name), WordVectorKind::kFastText, dir.path());
      REQUIRE(vec.model->dimension() == bin->dimension());
      const int dim = bin->dimension();
      const auto rows = testing::NaiveTextVectors(SharedData(vec_name));
      std::vector<float> a(dim), b(dim);
      double max_abs = 0;
      int64_t compared = 0;
      for (int64_t i = 0; i < vec.model->size(); ++i) {
        const std::string word(vec.model->word(i));
        INFO(vec_name << " word '" << word << "'");
        REQUIRE(vec.model->Lookup(word, absl::MakeSpan(a)) == WordSource::kVocabulary);
        REQUIRE(bin->Lookup(word, absl::MakeSpan(b)) == WordSource::kVocabulary);
        for (int j = 0; j < dim; ++j) {
          max_abs = std::max(max_abs, static_cast<double>(std::abs(a[j] - b[j])));
          REQUIRE(std::abs(a[j] - b[j]) <= PrintedTolerance(a[j]));
        }
        ++compared;
      }
      CHECK(compared == static_cast<int64_t>(rows.size()));
      WARN(vec_name << ": " << compared << " words, max |vec - bin| " << max_abs);
    }
  }
}

TEST_CASE("fastText model facts", "[wordvec][fasttext]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_fasttext_new.bin");
  auto model = OpenOk(SharedData("gensim/lee_fasttext_new.bin"));
  CHECK(model->dimension() == 10);
  CHECK(model->size() == 1763);  // 1762 words of the .vec plus "</s>"
  CHECK(model->has_counts());
  CHECK(model->word(0) == "the");
  CHECK(model->count(0) > model->count(100));
  const float* rows = model->vocabulary_vectors();
  std::vector<float> v(10);
  model->Lookup(model->word(7), absl::MakeSpan(v));
  CHECK(std::equal(v.begin(), v.end(), rows + 7 * 10));
  CHECK(model->Describe()["subwords"] == "character 3- to 6-grams in 1000 buckets");
}

TEST_CASE("Old-format and damaged fastText models are refused cleanly", "[wordvec][fasttext][errors]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/non_ascii_fasttext.bin");
  absl::StatusOr<std::unique_ptr<FastTextModel>> old =
      FastTextModel::Open(SharedData("gensim/non_ascii_fasttext.bin"));
  REQUIRE(absl::IsInvalidArgument(old.status()));
  CHECK_THAT(std::string(old.status().message()), Catch::Contains("no fastText magic number"));
  CHECK_THAT(std::string(old.status().message()), Catch::Contains("before it had a magic number"));

  // Through the embedder-facing loader too: fasttext path=X.bin.
  TempDir dir;
  absl::StatusOr<LoadedWordVectors> loaded =
      LoadWordVectors({SharedData("gensim/non_ascii_fasttext.bin"), WordVectorKind::kFastText,
                       BinaryChoice::kAuto, dir.path()});
  CHECK(absl::IsInvalidArgument(loaded.status()));

  const std::string good = ReadFile(SharedData("gensim/lee_fasttext_new.bin"));
  struct Case {
    const char* name;
    std::string content;
    const char* message;
  };
  std::string version = good;
  version[4] = 13;
  std::string dim = good;
  dim[8] = 0;  // dim 0
  const size_t dictionary_start = 4 + 4 + 12 * 4 + 8 + 4 * 3 + 8 * 2;
  const Case cases[] = {
      {"empty", "", "the file is too short"},
      {"version", version, "format version 13 (supported: 11 to 12)"},
      {"dim", dim, "implausible header (dim 0"},
      {"cut_in_header", good.substr(0, 30), "the file ends inside its header"},
      {"cut_in_dictionary", good.substr(0, dictionary_start + 20), "the file ends inside dictionary entry"},
      {"cut_in_matrix", good.substr(0, good.size() / 2), "the file is truncated inside the input matrix"},
      {"cut_in_output", good.substr(0, good.size() - 7), "the file is truncated inside the output matrix"},
      {"trailing", good + "xx", "2 unexpected bytes after the output matrix"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const std::string path = dir / "model.bin";
      std::ofstream(path, std::ios::binary) << c.content;
      absl::StatusOr<std::unique_ptr<FastTextModel>> m = FastTextModel::Open(path);
      INFO(m.status().ToString());
      REQUIRE(absl::IsInvalidArgument(m.status()));
      CHECK_THAT(std::string(m.status().message()), Catch::Contains(c.message));
    }
  }
  CHECK(absl::IsNotFound(FastTextModel::Open(dir / "missing.bin").status()));
}

TEST_CASE("libfasttext prints nothing while we load and query models", "[wordvec][fasttext]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_fasttext_new.bin");
  TempDir dir;
  const std::string log = dir / "output.txt";
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const int saved_out = ::dup(1), saved_err = ::dup(2);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(fd, 1);
  ::dup2(fd, 2);
  int opened = 0;
  for (const char* name : {"gensim/lee_fasttext_new.bin", "gensim/pang_lee_polarity_fasttext.bin",
                           "gensim/non_ascii_fasttext.bin", "gensim/test_glove.txt"}) {
    absl::StatusOr<std::unique_ptr<FastTextModel>> m = FastTextModel::Open(SharedData(name));
    if (!m.ok()) continue;
    ++opened;
    std::vector<float> v((*m)->dimension());
    (*m)->Lookup("xyzzy", absl::MakeSpan(v));
    (*m)->SentenceVector("a short line of text");
    (*m)->vocabulary_vectors();
  }
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  ::dup2(saved_out, 1);
  ::dup2(saved_err, 2);
  ::close(saved_out);
  ::close(saved_err);
  ::close(fd);
  CHECK(opened == 2);
  CHECK(fs::file_size(log) == 0);
}

}  // namespace
}  // namespace semdb
