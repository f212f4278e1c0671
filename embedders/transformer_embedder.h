// Sentence embeddings from a BERT-family transformer encoder (Sentence-BERT
// style: all-MiniLM-L6-v2, bge-small-en-v1.5, e5-small-v2, all-mpnet-base-v2,
// nomic-embed-text-v1.5, BERT), run natively from the model folder a user
// downloads from Hugging Face:
//
//   config.json, model.safetensors     the encoder (bert_model.h: BERT,
//   (or pytorch_model.bin)             DistilBERT, RoBERTa, XLM-R, MPNet,
//                                      ModernBERT, NomicBERT)
//   tokenizer.json                     the tokenizer (tokenizer_json.h), or
//                                      when absent:
//   vocab.txt, tokenizer_config.json   a WordPiece tokenizer: do_lower_case,
//                                      strip_accents, tokenize_chinese_chars
//                                      (max_input_chars_per_word 100, what
//                                      Hugging Face's tokenizers use)
//   modules.json, 1_Pooling/config.json, sentence_bert_config.json
//                                      (optional, sentence-transformers)
//                                      the pooling modes (cls, max, mean,
//                                      mean_sqrt_len, lasttoken, several
//                                      concatenated; mean when absent),
//                                      Dense modules (dense_layer.h), a
//                                      Normalize module, the maximum
//                                      sequence length
//
//   config_sentence_transformers.json  (optional) the prompts: "query", and
//                                      "document" (else "passage", else
//                                      "corpus")
//
// Spec: transformer model=DIR|ID [revision=REV] [max_length=N] [batch_size=32]
//                   [threads=N] [precision=auto|fp32|bf16] [query_prefix=S]
//                   [document_prefix=S]
//   model       a model folder, or a Hugging Face id (ORG/NAME) found in the
//               Hugging Face cache or downloaded into it (model_hub.h);
//               path=DIR is the older spelling, for a folder only
//   revision    with an id: a branch, tag or commit (default main). spec()
//               records the commit it resolved to, so that a collection
//               keeps using that snapshot.
//   query_prefix, document_prefix
//               text put before each query (EmbedQueries) and each document
//               (Embed) before tokenizing, as sentence-transformers' prompts;
//               default the folder's declared prompts, else none. spec()
//               records the prefixes in force, so that a collection keeps
//               them even if the folder's prompts change.
//   max_length  tokens per text including [CLS] and [SEP]; default
//               sentence_bert_config.json's max_seq_length, else
//               tokenizer_config.json's model_max_length, else the most
//               the model takes (max_position_embeddings, less 2 with
//               RoBERTa's positions). Longer texts are truncated, counted
//               in TextStats::truncated and Describe().
//   batch_size  texts per forward pass, at most (texts are sorted by
//               length first; the last batches of a call are smaller when
//               that keeps concurrent batches finishing together)
//   threads     threads of the tokenizer and of the encoder: up to
//               `threads` batches run at once, one thread each, which
//               avoids all synchronization within a batch (the GEMMs on
//               oneDNN with packed weights); only when oneDNN cannot pack
//               the weights and OpenBLAS is multi-threaded, batches run one
//               at a time, GEMMs on OpenBLAS's threads and the rest on these
//   precision   auto (default): bf16 when the CPU has it and the model's
//               embeddings of built-in check texts stay within cosine 0.999
//               of fp32's, else fp32; fp32; bf16: the projection and
//               feed-forward GEMMs in bfloat16 with float accumulation
//               (bert_encoder.h), on a CPU with AVX512_BF16 or AMX (else
//               fp32, with the reason). Describe() reports "precision" (the
//               one that runs) and "precision_reason".
//
// Embed() always returns L2-normalized vectors, as the Embedder interface
// requires; Describe() tells whether the folder's own pipeline normalizes.
//
// Speed: the GEMMs dominate (about 90% of the time). They run on oneDNN,
// which picks its AVX-512 or AVX2 kernels from the CPU itself; OpenBLAS
// runs only the attention products (and every GEMM when oneDNN cannot pack
// the weights). Debian 12's OpenBLAS (0.3.21) runs its AVX2 "Haswell"
// kernels on some AMD CPUs with AVX-512; OPENBLAS_CORETYPE=SkylakeX in the
// environment selects its AVX-512 kernels (bench/bert_bench.py --coretype).
#ifndef SEMDB_EMBEDDERS_TRANSFORMER_EMBEDDER_H_
#define SEMDB_EMBEDDERS_TRANSFORMER_EMBEDDER_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "embedders/bert_encoder.h"
#include "embedders/bert_model.h"
#include "embedders/dense_layer.h"
#include "embedders/subword_tokenizer.h"
#include "semdb/embedder.h"

