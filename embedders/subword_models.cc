#include "embedders/subword_models.h"

#include <algorithm>
#include <limits>

#include "fmt/format.h"

namespace semdb {
namespace {

// Byte length of the UTF-8 character starting with `lead` (1 for a stray
// continuation byte: the text was validated before, this only bounds loops).
size_t CharBytes(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

// Byte offsets of each character of `s`, then s.size().
std::vector<size_t> CharStarts(std::string_view s) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); i += CharBytes(static_cast<unsigned char>(s[i]))) {
    starts.push_back(i);
  }
  starts.push_back(s.size());
  return starts;
}

int32_t Find(const TokenIds& vocab, std::string_view token) {
  auto it = vocab.find(absl::string_view(token.data(), token.size()));
  return it == vocab.end() ? -1 : it->second;
}

absl::Status Bad(const std::string& source, const std::string& what) {
  return absl::InvalidArgumentError(fmt::format("{}: model: {}", source, what));
}

std::string OptionalString(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

bool OptionalBool(const nlohmann::json& j, const char* key, bool fallback) {
  return j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : fallback;
}

// A {"token": id} vocabulary into `vocab` and `tokens`.
absl::Status ReadVocabMap(const nlohmann::json& m, const std::string& source, TokenIds* vocab,
                          std::vector<std::string>* tokens) {
  if (!m.contains("vocab") || !m["vocab"].is_object()) {
    return Bad(source, "\"vocab\" must be an object of token ids");
  }
  for (const auto& [token, id] : m["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= (1 << 30)) {
      return Bad(source, fmt::format("the id of '{}' is not a valid id", token));
    }
    const auto i = id.get<int32_t>();
    if (static_cast<size_t>(i) >= tokens->size()) tokens->resize(i + 1);
    (*tokens)[i] = token;
    (*vocab)[token] = i;
  }
  return absl::OkStatus();
}

absl::StatusOr<SubwordModel> ParseWordPiece(const nlohmann::json& m, const std::string& source,
                                            std::vector<std::string>* tokens) {
  WordPieceModel w;
  if (absl::Status s = ReadVocabMap(m, source, &w.vocab, tokens); !s.ok()) return s;
  if (m.contains("continuing_subword_prefix") && m["continuing_subword_prefix"].is_string()) {
    w.continuing_prefix = m["continuing_subword_prefix"];
  }
  if (m.contains("max_input_chars_per_word")) {
    const nlohmann::json& v = m["max_input_chars_per_word"];
    if (!v.is_number_unsigned() || v.get<uint64_t>() == 0 || v.get<uint64_t>() > (1u << 30)) {
      return Bad(source, "\"max_input_chars_per_word\" must be a positive integer");
    }
    w.max_input_chars_per_word = v.get<int>();
  }
  const std::string unk = m.contains("unk_token") && m["unk_token"].is_string()
                              ? m["unk_token"].get<std::string>() : "[UNK]";
  w.unk_id = Find(w.vocab, unk);
  if (w.unk_id < 0) return Bad(source, fmt::format("the unknown token '{}' is not in the vocabulary", unk));
  for (const auto& [token, id] : w.vocab) {
    w.max_token_chars = std::max(w.max_token_chars, static_cast<int>(CharStarts(token).size() - 1));
  }
  return w;
}

absl::StatusOr<SubwordModel> ParseBpe(const nlohmann::json& m, const std::string& source,
                                      std::vector<std::string>* tokens) {
  BpeModel b;
  if (absl::Status s = ReadVocabMap(m, source, &b.vocab, tokens); !s.ok()) return s;
  b.continuing_prefix = OptionalString(m, "continuing_subword_prefix");
  b.end_of_word_suffix = OptionalString(m, "end_of_word_suffix");
  b.fuse_unk = OptionalBool(m, "fuse_unk", false);
  b.byte_fallback = OptionalBool(m, "byte_fallback", false);
  b.ignore_merges = OptionalBool(m, "ignore_merges", false);
  if (m.contains("dropout") && !m["dropout"].is_null()) {
    // Dropout samples segmentations: not a deterministic embedding input.
    if (!m["dropout"].is_number() || m["dropout"].get<double>() != 0.0) {
      return absl::UnimplementedError(fmt::format("{}: BPE dropout is not supported", source));
    }
  }
  const std::string unk = OptionalString(m, "unk_token");
  if (!unk.empty()) {
    b.unk_id = Find(b.vocab, unk);
    if (b.unk_id < 0) return Bad(source, fmt::format("the unknown token '{}' is not in the vocabulary", unk));
  }
  if (!m.contains("merges") || !m["merges"].is_array()) return Bad(source, "\"merges\" must be a list");
  int32_t rank = 0;
  for (const nlohmann::json& merge : m["merges"]) {
    std::string left, right;
    if (merge.is_string()) {  // "left right", the older format
      const std::string s = merge;
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        return Bad(source, fmt::format("merge {} is not two tokens", rank));
      }
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      left = merge[0];
      right = merge[1];
    } else {
      return Bad(source, fmt::format("merge {} is not two tokens", rank));
    }
    const int32_t a = Find(b.vocab, left), c = Find(b.vocab, right);
    std::string merged = left;
    merged.append(right, std::min(right.size(), b.continuing_prefix.size()));
    const int32_t id = Find(b.vocab, merged);
    if (a < 0 || c < 0 || id < 0) {
      return Bad(source, fmt::format("merge {} ('{}' '{}') has a token not in the vocabulary", rank,
                                     left, right));
    }
    const uint64_t key = static_cast<uint64_t>(a) << 32 | static_cast<uint32_t>(c);
    b.merges.try_emplace(key, rank, id);  // the first rank of a repeated pair wins
    ++rank;
  }
  return b;
}

