// safetensors files: header validation never crashes, and every tensor it
// accepts can be read.
#include <vector>

#include "embedders/safetensors.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = semdb::fuzz::WriteInput("model.safetensors", data, size);
  absl::StatusOr<std::unique_ptr<semdb::SafeTensorsFile>> file =
      semdb::SafeTensorsFile::Open(path);
  if (!file.ok()) return 0;
  for (const auto& [name, tensor] : (*file)->tensors()) {
    if (tensor.dtype != "F32" && tensor.dtype != "F16" && tensor.dtype != "BF16") continue;
    if (tensor.elements() > (1 << 22)) continue;
    std::vector<float> out(static_cast<size_t>(tensor.elements()));
    (void)(*file)->ReadFloat(name, absl::MakeSpan(out));
  }
  return 0;
}
