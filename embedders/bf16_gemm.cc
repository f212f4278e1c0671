#include "embedders/bf16_gemm.h"

#include <omp.h>

#include <cstring>

#include "fmt/format.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace semdb {

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

uint16_t FloatToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x7FFFFFu) != 0) {
    return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet NaN
  }
  bits += 0x7FFFu + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

std::vector<uint16_t> ToBf16(const std::vector<float>& values) {
  std::vector<uint16_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = FloatToBf16(values[i]);
  return out;
}

absl::Status Bf16GemmAccumulate(const float* x, int64_t rows, int64_t k, const uint16_t* w,
                                int64_t n, float* y, int threads, Bf16Scratch* scratch) {
  using dnnl::memory;
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  scratch->input.resize(static_cast<size_t>(rows * k));
  for (int64_t i = 0; i < rows * k; ++i) scratch->input[i] = FloatToBf16(x[i]);
  try {
    // w[n, k] row-major is the [k, n] weights matrix in column-major ("ba").
    const memory::desc src({rows, k}, memory::data_type::bf16, memory::format_tag::ab);
    const memory::desc weights({k, n}, memory::data_type::bf16, memory::format_tag::ba);
    const memory::desc dst({rows, n}, memory::data_type::f32, memory::format_tag::ab);
    dnnl::post_ops accumulate;
    accumulate.append_sum(1.0f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(accumulate);
    // Scratch memory from the caller: concurrent calls share nothing.
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    // Created per call: oneDNN's primitive cache makes that a lookup.
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, weights, dst), attr, engine);
    scratch->pad.resize(pd.scratchpad_desc().get_size());
    dnnl::stream stream(engine);
    omp_set_num_threads(threads);
    dnnl::matmul(pd).execute(
        stream, {{DNNL_ARG_SRC, memory(src, engine, scratch->input.data())},
                 {DNNL_ARG_WEIGHTS, memory(weights, engine, const_cast<uint16_t*>(w))},
                 {DNNL_ARG_DST, memory(dst, engine, y)},
                 {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), engine, scratch->pad.data())}});
    stream.wait();
  } catch (const dnnl::error& e) {
    return absl::InternalError(fmt::format("oneDNN bf16 matmul [{}x{}]x[{}x{}]: {}", rows, k, k, n,
                                           e.what()));
  }
  return absl::OkStatus();
}

}  // namespace semdb
