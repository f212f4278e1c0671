// folder_qa: semdb embedded in a program. Opens (or creates) a database,
// imports a folder of documents into a chunked collection, and answers
// questions from the command line with the passages that best match,
// citing the file and the byte range each passage comes from.
//
//   folder_qa DB_DIR FOLDER QUESTION...
//
// The folder is imported on the first run only (the collection "docs" is
// kept in DB_DIR); later runs answer at once.
#include <iostream>

#include "semdb/database.h"
#include "semdb/import.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: folder_qa DB_DIR FOLDER QUESTION...\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<semdb::Database>> db = semdb::Database::Open(argv[1]);
  if (!db.ok()) {
    std::cerr << "cannot open " << argv[1] << ": " << db.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<std::shared_ptr<semdb::Collection>> docs = (*db)->GetCollection("docs");
  if (!docs.ok()) {
    // Passages of whole sentences, up to 800 characters: enough context
    // for a prompt, small enough to be about one thing.
    docs = (*db)->CreateCollection("docs", {.chunking = "sentences max_chars=800"});
    if (!docs.ok()) {
      std::cerr << docs.status().message() << "\n";
      return 1;
    }
    absl::StatusOr<semdb::ImportReport> report = semdb::ImportPath(**docs, argv[2], {});
    if (!report.ok()) {
      std::cerr << "import failed: " << report.status().message() << "\n";
      return 1;
    }
    std::cout << "imported " << report->documents << " documents (" << (*docs)->Info().passages
              << " passages) from " << argv[2] << ", skipped " << report->skipped << "\n";
  }
  for (int q = 3; q < argc; ++q) {
    std::cout << "\nQ: " << argv[q] << "\n";
    absl::StatusOr<std::vector<semdb::Hit>> hits =
        (*docs)->Search(argv[q], {.k = 3, .one_per_parent = true});
    if (!hits.ok()) {
      std::cerr << "search failed: " << hits.status().message() << "\n";
      return 1;
    }
    int rank = 0;
    for (const semdb::Hit& hit : *hits) {
      std::cout << "[" << ++rank << "] " << hit.metadata.value("source", hit.id) << " bytes "
                << hit.passage->begin << "-" << hit.passage->end << " (passage "
                << hit.passage->index + 1 << " of " << hit.passage->count
                << ", score " << hit.score << ")\n    " << hit.text << "\n";
    }
  }
  return 0;
}
