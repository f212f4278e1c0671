// WordPiece: a vocabulary file of any content is refused or loaded, and any
// text is tokenized (or refused as invalid UTF-8) with the real vocabulary.
#include "embedders/wordpiece_tokenizer.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const semdb::WordPieceTokenizer* real = [] {
    auto t = semdb::WordPieceTokenizer::FromFile(
        std::string(SEMDB_TEST_DATA) + "/bert_tiny/vocab.txt", semdb::WordPieceOptions{});
    if (!t.ok()) std::abort();
    return new semdb::WordPieceTokenizer(*std::move(t));
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<int32_t> ids;
  (void)real->Tokenize(text, &ids);
  (void)real->Encode(text, 16);
  const std::string path = semdb::fuzz::WriteInput("vocab.txt", data, size);
  auto loaded = semdb::WordPieceTokenizer::FromFile(path, semdb::WordPieceOptions{});
  if (loaded.ok()) (void)loaded->Encode("hello world, unaffable", 32);
  return 0;
}
