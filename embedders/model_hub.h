// Models by name: turns a transformer spec's model= into a model folder.
//
//   ResolveModel("sentence-transformers/all-MiniLM-L6-v2", "", options, progress)
//
// looks, in order, for
//   1. a local folder of that name (any existing directory);
//   2. the model in the Hugging Face cache that Python tools fill (the
//      huggingface_hub layout, so that both share their downloads):
//        CACHE/models--ORG--NAME/refs/REVISION       the commit of a branch/tag
//        CACHE/models--ORG--NAME/snapshots/COMMIT/   the files, as symlinks
//        CACHE/models--ORG--NAME/blobs/ETAG          their contents (ETAG: an
//                                                    LFS file's sha256, else
//                                                    its git blob id)
//      found when the snapshot holds config.json and model weights; used
//      with no network at all;
//   3. a download from the Hub into that cache: the file list from
//      ENDPOINT/api/models/ID/revision/REV?blobs=true, only the files the
//      encoder reads (configs, tokenizer, sentence-transformers modules,
//      model.safetensors, else pytorch_model.bin: not ONNX/TF/Flax copies),
//      each from
//      ENDPOINT/ID/resolve/COMMIT/FILE into blobs/ETAG.incomplete,
//      continued by a Range request after a dropped connection (also by a
//      later run), an LFS file checked against the listed sha256 and a
//      small file against its git blob id before it is renamed into place
//      (a bad checksum deletes the download: the cache never holds a
//      corrupt file); concurrent downloads of one blob are serialized by
//      the lock file huggingface_hub uses (.locks/models--ORG--NAME/ETAG.lock).
#ifndef SEMDB_EMBEDDERS_MODEL_HUB_H_
#define SEMDB_EMBEDDERS_MODEL_HUB_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "semdb/options.h"

namespace semdb {

struct HubOptions {
  std::string endpoint = "https://huggingface.co";  // without a trailing slash
  std::string cache_dir;                            // the hub cache's root
  std::string token;                                // sent as a Bearer token when set
  bool offline = false;                             // never touch the network

  // What huggingface_hub reads: HF_ENDPOINT; HF_HUB_CACHE, else
  // $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
  // ~/.cache/huggingface/hub; HF_TOKEN, else the file HF_TOKEN_PATH, else
  // $HF_HOME/token (what `huggingface-cli login` writes); HF_HUB_OFFLINE
  // (1, true, yes, on).
  static HubOptions FromEnvironment();
};

struct ResolvedModel {
  std::string folder;   // the model folder to load
  std::string repo_id;  // the Hub id, empty for a local folder
  std::string commit;   // the snapshot's commit, empty for a local folder
  bool downloaded = false;  // some files came from the network
};

// Download progress, in bytes: collection is the repo id, operation
// "download"; the last call has finished set.
using DownloadProgress = std::function<void(const OperationProgress&)>;

// `revision`: a branch, tag or commit; empty means "main". NotFound for a
// name that is no folder and no Hub id (or no model on the Hub),
// FailedPrecondition when offline and not cached, PermissionDenied for a
// gated or private model without a (good) token, DataLoss for a checksum
// mismatch, Unavailable when the Hub cannot be reached.
absl::StatusOr<ResolvedModel> ResolveModel(const std::string& model, const std::string& revision,
                                           const HubOptions& options,
                                           const DownloadProgress& progress);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_MODEL_HUB_H_
