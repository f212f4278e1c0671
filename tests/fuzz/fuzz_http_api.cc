// The HTTP API's route handlers on a live database: the first byte picks a
// route, the rest is the request body. Any body gets a JSON response with a
// status, never a crash. (Collection creation is left out: its specs name
// files to load.)
#include "fuzz_util.h"
#include "shell/http_api.h"
#include "storage/bounded_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static semdb::HttpApi* api = [] {
    static auto db = semdb::Database::Open(semdb::fuzz::ScratchDir() + "/db");
    if (!db.ok()) std::abort();
    for (const char* spec : {"tfidf dim=8", "vectors dim=3"}) {
      std::string name = std::string(spec).substr(0, 5);
      if (!(*db)->CreateCollection(name, {.embedder = spec}).ok()) std::abort();
    }
    if (!(*db)->CreateCollection("chunks", {.embedder = "tfidf dim=8",
                                            .chunking = "chars size=40 overlap=10"})
             .ok()) {
      std::abort();
    }
    auto* a = new semdb::HttpApi(**db, semdb::ApiLimits{});
    (void)a->WriteDocuments("tfidf", {{"documents", {{{"id", "a"}, {"text", "fires near homes"}},
                                                     {{"id", "b"}, {"text", "markets fell"}}}}});
    return a;
  }();
  if (size == 0) return 0;
  // The server's parser: what it refuses gets 400 before any handler.
  const absl::StatusOr<nlohmann::json> parsed =
      semdb::ParseJson(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  if (!parsed.ok()) return 0;
  const nlohmann::json& body = *parsed;
  static const char* const kCollections[] = {"tfidf", "vecto", "chunks", "missing"};
  const std::string collection = kCollections[(data[0] >> 4) % 4];
  semdb::ApiResponse r;
  switch (data[0] % 5) {
    case 0: r = api->WriteDocuments(collection, body); break;
    case 1: r = api->Search(collection, body); break;
    case 2: r = api->DeleteDocuments(collection, body); break;
    case 3: r = api->GetDocument(collection, body.is_string() ? body.get<std::string>() : "a"); break;
    default: r = api->CollectionStats(collection); break;
  }
  if (r.status < 200 || r.status > 599 || !r.body.is_object()) std::abort();
  if (r.status >= 400 && !r.body.contains("error")) std::abort();
  (void)r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  return 0;
}
