// A read-only, memory-mapped safetensors file (the format Hugging Face
// writes model weights in): an 8-byte little-endian header length, a JSON
// header mapping tensor names to {dtype, shape, data_offsets}, then the
// tensor bytes.
//
// Open() validates the whole header: every dtype is a safetensors dtype
// name, every shape's byte size equals its data_offsets span, every span
// lies inside the file and no two overlap. Errors name the file and tensor.
#ifndef SEMDB_EMBEDDERS_SAFETENSORS_H_
#define SEMDB_EMBEDDERS_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace semdb {

struct SafeTensor {
  std::string dtype;  // "F32", "F16", "BF16", "I64", ...
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // inside the mapping
  size_t bytes = 0;

  int64_t elements() const;
};

class SafeTensorsFile {
 public:
  static absl::StatusOr<std::unique_ptr<SafeTensorsFile>> Open(const std::string& path);
  // Tensors already in memory (a torch checkpoint, torch_checkpoint.h):
  // their data point into `storage`, which the result keeps; `path` names
  // them in messages.
  static std::unique_ptr<SafeTensorsFile> FromMemory(std::string path,
                                                     std::map<std::string, SafeTensor> tensors,
                                                     std::map<std::string, std::string> storage);
  ~SafeTensorsFile();
  SafeTensorsFile(const SafeTensorsFile&) = delete;
  SafeTensorsFile& operator=(const SafeTensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, SafeTensor>& tensors() const { return tensors_; }
  // The tensor called `name`, or null.
  const SafeTensor* Find(const std::string& name) const;

  // Converts tensor `name` (F32, F16 or BF16) to float into `out`, whose
  // size must be the tensor's element count. Errors name file and tensor.
  // The tensor's pages of the mapping are then given back to the kernel
  // (reading it again reads the file again), so that a model being loaded
  // holds its floats and not also the file's bytes.
  absl::Status ReadFloat(const std::string& name, absl::Span<float> out) const;

 private:
  SafeTensorsFile() = default;
  // madvise(MADV_DONTNEED) on the mapped pages that lie wholly inside t.
  void ReleasePages(const SafeTensor& t) const;

  std::string path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::map<std::string, std::string> storage_;  // FromMemory's bytes
  std::map<std::string, SafeTensor> tensors_;
};

// bfloat16 to float, exact (IEEE half: storage/half_float.h).
float Bfloat16ToFloat(uint16_t b);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_SAFETENSORS_H_
