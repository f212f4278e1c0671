// A component specification: a kind followed by key=value parameters, written
// as one readable string, e.g. "tfidf dim=256 stop_words=english" or
// "hnsw m=32 ef_search=64". Embedder, index and chunking specs share this form
// so that the shell, the API and the stored collection configuration use one
// syntax.
//
// Each kind has one table of its parameters (ComponentKind): name, type,
// default, range and help. SpecReader reads a spec against it, so that the
// parser accepts exactly the parameters `help create` lists, with the ranges
// it prints (include/semdb/components.h lists the kinds).
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
#include <utility>
#include <vector>

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

// One parameter of a component kind.
struct ParameterInfo {
  enum class Type { kInt, kNumber, kBool, kText, kChoice };
  std::string name;
  Type type = Type::kText;
  // As a spec would write it; empty when there is none (a required path),
  // or a phrase in angle brackets when it depends ("<size / 5>").
  std::string default_value;
  double min = 0, max = 0;           // kInt, kNumber: the accepted range
  std::vector<std::string> choices;  // kChoice: the accepted values
  std::string help;

  // What the parameter accepts, as help prints it: "1..4096",
  // "auto|true|false", "true|false", or "TEXT".
  std::string Accepted() const {
    switch (type) {
      case Type::kInt:
        return absl::StrCat(static_cast<int64_t>(min), "..", static_cast<int64_t>(max));
      case Type::kNumber: return absl::StrCat(min, "..", max);
      case Type::kBool: return "true|false";
      case Type::kChoice: return absl::StrJoin(choices, "|");
      case Type::kText: break;
    }
    return "TEXT";
  }
};

// A kind of component ("tfidf", "hnsw", "sentences") and its parameters.
struct ComponentKind {
  std::string name;     // the spec's first word
  std::string summary;  // one line
  std::vector<ParameterInfo> parameters;
  std::vector<std::string> notes;  // further help lines

  const ParameterInfo* Find(std::string_view parameter) const {
    for (const ParameterInfo& p : parameters) {
      if (p.name == parameter) return &p;
    }
    return nullptr;
  }
};

// Table entries. `default_value` is written as a spec would write it (a
// phrase in angle brackets when it depends on something); a choice's
// default is its first value.
inline ParameterInfo IntParameter(std::string name, std::string default_value, int64_t min,
                                  int64_t max, std::string help) {
  return {std::move(name), ParameterInfo::Type::kInt, std::move(default_value),
          static_cast<double>(min), static_cast<double>(max), {}, std::move(help)};
}
inline ParameterInfo NumberParameter(std::string name, std::string default_value, double min,
                                     double max, std::string help) {
  return {std::move(name), ParameterInfo::Type::kNumber, std::move(default_value),
          min, max, {}, std::move(help)};
}
inline ParameterInfo BoolParameter(std::string name, bool default_value, std::string help) {
  return {std::move(name), ParameterInfo::Type::kBool, default_value ? "true" : "false",
          0, 0, {}, std::move(help)};
}
inline ParameterInfo ChoiceParameter(std::string name, std::vector<std::string> choices,
                                     std::string help) {
  std::string first = choices.front();
  return {std::move(name), ParameterInfo::Type::kChoice, std::move(first),
          0, 0, std::move(choices), std::move(help)};
}
inline ParameterInfo TextParameter(std::string name, std::string default_value,
                                   std::string help) {
  return {std::move(name), ParameterInfo::Type::kText, std::move(default_value),
          0, 0, {}, std::move(help)};
}

// Typed access to a Spec's parameters, checked against its kind's table:
// ranges and choices come from the table, and reading a parameter the table
// does not list is an Internal error (a parser and its help cannot drift).
// Every parameter must be consumed: Finish() reports unknown ones, naming
// the accepted ones, so that a typo ("dimm=64") is an error rather than a
// silently ignored setting.
class SpecReader {
 public:
  // `spec` and `kind` outlive the reader; kind.name is the spec's kind.
  SpecReader(const Spec& spec, const ComponentKind& kind) : spec_(spec), kind_(kind) {}

  bool Has(const std::string& key) const { return spec_.params.count(key); }

  // kText and kChoice parameters (a value outside the choices is an error).
  std::string GetString(const std::string& key, std::string default_value) {
    const ParameterInfo* info = Info(key, ParameterInfo::Type::kText);
    const std::string* v = Find(key);
    if (v == nullptr || info == nullptr) return default_value;
    if (info->type == ParameterInfo::Type::kChoice) {
      bool known = false;
      for (const std::string& c : info->choices) known = known || c == *v;
      if (!known) {
        Fail(key, *v, absl::StrCat("one of ", absl::StrJoin(info->choices, ", ")));
        return default_value;
      }
    }
    return *v;
  }

  int64_t GetInt(const std::string& key, int64_t default_value) {
    const ParameterInfo* info = Info(key, ParameterInfo::Type::kInt);
    const std::string* v = Find(key);
    if (v == nullptr || info == nullptr) return default_value;
    int64_t out;
    if (!absl::SimpleAtoi(*v, &out) || out < info->min || out > info->max) {
      Fail(key, *v,
           absl::StrCat("an integer in [", static_cast<int64_t>(info->min), ", ",
                        static_cast<int64_t>(info->max), "]"));
      return default_value;
    }
    return out;
  }

  // With the table's default (Internal error when the table gives none).
  int64_t GetInt(const std::string& key) {
    const ParameterInfo* info = kind_.Find(key);
    int64_t default_value = 0;
    if (info != nullptr && !absl::SimpleAtoi(info->default_value, &default_value) &&
        error_.ok()) {
      error_ = absl::InternalError(absl::StrCat("parameter '", key, "' of '", kind_.name,
                                                "' has no default in its table"));
    }
    return GetInt(key, default_value);
  }

  double GetDouble(const std::string& key, double default_value) {
    const ParameterInfo* info = Info(key, ParameterInfo::Type::kNumber);
    const std::string* v = Find(key);
    if (v == nullptr || info == nullptr) return default_value;
    double out;
    if (!absl::SimpleAtod(*v, &out) || !(out >= info->min && out <= info->max)) {
      Fail(key, *v, absl::StrCat("a number in [", info->min, ", ", info->max, "]"));
      return default_value;
    }
    return out;
  }

  bool GetBool(const std::string& key, bool default_value) {
    const ParameterInfo* info = Info(key, ParameterInfo::Type::kBool);
    const std::string* v = Find(key);
    if (v == nullptr || info == nullptr) return default_value;
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
        std::vector<std::string> accepted;
        for (const ParameterInfo& p : kind_.parameters) accepted.push_back(p.name);
        return absl::InvalidArgumentError(absl::StrCat(
            "unknown parameter '", key, "' for '", spec_.kind, "' (accepted: ",
            accepted.empty() ? "none" : absl::StrJoin(accepted, ", "), ")"));
      }
    }
    return absl::OkStatus();
  }

 private:
  // The table's entry for `key`, or nullptr after recording an Internal
  // error when the table lacks it or gives it another type.
  const ParameterInfo* Info(const std::string& key, ParameterInfo::Type type) {
    const ParameterInfo* info = kind_.Find(key);
    const bool text = type == ParameterInfo::Type::kText;
    if (info != nullptr &&
        (info->type == type || (text && info->type == ParameterInfo::Type::kChoice))) {
      return info;
    }
    if (error_.ok()) {
      error_ = absl::InternalError(absl::StrCat(
          "parameter '", key, "' of '", kind_.name, "' is read but not in its table"));
    }
    return nullptr;
  }
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
  const ComponentKind& kind_;
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
