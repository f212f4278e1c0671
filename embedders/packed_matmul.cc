#include "embedders/packed_matmul.h"

#include <omp.h>
#include <sys/mman.h>

#include <unordered_map>
#include <vector>

#include "embedders/nn_kernels.h"
#include "fmt/format.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace semdb {
namespace {

using dnnl::memory;

const dnnl::engine& Engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// The products' attributes: the epilogue's activation and sum (y += ...)
// as post-ops, with scratch memory from the caller (MatmulScratch) rather
// than oneDNN's own.
dnnl::primitive_attr Attributes(MatmulActivation activation, bool accumulate) {
  dnnl::post_ops post;
  switch (activation) {
    case MatmulActivation::kNone: break;
    case MatmulActivation::kGeluErf:
      post.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
      break;
    case MatmulActivation::kGeluTanh:
      post.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_tanh, 0.0f, 0.0f);
      break;
    case MatmulActivation::kSilu:  // swish(x) = x * sigmoid(alpha x)
      post.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.0f, 0.0f);
      break;
  }
  if (accumulate) post.append_sum(1.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(post);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

memory::data_type DataType(MatmulType type) {
  return type == MatmulType::kBf16 ? memory::data_type::bf16 : memory::data_type::f32;
}

const char* TypeName(MatmulType type) { return type == MatmulType::kBf16 ? "bf16" : "f32"; }

// The product y[rows, n] = x[rows, k] * weights (+ bias[n]), then the
// attributes' post-ops; x of the weights' type.
dnnl::matmul::primitive_desc MatmulDesc(int64_t rows, int64_t k, int64_t n,
                                        const memory::desc& weights, bool bias, bool y_bf16,
                                        const dnnl::primitive_attr& attr) {
  const memory::desc src({rows, k}, weights.data_type(), memory::format_tag::ab);
  const memory::desc dst({rows, n}, y_bf16 ? memory::data_type::bf16 : memory::data_type::f32,
                         memory::format_tag::ab);
  const dnnl::matmul::desc desc =
      bias ? dnnl::matmul::desc(src, weights,
                                memory::desc({1, n}, memory::data_type::f32, memory::format_tag::ab),
                                dst)
           : dnnl::matmul::desc(src, weights, dst);
  return dnnl::matmul::primitive_desc(desc, attr, Engine());
}

// The rows of the product that picks the weights' layout. oneDNN's brgemm
// kernels block the weights by k and n only, so that one layout serves
// every row count (a product whose kernel wanted another would fail to be
// created, and the caller would compute it on OpenBLAS).
constexpr int64_t kLayoutRows = 256;

// Primitives a scratch keeps before it starts over: an encoder batch uses
// four (its token count times the four weight matrices of a layer, each
// with its own epilogue).
constexpr size_t kMaxPrimitives = 64;

// Packed weights take pages of their own (page-aligned, so 64-byte aligned
// as oneDNN wants) rather than malloc's heap, so that freeing them (the
// encoder precision=auto did not choose) gives the memory back at once: in
// the heap, blocks of a few MB freed among live ones stay resident.
struct Unmapper {
  size_t bytes = 0;
  void operator()(uint8_t* p) const { ::munmap(p, bytes); }
};

}  // namespace

bool CpuHasBf16(std::string* isa) {
  const dnnl_cpu_isa_t found = dnnl_get_effective_cpu_isa();
  const dnnl_cpu_isa_t want = dnnl_cpu_isa_avx512_core_bf16;
  if (isa != nullptr) {
    switch (found) {
      case dnnl_cpu_isa_avx512_core_amx: *isa = "avx512_core_amx"; break;
      case dnnl_cpu_isa_avx512_core_bf16: *isa = "avx512_core_bf16"; break;
      case dnnl_cpu_isa_avx512_core_vnni: *isa = "avx512_core_vnni"; break;
      case dnnl_cpu_isa_avx512_core: *isa = "avx512_core"; break;
      case dnnl_cpu_isa_avx2: *isa = "avx2"; break;
      default: *isa = fmt::format("isa 0x{:x}", static_cast<unsigned>(found)); break;
    }
  }
  return (static_cast<unsigned>(found) & static_cast<unsigned>(want)) == static_cast<unsigned>(want);
}