absl::StatusOr<SubwordModel> ParseUnigram(const nlohmann::json& m, const std::string& source,
                                          std::vector<std::string>* tokens) {
  UnigramModel u;
  if (!m.contains("vocab") || !m["vocab"].is_array() || m["vocab"].empty()) {
    return Bad(source, "\"vocab\" must be a non-empty list of [piece, score]");
  }
  double min_score = std::numeric_limits<double>::infinity();
  for (const nlohmann::json& entry : m["vocab"]) {
    if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string() || !entry[1].is_number()) {
      return Bad(source, fmt::format("vocab entry {} is not [piece, score]", tokens->size()));
    }
    const std::string piece = entry[0];
    const double score = entry[1];
    const auto id = static_cast<int32_t>(tokens->size());
    tokens->push_back(piece);
    u.scores.push_back(score);
    u.vocab.try_emplace(piece, id);
    u.max_piece_chars = std::max(u.max_piece_chars, static_cast<int>(CharStarts(piece).size() - 1));
    min_score = std::min(min_score, score);
  }
  u.unk_score = min_score - 10.0;
  if (m.contains("unk_id") && !m["unk_id"].is_null()) {
    if (!m["unk_id"].is_number_unsigned() || m["unk_id"].get<uint64_t>() >= tokens->size()) {
      return Bad(source, "\"unk_id\" must be an id of the vocabulary");
    }
    u.unk_id = m["unk_id"].get<int32_t>();
  }
  u.byte_fallback = OptionalBool(m, "byte_fallback", false);
  return u;
}

// The span [begin, end) of `word`'s bytes.
TokenOffsets Span(size_t begin, size_t end) {
  return {static_cast<int32_t>(begin), static_cast<int32_t>(end)};
}

