// The CSV reader on any bytes.
#include <sstream>

#include "src/csv_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  semdb::CsvReader csv(in);
  std::vector<std::string> fields;
  std::string error;
  int64_t last_line = 0;
  while (csv.Next(&fields, &error)) {
    if (csv.record_line() < last_line) std::abort();  // lines only go forward
    last_line = csv.record_line();
  }
  return 0;
}
