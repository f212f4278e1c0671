#include "embedders/model_hub.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "embedders/hub_client.h"
#include "nlohmann/json.hpp"

namespace semdb {
namespace {

namespace fs = std::filesystem;

// A transfer that fails after receiving bytes is continued this many times
// in one resolution; what it received stays for a later run.
constexpr int kMaxAttempts = 5;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// Filesystem queries that never throw: a path that cannot be examined
// (permissions) counts as absent, and a later open or write reports it.
bool Exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}
bool IsDirectory(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}
uintmax_t SizeOrZero(const fs::path& p) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(p, ec);
  return ec ? 0 : size;
}

bool IsHex(std::string_view s, size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

bool IsCommit(std::string_view s) { return IsHex(s, 40); }

// A Hub model id: NAME or ORG/NAME, each of letters, digits, '-', '_', '.',
// neither starting nor ending with '-' or '.', without "--" or ".." (the
// Hub's rules; "--" would also make the cache folder's name ambiguous).
bool IsRepoId(const std::string& id) {
  const std::vector<std::string> parts = absl::StrSplit(id, '/');
  if (parts.size() > 2 || id.size() > 96 || absl::StrContains(id, "--") ||
      absl::StrContains(id, "..")) {
    return false;
  }
  for (const std::string& p : parts) {
    if (p.empty() || p.front() == '-' || p.front() == '.' || p.back() == '-' || p.back() == '.') {
      return false;
    }
    for (char c : p) {
      if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return false;
    }
  }
  return true;
}

std::string RepoFolderName(const std::string& id) {
  return "models--" + absl::StrReplaceAll(id, {{"/", "--"}});
}

std::string ReadTrimmed(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  absl::StripAsciiWhitespace(&s);
  return s;
}

// What the encoder loads: complete when it has a config and weights.
bool HasModelFiles(const fs::path& folder) {
  return Exists(folder / "config.json") &&
         (Exists(folder / "model.safetensors") || Exists(folder / "pytorch_model.bin"));
}

// The snapshot folder of `revision` (a commit, or a branch/tag recorded in
// refs/), when the cache has one.
struct Snapshot {
  fs::path folder;
  std::string commit;
};
std::optional<Snapshot> FindSnapshot(const fs::path& repo_dir, const std::string& revision) {
  std::string commit = revision;
  if (!IsCommit(revision) || !IsDirectory(repo_dir / "snapshots" / revision)) {
    std::error_code ec;
    if (!fs::is_regular_file(repo_dir / "refs" / revision, ec)) return std::nullopt;
    commit = ReadTrimmed(repo_dir / "refs" / revision);
    if (!IsCommit(commit)) return std::nullopt;
  }
  const fs::path folder = repo_dir / "snapshots" / commit;
  if (!IsDirectory(folder)) return std::nullopt;
  return Snapshot{folder, commit};
}

// Whether the encoder reads `file` (a path in the repo): the configs and
// tokenizer files at the top and in sentence-transformers module folders
// (1_Pooling/, 2_Dense/...), and their model.safetensors or
// pytorch_model.bin (Download keeps the latter only where the former is
// missing). Not README, ONNX/OpenVINO/TF/Flax copies or other folders. The listing's paths become paths in the cache: these rules
// also keep out any that could leave the snapshot folder ("..", "/x").
bool EncoderReads(const std::string& file) {
  const std::vector<std::string> parts = absl::StrSplit(file, '/');
  if (parts.size() > 2) return false;
  if (parts.size() == 2) {
    const std::string& dir = parts[0];
    const size_t underscore = dir.find('_');
    if (underscore == 0 || underscore == std::string::npos ||
        !std::all_of(dir.begin(), dir.begin() + underscore, absl::ascii_isdigit)) {
      return false;
    }
  }
  const std::string& name = parts.back();
  return name == "model.safetensors" || name == "pytorch_model.bin" || absl::EndsWith(name, ".json") ||
         absl::EndsWith(name, ".txt") || absl::EndsWith(name, ".model");
}

// One file of the Hub's listing.
struct RepoFile {
  std::string path;
  int64_t size = 0;
  std::string etag;  // the blob's name: an LFS file's sha256, else its git blob id
  bool lfs = false;
};

// Calls the caller's progress every 1% of the bytes, and at the end.
class ByteProgress {
 public:
  ByteProgress(const DownloadProgress& callback, const std::string& id, int64_t total)
      : callback_(callback), progress_{id, "download", 0, total} {
    if (callback_) callback_(progress_);
  }
  ~ByteProgress() {
    progress_.finished = true;
    if (callback_) callback_(progress_);
  }
  void Advance(int64_t n) {
    progress_.done += n;
    if (callback_ && progress_.done - reported_ >= std::max<int64_t>(1, progress_.total / 100)) {
      reported_ = progress_.done;
      callback_(progress_);
    }
  }

 private:
  const DownloadProgress& callback_;
  OperationProgress progress_;
  int64_t reported_ = 0;
};

// An exclusive flock() on `path` (created if needed) for its lifetime: the
// lock huggingface_hub's filelock takes on the same file.
class FileLock {
 public:
  static absl::StatusOr<std::unique_ptr<FileLock>> Acquire(const fs::path& path) {
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
      if (fd >= 0) close(fd);
      return absl::PermissionDeniedError(
          absl::StrCat("cannot lock ", path.string(), ": ", std::strerror(errno)));
    }
    return std::unique_ptr<FileLock>(new FileLock(fd));
  }
  ~FileLock() { close(fd_); }  // releases the lock

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

// The hex digest of the file: sha256 of its bytes (an LFS file), or its git
// blob id, sha1 of "blob SIZE\0" and its bytes.
absl::StatusOr<std::string> FileDigest(const fs::path& file, bool lfs) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", file.string()));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), lfs ? EVP_sha256() : EVP_sha1(), nullptr);
  if (!lfs) {
    const std::string header = absl::StrCat("blob ", SizeOrZero(file), std::string(1, '\0'));
    EVP_DigestUpdate(ctx.get(), header.data(), header.size());
  }
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) absl::StrAppend(&hex, absl::Hex(digest[i], absl::kZeroPad2));
  return hex;
}