absl::Status SgemmOnCallingThread(bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                  const float* a, int64_t lda, const float* b, int64_t ldb,
                                  float beta, float* c, int64_t ldc) {
  omp_set_num_threads(1);
  const dnnl_status_t s =
      dnnl_sgemm('N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (s != dnnl_success) {
    return absl::InternalError(fmt::format("oneDNN sgemm [{}x{}]x[{}x{}]: status {}", m, k, k, n,
                                           static_cast<int>(s)));
  }
  return absl::OkStatus();
}

struct MatmulScratch::State {
  struct Primitive {
    MatmulType type;
    int64_t rows, k, n;
    bool bias, y_bf16, accumulate;
    MatmulActivation activation;
    dnnl::matmul::primitive_desc desc;
    dnnl::matmul matmul;
  };
  std::vector<Primitive> primitives;
  std::vector<uint16_t> input;
  std::vector<uint8_t> pad;  // oneDNN's scratchpad
  dnnl::stream stream{Engine()};
};

MatmulScratch::MatmulScratch() : state_(std::make_unique<State>()) {}
MatmulScratch::~MatmulScratch() = default;
MatmulScratch::MatmulScratch(MatmulScratch&&) noexcept = default;
MatmulScratch& MatmulScratch::operator=(MatmulScratch&&) noexcept = default;

struct PackedMatrix::Packed {
  MatmulType type = MatmulType::kF32;
  int64_t n = 0, k = 0;
  memory::desc desc;  // [k, n] in the layout oneDNN chose
  std::unique_ptr<uint8_t, Unmapper> data;
};

absl::StatusOr<PackedMatrix> PackedMatrix::Pack(const float* w, int64_t n, int64_t k,
                                                MatmulType type) {
  auto packed = std::make_shared<Packed>();
  packed->type = type;
  packed->n = n;
  packed->k = k;
  try {
    const memory::desc any({k, n}, DataType(type), memory::format_tag::any);
    packed->desc =
        MatmulDesc(kLayoutRows, k, n, any, false, false, Attributes(MatmulActivation::kNone, true))
            .weights_desc();
    const size_t bytes = packed->desc.get_size();
    void* pages = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) {
      return absl::ResourceExhaustedError(
          fmt::format("{} bytes of {} weights", bytes, TypeName(type)));
    }
    packed->data = std::unique_ptr<uint8_t, Unmapper>(static_cast<uint8_t*>(pages), Unmapper{bytes});
    // w[n, k] row-major is the [k, n] weights matrix in column-major ("ba").
    std::vector<uint16_t> rounded;
    const void* plain = w;
    if (type == MatmulType::kBf16) {
      rounded.resize(static_cast<size_t>(n * k));
      nn::RoundToBf16(w, n * k, rounded.data());
      plain = rounded.data();
    }
    const memory::desc plain_desc({k, n}, DataType(type), memory::format_tag::ba);
    memory from(plain_desc, Engine(), const_cast<void*>(plain));
    memory to(packed->desc, Engine(), packed->data.get());
    dnnl::stream stream(Engine());
    dnnl::reorder(from, to).execute(stream, from, to);
    stream.wait();
  } catch (const dnnl::error& e) {
    return absl::InternalError(
        fmt::format("oneDNN {} weights [{}x{}]: {}", TypeName(type), n, k, e.what()));
  }
  PackedMatrix m;
  m.packed_ = std::move(packed);
  return m;
}

MatmulType PackedMatrix::type() const { return packed_->type; }

const void* PackedMatrix::Input(const float* x, int64_t rows, MatmulScratch* scratch) const {
  if (packed_->type == MatmulType::kF32) return x;
  std::vector<uint16_t>& input = scratch->state_->input;
  const int64_t k = packed_->k;
  if (input.size() < static_cast<size_t>(rows * k)) input.resize(rows * k);
  nn::RoundToBf16(x, rows * k, input.data());
  return input.data();
}

