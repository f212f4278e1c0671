#include "embedders/fasttext_model.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "fasttext/fasttext.h"
#include "fmt/format.h"

namespace semdb {

class FastTextModel::Library : public fasttext::FastText {
 public:
  const fasttext::Args& args() const { return *args_; }
  const fasttext::Dictionary& dict() const { return *dict_; }
  const fasttext::Matrix& input() const { return *input_; }
};

namespace {

// The newest format libfasttext 0.9.2 reads, and the oldest with a magic
// number; older files start directly with the training arguments.
constexpr int32_t kNewestVersion = 12;
constexpr int32_t kOldestVersion = 11;

// What the structural check learns about a model file.
struct FastTextHeader {
  int32_t version = 0;
  int32_t dim = 0;
  int32_t model = 0;
  int32_t bucket = 0;
  int32_t minn = 0;
  int32_t maxn = 0;
  int32_t nwords = 0;
  int32_t nlabels = 0;
};

// Walks the file as libfasttext 0.9.2's FastText::loadModel reads it
// (Args::load, Dictionary::load, DenseMatrix::load twice) and checks every
// size against the bytes actually present.
absl::StatusOr<FastTextHeader> CheckFastTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(fmt::format("cannot stat {}: {}", path, std::strerror(errno)));
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(
        fmt::format("{} is not a usable fastText model: {}", path, what));
  };
  auto read = [&](auto* value) { return static_cast<bool>(in.read(reinterpret_cast<char*>(value), sizeof(*value))); };

  int32_t magic = 0, version = 0;
  if (!read(&magic) || !read(&version)) return bad("the file is too short");
  if (magic != kFastTextMagic) {
    return bad(
        "no fastText magic number: this is not a fastText .bin file, or one in "
        "the format fastText wrote before it had a magic number (2017), which "
        "libfasttext no longer reads; re-save it with a current fastText or use "
        "its .vec");
  }
  if (version < kOldestVersion || version > kNewestVersion) {
    return bad(fmt::format("format version {} (supported: {} to {})", version,
                           kOldestVersion, kNewestVersion));
  }
  FastTextHeader h;
  h.version = version;
  int32_t ws, epoch, min_count, neg, word_ngrams, loss, lr_update_rate;
  double t;
  if (!read(&h.dim) || !read(&ws) || !read(&epoch) || !read(&min_count) || !read(&neg) ||
      !read(&word_ngrams) || !read(&loss) || !read(&h.model) || !read(&h.bucket) ||
      !read(&h.minn) || !read(&h.maxn) || !read(&lr_update_rate) || !read(&t)) {
    return bad("the file ends inside its header");
  }
  if (h.dim < 1 || h.dim > 65536 || h.model < 1 || h.model > 3 || loss < 1 || loss > 4 ||
      h.bucket < 0 || h.minn < 0 || h.maxn < 0 || h.maxn > 64 || word_ngrams < 1 ||
      word_ngrams > 64) {
    return bad(fmt::format(
        "implausible header (dim {}, model {}, loss {}, bucket {}, minn {}, maxn {}, "
        "wordNgrams {})",
        h.dim, h.model, loss, h.bucket, h.minn, h.maxn, word_ngrams));
  }