// The Hub's error text: its JSON "error", else the body's start.
std::string HubMessage(const HttpResponse& r) {
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"];
  return r.body.substr(0, 200);
}

// A status for an HTTP error answer to a request about `id`.
absl::Status HttpError(const HttpResponse& r, const std::string& id, const std::string& what,
                       const HubOptions& options) {
  const std::string code = r.headers.count("x-error-code") ? r.headers.at("x-error-code") : "";
  if (r.status == 401 || r.status == 403) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the Hugging Face Hub refused ", what, " (HTTP ", r.status, ": ", HubMessage(r), "): ",
        options.token.empty()
            ? "the model is gated or private: set HF_TOKEN to a token of an account that "
              "has access (and has accepted the model's conditions on its page)"
            : "the token (HF_TOKEN) has no access to it: accept the model's conditions on its "
              "page, or use a token of an account that has access"));
  }
  if (r.status == 404) {
    if (code == "RevisionNotFound" || code == "EntryNotFound") {
      return absl::NotFoundError(
          absl::StrCat("the Hugging Face Hub has no ", what, ": ", HubMessage(r)));
    }
    return absl::NotFoundError(absl::StrCat("'", id, "' is no local folder and no model on ",
                                            options.endpoint, " (", HubMessage(r), ")"));
  }
  return absl::UnavailableError(absl::StrCat("the Hugging Face Hub answered HTTP ", r.status,
                                             " for ", what, ": ", HubMessage(r)));
}

std::string ResolvePath(const std::string& id, const std::string& commit,
                        const std::string& file) {
  std::vector<std::string> segments;
  for (const std::string& s : std::vector<std::string>(absl::StrSplit(file, '/'))) {
    segments.push_back(EscapeUrlSegment(s));
  }
  return absl::StrCat("/", id, "/resolve/", commit, "/", absl::StrJoin(segments, "/"));
}

