#include "embedders/python_unicode.h"

#include <algorithm>
#include <iterator>

namespace semdb::python_unicode {
namespace {

struct UnicodeOverride {
  char32_t first, last;
  utf8proc_category_t category;
  int combining_class;
  char32_t lower;  // 0: maps to itself
  int nfd_size;    // 0: decomposes to itself
  char32_t nfd[4];
};

struct CodePointRange {
  char32_t first, last;
};

#include "embedders/python_unicode_tables.inc"

// The entry of a table of sorted, disjoint ranges that holds c, or null.
template <typename T, size_t N>
const T* Find(const T (&table)[N], char32_t c) {
  const T* it = std::upper_bound(std::begin(table), std::end(table), c,
                                 [](char32_t v, const T& r) { return v < r.first; });
  if (it == std::begin(table)) return nullptr;
  --it;
  return c <= it->last ? it : nullptr;
}

constexpr char32_t kCapitalSigma = 0x3A3;
constexpr char32_t kSmallSigma = 0x3C3;
constexpr char32_t kFinalSigma = 0x3C2;
constexpr char32_t kCapitalDottedI = 0x130;
constexpr char32_t kCombiningDotAbove = 0x307;

bool IsCaseIgnorable(char32_t c) { return Find(kCaseIgnorable, c) != nullptr; }
bool IsCased(char32_t c) { return Find(kCasedNotIgnorable, c) != nullptr; }

// CPython's handle_capital_sigma: the sigma at word[i] is final when a cased
// character precedes it and none follows, case-ignorable ones skipped.
bool IsFinalSigma(std::u32string_view word, size_t i) {
  size_t j = i;
  while (j > 0 && IsCaseIgnorable(word[j - 1])) --j;
  if (j == 0 || !IsCased(word[j - 1])) return false;
  size_t k = i + 1;
  while (k < word.size() && IsCaseIgnorable(word[k])) ++k;
  return k == word.size() || !IsCased(word[k]);
}

int CombiningClass(char32_t c) {
  if (const UnicodeOverride* o = Find(kOverrides, c)) return o->combining_class;
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
}

}  // namespace

const char* UnicodeVersion() { return kPythonUnicodeVersion; }

utf8proc_category_t Category(char32_t c) {
  if (const UnicodeOverride* o = Find(kOverrides, c)) return o->category;
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

void AppendLower(std::u32string_view word, std::u32string* out, std::vector<uint32_t>* source) {
  for (size_t i = 0; i < word.size(); ++i) {
    const size_t before = out->size();
    const char32_t c = word[i];
    if (c == kCapitalSigma) {
      out->push_back(IsFinalSigma(word, i) ? kFinalSigma : kSmallSigma);
    } else if (c == kCapitalDottedI) {
      out->push_back(U'i');
      out->push_back(kCombiningDotAbove);
    } else if (const UnicodeOverride* o = Find(kOverrides, c)) {
      out->push_back(o->lower != 0 ? o->lower : c);
    } else {
      out->push_back(static_cast<char32_t>(
          utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
    }
    if (source != nullptr) source->resize(source->size() + out->size() - before, static_cast<uint32_t>(i));
  }
}

void AppendNfd(std::u32string_view text, std::u32string* out, std::vector<uint32_t>* source) {
  const size_t begin = out->size();
  const size_t source_begin = source != nullptr ? source->size() : 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    const size_t before = out->size();
    utf8proc_int32_t buf[8];
    int boundclass = 0;
    utf8proc_ssize_t n = 0;
    if (const UnicodeOverride* o = Find(kOverrides, c)) {
      if (o->nfd_size == 0) {
        out->push_back(c);
      } else {
        out->append(o->nfd, o->nfd + o->nfd_size);
      }
    } else if (n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 8,
                                           UTF8PROC_DECOMPOSE, &boundclass);
               n <= 0 || n > 8) {  // not a valid code point: keep it unchanged
      out->push_back(c);
    } else {
      for (utf8proc_ssize_t k = 0; k < n; ++k) out->push_back(static_cast<char32_t>(buf[k]));
    }
    if (source != nullptr) source->resize(source->size() + out->size() - before, static_cast<uint32_t>(i));
  }
  // Canonical ordering: within each run of non-starters, a stable sort by
  // combining class (the sources sorted along).
  std::vector<std::pair<char32_t, uint32_t>> run;
  for (size_t i = begin; i < out->size();) {
    if (CombiningClass((*out)[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    run.clear();
    for (; j < out->size() && CombiningClass((*out)[j]) != 0; ++j) {
      run.emplace_back((*out)[j], source != nullptr ? (*source)[source_begin + j - begin] : 0);
    }
    std::stable_sort(run.begin(), run.end(), [](const auto& a, const auto& b) {
      return CombiningClass(a.first) < CombiningClass(b.first);
    });
    for (size_t k = 0; k < run.size(); ++k) {
      (*out)[i + k] = run[k].first;
      if (source != nullptr) (*source)[source_begin + i + k - begin] = run[k].second;
    }
    i = j;
  }
}

}  // namespace semdb::python_unicode
