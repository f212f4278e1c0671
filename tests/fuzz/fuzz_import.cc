// Importing a file of any content as JSON Lines, CSV and lines: malformed
// records are reported, never a crash.
#include "semdb/import.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::shared_ptr<semdb::Collection> collection = [] {
    static auto db = semdb::Database::Open(semdb::fuzz::ScratchDir() + "/db");
    if (!db.ok()) std::abort();
    auto c = (*db)->CreateCollection("c", {.embedder = "tfidf dim=8"});
    if (!c.ok()) std::abort();
    return *c;
  }();
  for (semdb::ImportFormat format : {semdb::ImportFormat::kJsonLines, semdb::ImportFormat::kCsv,
                                     semdb::ImportFormat::kLines}) {
    const std::string path = semdb::fuzz::WriteInput("input", data, size);
    semdb::ImportOptions options;
    options.format = format;
    options.upsert = true;
    absl::StatusOr<semdb::ImportReport> report = semdb::ImportPath(*collection, path, options);
    if (!report.ok()) std::abort();  // only storage failures may fail an import
  }
  return 0;
}