// Makes snapshots/COMMIT/FILE of `repo_dir` link to its blob, downloading
// the blob when the cache lacks it.
absl::Status FetchFile(const HubClient& client, const std::string& id, const HubOptions& options,
                       const fs::path& repo_dir, const std::string& commit, const RepoFile& f,
                       ByteProgress* progress) {
  const fs::path link = repo_dir / "snapshots" / commit / f.path;
  if (Exists(link)) {
    progress->Advance(f.size);
    return absl::OkStatus();
  }
  const fs::path blob = repo_dir / "blobs" / f.etag;
  const fs::path locks = repo_dir.parent_path() / ".locks" / repo_dir.filename();
  std::error_code ec;
  for (const fs::path& dir : {blob.parent_path(), link.parent_path(), locks}) {
    fs::create_directories(dir, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
    }
  }
  absl::StatusOr<std::unique_ptr<FileLock>> lock = FileLock::Acquire(locks / (f.etag + ".lock"));
  if (!lock.ok()) return lock.status();
  if (!Exists(blob)) {
    const fs::path incomplete = blob.string() + ".incomplete";
    progress->Advance(static_cast<int64_t>(SizeOrZero(incomplete)));
    const std::string what = absl::StrCat(f.path, " of ", id);
    for (int attempt = 1;; ++attempt) {
      const uintmax_t before = SizeOrZero(incomplete);
      absl::StatusOr<HttpResponse> r = client.Download(
          ResolvePath(id, commit, f.path), incomplete.string(),
          [progress](int64_t n) { progress->Advance(n); });
      if (r.ok() && (r->status == 200 || r->status == 206 || r->status == 416)) break;
      if (r.ok()) return HttpError(*r, id, what, options);
      const bool received = SizeOrZero(incomplete) > before;
      if (!absl::IsUnavailable(r.status()) || !received || attempt == kMaxAttempts) {
        return absl::Status(r.status().code(),
                            absl::StrCat("downloading ", what, ": ", r.status().message(),
                                         " (the bytes received are kept in ", incomplete.string(),
                                         " and a next attempt continues them)"));
      }
    }
    absl::StatusOr<std::string> digest = FileDigest(incomplete, f.lfs);
    if (!digest.ok()) return digest.status();
    if (*digest != f.etag) {
      fs::remove(incomplete, ec);
      return absl::DataLossError(absl::StrCat(
          "downloading ", what, ": the file's ", f.lfs ? "sha256" : "git blob id", " is ",
          *digest, " but the Hub lists ", f.etag, "; the download was deleted (try again)"));
    }
    fs::rename(incomplete, blob, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot rename ", incomplete.string(), ": ", ec.message()));
    }
  }
  // snapshots/COMMIT/a/b -> ../../../blobs/ETAG (relative, as huggingface_hub
  // makes them, so that the cache can move).
  std::string target;
  for (size_t i = 0; i < 2 + static_cast<size_t>(std::count(f.path.begin(), f.path.end(), '/')); ++i) {
    target += "../";
  }
  fs::remove(link, ec);  // a dangling link to a deleted blob
  fs::create_symlink(target + "blobs/" + f.etag, link, ec);
  if (ec && !Exists(link)) {  // (another process may have just made it)
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create the link ", link.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

// Writes `commit` to refs/REVISION, through a temporary file and a rename.
absl::Status WriteRef(const fs::path& repo_dir, const std::string& revision,
                      const std::string& commit) {
  const fs::path ref = repo_dir / "refs" / revision;
  std::error_code ec;
  fs::create_directories(ref.parent_path(), ec);
  const fs::path tmp = ref.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << commit;
    if (!out.flush()) {
      return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp.string()));
    }
  }
  fs::rename(tmp, ref, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot write ", ref.string()));
  return absl::OkStatus();
}

