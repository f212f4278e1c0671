// Models by name (embedders/model_hub.h): the Hugging Face cache layout, and
// downloads from a local stand-in for the Hub (tests/hub_server.py) serving
// tests/data/bert_tiny as test-org/bert-tiny: the happy path, a dropped
// connection, a bad checksum, offline mode, a gated model, cache hits with
// the server stopped, and a shell session searching with the model.
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "catch2/catch.hpp"
#include "embedders/model_hub.h"
#include "embedders/transformer_embedder.h"
#include "nlohmann/json.hpp"
#include "run_semdb.h"
#include "test_data.h"

namespace semdb {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::TestData;

constexpr char kRepo[] = "test-org/bert-tiny";
constexpr char kCacheFolder[] = "models--test-org--bert-tiny";

// tests/hub_server.py as a child process serving bert_tiny as kRepo, with
// the given switches; killed when the object dies. Its requests are logged
// to a file (requests()).
class HubServer {
 public:
  explicit HubServer(const std::vector<std::string>& switches = {}) {
    // The shell prints its pid, then becomes the server, which prints its
    // port.
    std::string command = "echo $$; exec /usr/bin/python3 '" SEMDB_SOURCE_DIR
                          "/tests/hub_server.py' --repo '" + std::string(kRepo) + "=" +
                          TestData("bert_tiny") + "' --log '" + log_ / "requests'";
    for (const std::string& s : switches) command += " '" + s + "'";
    out_ = popen(command.c_str(), "r");
    REQUIRE(out_ != nullptr);
    int port = 0;
    REQUIRE(fscanf(out_, "%d %d", &pid_, &port) == 2);
    endpoint_ = "http://127.0.0.1:" + std::to_string(port);
  }
  ~HubServer() { Stop(); }

  void Stop() {
    if (out_ != nullptr) {
      kill(pid_, SIGTERM);
      pclose(out_);
      out_ = nullptr;
    }
  }
  const std::string& endpoint() const { return endpoint_; }
  // The requests so far: "METHOD PATH RANGE" ("-" for no Range header).
  std::vector<std::string> requests() const {
    return fs::exists(log_ / "requests") ? testing::ReadLines(log_ / "requests")
                                         : std::vector<std::string>{};
  }

 private:
  TempDir log_;
  FILE* out_ = nullptr;
  pid_t pid_ = -1;
  std::string endpoint_;
};

HubOptions Options(const std::string& endpoint, const std::string& cache) {
  HubOptions o;
  o.endpoint = endpoint;
  o.cache_dir = cache;
  return o;
}

// An endpoint where nothing listens (a port just released).
std::string DeadEndpoint() {
  HubServer server;
  server.Stop();
  return server.endpoint();
}

// The files of bert_tiny, as paths relative to it.
std::vector<std::string> ModelFiles() {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(TestData("bert_tiny"))) {
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), TestData("bert_tiny")));
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST_CASE("a model by name is downloaded into the Hugging Face cache layout", "[hub]") {
  TempDir cache;
  HubServer server;
  std::vector<OperationProgress> calls;
  absl::StatusOr<ResolvedModel> m =
      ResolveModel(kRepo, "", Options(server.endpoint(), cache.path()),
                   [&calls](const OperationProgress& p) { calls.push_back(p); });
  REQUIRE(m.ok());
  REQUIRE(m->downloaded);
  REQUIRE(m->repo_id == kRepo);
  REQUIRE(m->commit.size() == 40);
  const fs::path repo = fs::path(cache.path()) / kCacheFolder;
  REQUIRE(m->folder == (repo / "snapshots" / m->commit).string());
  REQUIRE(ReadFile(repo / "refs" / "main") == m->commit);

  // Every file the encoder reads is a relative link into blobs/ with the
  // original's bytes; the blob of an LFS file is named by its sha256, of
  // another by its git blob id (sha1: 40 hex digits).
  int64_t bytes = 0;
  for (const std::string& file : ModelFiles()) {
    INFO(file);
    const fs::path link = fs::path(m->folder) / file;
    REQUIRE(fs::is_symlink(link));
    const std::string target = fs::read_symlink(link).string();
    const size_t depth = std::count(file.begin(), file.end(), '/');
    std::string ups;
    for (size_t i = 0; i < 2 + depth; ++i) ups += "../";
    REQUIRE(absl::StartsWith(target, ups + "blobs/"));
    REQUIRE(fs::path(target).filename().string().size() == (file == "model.safetensors" ? 64 : 40));
    REQUIRE(ReadFile(link.string()) == ReadFile(TestData("bert_tiny/" + file)));
    bytes += static_cast<int64_t>(fs::file_size(link));
  }
  // Nothing else: no leftover .incomplete files.
  int blobs = 0;
  for (const auto& e : fs::directory_iterator(repo / "blobs")) {
    REQUIRE(e.path().extension() != ".incomplete");
    ++blobs;
  }
  REQUIRE(blobs == static_cast<int>(ModelFiles().size()));

  // Progress in bytes, ending with one finished call at the total.
  REQUIRE(calls.size() >= 3);
  REQUIRE(calls.front().done == 0);
  REQUIRE(calls.front().operation == "download");
  REQUIRE(calls.front().collection == kRepo);
  REQUIRE(calls.back().finished);
  REQUIRE(calls.back().done == bytes);
  REQUIRE(calls.back().total == bytes);

  // Found again in the cache, with the server gone: no network.
  const size_t requests = server.requests().size();
  server.Stop();
  REQUIRE(requests == 1 + ModelFiles().size() + 1);  // listing, files, the LFS redirect's target
  absl::StatusOr<ResolvedModel> again =
      ResolveModel(kRepo, "", Options(DeadEndpoint(), cache.path()), nullptr);
  REQUIRE(again.ok());
  REQUIRE_FALSE(again->downloaded);
  REQUIRE(again->folder == m->folder);
  // By commit too.
  again = ResolveModel(kRepo, m->commit, Options(DeadEndpoint(), cache.path()), nullptr);
  REQUIRE(again.ok());
  REQUIRE(again->folder == m->folder);
}

