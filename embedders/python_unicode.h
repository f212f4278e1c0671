// Character properties as the Python that ran the reference BERT tokenizer
// sees them (unicodedata, Unicode 14.0): utf8proc's tables corrected by
// python_unicode_tables.inc where the two disagree, a table that
// make_python_unicode_tables.py generates from Python and utf8proc.
//
// Only what BERT's BasicTokenizer asks for is here: general category,
// str.lower() (full case mapping with the Final_Sigma rule), and NFD.
#ifndef SEMDB_EMBEDDERS_PYTHON_UNICODE_H_
#define SEMDB_EMBEDDERS_PYTHON_UNICODE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "utf8proc.h"

namespace semdb::python_unicode {

// The Unicode version of the tables these functions follow.
const char* UnicodeVersion();

// unicodedata.category(c); UTF8PROC_CATEGORY_CN for unassigned code points.
utf8proc_category_t Category(char32_t c);

// Appends word.lower() to *out, as Python's str.lower(): full case mapping
// (U+0130 becomes "i\u0307") and capital sigma becoming final sigma by the
// Final_Sigma context within `word`. With `source`, appends for each
// character appended the index in `word` of the character it comes from.
void AppendLower(std::u32string_view word, std::u32string* out,
                 std::vector<uint32_t>* source = nullptr);

// Appends unicodedata.normalize("NFD", text) to *out: full canonical
// decomposition (Hangul included), then canonical ordering of marks. With
// `source`, as AppendLower (reordered marks keep theirs).
void AppendNfd(std::u32string_view text, std::u32string* out,
               std::vector<uint32_t>* source = nullptr);

}  // namespace semdb::python_unicode

#endif  // SEMDB_EMBEDDERS_PYTHON_UNICODE_H_
