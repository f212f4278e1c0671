// Helpers for the libFuzzer targets: a per-process scratch directory, and
// writing an input to a file for parsers that read files.
#ifndef SEMDB_TESTS_FUZZ_FUZZ_UTIL_H_
#define SEMDB_TESTS_FUZZ_FUZZ_UTIL_H_

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace semdb::fuzz {

// A directory private to this process, created on first use.
inline const std::string& ScratchDir() {
  static const std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "semdb-fuzz-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    return tmpl;
  }();
  return dir;
}

// Writes the input to ScratchDir()/name and returns the path.
inline std::string WriteInput(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = ScratchDir() + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

}  // namespace semdb::fuzz

#endif  // SEMDB_TESTS_FUZZ_FUZZ_UTIL_H_