void WordPieceTokenize(const WordPieceModel& w, std::string_view word, std::vector<int32_t>* ids,
                       std::vector<TokenOffsets>* spans, int32_t* unknown) {
  const std::vector<size_t> starts = CharStarts(word);
  const size_t n = starts.size() - 1;
  if (n > static_cast<size_t>(w.max_input_chars_per_word)) {
    ids->push_back(w.unk_id);
    spans->push_back(Span(0, word.size()));
    ++*unknown;
    return;
  }
  const size_t first_piece = ids->size();
  std::string key;
  for (size_t start = 0; start < n;) {
    int32_t id = -1;
    size_t end = std::min(n, start + static_cast<size_t>(w.max_token_chars));
    for (; end > start; --end) {
      key.assign(start > 0 ? w.continuing_prefix : "");
      key.append(word.substr(starts[start], starts[end] - starts[start]));
      id = Find(w.vocab, key);
      if (id >= 0) break;
    }
    if (id < 0) {  // one unknown piece makes the whole word unknown
      ids->resize(first_piece);
      spans->resize(first_piece);
      ids->push_back(w.unk_id);
      spans->push_back(Span(0, word.size()));
      ++*unknown;
      return;
    }
    ids->push_back(id);
    spans->push_back(Span(starts[start], starts[end]));
    start = end;
  }
}

void BpeTokenize(const BpeModel& b, std::string_view word, std::vector<int32_t>* ids,
                 std::vector<TokenOffsets>* spans, int32_t* unknown) {
  if (b.ignore_merges) {
    if (int32_t id = Find(b.vocab, word); id >= 0) {
      ids->push_back(id);
      spans->push_back(Span(0, word.size()));
      return;
    }
  }
  // The symbols: one per character, then merged; each with its bytes.
  struct Symbol {
    int32_t id;
    TokenOffsets span;
  };
  std::vector<Symbol> symbols;
  const std::vector<size_t> starts = CharStarts(word);
  const size_t n = starts.size() - 1;
  bool pending_unk = false;  // the last symbol is an unknown token that may absorb the next
  std::string key;
  for (size_t k = 0; k < n; ++k) {
    const TokenOffsets here = Span(starts[k], starts[k + 1]);
    key.assign(k > 0 ? b.continuing_prefix : "");
    key.append(word.substr(starts[k], starts[k + 1] - starts[k]));
    if (k + 1 == n) key += b.end_of_word_suffix;
    if (int32_t id = Find(b.vocab, key); id >= 0) {
      symbols.push_back({id, here});
      pending_unk = false;
      continue;
    }
    if (b.byte_fallback) {
      const size_t before = symbols.size();
      for (size_t i = starts[k]; i < starts[k + 1]; ++i) {
        const int32_t id = Find(b.vocab, fmt::format("<0x{:02X}>", static_cast<unsigned char>(word[i])));
        if (id < 0) break;
        symbols.push_back({id, here});
      }
      if (symbols.size() - before == starts[k + 1] - starts[k]) {
        pending_unk = false;
        continue;
      }
      symbols.resize(before);
    }
    if (b.unk_id < 0) continue;  // the library drops what it cannot name
    if (b.fuse_unk && pending_unk) {
      symbols.back().span.end = here.end;
      continue;
    }
    symbols.push_back({b.unk_id, here});
    pending_unk = true;
  }
  // Merge the lowest-ranked adjacent pair, leftmost first, until none merges.
  for (;;) {
    int32_t best_rank = std::numeric_limits<int32_t>::max(), best_id = -1;
    size_t best_at = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      const uint64_t pair =
          static_cast<uint64_t>(symbols[i].id) << 32 | static_cast<uint32_t>(symbols[i + 1].id);
      auto it = b.merges.find(pair);
      if (it != b.merges.end() && it->second.first < best_rank) {
        best_rank = it->second.first;
        best_id = it->second.second;
        best_at = i;
      }
    }
    if (best_id < 0) break;
    symbols[best_at] = {best_id, {symbols[best_at].span.begin, symbols[best_at + 1].span.end}};
    symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best_at) + 1);
  }
  for (const Symbol& s : symbols) {
    ids->push_back(s.id);
    spans->push_back(s.span);
    *unknown += s.id == b.unk_id;
  }
}

