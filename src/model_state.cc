#include "semdb/model_state.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "embedders/embedder_factory.h"
#include "index/index_factory.h"
#include "nlohmann/json.hpp"
#include "src/model_probe.h"

namespace semdb {
namespace {

constexpr char kMagic[] = "semdb-model 1\n";

}  // namespace

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

std::string ModelState::Encode() const {
  nlohmann::json header = {{"embedder", embedder}, {"dimension", dimension}, {"probe", probe}};
  if (!index.empty()) {
    header["index"] = index;
    header["index_training_size"] = index_training.size();
  }
  return std::string(kMagic) + header.dump() + "\n" + state + index_training;
}

absl::StatusOr<ModelState> ModelState::Decode(std::string_view bytes) {
  const auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError("not an exported semdb model: " + std::string(why));
  };
  if (!bytes.starts_with(kMagic)) return bad("it does not start with 'semdb-model 1'");
  bytes.remove_prefix(sizeof kMagic - 1);
  const size_t eol = bytes.find('\n');
  if (eol == std::string_view::npos) return bad("its header line is not terminated");
  nlohmann::json header = nlohmann::json::parse(bytes.substr(0, eol), nullptr, false);
  ModelState m;
  size_t training_size = 0;
  try {
    m.embedder = header.at("embedder").get<std::string>();
    m.dimension = header.at("dimension").get<int>();
    m.probe = header.at("probe").get<std::vector<float>>();
    if (header.contains("index")) {
      m.index = header.at("index").get<std::string>();
      training_size = header.at("index_training_size").get<size_t>();
    }
  } catch (const nlohmann::json::exception&) {
    return bad("its header is not {\"embedder\", \"dimension\", \"probe\"}");
  }
  if (m.dimension < 1) return bad("its dimension is not positive");
  bytes.remove_prefix(eol + 1);
  if (training_size > bytes.size() || (!m.index.empty() && training_size == 0)) {
    return bad("its index training is truncated");
  }
  m.state = std::string(bytes.substr(0, bytes.size() - training_size));
  m.index_training = std::string(bytes.substr(bytes.size() - training_size));
  return m;
}

std::string ModelState::Fingerprint() const {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(Fnv1a64(Encode())));
  return hex;
}

absl::StatusOr<ModelState> TrainIndex(ModelState model, std::string_view index_spec,
                                      absl::Span<const float> sample) {
  absl::StatusOr<Spec> spec = Spec::Parse(index_spec);
  if (!spec.ok()) return spec.status();
  absl::StatusOr<std::unique_ptr<VectorIndex>> index =
      CreateVectorIndex(*spec, model.dimension);
  if (!index.ok()) return index.status();
  if ((*index)->is_trained()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "index '", spec->ToString(), "' learns nothing from data: there is no training to share"));
  }
  if (sample.size() % model.dimension != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the sample is not rows of the model's dimension ", model.dimension));
  }
  if (absl::Status s = (*index)->Train(sample); !s.ok()) return s;
  absl::StatusOr<std::string> training = (*index)->ExportTraining();
  if (!training.ok()) return training.status();
  model.index = spec->ToString();
  model.index_training = *std::move(training);
  return model;
}

Model::Model(std::unique_ptr<Embedder> embedder, std::string fingerprint)
    : embedder_(std::move(embedder)),
      dimension_(embedder_->dimension()),
      fingerprint_(std::move(fingerprint)) {}

absl::StatusOr<std::unique_ptr<Model>> Model::Load(const ModelState& state,
                                                   const EmbedderContext& context) {
  absl::StatusOr<Spec> spec = Spec::Parse(state.embedder);
  if (!spec.ok()) return spec.status();
  absl::StatusOr<std::unique_ptr<Embedder>> embedder = CreateEmbedder(*spec, context);
  if (!embedder.ok()) return embedder.status();
  if ((*embedder)->capabilities().caller_vectors) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", state.embedder, "' stores caller-supplied vectors: it is not a model"));
  }
  if ((*embedder)->fittable()) {
    if (absl::Status s = (*embedder)->LoadState(state.state); !s.ok()) return s;
  }
  if ((*embedder)->dimension() != state.dimension) {
    return absl::FailedPreconditionError(
        absl::StrCat("the model '", state.embedder, "' has dimension ", (*embedder)->dimension(),
                     " here, the exported state ", state.dimension));
  }
  if (!state.probe.empty()) {
    if (absl::Status s = CheckProbe(**embedder, state.probe); !s.ok()) return s;
  }
  return std::unique_ptr<Model>(new Model(*std::move(embedder), state.Fingerprint()));
}

absl::Status Model::Embed(absl::Span<const std::string_view> texts, absl::Span<float> out,
                          std::vector<TextStats>* stats) const {
  if (out.size() != texts.size() * dimension_) {
    return absl::InvalidArgumentError("output size is not texts x dimension");
  }
  return embedder_->Embed(texts, out, stats);
}

absl::Status Model::EmbedQueries(absl::Span<const std::string_view> texts,
                                 absl::Span<float> out, std::vector<TextStats>* stats) const {
  if (out.size() != texts.size() * dimension_) {
    return absl::InvalidArgumentError("output size is not texts x dimension");
  }
  return embedder_->EmbedQueries(texts, out, stats);
}

}  // namespace semdb