TEST_CASE("a dropped connection is continued with a Range request", "[hub]") {
  const std::string lfs_prefix = "GET /cdn/";
  SECTION("within one resolution") {
    TempDir cache;
    HubServer server({"--drop-after", "100000", "--drop-times", "2"});
    absl::StatusOr<ResolvedModel> m =
        ResolveModel(kRepo, "", Options(server.endpoint(), cache.path()), nullptr);
    INFO(m.status());
    REQUIRE(m.ok());
    REQUIRE(ReadFile(m->folder + "/model.safetensors") ==
            ReadFile(TestData("bert_tiny/model.safetensors")));
    std::vector<std::string> ranges;
    for (const std::string& r : server.requests()) {
      if (absl::StartsWith(r, lfs_prefix)) ranges.push_back(r.substr(r.rfind(' ') + 1));
    }
    REQUIRE(ranges == std::vector<std::string>{"-", "bytes=100000-", "bytes=200000-"});
  }
  SECTION("by a later run, after this one gave up") {
    TempDir cache;
    {
      HubServer failing({"--drop-after", "1000", "--drop-times", "1000"});
      absl::StatusOr<ResolvedModel> m =
          ResolveModel(kRepo, "", Options(failing.endpoint(), cache.path()), nullptr);
      REQUIRE(absl::IsUnavailable(m.status()));
      REQUIRE(absl::StrContains(m.status().message(), "model.safetensors of test-org/bert-tiny"));
      REQUIRE(absl::StrContains(m.status().message(), "a next attempt continues them"));
    }
    // Five attempts of 1000 bytes each are kept.
    const fs::path blobs = fs::path(cache.path()) / kCacheFolder / "blobs";
    std::optional<fs::path> incomplete;
    for (const auto& e : fs::directory_iterator(blobs)) {
      if (e.path().extension() == ".incomplete") incomplete = e.path();
    }
    REQUIRE(incomplete.has_value());
    REQUIRE(fs::file_size(*incomplete) == 5000);
    REQUIRE_FALSE(fs::exists(fs::path(cache.path()) / kCacheFolder / "refs" / "main"));

    HubServer server;
    absl::StatusOr<ResolvedModel> m =
        ResolveModel(kRepo, "", Options(server.endpoint(), cache.path()), nullptr);
    REQUIRE(m.ok());
    REQUIRE(ReadFile(m->folder + "/model.safetensors") ==
            ReadFile(TestData("bert_tiny/model.safetensors")));
    REQUIRE_FALSE(fs::exists(*incomplete));
    int lfs_requests = 0;
    for (const std::string& r : server.requests()) {
      if (absl::StartsWith(r, lfs_prefix)) {
        REQUIRE(absl::EndsWith(r, " bytes=5000-"));
        ++lfs_requests;
      }
      // The files that came before model.safetensors, complete in the
      // cache, are not asked for again.
      REQUIRE_FALSE(absl::StrContains(r, m->commit + "/config.json "));
      REQUIRE_FALSE(absl::StrContains(r, m->commit + "/1_Pooling/config.json "));
    }
    REQUIRE(lfs_requests == 1);
  }
}

