// rag_prompt: the retrieval stage of a RAG pipeline. Given a question, it
// retrieves passages from the collection "docs" (made by folder_qa) and
// assembles a prompt for a language model: the question, then numbered
// passages with their source and byte offsets, within a token budget. The
// prompt goes to standard output; calling the model is left to the
// pipeline, at the marked hand-off (this program never invents an answer).
//
//   rag_prompt DB_DIR QUESTION [BUDGET]
//
// BUDGET is in tokens, counted as whitespace-separated words (default
// 600): a rough, model-independent stand-in; real tokenizers count more
// tokens than words, so leave headroom in the model's context.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "semdb/database.h"

namespace {

int CountWords(const std::string& text) {
  std::istringstream in(text);
  int n = 0;
  for (std::string word; in >> word;) ++n;
  return n;
}

// The first `words` words of `text`.
std::string FirstWords(const std::string& text, int words) {
  std::istringstream in(text);
  std::string out, word;
  for (int i = 0; i < words && in >> word; ++i) out += (i ? " " : "") + word;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::cerr << "usage: rag_prompt DB_DIR QUESTION [BUDGET]\n";
    return 2;
  }
  const std::string question = argv[2];
  const int budget = argc == 4 ? std::atoi(argv[3]) : 600;
  if (budget < 50) {
    std::cerr << "the budget must be at least 50 tokens\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<semdb::Database>> db = semdb::Database::Open(argv[1]);
  if (!db.ok()) {
    std::cerr << "cannot open " << argv[1] << ": " << db.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<std::shared_ptr<semdb::Collection>> docs = (*db)->GetCollection("docs");
  if (!docs.ok()) {
    std::cerr << docs.status().message() << " (run folder_qa first)\n";
    return 1;
  }
  // The best passage of each of up to 8 documents, with one passage of
  // context on each side, joined into one stretch of the document.
  absl::StatusOr<std::vector<semdb::Hit>> hits =
      (*docs)->Search(question, {.k = 8, .one_per_parent = true, .neighbors = 1});
  if (!hits.ok()) {
    std::cerr << "search failed: " << hits.status().message() << "\n";
    return 1;
  }

  const std::string instructions =
      "Answer the question using only the numbered sources below. Cite them like [1]. "
      "If the sources do not contain the answer, say so.";
  std::ostringstream sources;
  int used = CountWords(instructions) + CountWords(question) + 4;  // + labels
  int cited = 0;
  for (const semdb::Hit& hit : *hits) {
    // The passage with its neighbours if that fits, else the passage alone,
    // else the passage cut to what is left ("…" counts as a word).
    std::string context = semdb::JoinedContext(hit);
    int64_t begin = hit.passage->begin, end = hit.passage->end;
    for (const semdb::Passage& n : hit.neighbors) {
      begin = std::min(begin, n.info.begin);
      end = std::max(end, n.info.end);
    }
    const std::string source = hit.metadata.value("source", hit.id);
    const int header_words = CountWords("[N] " + source + ", bytes B-E");
    const int left = budget - used - header_words;
    if (left <= 20) break;  // no room for a useful source
    if (CountWords(context) > left) {
      context = hit.text;
      begin = hit.passage->begin;
      end = hit.passage->end;
    }
    if (CountWords(context) > left) context = FirstWords(context, left - 1) + " …";
    sources << "[" << cited + 1 << "] " << source << ", bytes " << begin << "-" << end << "\n"
            << context << "\n\n";
    used += header_words + CountWords(context);
    ++cited;
  }

  std::cout << instructions << "\n\nQuestion: " << question << "\n\nSources:\n\n"
            << sources.str() << "Answer:\n";
  std::cerr << "prompt: " << used << " of " << budget << " tokens (words), " << cited
            << " sources\n";
  // ===== LLM HAND-OFF =====================================================
  // This is where a pipeline sends the prompt above to its language model
  // and shows the model's answer. This example calls no model: the prompt
  // on standard output is its whole result.
  // =========================================================================
  std::cerr << "LLM hand-off: send the prompt on standard output to a language model "
               "(not done here)\n";
  return cited > 0 ? 0 : 1;
}