absl::StatusOr<ResolvedModel> Download(const std::string& id, const std::string& revision,
                                       const HubOptions& options,
                                       const DownloadProgress& progress) {
  const HubClient client(options.endpoint, options.token);
  const std::string what = absl::StrCat("revision '", revision, "' of ", id);
  absl::StatusOr<HttpResponse> r =
      client.Get(absl::StrCat("/api/models/", id, "/revision/", EscapeUrlSegment(revision),
                              "?blobs=true"));
  if (!r.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "'", id, "' is no local folder and not in the Hugging Face cache ", options.cache_dir,
        ", and the Hub cannot be reached to download it (", r.status().message(),
        "): give a model folder, or download it where the Hub is reachable"));
  }
  if (r->status != 200) return HttpError(*r, id, what, options);
  const nlohmann::json listing = nlohmann::json::parse(r->body, nullptr, false);
  if (!listing.is_object() || !listing.contains("sha") || !listing["sha"].is_string() ||
      !IsCommit(listing["sha"].get<std::string>()) || !listing.contains("siblings") ||
      !listing["siblings"].is_array()) {
    return absl::UnavailableError(
        absl::StrCat("the Hugging Face Hub's file list of ", what, " is not what was expected"));
  }
  const std::string commit = listing["sha"];
  std::vector<RepoFile> files;
  int64_t total = 0;
  for (const nlohmann::json& s : listing["siblings"]) {
    const std::string path = s.value("rfilename", "");
    if (!EncoderReads(path)) continue;
    RepoFile f;
    f.path = path;
    if (s.contains("lfs") && s["lfs"].is_object()) {
      f.lfs = true;
      f.etag = s["lfs"].value("sha256", "");
      f.size = s["lfs"].value("size", int64_t{0});
    } else {
      f.etag = s.value("blobId", "");
      f.size = s.value("size", int64_t{0});
    }
    if (!IsHex(f.etag, f.lfs ? 64 : 40)) {
      return absl::UnavailableError(absl::StrCat("the Hugging Face Hub's file list of ", what,
                                                 " has no checksum for ", path));
    }
    files.push_back(std::move(f));
  }
  auto listed = [&files](const std::string& path) {
    return std::any_of(files.begin(), files.end(), [&](const RepoFile& f) { return f.path == path; });
  };
  // pytorch_model.bin only where no model.safetensors holds the same weights.
  std::erase_if(files, [&](const RepoFile& f) {
    return absl::EndsWith(f.path, "pytorch_model.bin") &&
           listed(f.path.substr(0, f.path.size() - 17) + "model.safetensors");
  });
  for (const RepoFile& f : files) total += f.size;
  if (!listed("config.json") || (!listed("model.safetensors") && !listed("pytorch_model.bin"))) {
    return absl::NotFoundError(absl::StrCat(
        what, " has no ", listed("config.json") ? "model.safetensors nor pytorch_model.bin" : "config.json",
        " (semdb's encoder reads a transformers config and safetensors or torch weights)"));
  }
  const fs::path repo_dir = fs::path(options.cache_dir) / RepoFolderName(id);
  {
    ByteProgress bytes(progress, id, total);
    for (const RepoFile& f : files) {
      if (absl::Status s = FetchFile(client, id, options, repo_dir, commit, f, &bytes); !s.ok()) {
        return s;
      }
    }
  }
  if (revision != commit) {
    if (absl::Status s = WriteRef(repo_dir, revision, commit); !s.ok()) return s;
  }
  return ResolvedModel{(repo_dir / "snapshots" / commit).string(), id, commit, true};
}

bool IsTrue(std::string value) {
  absl::AsciiStrToLower(&value);
  return value == "1" || value == "true" || value == "yes" || value == "on";
}

}  // namespace

HubOptions HubOptions::FromEnvironment() {
  HubOptions o;
  if (std::string e = Env("HF_ENDPOINT"); !e.empty()) {
    while (absl::EndsWith(e, "/")) e.pop_back();
    o.endpoint = e;
  }
  std::string home = Env("HF_HOME");
  if (home.empty()) {
    const std::string xdg = Env("XDG_CACHE_HOME");
    home = (xdg.empty() ? Env("HOME") + "/.cache" : xdg) + "/huggingface";
  }
  o.cache_dir = Env("HF_HUB_CACHE");
  if (o.cache_dir.empty()) o.cache_dir = home + "/hub";
  o.token = Env("HF_TOKEN");
  if (o.token.empty()) {
    std::string token_path = Env("HF_TOKEN_PATH");
    if (token_path.empty()) token_path = home + "/token";
    if (Exists(token_path)) o.token = ReadTrimmed(token_path);
  }
  o.offline = IsTrue(Env("HF_HUB_OFFLINE"));
  return o;
}

absl::StatusOr<ResolvedModel> ResolveModel(const std::string& model, const std::string& revision,
                                           const HubOptions& options,
                                           const DownloadProgress& progress) {
  if (IsDirectory(model)) return ResolvedModel{model, "", "", false};
  if (!IsRepoId(model)) {
    return absl::NotFoundError(absl::StrCat(
        "model folder ", model, " does not exist (nor is it a Hugging Face model id, ORG/NAME)"));
  }
  const std::string rev = revision.empty() ? "main" : revision;
  const fs::path repo_dir = fs::path(options.cache_dir) / RepoFolderName(model);
  if (std::optional<Snapshot> s = FindSnapshot(repo_dir, rev); s && HasModelFiles(s->folder)) {
    return ResolvedModel{s->folder.string(), model, s->commit, false};
  }
  if (options.offline) {
    return absl::FailedPreconditionError(absl::StrCat(
        "'", model, "' (revision ", rev, ") is no local folder and not in the Hugging Face cache ",
        options.cache_dir, ", and HF_HUB_OFFLINE forbids downloading it"));
  }
  return Download(model, rev, options, progress);
}

}  // namespace semdb
