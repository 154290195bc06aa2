// Test-only: what piece_storage_test.cc, piece_storage_events_test.cc and
// piece_storage_errors_test.cc share: a four-file torrent in 16 KiB pieces,
// writing and reading its whole piece space, a byte comparison that names
// the first difference, and the fixture that runs a test over both
// backends (in memory, real files).
//
//   // Once in each test file:
//   INSTANTIATE_TEST_SUITE_P(Backends, PieceStorageTest, ::testing::Bool(),
//                            BackendName);
//   TEST_P(PieceStorageTest, X) {
//     BackendEnv env(GetParam());
//     Torrent t = MakeTestTorrent("album", FourFiles(), kPiece, Kind::kV1);
//     auto s = PieceStorage::Create(t.info, env.root(), env.backend());
//     WriteEverything(s->get(), t, 6000);
//     EXPECT_TRUE(Same(ReadPiece(s->get(), t, 0),
//                      t.piece_space.substr(0, kPiece)));
//   }
#ifndef TESTS_STORAGE_PIECE_STORAGE_TEST_UTIL_H_
#define TESTS_STORAGE_PIECE_STORAGE_TEST_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "storage/piece_storage.h"
#include "tests/storage/storage_test_util.h"

namespace bt::storage::testing {

constexpr int64_t kPiece = 16384;

// FourFiles: a.bin (10000 bytes), b/b.bin (5), c.bin (40000) and d.bin
// (20000), each of its own pattern: 5 pieces of kPiece as a v1 torrent.
std::vector<MemFile> FourFiles();

// WriteEverything writes the whole piece space in blocks of `block` bytes,
// pieces in a shuffled order.
void WriteEverything(PieceStorage* s, const Torrent& t, int64_t block,
                     uint32_t seed = 1);

// ReadPiece reads piece `p` whole (a failed read is a test failure).
std::string ReadPiece(PieceStorage* s, const Torrent& t, uint32_t p);

// Same compares byte strings, describing only the first difference.
::testing::AssertionResult Same(const std::optional<std::string>& got,
                                std::string_view want);

// PieceStorageTest's parameter: true for real files, false for memory.
class PieceStorageTest : public ::testing::TestWithParam<bool> {};

// BackendName names PieceStorageTest's instances "RealFiles" and
// "InMemory".
std::string BackendName(const ::testing::TestParamInfo<bool>& info);

}  // namespace bt::storage::testing

#endif  // TESTS_STORAGE_PIECE_STORAGE_TEST_UTIL_H_