absl::Status PackedMatrix::Multiply(const float* x, int64_t rows, const MatmulEpilogue& epilogue,
                                    float* y, int threads, MatmulScratch* scratch) const {
  return Execute(Input(x, rows, scratch), rows, epilogue, y, false, threads, scratch);
}

absl::Status PackedMatrix::Multiply(const float* x, int64_t rows, const MatmulEpilogue& epilogue,
                                    uint16_t* y, int threads, MatmulScratch* scratch) const {
  if (packed_->type != MatmulType::kBf16) {
    return absl::InvalidArgumentError("a bf16 output needs bf16 weights");
  }
  if (epilogue.accumulate) return absl::InvalidArgumentError("bf16 output cannot accumulate");
  return Execute(Input(x, rows, scratch), rows, epilogue, y, true, threads, scratch);
}

absl::Status PackedMatrix::Multiply(const uint16_t* x, int64_t rows,
                                    const MatmulEpilogue& epilogue, float* y, int threads,
                                    MatmulScratch* scratch) const {
  if (packed_->type != MatmulType::kBf16) {
    return absl::InvalidArgumentError("a bf16 input needs bf16 weights");
  }
  return Execute(x, rows, epilogue, y, false, threads, scratch);
}

absl::Status PackedMatrix::Execute(const void* x, int64_t rows, const MatmulEpilogue& epilogue,
                                   void* y, bool y_bf16, int threads,
                                   MatmulScratch* scratch) const {
  const Packed& w = *packed_;
  MatmulScratch::State& s = *scratch->state_;
  const bool bias = epilogue.bias != nullptr;
  try {
    MatmulScratch::State::Primitive* p = nullptr;
    for (MatmulScratch::State::Primitive& cached : s.primitives) {
      if (cached.type == w.type && cached.rows == rows && cached.k == w.k && cached.n == w.n &&
          cached.bias == bias &&
          cached.y_bf16 == y_bf16 && cached.accumulate == epilogue.accumulate &&
          cached.activation == epilogue.activation) {
        p = &cached;
      }
    }
    if (p == nullptr) {
      if (s.primitives.size() >= kMaxPrimitives) s.primitives.clear();
      dnnl::matmul::primitive_desc desc =
          MatmulDesc(rows, w.k, w.n, w.desc, bias, y_bf16,
                     Attributes(epilogue.activation, epilogue.accumulate));
      dnnl::matmul matmul(desc);
      p = &s.primitives.emplace_back(MatmulScratch::State::Primitive{
          w.type, rows, w.k, w.n, bias, y_bf16, epilogue.accumulate, epilogue.activation,
          std::move(desc), std::move(matmul)});
      if (s.pad.size() < p->desc.scratchpad_desc().get_size()) {
        s.pad.resize(p->desc.scratchpad_desc().get_size());
      }
    }
    omp_set_num_threads(threads);
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, memory(p->desc.src_desc(), Engine(), const_cast<void*>(x))},
        {DNNL_ARG_WEIGHTS, memory(w.desc, Engine(), w.data.get())},
        {DNNL_ARG_DST, memory(p->desc.dst_desc(), Engine(), y)},
        {DNNL_ARG_SCRATCHPAD, memory(p->desc.scratchpad_desc(), Engine(), s.pad.data())}};
    if (bias) {
      args.emplace(DNNL_ARG_BIAS, memory(p->desc.bias_desc(), Engine(),
                                         const_cast<float*>(epilogue.bias)));
    }
    p->matmul.execute(s.stream, args);
    s.stream.wait();
  } catch (const dnnl::error& e) {
    return absl::InternalError(fmt::format("oneDNN {} matmul [{}x{}]x[{}x{}]: {}",
                                           TypeName(w.type), rows, w.k, w.k, w.n, e.what()));
  }
  return absl::OkStatus();
}

}  // namespace semdb