TEST_CASE("a bad checksum is an error and leaves no corrupt file in the cache", "[hub]") {
  TempDir cache;
  {
    HubServer bad({"--bad-checksum"});
    absl::StatusOr<ResolvedModel> m =
        ResolveModel(kRepo, "", Options(bad.endpoint(), cache.path()), nullptr);
    REQUIRE(absl::IsDataLoss(m.status()));
    INFO(m.status().message());
    REQUIRE(absl::StrContains(m.status().message(), "model.safetensors of test-org/bert-tiny"));
    REQUIRE(absl::StrContains(m.status().message(), "sha256"));
    REQUIRE(absl::StrContains(m.status().message(), "the download was deleted"));
  }
  const fs::path repo = fs::path(cache.path()) / kCacheFolder;
  for (const auto& e : fs::recursive_directory_iterator(repo)) {
    INFO(e.path());
    REQUIRE(e.path().filename() != "model.safetensors");
    REQUIRE(e.path().filename().string().size() != 64);
    REQUIRE(e.path().extension() != ".incomplete");
  }
  REQUIRE_FALSE(fs::exists(repo / "refs" / "main"));
  // Not cached: offline, the model is not found.
  HubOptions offline = Options(DeadEndpoint(), cache.path());
  offline.offline = true;
  REQUIRE(absl::IsFailedPrecondition(ResolveModel(kRepo, "", offline, nullptr).status()));

  // A good server then completes it (the small files come from the cache).
  HubServer good;
  absl::StatusOr<ResolvedModel> m =
      ResolveModel(kRepo, "", Options(good.endpoint(), cache.path()), nullptr);
  REQUIRE(m.ok());
  REQUIRE(ReadFile(m->folder + "/model.safetensors") ==
          ReadFile(TestData("bert_tiny/model.safetensors")));
}

TEST_CASE("HF_HUB_OFFLINE never touches the network", "[hub]") {
  TempDir cache;
  HubServer server;
  HubOptions o = Options(server.endpoint(), cache.path());
  o.offline = true;
  absl::StatusOr<ResolvedModel> m = ResolveModel(kRepo, "", o, nullptr);
  REQUIRE(absl::IsFailedPrecondition(m.status()));
  REQUIRE(m.status().message() ==
          "'test-org/bert-tiny' (revision main) is no local folder and not in the Hugging Face "
          "cache " + cache.path() + ", and HF_HUB_OFFLINE forbids downloading it");
  REQUIRE(server.requests().empty());

  o.offline = false;
  REQUIRE(ResolveModel(kRepo, "", o, nullptr).ok());
  const size_t online_requests = server.requests().size();
  o.offline = true;
  m = ResolveModel(kRepo, "", o, nullptr);
  REQUIRE(m.ok());
  REQUIRE_FALSE(m->downloaded);
  REQUIRE(server.requests().size() == online_requests);
}

TEST_CASE("a gated model needs a token sent as a Bearer token", "[hub]") {
  TempDir cache;
  HubServer server({"--token", "hf_secret"});
  HubOptions o = Options(server.endpoint(), cache.path());
  absl::StatusOr<ResolvedModel> m = ResolveModel(kRepo, "", o, nullptr);
  REQUIRE(absl::IsPermissionDenied(m.status()));
  REQUIRE(absl::StrContains(m.status().message(), "HTTP 401"));
  REQUIRE(absl::StrContains(m.status().message(), "gated or private: set HF_TOKEN"));

  o.token = "hf_wrong";
  m = ResolveModel(kRepo, "", o, nullptr);
  REQUIRE(absl::IsPermissionDenied(m.status()));
  REQUIRE(absl::StrContains(m.status().message(), "HTTP 403"));
  REQUIRE(absl::StrContains(m.status().message(), "the token (HF_TOKEN) has no access"));
  REQUIRE_FALSE(fs::exists(fs::path(cache.path()) / kCacheFolder));

  o.token = "hf_secret";
  m = ResolveModel(kRepo, "", o, nullptr);
  REQUIRE(m.ok());
  REQUIRE(ReadFile(m->folder + "/model.safetensors") ==
          ReadFile(TestData("bert_tiny/model.safetensors")));
}

