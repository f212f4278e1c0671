#include "embedders/safetensors.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <utility>

#include "catch2/catch.hpp"
#include "storage/half_float.h"
#include "nlohmann/json.hpp"
#include "test_data.h"

namespace semdb {
namespace {

using testing::TempDir;

// Writes a safetensors file: `header` as given, then `data`.
std::string Write(const TempDir& dir, const std::string& header, const std::string& data) {
  const std::string path = dir / "t.safetensors";
  std::ofstream out(path, std::ios::binary);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xFF));
  out << header << data;
  return path;
}

std::string Floats(std::initializer_list<float> values) {
  std::string s(values.size() * 4, '\0');
  std::memcpy(s.data(), values.begin(), s.size());
  return s;
}

std::string ErrorOf(const std::string& path) {
  absl::StatusOr<std::unique_ptr<SafeTensorsFile>> f = SafeTensorsFile::Open(path);
  REQUIRE_FALSE(f.ok());
  return std::string(f.status().message());
}

TEST_CASE("safetensors reads F32, F16 and BF16 tensors") {
  TempDir dir;
  // 1.5 and -2 as F16 (0x3E00, 0xC000) and BF16 (0x3FC0, 0xC000).
  const std::string halfs("\x00\x3E\x00\xC0", 4), bfloats("\xC0\x3F\x00\xC0", 4);
  const std::string path = Write(
      dir,
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("h":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},)"
      R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[20,24]},)"
      R"("i":{"dtype":"I64","shape":[1],"data_offsets":[24,32]}})",
      Floats({1, 2, 3, 4}) + halfs + bfloats + std::string(8, '\0'));
  absl::StatusOr<std::unique_ptr<SafeTensorsFile>> f = SafeTensorsFile::Open(path);
  REQUIRE(f.ok());
  CHECK((*f)->tensors().size() == 4);
  CHECK((*f)->Find("a")->shape == std::vector<int64_t>{2, 2});
  std::vector<float> a(4), h(2), b(2);
  REQUIRE((*f)->ReadFloat("a", absl::MakeSpan(a)).ok());
  REQUIRE((*f)->ReadFloat("h", absl::MakeSpan(h)).ok());
  REQUIRE((*f)->ReadFloat("b", absl::MakeSpan(b)).ok());
  CHECK(a == std::vector<float>{1, 2, 3, 4});
  CHECK(h == std::vector<float>{1.5f, -2.0f});
  // The pages read are given back to the kernel: a second read reads the
  // file again, to the same values.
  std::vector<float> again(4);
  REQUIRE((*f)->ReadFloat("a", absl::MakeSpan(again)).ok());
  CHECK(again == a);
  CHECK(b == std::vector<float>{1.5f, -2.0f});
  std::vector<float> i(1);
  absl::Status s = (*f)->ReadFloat("i", absl::MakeSpan(i));
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(s.message()).find("'i' is I64") != std::string::npos);
  CHECK((*f)->ReadFloat("missing", absl::MakeSpan(i)).code() == absl::StatusCode::kNotFound);
  CHECK((*f)->ReadFloat("a", absl::MakeSpan(h)).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("safetensors: a tensor over many pages reads the same after its pages are released") {
  TempDir dir;
  // An unaligned tensor of 5 pages' worth of floats after a 1-float one.
  const int64_t n = 5 * 4096 / 4 + 3;
  std::string big(n * 4, '\0');
  for (int64_t i = 0; i < n; ++i) {
    const float v = 0.5f * static_cast<float>(i) - 7.0f;
    std::memcpy(big.data() + 4 * i, &v, 4);
  }
  const std::string path = Write(
      dir,
      R"({"s":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
      R"("big":{"dtype":"F32","shape":[)" + std::to_string(n) + R"(],"data_offsets":[4,)" +
          std::to_string(4 + n * 4) + "]}}",
      Floats({42}) + big);
  absl::StatusOr<std::unique_ptr<SafeTensorsFile>> f = SafeTensorsFile::Open(path);
  REQUIRE(f.ok());
  for (int round = 0; round < 2; ++round) {
    std::vector<float> v(n), s(1);
    REQUIRE((*f)->ReadFloat("big", absl::MakeSpan(v)).ok());
    REQUIRE((*f)->ReadFloat("s", absl::MakeSpan(s)).ok());
    CHECK(s[0] == 42.0f);
    int64_t wrong = 0;
    for (int64_t i = 0; i < n; ++i) wrong += v[i] != 0.5f * static_cast<float>(i) - 7.0f;
    CHECK(wrong == 0);
  }
}

TEST_CASE("F16 conversion agrees with the compiler's _Float16 on all 65,536 values") {
  int mismatches = 0;
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const uint16_t b = static_cast<uint16_t>(bits);
    _Float16 h;
    std::memcpy(&h, &b, 2);
    const float want = static_cast<float>(h), got = HalfToFloat(b);
    const bool same = std::isnan(want) ? std::isnan(got) : std::memcmp(&want, &got, 4) == 0;
    mismatches += !same;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("FloatToHalf rounds as numpy's float16") {
  // /usr/bin/python3: np.array([v], dtype=np.float32).astype(np.float16)
  // .view(np.uint16) for each v: ties to even, the half range's edge,
  // subnormals and underflow.
  const std::pair<float, uint16_t> cases[] = {
      {0.0f, 0x0000},           {-0.0f, 0x8000},          {1.0f, 0x3c00},
      {-2.5f, 0xc100},          {0.1f, 0x2e66},           {1.0f / 3, 0x3555},
      {65504.0f, 0x7bff},       {65519.98828125f, 0x7bff}, {65520.0f, 0x7c00},
      {1e6f, 0x7c00},           {6.1e-5f, 0x03ff},        {5.96e-8f, 0x0001},
      {2.98e-8f, 0x0000},       {2.99e-8f, 0x0001},       {1e-9f, 0x0000},
      {1.00048828125f, 0x3c00}, {1.00146484375f, 0x3c02}, {-1e-4f, 0x868e}};
  for (const auto& [value, half] : cases) {
    INFO(value);
    CHECK(FloatToHalf(value) == half);
  }
  CHECK(std::isnan(HalfToFloat(FloatToHalf(std::nanf("")))));
  // Every half goes back to itself.
  int mismatches = 0;
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const uint16_t b = static_cast<uint16_t>(bits);
    if (std::isnan(HalfToFloat(b))) continue;
    mismatches += FloatToHalf(HalfToFloat(b)) != b;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("safetensors rejects malformed files with the file and tensor named") {
  TempDir dir;
  const std::string one = Floats({1});
  auto entry = [](const std::string& dtype, const std::string& shape, const std::string& offsets) {
    return R"({"w":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" +
           offsets + "}}";
  };
  SECTION("missing") {
    absl::StatusOr<std::unique_ptr<SafeTensorsFile>> f = SafeTensorsFile::Open(dir / "none");
    CHECK(f.status().code() == absl::StatusCode::kNotFound);
  }
  SECTION("too short") {
    std::ofstream(dir / "short") << "abc";
    CHECK(ErrorOf(dir / "short").find("too short") != std::string::npos);
  }
  SECTION("header longer than the file") {
    const std::string path = Write(dir, entry("F32", "[1]", "[0,4]"), one);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.put('\xFF');
    f.close();
    CHECK(ErrorOf(path).find("header length") != std::string::npos);
  }
  SECTION("header not JSON") {
    CHECK(ErrorOf(Write(dir, "{not json", one)).find("not a JSON object") != std::string::npos);
  }
  SECTION("unknown dtype") {
    const std::string e = ErrorOf(Write(dir, entry("F33", "[1]", "[0,4]"), one));
    CHECK(e.find("t.safetensors") != std::string::npos);
    CHECK(e.find("'w'") != std::string::npos);
    CHECK(e.find("unknown dtype \"F33\"") != std::string::npos);
  }
  SECTION("shape disagreeing with the byte size") {
    CHECK(ErrorOf(Write(dir, entry("F32", "[2]", "[0,4]"), one)).find("needs 8 bytes") !=
          std::string::npos);
  }
  SECTION("negative dimension") {
    CHECK(ErrorOf(Write(dir, entry("F32", "[-1]", "[0,4]"), one)).find("bad shape") !=
          std::string::npos);
  }
  SECTION("offsets past the end: a truncated file") {
    const std::string e = ErrorOf(Write(dir, entry("F32", "[4]", "[0,16]"), one));
    CHECK(e.find("'w'") != std::string::npos);
    CHECK(e.find("truncated") != std::string::npos);
  }
  SECTION("reversed offsets") {
    CHECK(ErrorOf(Write(dir, entry("F32", "[1]", "[4,0]"), one)).find("reversed") !=
          std::string::npos);
  }
  SECTION("offsets not a pair") {
    CHECK(ErrorOf(Write(dir, entry("F32", "[1]", "[0]"), one)).find("bad data_offsets") !=
          std::string::npos);
  }
  SECTION("overlapping tensors") {
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
    CHECK(ErrorOf(Write(dir, header, Floats({1, 2, 3}))).find("overlap") != std::string::npos);
  }
  SECTION("entry without dtype") {
    CHECK(ErrorOf(Write(dir, R"({"w":{"shape":[1],"data_offsets":[0,4]}})", one))
              .find("needs dtype") != std::string::npos);
  }
}

}  // namespace
}  // namespace semdb