namespace semdb {

class TransformerEmbedder : public Embedder {
 public:
  // The parameters "transformer" specs take (include/semdb/spec.h).
  static ComponentKind Kind();
  // InvalidArgument for bad parameters or model files, NotFound for
  // missing ones.
  // context.progress reports a model download.
  static absl::StatusOr<std::unique_ptr<TransformerEmbedder>> Create(
      const Spec& spec, const EmbedderContext& context = {});

  Spec spec() const override { return spec_; }
  int dimension() const override { return dimension_; }
  absl::Status Embed(absl::Span<const std::string_view> texts, absl::Span<float> out,
                     std::vector<TextStats>* stats) const override;
  absl::Status EmbedQueries(absl::Span<const std::string_view> texts, absl::Span<float> out,
                            std::vector<TextStats>* stats) const override;
  nlohmann::json Describe() const override;

  const SubwordTokenizer& tokenizer() const { return *tokenizer_; }
  Pooling pooling() const { return pooling_; }
  bool folder_normalizes() const { return folder_normalizes_; }
  int max_length() const { return max_length_; }

 private:
  TransformerEmbedder(Spec spec, std::shared_ptr<BertModel> model,
                      std::unique_ptr<const SubwordTokenizer> tokenizer, int threads)
      : spec_(std::move(spec)),
        model_(std::move(model)),
        tokenizer_(std::move(tokenizer)),
        encoder_(model_),
        threads_(threads) {}

  // The precision that runs: fp32 when asked or when the CPU (or oneDNN)
  // has no bf16 GEMMs; else bf16 when asked, or, for auto, when the check
  // texts' embeddings stay within cosine kMinBf16Cosine of float's.
  // Replaces encoder_ (OpenBLAS's, as constructed) with the packed encoder
  // of that precision (fp32 stays on OpenBLAS when oneDNN cannot pack its
  // weights, and the reason says so), freeing the model's float GEMM weights
  // as they are packed (BertEncoder::PackReleasing). Sets precision_ and
  // precision_reason_.
  absl::Status ChoosePrecision(const std::string& requested);

  // Embeds prefix + texts[i].
  absl::Status EmbedWithPrefix(absl::Span<const std::string_view> texts, const std::string& prefix,
                               absl::Span<float> out, std::vector<TextStats>* stats) const;

  Spec spec_;
  std::string path_;
  std::string query_prefix_, document_prefix_;
  // Its GEMM weights are freed once encoder_ has packed them.
  std::shared_ptr<BertModel> model_;
  std::unique_ptr<const SubwordTokenizer> tokenizer_;
  BertEncoder encoder_;
  int threads_;
  std::string precision_ = "fp32", precision_reason_;
  int batch_size_ = 32;
  int max_length_ = 0;
  Pooling pooling_;
  std::vector<DenseLayer> dense_;
  int dimension_ = 0;
  bool folder_normalizes_ = false;
  // sentence_bert_config.json's do_lower_case with a tokenizer.json: texts
  // are lower-cased (Python's str.lower()) before tokenizing.
  bool lower_case_texts_ = false;
  mutable std::atomic<int64_t> texts_embedded_{0};
  mutable std::atomic<int64_t> texts_truncated_{0};
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_TRANSFORMER_EMBEDDER_H_
