// semdb quickstart: open a database, add documents, ask by meaning.
//
//   quickstart DATABASE_DIR
//
// Run it twice: the second run finds the documents stored by the first.
#include <iostream>

#include "semdb/database.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: quickstart DATABASE_DIR\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<semdb::Database>> db = semdb::Database::Open(argv[1]);
  if (!db.ok()) {
    std::cerr << "cannot open: " << db.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<std::shared_ptr<semdb::Collection>> notes = (*db)->GetCollection("notes");
  if (!notes.ok()) {
    notes = (*db)->CreateCollection("notes", {.embedder = "tfidf dim=64", .index = "flat"});
    if (!notes.ok()) {
      std::cerr << notes.status().message() << "\n";
      return 1;
    }
    std::vector<semdb::Document> docs = {
        {.id = "volcano", .text = "Lava flows from the erupting volcano reached the coast.",
         .metadata = {{"topic", "geology"}}},
        {.id = "glacier", .text = "The glacier retreated two kilometres as the ice melted.",
         .metadata = {{"topic", "geology"}}},
        {.id = "market", .text = "Share prices fell as investors sold technology stocks.",
         .metadata = {{"topic", "finance"}}},
        {.id = "bank", .text = "The central bank raised interest rates to slow inflation.",
         .metadata = {{"topic", "finance"}}},
    };
    if (absl::Status s = (*notes)->InsertBatch(std::move(docs)).status(); !s.ok()) {
      std::cerr << s.message() << "\n";
      return 1;
    }
  }
  std::cout << (*notes)->Count() << " documents\n";
  absl::StatusOr<std::vector<semdb::Hit>> hits =
      (*notes)->Search("investors and stock prices", {.k = 2});
  if (!hits.ok()) {
    std::cerr << hits.status().message() << "\n";
    return 1;
  }
  for (const semdb::Hit& hit : *hits) {
    std::cout << hit.id << "\t" << hit.score << "\t" << hit.text << "\n";
  }
  return hits->empty() || (*hits)[0].id != "market";
}
