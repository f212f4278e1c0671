#include "semdb/filter.h"

#include <cctype>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "text/utf8.h"
#include "storage/bounded_json.h"

namespace semdb {
namespace {

// --- Lexer

struct Token {
  enum Kind { kEnd, kIdent, kString, kNumber, kOp, kLParen, kRParen, kComma };
  Kind kind = kEnd;
  std::string text;  // identifier / unescaped string / number / operator
  size_t pos = 0;    // byte offset in the input, for errors
  bool quoted_ident = false;  // `field name`
};

absl::Status ErrorAt(std::string_view input, size_t pos, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      "filter: ", std::string(what), " at position ", pos + 1, " in '",
      std::string(input), "'"));
}

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool IsIdentChar(char c) {
  return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '.' ||
         c == '-';
}

absl::StatusOr<std::vector<Token>> Lex(std::string_view in) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (true) {
    while (i < in.size() && std::isspace(static_cast<unsigned char>(in[i]))) ++i;
    Token t;
    t.pos = i;
    if (i == in.size()) {
      tokens.push_back(t);
      return tokens;
    }
    char c = in[i];
    if (c == '(' || c == ')' || c == ',') {
      t.kind = c == '(' ? Token::kLParen : c == ')' ? Token::kRParen : Token::kComma;
      t.text = std::string(1, c);
      ++i;
    } else if (c == '"' || c == '\'' || c == '`') {
      // "..." is a JSON string (so that ToString's JSON output reads back);
      // in '...' and `...` a backslash takes the next character literally.
      const char quote = c;
      const size_t open = i++;
      while (i < in.size() && in[i] != quote) {
        if (in[i] == '\\' && i + 1 < in.size()) ++i;
        t.text += in[i++];
      }
      if (i == in.size()) return ErrorAt(in, t.pos, "unterminated quote");
      ++i;
      if (quote == '"') {
        nlohmann::json decoded =
            ParseJsonOrDiscarded(in.substr(open, i - open));
        if (decoded.is_discarded() || !decoded.is_string()) {
          return ErrorAt(in, t.pos,
                         "invalid double-quoted string (JSON syntax: escapes such as "
                         "\\n, no raw control characters, UTF-8)");
        }
        t.text = decoded.get<std::string>();
      }
      t.kind = quote == '`' ? Token::kIdent : Token::kString;
      t.quoted_ident = quote == '`';
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               ((c == '-' || c == '+' || c == '.') && i + 1 < in.size() &&
                (std::isdigit(static_cast<unsigned char>(in[i + 1])) || in[i + 1] == '.'))) {
      size_t start = i++;
      while (i < in.size() && (std::isalnum(static_cast<unsigned char>(in[i])) ||
                               in[i] == '.' ||
                               ((in[i] == '-' || in[i] == '+') &&
                                (in[i - 1] == 'e' || in[i - 1] == 'E')))) {
        ++i;
      }
      t.kind = Token::kNumber;
      t.text = std::string(in.substr(start, i - start));
    } else if (IsIdentStart(c)) {
      size_t start = i;
      while (i < in.size() && IsIdentChar(in[i])) ++i;
      t.kind = Token::kIdent;
      t.text = std::string(in.substr(start, i - start));
    } else {
      static constexpr std::string_view kOps[] = {"==", "!=", "<>", "<=", ">=",
                                                  "=",  "<",  ">"};
      for (std::string_view op : kOps) {
        if (in.substr(i, op.size()) == op) {
          t.kind = Token::kOp;
          t.text = std::string(op);
          i += op.size();
          break;
        }
      }
      if (t.kind != Token::kOp) {
        return ErrorAt(in, i, absl::StrCat("unexpected character '", std::string(1, c), "'"));
      }
    }
    tokens.push_back(std::move(t));
  }
}

// --- Parser (recursive descent; precedence NOT > AND > OR)

class Parser {
 public:
  Parser(std::string_view input, std::vector<Token> tokens)
      : input_(input), tokens_(std::move(tokens)) {}

