// An RFC 4180 CSV reader: comma-separated fields, double-quoted fields that
// may hold commas, doubled quotes and line breaks; CRLF or LF line ends.
#ifndef SEMDB_SRC_CSV_READER_H_
#define SEMDB_SRC_CSV_READER_H_

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace semdb {

class CsvReader {
 public:
  explicit CsvReader(std::istream& in) : in_(in) {}

  // Reads the next record into `fields`. Returns false at the end of input.
  // `error` is set (and the record should be skipped) for a quote that is
  // never closed or text after a closing quote.
  bool Next(std::vector<std::string>* fields, std::string* error);

  // The line on which the last record started (1-based).
  int64_t record_line() const { return record_line_; }
  int64_t bytes_read() const { return bytes_read_; }

 private:
  bool ReadChar(char* c);

  std::istream& in_;
  int64_t line_ = 1;
  int64_t record_line_ = 0;
  int64_t bytes_read_ = 0;
};

}  // namespace semdb

#endif  // SEMDB_SRC_CSV_READER_H_
