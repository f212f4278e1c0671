#include "storage/records.h"

#include "catch2/catch.hpp"

namespace semdb {
namespace {

TEST_CASE("records round-trip through their encodings", "[storage]") {
  CollectionRecord c{7, "news", "tfidf dim=64", "flat", 3, 64, 1000, 1700000000};
  absl::StatusOr<CollectionRecord> c2 = CollectionRecord::Decode(c.Encode());
  REQUIRE(c2.ok());
  REQUIRE(c2->Encode() == c.Encode());
  // The recall curve is kept as given (absent from records without one).
  c.recall_curve = R"({"index":"hnsw m=16"})";
  REQUIRE(CollectionRecord::Decode(c.Encode())->recall_curve == c.recall_curve);
  REQUIRE(c2->recall_curve.empty());

  Counters k{12, 99, 5, 1234, 56};
  absl::StatusOr<Counters> k2 = Counters::Decode(k.Encode());
  REQUIRE(k2.ok());
  REQUIRE(k2->next_label == 12);
  REQUIRE(k2->next_seq == 99);
  REQUIRE(k2->live_docs == 5);
  REQUIRE(k2->tokens == 1234);
  REQUIRE(k2->unknown_tokens == 56);

  DocumentRecord d{"id-1", std::string("text with \0 byte", 16)};
  absl::StatusOr<DocumentRecord> d2 = DocumentRecord::Decode(d.Encode());
  REQUIRE(d2.ok());
  REQUIRE(d2->id == d.id);
  REQUIRE(d2->text == d.text);

  VectorRecord v{10, 2, {0.5f, -1.0f, 3.25f}};
  absl::StatusOr<VectorRecord> v2 = VectorRecord::Decode(v.Encode(VectorStorage::kFloat32), VectorStorage::kFloat32);
  REQUIRE(v2.ok());
  REQUIRE(v2->values == v.values);
  REQUIRE(v2->tokens == 10);
  REQUIRE(v2->unknown_tokens == 2);

  LogOp op{LogOp::kRemove, 0x0102030405060708};
  REQUIRE(LogOp::Decode(op.Encode())->label == op.label);
  REQUIRE(LogOp::Decode(op.Encode())->kind == LogOp::kRemove);
}

TEST_CASE("damaged records are DataLoss, not crashes", "[storage]") {
  DocumentRecord d{"id", "some text"};
  std::string bytes = d.Encode();
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    REQUIRE(DocumentRecord::Decode(bytes.substr(0, cut)).status().code() ==
            absl::StatusCode::kDataLoss);
  }
  REQUIRE(DocumentRecord::Decode(bytes + "x").status().code() == absl::StatusCode::kDataLoss);
  REQUIRE(CollectionRecord::Decode("{not json").status().code() == absl::StatusCode::kDataLoss);
  REQUIRE(CollectionRecord::Decode("{\"id\": 1}").status().code() == absl::StatusCode::kDataLoss);
  REQUIRE(Counters::Decode("\xff\xff").status().code() == absl::StatusCode::kDataLoss);
  REQUIRE(VectorRecord::Decode(std::string("\x01\x01\x00", 3), VectorStorage::kFloat32).status().code() ==
          absl::StatusCode::kDataLoss);
  REQUIRE(LogOp::Decode("abc").status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("big-endian keys sort numerically", "[storage]") {
  std::string a, b;
  AppendBigEndian64(&a, 255);
  AppendBigEndian64(&b, 256);
  REQUIRE(a < b);
  REQUIRE(ReadBigEndian64(b.data()) == 256);
  std::string c;
  AppendBigEndian32(&c, 0xdeadbeef);
  REQUIRE(ReadBigEndian32(c.data()) == 0xdeadbeef);
}

}  // namespace
}  // namespace semdb
