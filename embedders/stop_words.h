#ifndef SEMDB_EMBEDDERS_STOP_WORDS_H_
#define SEMDB_EMBEDDERS_STOP_WORDS_H_

#include <string_view>

namespace semdb {

// True for the words of scikit-learn's English stop-word list; `word` must
// already be lower-cased.
bool IsEnglishStopWord(std::string_view word);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_STOP_WORDS_H_