void UnigramTokenize(const UnigramModel& u, std::string_view word, std::vector<int32_t>* ids,
                     std::vector<TokenOffsets>* out_spans, int32_t* unknown) {
  const std::vector<size_t> starts = CharStarts(word);
  const size_t n = starts.size() - 1;
  struct Node {
    double score = 0;
    int32_t id = -1;
    size_t start = 0;  // in characters
    bool set = false;
  };
  std::vector<Node> best(n + 1);
  best[0].set = true;
  for (size_t start = 0; start < n; ++start) {
    const double here = best[start].score;
    bool single = false;
    const size_t last = std::min(n, start + static_cast<size_t>(u.max_piece_chars));
    for (size_t end = start + 1; end <= last; ++end) {
      const int32_t id = Find(u.vocab, word.substr(starts[start], starts[end] - starts[start]));
      if (id < 0) continue;
      const double score = here + u.scores[id];
      Node& node = best[end];
      if (!node.set || score > node.score) node = {score, id, start, true};
      single = single || end == start + 1;
    }
    if (!single) {
      const double score = here + u.unk_score;
      Node& node = best[start + 1];
      if (!node.set || score > node.score) node = {score, u.unk_id, start, true};
    }
  }
  // Back from the end; runs of unknown characters become one token.
  std::vector<std::pair<size_t, size_t>> spans;  // [start, end) in characters
  std::vector<int32_t> path;
  for (size_t end = n; end > 0; end = best[end].start) {
    const Node& node = best[end];
    if (node.id == u.unk_id && !path.empty() && path.back() == u.unk_id) {
      spans.back().first = node.start;
    } else {
      path.push_back(node.id);
      spans.emplace_back(node.start, end);
    }
  }
  for (size_t k = path.size(); k-- > 0;) {
    const TokenOffsets span = Span(starts[spans[k].first], starts[spans[k].second]);
    if (path[k] == u.unk_id && u.byte_fallback) {
      std::vector<int32_t> bytes;
      for (size_t i = starts[spans[k].first]; i < starts[spans[k].second]; ++i) {
        const int32_t id = Find(u.vocab, fmt::format("<0x{:02X}>", static_cast<unsigned char>(word[i])));
        if (id < 0) break;
        bytes.push_back(id);
      }
      if (bytes.size() == starts[spans[k].second] - starts[spans[k].first]) {
        ids->insert(ids->end(), bytes.begin(), bytes.end());
        out_spans->insert(out_spans->end(), bytes.size(), span);  // each byte: the whole run
        continue;
      }
    }
    ids->push_back(path[k]);
    out_spans->push_back(span);
    *unknown += path[k] == u.unk_id;
  }
}

}  // namespace

absl::StatusOr<SubwordModel> ParseSubwordModel(const nlohmann::json& model,
                                               const std::string& source,
                                               std::vector<std::string>* tokens) {
  if (!model.is_object()) return Bad(source, "not an object");
  std::string type = OptionalString(model, "type");
  if (type.empty()) {  // files of old library versions name no type
    if (model.contains("merges")) type = "BPE";
    else if (model.contains("vocab") && model["vocab"].is_array()) type = "Unigram";
    else if (model.contains("continuing_subword_prefix")) type = "WordPiece";
  }
  if (type == "WordPiece") return ParseWordPiece(model, source, tokens);
  if (type == "BPE") return ParseBpe(model, source, tokens);
  if (type == "Unigram") return ParseUnigram(model, source, tokens);
  return absl::UnimplementedError(fmt::format(
      "{}: tokenizer model '{}' is not supported (WordPiece, BPE and Unigram are)", source, type));
}

const char* SubwordModelType(const SubwordModel& model) {
  switch (model.index()) {
    case 0: return "WordPiece";
    case 1: return "BPE";
    default: return "Unigram";
  }
}

void TokenizeWord(const SubwordModel& model, std::string_view word, std::vector<int32_t>* ids,
                  std::vector<TokenOffsets>* spans, int32_t* unknown) {
  if (word.empty()) return;
  if (const auto* w = std::get_if<WordPieceModel>(&model)) {
    WordPieceTokenize(*w, word, ids, spans, unknown);
  } else if (const auto* b = std::get_if<BpeModel>(&model)) {
    BpeTokenize(*b, word, ids, spans, unknown);
  } else {
    UnigramTokenize(std::get<UnigramModel>(model), word, ids, spans, unknown);
  }
}

}  // namespace semdb
