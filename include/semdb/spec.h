// A component specification: a kind followed by key=value parameters, written
// as one readable string, e.g. "tfidf dim=256 stop_words=english" or
// "hnsw m=32 ef_search=64". Embedder and index specs share this form so that
// the shell, the API and the stored collection configuration use one syntax.
//
// Header-only: every library layer (index, embedders, src) reads specs, and
// this sits below all of them.
#ifndef SEMDB_SPEC_H_
#define SEMDB_SPEC_H_

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace semdb {

struct Spec {
  std::string kind;
  std::map<std::string, std::string> params;

  // Parses "kind key=value key='quoted value' ...". Whitespace separates
  // parameters; a value may be single- or double-quoted to hold spaces.
  static absl::StatusOr<Spec> Parse(std::string_view text);

  // Canonical form: kind, then parameters sorted by key, values quoted when
  // needed. Parse(ToString()) yields an equal Spec.
  std::string ToString() const;

  bool operator==(const Spec&) const = default;
};

// Typed access to a Spec's parameters for the component that owns it. Every
// parameter must be consumed: Finish() reports unknown ones, so that a typo
// ("dimm=64") is an error rather than a silently ignored setting.
class SpecReader {
 public:
  explicit SpecReader(const Spec& spec) : spec_(spec) {}

  bool Has(const std::string& key) const { return spec_.params.count(key); }

  std::string GetString(const std::string& key, std::string default_value) {
    const std::string* v = Find(key);
    return v ? *v : std::move(default_value);
  }

  int64_t GetInt(const std::string& key, int64_t default_value, int64_t min,
                 int64_t max) {
    const std::string* v = Find(key);
    if (v == nullptr) return default_value;
    int64_t out;
    if (!absl::SimpleAtoi(*v, &out) || out < min || out > max) {
      Fail(key, *v, absl::StrCat("an integer in [", min, ", ", max, "]"));
      return default_value;
    }
    return out;
  }

  double GetDouble(const std::string& key, double default_value, double min,
                   double max) {
    const std::string* v = Find(key);
    if (v == nullptr) return default_value;
    double out;
    if (!absl::SimpleAtod(*v, &out) || !(out >= min && out <= max)) {
      Fail(key, *v, absl::StrCat("a number in [", min, ", ", max, "]"));
      return default_value;
    }
    return out;
  }

  bool GetBool(const std::string& key, bool default_value) {
    const std::string* v = Find(key);
    if (v == nullptr) return default_value;
    bool out;
    if (!absl::SimpleAtob(*v, &out)) {
      Fail(key, *v, "true or false");
      return default_value;
    }
    return out;
  }

  // The first error met by a getter, else unknown parameters, else OK.
  absl::Status Finish() const {
    if (!error_.ok()) return error_;
    for (const auto& [key, value] : spec_.params) {
      if (!used_.count(key)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unknown parameter '", key, "' for '", spec_.kind, "'"));
      }
    }
    return absl::OkStatus();
  }

 private:
  const std::string* Find(const std::string& key) {
    used_[key] = true;
    auto it = spec_.params.find(key);
    return it == spec_.params.end() ? nullptr : &it->second;
  }
  void Fail(const std::string& key, const std::string& value,
            std::string_view expected) {
    if (error_.ok()) {
      error_ = absl::InvalidArgumentError(
          absl::StrCat("parameter '", key, "' of '", spec_.kind, "' must be ",
                       std::string(expected), ", got '", value, "'"));
    }
  }

  const Spec& spec_;
  std::map<std::string, bool> used_;
  absl::Status error_;
};

inline absl::StatusOr<Spec> Spec::Parse(std::string_view text) {
  Spec spec;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  };
  // Reads a bare word ending at whitespace or '=' (when stop_at_eq), or a
  // quoted string.
  auto read_word = [&](bool stop_at_eq) -> absl::StatusOr<std::string> {
    std::string out;
    if (i < text.size() && (text[i] == '\'' || text[i] == '"')) {
      char quote = text[i++];
      while (i < text.size() && text[i] != quote) out += text[i++];
      if (i == text.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("unterminated quote in spec '", std::string(text), "'"));
      }
      ++i;
      return out;
    }
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' &&
           !(stop_at_eq && text[i] == '=')) {
      out += text[i++];
    }
    return out;
  };
  skip_space();
  absl::StatusOr<std::string> kind = read_word(false);
  if (!kind.ok()) return kind.status();
  if (kind->empty()) return absl::InvalidArgumentError("empty spec");
  spec.kind = *std::move(kind);
  for (skip_space(); i < text.size(); skip_space()) {
    absl::StatusOr<std::string> key = read_word(true);
    if (!key.ok()) return key.status();
    if (key->empty() || i >= text.size() || text[i] != '=') {
      return absl::InvalidArgumentError(
          absl::StrCat("expected key=value in spec '", std::string(text),
                       "' near '", std::string(text.substr(i)), "'"));
    }
    ++i;
    absl::StatusOr<std::string> value = read_word(false);
    if (!value.ok()) return value.status();
    if (!spec.params.emplace(*key, *value).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter '", *key, "' given twice in spec '",
                       std::string(text), "'"));
    }
  }
  return spec;
}

inline std::string Spec::ToString() const {
  std::string out = kind;
  for (const auto& [key, value] : params) {
    bool plain = !value.empty() &&
                 value.find_first_of(" \t'\"") == std::string::npos;
    char quote = value.find('\'') == std::string::npos ? '\'' : '"';
    absl::StrAppend(&out, " ", key, "=",
                    plain ? value : absl::StrCat(std::string(1, quote), value,
                                                 std::string(1, quote)));
  }
  return out;
}

}  // namespace semdb

#endif  // SEMDB_SPEC_H_
