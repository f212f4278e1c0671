// FieldIndex on a real Store (RocksDB in a temporary folder): which
// documents a filter resolves to, whether the index covers it, the types it
// tells apart, array elements, the cap, and removals.
#include "src/field_index.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "storage/store.h"
#include "test_data.h"

namespace semdb {
namespace {

using testing::TempDir;

constexpr uint32_t kCid = 3;

// Label -> metadata of the documents the cases resolve over.
const std::vector<std::pair<uint64_t, nlohmann::json>>& Documents() {
  static const auto* docs = new std::vector<std::pair<uint64_t, nlohmann::json>>{
      {1, {{"year", 2001}, {"tag", "a"}, {"tags", {"x", "y"}}, {"ok", true}}},
      {2, {{"year", 1999}, {"tag", "b"}, {"ok", false}}},
      {3, {{"year", 2010.5}, {"tag", "ab"}, {"note", "not indexed"}}},
      {4, {{"tag", nullptr}, {"year", -5}, {"tags", {"y"}}}},
      {5, {{"year", "2001"}, {"tag", std::string("a\0b", 3)}}},
      {6, nlohmann::json::object()},
      {7, {{"year", 2001}, {"tag", "a"}, {"ok", true}}},
  };
  return *docs;
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<FieldIndex> index;

  Fixture() {
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(dir / "store", StoreOptions{});
    INFO(s.status());
    REQUIRE(s.ok());
    store = *std::move(s);
    index = std::make_unique<FieldIndex>(store.get(), kCid,
                                         std::vector<std::string>{"year", "tag", "tags", "ok"});
    StoreBatch batch(*store);
    for (const auto& [label, metadata] : Documents()) index->Put(batch, label, metadata);
    REQUIRE(store->Write(batch, false).ok());
  }

  // The labels `filter` resolves to with `cap`, or nullopt; *exact set.
  std::optional<std::vector<uint64_t>> Resolve(const std::string& text, int64_t cap,
                                               bool* exact) const {
    absl::StatusOr<Filter> f = Filter::Parse(text);
    INFO(text << ": " << f.status());
    REQUIRE(f.ok());
    absl::StatusOr<std::optional<FieldCandidates>> r = index->Resolve(*f, cap);
    INFO(r.status());
    REQUIRE(r.ok());
    if (!r->has_value()) return std::nullopt;
    *exact = (*r)->exact;
    return (*r)->labels;
  }

  bool Covers(const std::string& text) const { return index->Covers(*Filter::Parse(text)); }
};

TEST_CASE("FieldIndex resolves filters to the documents that match them", "[field_index]") {
  struct Row {
    std::string filter;
    std::optional<std::vector<uint64_t>> labels;  // nullopt: the index cannot tell
    bool exact = true;
    bool covered = true;
  };
  const std::vector<Row> rows = {
      // Equality and IN, by type: the number 2001 is not the string "2001".
      {"year = 2001", {{1, 7}}},
      {"year = '2001'", {{5}}},
      {"year = 2010.5", {{3}}},
      {"tag = 'a'", {{1, 7}}},
      {"tag = \"a\\u0000b\"", {{5}}},
      {"tag IN ('a', 'b')", {{1, 2, 7}}},
      {"tag = null", {{4}}},
      {"ok = true", {{1, 7}}},
      {"ok = false", {{2}}},
      // Ranges: numbers numerically, strings by bytes; other types never.
      {"year > 2000", {{1, 3, 7}}},
      {"year >= 1999 AND year < 2010", {{1, 2, 7}}},
      {"year < 0", {{4}}},
      {"year <= -5", {{4}}},
      {"tag > 'a'", {{2, 3, 5}}},
      {"tag >= 'b'", {{2}}},
      // Array elements match = and IN, not ranges.
      {"tags = 'y'", {{1, 4}}},
      {"tags IN ('x', 'z')", {{1}}},
      {"tags > 'a'", {{}}},
      // EXISTS: any value, null and arrays included.
      {"tag EXISTS", {{1, 2, 3, 4, 5, 7}}},
      {"tags EXISTS", {{1, 4}}},
      // AND intersects, OR unites; an unindexed part of an AND leaves a
      // superset to check; NOT, != and unindexed fields are not answered.
      {"year = 2001 AND ok = true", {{1, 7}}},
      {"year = 2001 OR tag = 'b'", {{1, 2, 7}}},
      {"year = 2001 AND note = 'x'", {{1, 7}}, false, false},
      {"note = 'not indexed'", std::nullopt, true, false},
      {"year = 2001 OR note = 'x'", std::nullopt, true, false},
      {"NOT year = 2001", std::nullopt, true, false},
      {"year != 2001", std::nullopt, true, false},
      {"year = 1234", {{}}},
  };
  Fixture fx;
  for (const Row& row : rows) {
    INFO(row.filter);
    bool exact = true;
    const std::optional<std::vector<uint64_t>> got = fx.Resolve(row.filter, 1000, &exact);
    REQUIRE(got.has_value() == row.labels.has_value());
    if (got) {
      CHECK(*got == *row.labels);
      CHECK(exact == row.exact);
    }
    CHECK(fx.Covers(row.filter) == row.covered);
  }
}

TEST_CASE("FieldIndex gives up above the cap, and forgets removed documents",
          "[field_index]") {
  Fixture fx;
  bool exact = true;
  CHECK(fx.Resolve("year > 2000", 3, &exact) == std::vector<uint64_t>{1, 3, 7});
  CHECK_FALSE(fx.Resolve("year > 2000", 2, &exact).has_value());
  // An AND may still narrow down with one part under the cap.
  CHECK(fx.Resolve("year > 2000 AND tag = 'ab'", 2, &exact) == std::vector<uint64_t>{3});

  // Removing with the metadata the entries were written from.
  StoreBatch batch(*fx.store);
  fx.index->Remove(batch, 1, Documents()[0].second);
  fx.index->Remove(batch, 4, Documents()[3].second);
  REQUIRE(fx.store->Write(batch, false).ok());
  CHECK(fx.Resolve("year = 2001", 1000, &exact) == std::vector<uint64_t>{7});
  CHECK(fx.Resolve("tags = 'y'", 1000, &exact) == std::vector<uint64_t>{});
  CHECK(fx.Resolve("tag EXISTS", 1000, &exact) == std::vector<uint64_t>{2, 3, 5, 7});

  // Another collection's index over the same store sees none of it.
  FieldIndex other(fx.store.get(), kCid + 1, {"year"});
  absl::StatusOr<std::optional<FieldCandidates>> r =
      other.Resolve(*Filter::Parse("year = 2001"), 1000);
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK((*r)->labels.empty());
}

TEST_CASE("ValidateIndexedFields refuses bad field lists", "[field_index]") {
  CHECK(ValidateIndexedFields({"year", "tag"}).ok());
  CHECK(ValidateIndexedFields({}).ok());
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{""}, {"a.b"}, {std::string("a\0b", 3)}, {"x", "x"},
        {std::string(257, 'f')}}) {
    CHECK(absl::IsInvalidArgument(ValidateIndexedFields(bad)));
  }
}

}  // namespace
}  // namespace semdb
