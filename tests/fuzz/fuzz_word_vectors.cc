// Word-vector files: the text and word2vec binary readers, and the cache
// they feed (written, then mapped and looked up), on any bytes.
#include "embedders/word_vector_loader.h"
#include "embedders/word_vector_reader.h"
#include "fuzz_util.h"

namespace {

class CountingSink : public semdb::WordVectorSink {
 public:
  absl::Status Begin(int dim) override {
    dim_ = dim;
    return absl::OkStatus();
  }
  absl::Status Add(std::string_view word, absl::Span<const float> v) override {
    if (static_cast<int>(v.size()) != dim_) std::abort();
    return absl::OkStatus();
  }

 private:
  int dim_ = -1;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = semdb::fuzz::WriteInput("vectors", data, size);
  CountingSink sink;
  (void)semdb::ReadWordVectorText(path, sink);
  CountingSink binary_sink;
  (void)semdb::ReadWord2VecBinary(path, binary_sink);
  for (semdb::WordVectorKind kind : {semdb::WordVectorKind::kGlove, semdb::WordVectorKind::kWord2Vec}) {
    semdb::WordVectorSource source;
    source.path = path;
    source.kind = kind;
    source.cache_dir = semdb::fuzz::ScratchDir() + "/cache";
    absl::StatusOr<semdb::LoadedWordVectors> loaded = semdb::LoadWordVectors(source);
    if (!loaded.ok()) continue;
    const semdb::WordVectorModel& m = *loaded->model;
    std::vector<float> out(m.dimension());
    for (int64_t i = 0; i < m.size() && i < 8; ++i) {
      if (m.Find(m.word(i)) < 0) std::abort();
      (void)m.Lookup(m.word(i), absl::MakeSpan(out));
    }
  }
  return 0;
}