  int32_t size;
  int64_t ntokens, pruneidx_size;
  if (!read(&size) || !read(&h.nwords) || !read(&h.nlabels) || !read(&ntokens) ||
      !read(&pruneidx_size)) {
    return bad("the file ends inside the dictionary header");
  }
  if (size < 0 || h.nwords < 0 || h.nlabels < 0 ||
      static_cast<int64_t>(h.nwords) + h.nlabels != size) {
    return bad(fmt::format("inconsistent dictionary sizes ({} entries, {} words, {} labels)",
                           size, h.nwords, h.nlabels));
  }
  for (int32_t i = 0; i < size; ++i) {
    // A word runs to a NUL byte; libfasttext would read past the end of the
    // file forever looking for it.
    std::string word;
    int c;
    while ((c = in.get()) != 0) {
      if (c == std::char_traits<char>::eof()) {
        return bad(fmt::format("the file ends inside dictionary entry {} of {}", i + 1, size));
      }
      if (word.size() > 1 << 16) return bad(fmt::format("dictionary entry {} is not terminated", i + 1));
      word.push_back(static_cast<char>(c));
    }
    int64_t count;
    int8_t type;
    if (!read(&count) || !read(&type)) {
      return bad(fmt::format("the file ends inside dictionary entry {} of {}", i + 1, size));
    }
    const int8_t expected = i < h.nwords ? 0 : 1;
    if (type != expected || count < 0) {
      return bad(fmt::format("dictionary entry {} ('{}') is damaged", i + 1, word));
    }
  }
  if (pruneidx_size > 0) {
    return bad("the model is pruned (quantized); .ftz models are not supported");
  }
  int8_t quant_input;
  if (!read(&quant_input)) return bad("the file ends after the dictionary");
  if (quant_input != 0) return bad("quantized models (.ftz) are not supported");
  uint64_t offset = static_cast<uint64_t>(in.tellg());
  // Two dense matrices follow: the input rows (words, then n-gram buckets)
  // and, after a one-byte flag, the output rows.
  for (int matrix = 0; matrix < 2; ++matrix) {
    const char* name = matrix == 0 ? "input" : "output";
    if (matrix == 1) {
      int8_t quant_output;
      in.seekg(static_cast<std::streamoff>(offset));
      if (!read(&quant_output)) return bad("the file ends before the output matrix");
      if (quant_output != 0) return bad("quantized models (.ftz) are not supported");
      offset += 1;
    }
    int64_t m, n;
    in.seekg(static_cast<std::streamoff>(offset));
    if (!read(&m) || !read(&n)) return bad(fmt::format("the file ends before the {} matrix", name));
    offset += 16;
    if (n != h.dim || m < 0 || m > (int64_t{1} << 40) / h.dim) {
      return bad(fmt::format("the {} matrix is {} x {}, expected {} columns", name, m, n, h.dim));
    }
    if (matrix == 0 && m != static_cast<int64_t>(h.nwords) + h.bucket) {
      return bad(fmt::format("the input matrix has {} rows, expected {} words + {} buckets", m,
                             h.nwords, h.bucket));
    }
    const uint64_t bytes = static_cast<uint64_t>(m) * n * sizeof(float);
    if (offset + bytes > file_size) {
      return bad(fmt::format("the file is truncated inside the {} matrix ({} bytes missing)",
                             name, offset + bytes - file_size));
    }
    offset += bytes;
  }
  if (offset != file_size) {
    return bad(fmt::format("{} unexpected bytes after the output matrix", file_size - offset));
  }
  return h;
}

}  // namespace

FastTextModel::~FastTextModel() = default;

absl::StatusOr<std::unique_ptr<FastTextModel>> FastTextModel::Open(const std::string& path) {
  absl::StatusOr<FastTextHeader> header = CheckFastTextFile(path);
  if (!header.ok()) return header.status();
  std::unique_ptr<FastTextModel> m(new FastTextModel());
  m->ft_ = std::make_unique<Library>();
  try {
    m->ft_->loadModel(path);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        fmt::format("libfasttext cannot load {}: {}", path, e.what()));
  } catch (...) {
    return absl::InvalidArgumentError(fmt::format("libfasttext cannot load {}", path));
  }
  const fasttext::Args& args = m->ft_->args();
  const fasttext::Dictionary& dict = m->ft_->dict();
  m->path_ = path;
  m->dim_ = args.dim;
  m->supervised_ = args.model == fasttext::model_name::sup;
  m->version_ = header->version;
  m->minn_ = args.minn;
  m->maxn_ = args.maxn;  // 0 for version-11 supervised models, as loaded
  m->bucket_ = args.bucket;
  m->words_.reserve(dict.nwords());
  for (int32_t i = 0; i < dict.nwords(); ++i) m->words_.push_back(dict.getWord(i));
  m->counts_ = dict.getCounts(fasttext::entry_type::word);
  return m;
}