TEST_CASE("names that are no folder and no model are clear errors", "[hub]") {
  TempDir cache;
  HubServer server;
  const HubOptions o = Options(server.endpoint(), cache.path());
  absl::StatusOr<ResolvedModel> m = ResolveModel("test-org/no-such-model", "", o, nullptr);
  REQUIRE(absl::IsNotFound(m.status()));
  REQUIRE(absl::StartsWith(m.status().message(),
                           "'test-org/no-such-model' is no local folder and no model on " +
                               server.endpoint()));
  m = ResolveModel(kRepo, "v9", o, nullptr);
  REQUIRE(absl::IsNotFound(m.status()));
  REQUIRE(absl::StrContains(m.status().message(), "revision 'v9' of test-org/bert-tiny"));
  m = ResolveModel("/no/such/folder", "", o, nullptr);
  REQUIRE(absl::IsNotFound(m.status()));
  REQUIRE(m.status().message() ==
          "model folder /no/such/folder does not exist (nor is it a Hugging Face model id, "
          "ORG/NAME)");
  REQUIRE(server.requests().size() == 2);

  m = ResolveModel(kRepo, "", Options(DeadEndpoint(), cache.path()), nullptr);
  REQUIRE(absl::IsUnavailable(m.status()));
  REQUIRE(absl::StrContains(m.status().message(), "the Hub cannot be reached"));
  // A local folder wins over any id and needs no network.
  m = ResolveModel(TestData("bert_tiny"), "", Options(DeadEndpoint(), cache.path()), nullptr);
  REQUIRE(m.ok());
  REQUIRE(m->folder == TestData("bert_tiny"));
  REQUIRE(m->commit.empty());
}

// Sets environment variables for its lifetime, restoring them after.
class ScopedEnv {
 public:
  explicit ScopedEnv(
      std::initializer_list<std::pair<std::string, std::optional<std::string>>> vars) {
    for (const auto& [name, value] : vars) {
      const char* old = std::getenv(name.c_str());
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
      Set(name, value);
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) Set(name, value);
  }

