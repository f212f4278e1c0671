// Why a text search found nothing, when the query's words are the reason:
// one message for every front end (the HTTP API's "note", the Python
// package's QueryWarning; the shell prints the same under an empty result).
#ifndef SEMDB_SHELL_EMPTY_RESULT_NOTE_H_
#define SEMDB_SHELL_EMPTY_RESULT_NOTE_H_

#include <string>
#include <string_view>

#include "semdb/database.h"

namespace semdb {

// For a text query whose search with `options` found no hit: "no word of
// the query is known to the model (stop words or unknown words): ..." when
// that is why (Collection::Explain's note, or why there was no plan), else
// "" (e.g. a filter that matched nothing). Runs the query's plan again.
std::string EmptyResultNote(const Collection& collection, std::string_view query,
                            const SearchOptions& options);

}  // namespace semdb

#endif  // SEMDB_SHELL_EMPTY_RESULT_NOTE_H_