int64_t FastTextModel::Find(std::string_view word) const {
  const int32_t id = ft_->dict().getId(std::string(word));
  return id >= 0 && id < static_cast<int32_t>(words_.size()) ? id : -1;
}

WordSource FastTextModel::Lookup(std::string_view word, absl::Span<float> out) const {
  const std::string w(word);
  const fasttext::Dictionary& dict = ft_->dict();
  if (dict.getSubwords(w).empty()) {
    std::fill(out.begin(), out.end(), 0.0f);
    return WordSource::kUnknown;
  }
  fasttext::Vector v(dim_);
  ft_->getWordVector(v, w);
  std::copy(v.data(), v.data() + dim_, out.begin());
  return Find(word) >= 0 ? WordSource::kVocabulary : WordSource::kSubwords;
}

void FastTextModel::ComputeVocabularyVectors() const {
  const int64_t n = size();
  vocabulary_vectors_.resize(static_cast<size_t>(n) * dim_);
  inverse_norms_.resize(n);
  fasttext::Vector v(dim_);
  for (int64_t i = 0; i < n; ++i) {
    ft_->getWordVector(v, words_[i]);
    double norm = 0;
    for (int j = 0; j < dim_; ++j) norm += static_cast<double>(v[j]) * v[j];
    std::copy(v.data(), v.data() + dim_, vocabulary_vectors_.begin() + i * dim_);
    inverse_norms_[i] = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
  }
}

const float* FastTextModel::vocabulary_vectors() const {
  std::call_once(vocabulary_once_, [this] { ComputeVocabularyVectors(); });
  return vocabulary_vectors_.data();
}

const float* FastTextModel::inverse_norms() const {
  std::call_once(vocabulary_once_, [this] { ComputeVocabularyVectors(); });
  return inverse_norms_.data();
}

std::vector<float> FastTextModel::SentenceVector(std::string_view line) const {
  line = line.substr(0, line.find('\n'));
  fasttext::Vector sum(dim_);
  sum.zero();
  // fasttext::Vector's own arithmetic, in fastText's order, so that the
  // float rounding is the reference's.
  if (supervised_) {
    std::istringstream in(std::string(line) + "\n");
    std::vector<int32_t> ids, labels;
    ft_->dict().getLine(in, ids, labels);
    for (int32_t id : ids) ft_->input().addRowToVector(sum, id);
    if (!ids.empty()) sum.mul(1.0 / ids.size());
  } else {
    std::istringstream words{std::string(line)};
    fasttext::Vector v(dim_);
    std::string word;
    int32_t count = 0;
    while (words >> word) {
      ft_->getWordVector(v, word);
      const fasttext::real norm = v.norm();
      if (norm > 0) {
        v.mul(1.0 / norm);
        sum.addVector(v);
        ++count;
      }
    }
    if (count > 0) sum.mul(1.0 / count);
  }
  return std::vector<float>(sum.data(), sum.data() + dim_);
}

nlohmann::json FastTextModel::Describe() const {
  nlohmann::json j;
  j["file"] = path_;
  j["format"] = "fasttext-bin";
  j["format_version"] = version_;
  j["model"] = supervised_ ? "supervised" : "unsupervised";
  j["vocabulary"] = words_.size();
  j["dim"] = dim_;
  j["subwords"] = maxn_ > 0 && bucket_ > 0
                      ? fmt::format("character {}- to {}-grams in {} buckets", minn_, maxn_, bucket_)
                      : std::string("none (unknown words get no vector)");
  return j;
}

}  // namespace semdb
