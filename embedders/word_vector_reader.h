// Streaming readers for word-vector files as the original tools write them:
//   - text: GloVe (`word v1 ... vd`, no header), word2vec text and fastText
//     .vec (a first line `count dim`, then the same rows). A first line of
//     exactly two integers is taken as that header.
//   - word2vec binary: a `count dim` line, then per word the UTF-8 word, a
//     space, and dim little-endian float32s (word2vec.c adds a newline after
//     each vector, gensim does not; both are read).
// The file is read in fixed-size chunks and each row is handed to a sink as
// it is parsed, so memory does not grow with the file. Malformed input is an
// InvalidArgument error naming the file and the line (text) or the word
// number and byte offset (binary): wrong value counts, values that are not
// numbers or not finite, words that are not UTF-8, headers that disagree with
// the rows, truncated files, empty files.
#ifndef SEMDB_EMBEDDERS_WORD_VECTOR_READER_H_
#define SEMDB_EMBEDDERS_WORD_VECTOR_READER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace semdb {

// Receives the rows of a file in order. Begin is called once, with the
// dimension, before the first Add.
class WordVectorSink {
 public:
  virtual ~WordVectorSink() = default;
  virtual absl::Status Begin(int dim) = 0;
  virtual absl::Status Add(std::string_view word, absl::Span<const float> vector) = 0;
};

// Vector dimensions above this are refused as malformed.
inline constexpr int kMaxWordVectorDim = 65536;

absl::Status ReadWordVectorText(const std::string& path, WordVectorSink& sink);

absl::Status ReadWord2VecBinary(const std::string& path, WordVectorSink& sink);

// Whether a word2vec file with a `count dim` first line is binary: the bytes
// after the header hold a NUL or are not UTF-8 (raw floats nearly always are
// neither), checked over the first 64 KiB.
absl::StatusOr<bool> IsWord2VecBinary(const std::string& path);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_WORD_VECTOR_READER_H_
