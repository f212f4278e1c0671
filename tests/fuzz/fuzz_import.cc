// Importing a file of any content as JSON Lines, CSV and lines: malformed
// records are reported, never a crash. Each input gets a fresh collection,
// so that runs stay independent and fast.
#include "semdb/import.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<semdb::Database> db = [] {
    auto opened = semdb::Database::Open(semdb::fuzz::ScratchDir() + "/db");
    if (!opened.ok()) std::abort();
    return *std::move(opened);
  }();
  auto collection = db->CreateCollection("c", {.embedder = "tfidf dim=8"});
  if (!collection.ok()) std::abort();
  const std::string path = semdb::fuzz::WriteInput("input", data, size);
  for (semdb::ImportFormat format : {semdb::ImportFormat::kJsonLines, semdb::ImportFormat::kCsv,
                                     semdb::ImportFormat::kLines}) {
    semdb::ImportOptions options;
    options.format = format;
    options.upsert = true;
    absl::StatusOr<semdb::ImportReport> report = semdb::ImportPath(**collection, path, options);
    if (!report.ok()) std::abort();  // only storage failures may fail an import
  }
  if (!db->DropCollection("c").ok()) std::abort();
  return 0;
}
