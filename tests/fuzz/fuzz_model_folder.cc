// A transformer model folder with a fuzzed config.json beside the real tiny
// model's weights and vocabulary: loading validates every field and shape.
#include <filesystem>

#include "embedders/bert_model.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  static const std::string dir = [] {
    const std::string d = semdb::fuzz::ScratchDir() + "/model";
    fs::create_directories(d);
    for (const char* f : {"model.safetensors", "vocab.txt"}) {
      fs::copy_file(std::string(SEMDB_TEST_DATA) + "/bert_tiny/" + f, d + "/" + f,
                    fs::copy_options::overwrite_existing);
    }
    return d;
  }();
  semdb::fuzz::WriteInput("model/config.json", data, size);
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (!j.is_discarded()) (void)semdb::BertConfig::FromJson(j, dir + "/config.json");
  (void)semdb::BertModel::Load(dir);
  return 0;
}
