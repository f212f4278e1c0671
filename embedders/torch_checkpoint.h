// PyTorch's checkpoint format (torch.save since 1.6: what pytorch_model.bin
// files are), read without Python: a zip archive (libzip) holding
// <name>/data.pkl, a pickle of the state dict, and <name>/data/<key>, the raw
// little-endian bytes of each storage.
//
// The pickle is read by a restricted unpickler that never executes
// anything: it knows the opcodes of protocols 2 to 4 that build plain values
// (ints, floats, strings, tuples, lists, dicts) and exactly these callables:
// collections.OrderedDict, torch._utils._rebuild_tensor_v2,
// torch._utils._rebuild_parameter and the torch.*Storage types as
// persistent ids. Any other global or opcode is an InvalidArgument error
// naming it. Tensors must be contiguous (views at an offset into a shared
// storage are fine).
#ifndef SEMDB_EMBEDDERS_TORCH_CHECKPOINT_H_
#define SEMDB_EMBEDDERS_TORCH_CHECKPOINT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "embedders/safetensors.h"

namespace semdb {

// The tensors of the state dict in `path`, by name, in memory. NotFound
// when the file is missing; InvalidArgument when it is not a torch zip
// checkpoint (the legacy pre-1.6 format included) or holds anything but a
// dict of tensors.
absl::StatusOr<std::unique_ptr<SafeTensorsFile>> ReadTorchCheckpoint(const std::string& path);

// The weights of model folder `dir`: model.safetensors when present, else
// pytorch_model.bin; NotFound naming both when neither is.
absl::StatusOr<std::unique_ptr<SafeTensorsFile>> OpenModelWeights(const std::string& dir);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_TORCH_CHECKPOINT_H_
