#include "src/csv_reader.h"

namespace semdb {

bool CsvReader::ReadChar(char* c) {
  if (!in_.get(*c)) return false;
  ++bytes_read_;
  if (*c == '\n') ++line_;
  return true;
}

bool CsvReader::Next(std::vector<std::string>* fields, std::string* error) {
  fields->clear();
  error->clear();
  record_line_ = line_;
  char c;
  if (!ReadChar(&c)) return false;
  std::string field;
  bool quoted = false;      // inside a quoted field
  bool was_quoted = false;  // the current field was quoted
  while (true) {
    if (quoted) {
      if (c == '"') {
        char next;
        if (!ReadChar(&next)) {  // closing quote at the end of input
          fields->push_back(std::move(field));
          return true;
        }
        if (next != '"') {
          quoted = false;
          c = next;
          continue;  // the character after the closing quote
        }
        field += '"';  // a doubled quote
      } else {
        field += c;
      }
    } else if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && in_.peek() == '\n') ReadChar(&c);
      fields->push_back(std::move(field));
      return true;
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (was_quoted) {
      // Text after a closing quote: skip to the end of the line.
      *error = "text after a closing quote";
      while (ReadChar(&c) && c != '\n') {
      }
      return true;
    } else {
      field += c;
    }
    if (!ReadChar(&c)) {
      if (quoted) *error = "a quoted field is never closed";
      fields->push_back(std::move(field));
      return true;
    }
  }
}

}  // namespace semdb
