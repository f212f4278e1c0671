// fastText .bin models: structural validation before libfasttext sees the
// bytes, so that no file crashes the process.
#include "embedders/fasttext_model.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = semdb::fuzz::WriteInput("model.bin", data, size);
  absl::StatusOr<std::unique_ptr<semdb::FastTextModel>> model = semdb::FastTextModel::Open(path);
  if (!model.ok()) return 0;
  std::vector<float> out((*model)->dimension());
  (void)(*model)->Lookup("hello", absl::MakeSpan(out));
  (void)(*model)->Lookup("unseenwordxyz", absl::MakeSpan(out));
  return 0;
}
