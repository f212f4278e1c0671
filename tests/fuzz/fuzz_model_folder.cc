// A transformer model folder with a fuzzed config.json beside the real tiny
// model weights of the family its model_type names (bert_tiny's when it
// names none we have): loading validates every field and shape.
#include <filesystem>
#include <map>

#include "embedders/bert_model.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  // model_type -> a scratch folder holding that family's tiny weights.
  static const std::map<std::string, std::string> folders = [] {
    std::map<std::string, std::string> f;
    for (auto [family, tiny] : {std::pair{"bert", "bert_tiny"},
                                std::pair{"distilbert", "distilbert_tiny"},
                                std::pair{"roberta", "roberta_tiny"},
                                std::pair{"xlm-roberta", "xlm_roberta_tiny"},
                                std::pair{"mpnet", "mpnet_tiny"},
                                std::pair{"modernbert", "modernbert_tiny"},
                                std::pair{"nomic_bert", "nomic_bert_tiny"}}) {
      const std::string d = semdb::fuzz::ScratchDir() + "/" + tiny;
      fs::create_directories(d);
      fs::copy_file(std::string(SEMDB_TEST_DATA) + "/" + tiny + "/model.safetensors",
                    d + "/model.safetensors", fs::copy_options::overwrite_existing);
      f[family] = tiny;
    }
    return f;
  }();
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
  std::string folder = folders.at("bert");
  if (j.is_object() && j.contains("model_type") && j["model_type"].is_string() &&
      folders.count(j["model_type"].get<std::string>())) {
    folder = folders.at(j["model_type"].get<std::string>());
  }
  semdb::fuzz::WriteInput(folder + "/config.json", data, size);
  const std::string dir = semdb::fuzz::ScratchDir() + "/" + folder;
  if (!j.is_discarded()) (void)semdb::BertConfig::FromJson(j, dir + "/config.json");
  (void)semdb::BertModel::Load(dir);
  return 0;
}
