// CRC-32C (Castagnoli, the iSCSI/RocksDB/ext4 checksum): the checksum of
// index files from format version 4 on (index/index_file.h) and of the
// values in the vector file (storage/vector_file.h). x86-64 CPUs
// compute it with the SSE4.2 crc32 instruction, several times faster than
// zlib's CRC-32 in software; other CPUs use a table.
#ifndef SEMDB_CHECKSUM_CRC32C_H_
#define SEMDB_CHECKSUM_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace semdb {

// The CRC-32C of `n` bytes following bytes whose CRC-32C is `crc` (0 for
// none), as zlib's crc32() extends a CRC-32: ExtendCrc32c(ExtendCrc32c(0,
// a), b) is the CRC-32C of a followed by b. ExtendCrc32c(0, "123456789")
// is 0xE3069283.
uint32_t ExtendCrc32c(uint32_t crc, const void* data, size_t n);

// ExtendCrc32c over `rows` rows of `row_bytes` bytes at first, first +
// stride, first + 2 * stride, ..., one after the other: the checksum of
// rows scattered in memory (vectors read into their blocks) at the speed of
// contiguous bytes, where a call per short row would run at a third of it.
uint32_t ExtendCrc32cRows(uint32_t crc, const void* first, size_t stride, size_t row_bytes,
                          size_t rows);

// The CRC-32C of a followed by b from first = CRC-32C(a), second =
// CRC-32C(b) and b's length, as zlib's crc32_combine: parts checksummed
// apart (e.g. by two threads) make the whole's.
uint32_t CombineCrc32c(uint32_t first, uint32_t second, uint64_t second_bytes);

}  // namespace semdb

#endif  // SEMDB_CHECKSUM_CRC32C_H_
