#include "tests/storage/piece_storage_test_util.h"

#include <algorithm>
#include <random>

namespace bt::storage::testing {

std::vector<MemFile> FourFiles() {
  return {{{"a.bin"}, Pattern(10000, 1), ""},
          {{"b", "b.bin"}, Pattern(5, 2), ""},
          {{"c.bin"}, Pattern(40000, 3), ""},
          {{"d.bin"}, Pattern(20000, 4), ""}};
}

void WriteEverything(PieceStorage* s, const Torrent& t, int64_t block,
                     uint32_t seed) {
  std::vector<uint32_t> order(t.info.num_pieces());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(seed));
  for (uint32_t p : order) {
    int64_t size = t.info.layout().PieceSize(p);
    for (int64_t off = 0; off < size; off += block) {
      int64_t len = std::min(block, size - off);
      ASSERT_TRUE(s->WriteBlock(p, off,
                                AsBytes(std::string_view(t.piece_space)
                                            .substr(p * kPiece + off, len)))
                      .ok());
    }
  }
}

std::string ReadPiece(PieceStorage* s, const Torrent& t, uint32_t p) {
  std::string out(t.info.layout().PieceSize(p), '\0');
  absl::Status st = s->ReadBlock(
      p, 0,
      MutableByteSpan(reinterpret_cast<uint8_t*>(out.data()), out.size()));
  EXPECT_TRUE(st.ok()) << st;
  return out;
}

::testing::AssertionResult Same(const std::optional<std::string>& got,
                                std::string_view want) {
  if (!got) return ::testing::AssertionFailure() << "file missing";
  if (*got == want) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < got->size() && i < want.size() && (*got)[i] == want[i]) ++i;
  return ::testing::AssertionFailure()
         << "sizes " << got->size() << " vs " << want.size()
         << ", first difference at byte " << i;
}

std::string BackendName(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "RealFiles" : "InMemory";
}

}  // namespace bt::storage::testing