  absl::StatusOr<Filter> ParseAll() {
    absl::StatusOr<Filter> f = ParseOr();
    if (!f.ok()) return f;
    if (Peek().kind != Token::kEnd) return Error("unexpected '" + Peek().text + "'");
    return f;
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool IsKeyword(const Token& t, std::string_view word) const {
    return t.kind == Token::kIdent && !t.quoted_ident &&
           absl::AsciiStrToUpper(t.text) == word;
  }
  absl::Status Error(std::string_view what) const {
    return ErrorAt(input_, Peek().pos, Peek().kind == Token::kEnd && what.empty()
                                           ? "unexpected end"
                                           : what);
  }

  absl::StatusOr<Filter> ParseOr() {
    std::vector<Filter> parts;
    do {
      absl::StatusOr<Filter> f = ParseAnd();
      if (!f.ok()) return f;
      parts.push_back(*std::move(f));
    } while (IsKeyword(Peek(), "OR") && (Next(), true));
    return parts.size() == 1 ? std::move(parts[0]) : Filter::Or(std::move(parts));
  }

  absl::StatusOr<Filter> ParseAnd() {
    std::vector<Filter> parts;
    do {
      absl::StatusOr<Filter> f = ParseNot();
      if (!f.ok()) return f;
      parts.push_back(*std::move(f));
    } while (IsKeyword(Peek(), "AND") && (Next(), true));
    return parts.size() == 1 ? std::move(parts[0]) : Filter::And(std::move(parts));
  }

  absl::StatusOr<Filter> ParseNot() {
    // Parsing, evaluating and printing recurse: bound the nesting.
    if (++depth_ > kMaxDepth) return Error("filter nested too deeply");
    absl::StatusOr<Filter> f = ParseNotUnbounded();
    --depth_;
    return f;
  }

  absl::StatusOr<Filter> ParseNotUnbounded() {
    if (IsKeyword(Peek(), "NOT")) {
      Next();
      absl::StatusOr<Filter> f = ParseNot();
      if (!f.ok()) return f;
      return Filter::Not(*std::move(f));
    }
    return ParsePrimary();
  }

  absl::StatusOr<Filter> ParsePrimary() {
    if (Peek().kind == Token::kLParen) {
      Next();
      absl::StatusOr<Filter> f = ParseOr();
      if (!f.ok()) return f;
      if (Peek().kind != Token::kRParen) return Error("expected ')'");
      Next();
      return f;
    }
    if (Peek().kind != Token::kIdent || IsReserved(Peek())) {
      return Error(Peek().kind == Token::kEnd ? "expected a field name, got the end"
                                              : "expected a field name");
    }
    std::string field = Next().text;
    if (IsKeyword(Peek(), "EXISTS")) {
      Next();
      return Filter::Exists(std::move(field));
    }
    bool negated_in = false;
    if (IsKeyword(Peek(), "NOT")) {
      Next();
      if (!IsKeyword(Peek(), "IN")) return Error("expected IN after NOT");
      negated_in = true;
    }
    if (IsKeyword(Peek(), "IN")) {
      Next();
      if (Peek().kind != Token::kLParen) return Error("expected '(' after IN");
      Next();
      std::vector<nlohmann::json> values;
      while (true) {
        absl::StatusOr<nlohmann::json> v = ParseValue();
        if (!v.ok()) return v.status();
        values.push_back(*std::move(v));
        if (Peek().kind == Token::kComma) {
          Next();
          continue;
        }
        if (Peek().kind != Token::kRParen) return Error("expected ',' or ')'");
        Next();
        break;
      }
      Filter in = Filter::In(std::move(field), std::move(values));
      return negated_in ? Filter::Not(std::move(in)) : in;
    }
    if (Peek().kind != Token::kOp) {
      return Error("expected an operator (=, !=, <, <=, >, >=, IN, EXISTS)");
    }
    std::string op = Next().text;
    absl::StatusOr<nlohmann::json> value = ParseValue();
    if (!value.ok()) return value.status();
    Filter::Op kind = op == "=" || op == "=="   ? Filter::Op::kEq
                      : op == "!=" || op == "<>" ? Filter::Op::kNe
                      : op == "<"                ? Filter::Op::kLt
                      : op == "<="               ? Filter::Op::kLe
                      : op == ">"                ? Filter::Op::kGt
                                                 : Filter::Op::kGe;
    return Filter::Compare(kind, std::move(field), *std::move(value));
  }

  bool IsReserved(const Token& t) const {
    for (std::string_view w : {"AND", "OR", "NOT", "IN", "EXISTS"}) {
      if (IsKeyword(t, w)) return true;
    }
    return false;
  }

  absl::StatusOr<nlohmann::json> ParseValue() {
    const Token& t = Peek();
    if (t.kind == Token::kString) {
      Next();
      return nlohmann::json(t.text);
    }
    if (t.kind == Token::kNumber) {
      nlohmann::json v = ParseJsonOrDiscarded(t.text);
      if (v.is_discarded() || !v.is_number()) {
        // JSON has no leading '+' or '.5'; accept them as C does.
        char* end = nullptr;
        double d = std::strtod(t.text.c_str(), &end);
        if (end != t.text.c_str() + t.text.size()) return Error("bad number '" + t.text + "'");
        v = d;
      }
      Next();
      return v;
    }
    if (IsKeyword(t, "TRUE") || IsKeyword(t, "FALSE")) {
      Next();
      return nlohmann::json(IsKeyword(t, "TRUE"));
    }
    if (IsKeyword(t, "NULL")) {
      Next();
      return nlohmann::json(nullptr);
    }
    return Error(t.kind == Token::kIdent
                     ? "expected a value; quote strings: '" + t.text + "'"
                     : "expected a value");
  }

  static constexpr int kMaxDepth = 64;

  std::string_view input_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// --- Evaluation

const nlohmann::json* Lookup(const nlohmann::json& doc, const std::string& field) {
  if (!doc.is_object()) return nullptr;
  auto it = doc.find(field);
  if (it != doc.end()) return &*it;
  // Dotted path into nested objects.
  if (field.find('.') == std::string::npos) return nullptr;
  const nlohmann::json* cur = &doc;
  for (absl::string_view part : absl::StrSplit(field, '.')) {
    if (!cur->is_object()) return nullptr;
    auto next = cur->find(std::string(part));
    if (next == cur->end()) return nullptr;
    cur = &*next;
  }
  return cur;
}

bool Equal(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

// Equality where an array field matches when any element does.
bool FieldEquals(const nlohmann::json& field, const nlohmann::json& value) {
  if (field.is_array() && !value.is_array()) {
    for (const nlohmann::json& e : field) {
      if (Equal(e, value)) return true;
    }
    return false;
  }
  return Equal(field, value);
}

bool Ordered(Filter::Op op, const nlohmann::json& a, const nlohmann::json& b) {
  int cmp;
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    cmp = x < y ? -1 : x > y ? 1 : 0;
  } else if (a.is_string() && b.is_string()) {
    cmp = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
  } else {
    return false;
  }
  switch (op) {
    case Filter::Op::kLt: return cmp < 0;
    case Filter::Op::kLe: return cmp <= 0;
    case Filter::Op::kGt: return cmp > 0;
    default: return cmp >= 0;
  }
}

std::string FieldText(const std::string& field) {
  bool plain = !field.empty() && IsIdentStart(field[0]);
  for (char c : field) plain = plain && IsIdentChar(c);
  for (std::string_view w : {"AND", "OR", "NOT", "IN", "EXISTS", "TRUE", "FALSE", "NULL"}) {
    if (absl::AsciiStrToUpper(field) == w) plain = false;
  }
  if (plain) return field;
  std::string quoted = "`";
  for (char c : field) {
    if (c == '`' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "`";
}

// JSON text of a value; invalid UTF-8 in a string built by a program (Parse
// refuses it) prints as U+FFFD rather than throwing.
std::string ValueText(const nlohmann::json& v) {
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Filter Filter::Compare(Op op, std::string field, nlohmann::json value) {
  Filter f;
  f.op = op;
  f.field = std::move(field);
  f.value = std::move(value);
  return f;
}

Filter Filter::In(std::string field, std::vector<nlohmann::json> values) {
  return Compare(Op::kIn, std::move(field), nlohmann::json(std::move(values)));
}

Filter Filter::Exists(std::string field) {
  return Compare(Op::kExists, std::move(field), nullptr);
}

Filter Filter::And(std::vector<Filter> children) {
  Filter f;
  f.op = Op::kAnd;
  f.children = std::move(children);
  return f;
}

Filter Filter::Or(std::vector<Filter> children) {
  Filter f = And(std::move(children));
  f.op = Op::kOr;
  return f;
}

Filter Filter::Not(Filter child) {
  Filter f;
  f.op = Op::kNot;
  f.children.push_back(std::move(child));
  return f;
}

absl::StatusOr<Filter> Filter::Parse(std::string_view text) {
  if (absl::Status s = ValidateUtf8(text); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("filter: ", s.message()));
  }
  absl::StatusOr<std::vector<Token>> tokens = Lex(text);
  if (!tokens.ok()) return tokens.status();
  if (tokens->size() == 1) return absl::InvalidArgumentError("filter: empty filter");
  return Parser(text, *std::move(tokens)).ParseAll();
}

bool Filter::Matches(const nlohmann::json& metadata) const {
  switch (op) {
    case Op::kAnd:
      for (const Filter& c : children) {
        if (!c.Matches(metadata)) return false;
      }
      return true;
    case Op::kOr:
      for (const Filter& c : children) {
        if (c.Matches(metadata)) return true;
      }
      return false;
    case Op::kNot:
      return !children.front().Matches(metadata);
    default:
      break;
  }
  const nlohmann::json* v = Lookup(metadata, field);
  if (v == nullptr) return false;
  switch (op) {
    case Op::kExists:
      return true;
    case Op::kEq:
      return FieldEquals(*v, value);
    case Op::kNe:
      return !FieldEquals(*v, value);
    case Op::kIn:
      for (const nlohmann::json& candidate : value) {
        if (FieldEquals(*v, candidate)) return true;
      }
      return false;
    default:
      return Ordered(op, *v, value);
  }
}

std::string Filter::ToString() const {
  auto joined = [&](std::string_view sep) {
    std::vector<std::string> parts;
    for (const Filter& c : children) {
      bool wrap = c.op == Op::kOr || (c.op == Op::kAnd && op != Op::kAnd);
      parts.push_back(wrap ? "(" + c.ToString() + ")" : c.ToString());
    }
    return absl::StrJoin(parts, std::string(sep));
  };
  switch (op) {
    case Op::kAnd: return joined(" AND ");
    case Op::kOr: return joined(" OR ");
    case Op::kNot: {
      const Filter& c = children.front();
      bool wrap = c.op == Op::kAnd || c.op == Op::kOr;
      return "NOT " + (wrap ? "(" + c.ToString() + ")" : c.ToString());
    }
    case Op::kExists: return FieldText(field) + " EXISTS";
    case Op::kIn: {
      std::vector<std::string> values;
      for (const nlohmann::json& v : value) values.push_back(ValueText(v));
      return FieldText(field) + " IN (" + absl::StrJoin(values, ", ") + ")";
    }
    default: break;
  }
  const char* sym = op == Op::kEq   ? " = "
                    : op == Op::kNe ? " != "
                    : op == Op::kLt ? " < "
                    : op == Op::kLe ? " <= "
                    : op == Op::kGt ? " > "
                                    : " >= ";
  return FieldText(field) + sym + ValueText(value);
}

}  // namespace semdb
