// FAISS's file format of an IndexHNSWFlat, written from and read into a
// PackedHnsw (index/hnsw_packed_index.h), so that saved HNSW indexes stay
// files faiss::read_index reads (as an IndexHNSWFlat with the same graph and
// vectors) while semdb keeps one copy of the vectors and of level 0's links.
//
// The format (faiss/impl/index_write.cpp, FAISS 1.7.3), little-endian:
//   "IHNf", index header, the HNSW (vectors assign_probas, cum_nneighbor_
//   per_level, levels, offsets, neighbors, each a uint64 count then the
//   items; entry_point, max_level, efConstruction, efSearch, upper_beam),
//   then the storage: "IxFI", index header, the float count and the floats.
// The index header is d (int32), ntotal (int64), two int64 1<<20, is_trained
// (one byte) and the metric (int32; inner product = 0).
//
// In the file each node's links are level 0's (2M slots) then the levels
// above; PackedHnsw keeps level 0 in the packed blocks and the rest in a
// faiss::HNSW whose level 0 has no slots. Writing interleaves the two again
// (the bytes FAISS's write_index writes for the same graph); reading puts
// each node's level-0 links and each vector straight into its packed block
// (scattered reads, no second copy) and the upper levels into the
// faiss::HNSW.
#ifndef SEMDB_INDEX_HNSW_FILE_H_
#define SEMDB_INDEX_HNSW_FILE_H_

#include <cstdint>
#include <memory>

#include "faiss/impl/io.h"

namespace semdb {

class ChecksummedFileReader;
struct PackedHnsw;

// The fourcc that starts an IndexHNSWFlat, as FAISS reads it (a uint32).
uint32_t HnswFlatFourcc();

// Writes `index`. Throws faiss::FaissException when the writer fails.
void WriteHnswFlat(const PackedHnsw& index, faiss::IOWriter* w);

// Reads what follows the fourcc of an inner-product IndexHNSWFlat of
// `rows` vectors (the caller's header says how many). Throws
// faiss::FaissException on a short read or inconsistent data, before
// allocating anything sized by the bad data (every size is checked against
// the bytes left in the file): the file's checksum is verified only after
// the read, so the data may be damaged.
std::unique_ptr<PackedHnsw> ReadHnswFlat(ChecksummedFileReader* r, int64_t rows);

}  // namespace semdb

#endif  // SEMDB_INDEX_HNSW_FILE_H_
