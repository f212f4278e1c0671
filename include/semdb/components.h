// The component kinds a collection is made of, each with its one table of
// parameters (ComponentKind, include/semdb/spec.h): the embedder kinds (the
// first word of an embedder spec, "tfidf dim=256"), the index kinds
// ("hnsw m=32") and the chunking policies ("sentences max_chars=800"). The
// spec parsers read specs against these tables; `help create` prints them.
#ifndef SEMDB_COMPONENTS_H_
#define SEMDB_COMPONENTS_H_

#include <string>
#include <vector>

#include "semdb/spec.h"

namespace semdb {

// tfidf, glove, word2vec, fasttext, transformer, and vectors (caller-supplied
// vectors).
std::vector<ComponentKind> EmbedderKinds();
// flat, ivf, hnsw.
std::vector<ComponentKind> IndexKinds();
// none, chars, tokens, sentences, paragraphs.
std::vector<ComponentKind> ChunkingKinds();

// Help for one kind, as `help create` prints it: a usage line (the kind,
// each parameter with its default or choices, the summary), one line per
// parameter (accepted values, except for text, and help), then the kind's
// notes.
std::vector<std::string> KindHelp(const ComponentKind& kind);

}  // namespace semdb

#endif  // SEMDB_COMPONENTS_H_