 private:
  static void Set(const std::string& name, const std::optional<std::string>& value) {
    if (value) {
      setenv(name.c_str(), value->c_str(), 1);
    } else {
      unsetenv(name.c_str());
    }
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST_CASE("the Hugging Face environment variables", "[hub]") {
  TempDir home;
  std::ofstream(home / "token") << "hf_from_file\n";
  {
    ScopedEnv env({{"HF_HOME", home.path()},
                   {"HF_HUB_CACHE", std::nullopt},
                   {"HF_TOKEN", std::nullopt},
                   {"HF_TOKEN_PATH", std::nullopt},
                   {"HF_ENDPOINT", "http://127.0.0.1:1/"},
                   {"HF_HUB_OFFLINE", "True"}});
    const HubOptions o = HubOptions::FromEnvironment();
    REQUIRE(o.cache_dir == home / "hub");
    REQUIRE(o.token == "hf_from_file");
    REQUIRE(o.endpoint == "http://127.0.0.1:1");
    REQUIRE(o.offline);
  }
  {
    ScopedEnv env({{"HF_HOME", std::nullopt},
                   {"XDG_CACHE_HOME", std::nullopt},
                   {"HOME", home.path()},
                   {"HF_HUB_CACHE", std::nullopt},
                   {"HF_TOKEN", "hf_env"},
                   {"HF_ENDPOINT", std::nullopt},
                   {"HF_HUB_OFFLINE", "0"}});
    const HubOptions o = HubOptions::FromEnvironment();
    REQUIRE(o.cache_dir == home / ".cache/huggingface/hub");
    REQUIRE(o.token == "hf_env");
    REQUIRE(o.endpoint == "https://huggingface.co");
    REQUIRE_FALSE(o.offline);
  }
  ScopedEnv env({{"HF_HUB_CACHE", home / "elsewhere"}});
  REQUIRE(HubOptions::FromEnvironment().cache_dir == home / "elsewhere");
}

std::vector<float> EmbedOne(const Embedder& e, std::string_view text) {
  std::vector<float> v(e.dimension());
  REQUIRE(e.Embed({text}, absl::MakeSpan(v), nullptr).ok());
  return v;
}

TEST_CASE("transformer model=ORG/NAME embeds as the folder does and is pinned to its commit",
          "[hub]") {
  TempDir cache;
  HubServer server;
  ScopedEnv env({{"HF_ENDPOINT", server.endpoint()},
                 {"HF_HUB_CACHE", cache.path()},
                 {"HF_TOKEN", std::nullopt},
                 {"HF_HUB_OFFLINE", std::nullopt}});
  auto by_name = TransformerEmbedder::Create(
      Spec::Parse("transformer model=test-org/bert-tiny threads=1").value());
  REQUIRE(by_name.ok());
  auto by_folder = TransformerEmbedder::Create(
      Spec::Parse("transformer path=" + TestData("bert_tiny") + " threads=1").value());
  REQUIRE(by_folder.ok());
  REQUIRE(EmbedOne(**by_name, "a forest fire near the town") ==
          EmbedOne(**by_folder, "a forest fire near the town"));
  const Spec spec = (*by_name)->spec();
  REQUIRE(spec.params.at("model") == kRepo);
  REQUIRE(spec.params.at("revision").size() == 40);
  REQUIRE((*by_name)->Describe()["model"] ==
          cache / kCacheFolder + "/snapshots/" + spec.params.at("revision"));

  // The recorded spec opens the same snapshot offline.
  server.Stop();
  ScopedEnv offline({{"HF_HUB_OFFLINE", "1"}});
  auto reopened = TransformerEmbedder::Create(spec);
  REQUIRE(reopened.ok());
  REQUIRE((*reopened)->spec() == spec);

  REQUIRE(absl::IsInvalidArgument(
      TransformerEmbedder::Create(
          Spec::Parse("transformer path=" + TestData("bert_tiny") + " revision=main").value())
          .status()));
  REQUIRE(TransformerEmbedder::Create(Spec::Parse("transformer").value()).status().message() ==
          "'transformer' needs model=<model folder or Hugging Face id>");
}

TEST_CASE("a shell session creates a collection by model name and searches it",
          "[hub][shell][binary]") {
  TempDir cache, dir;
  HubServer server;
  ScopedEnv env({{"HF_ENDPOINT", server.endpoint()},
                 {"HF_HUB_CACHE", cache.path()},
                 {"HF_TOKEN", std::nullopt},
                 {"HF_HUB_OFFLINE", std::nullopt}});
  testing::Run r = testing::RunSemdb(
      dir.path(), "db --json",
      "create docs --embedder transformer model=test-org/bert-tiny threads=1\n"
      "insert Bushfires burned forests near the town --id fire\n"
      "insert The central bank raised interest rates --id bank\n"
      "insert Firefighters fought the forest fire all night --id firefighters\n"
      "search The central bank raised interest rates --k 3 --hybrid 0\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> out = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  INFO(r.out);
  const nlohmann::json hits = nlohmann::json::parse(out.back());
  REQUIRE(hits.size() == 3);
  REQUIRE(hits[0]["id"] == "bank");
  REQUIRE(hits[0]["score"].get<double>() > 0.999);

  // Reopened with the Hub gone and HF_HUB_OFFLINE set: the cached snapshot.
  server.Stop();
  ScopedEnv offline({{"HF_HUB_OFFLINE", "1"}});
  testing::Run again = testing::RunSemdb(dir.path(), "db --json -c 'use docs' -c 'search The central bank raised interest rates --k 3 --hybrid 0'");
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  REQUIRE(nlohmann::json::parse(again.out) == hits);
}

// A repo with torch weights only (xlm_roberta_tiny with the checkpoint of
// tests/golden/make_torch_checkpoint.py) is downloaded and runs; where a
// folder has both, only model.safetensors is fetched.
TEST_CASE("pytorch_model.bin is downloaded only where there is no model.safetensors", "[hub]") {
  TempDir cache, repos;
  const fs::path bin_only = repos / "bin_only", both = repos / "both";
  for (const fs::path& p : {bin_only, both}) {
    fs::copy(TestData("xlm_roberta_tiny"), p, fs::copy_options::recursive);
    fs::copy_file(TestData("golden/xlm_roberta_tiny_pytorch_model.bin"), p / "pytorch_model.bin");
  }
  fs::remove(bin_only / "model.safetensors");
  HubServer server({"--repo", "test-org/bin-only=" + bin_only.string(), "--repo",
                    "test-org/both=" + both.string()});
  absl::StatusOr<ResolvedModel> m =
      ResolveModel("test-org/bin-only", "", Options(server.endpoint(), cache.path()), nullptr);
  INFO(m.status().ToString());
  REQUIRE(m.ok());
  CHECK(fs::exists(fs::path(m->folder) / "pytorch_model.bin"));
  absl::StatusOr<std::unique_ptr<TransformerEmbedder>> e =
      TransformerEmbedder::Create(Spec::Parse("transformer path=" + m->folder + " threads=1").value());
  INFO(e.status().ToString());
  CHECK(e.ok());
  m = ResolveModel("test-org/both", "", Options(server.endpoint(), cache.path()), nullptr);
  REQUIRE(m.ok());
  CHECK(fs::exists(fs::path(m->folder) / "model.safetensors"));
  CHECK_FALSE(fs::exists(fs::path(m->folder) / "pytorch_model.bin"));
  for (const std::string& r : server.requests()) CHECK_FALSE(absl::StrContains(r, "both/resolve/main/pytorch_model.bin"));
}

}  // namespace
}  // namespace semdb
