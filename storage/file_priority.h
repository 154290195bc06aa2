// File priority levels: how much a file is wanted. 0 skips a file (it is
// not downloaded, see PieceStorage); among wanted files, a piece's
// priority is its highest file's, and higher pieces are picked first. The
// levels follow libtorrent's scale, so its users' numbers mean the same
// here. Other non-negative values are accepted too and order the same way.
//
//   using bt::storage::kFilePriorityHigh;
//   RETURN_IF_ERROR(storage->SetFilePriority(2, kFilePriorityHigh));
#ifndef STORAGE_FILE_PRIORITY_H_
#define STORAGE_FILE_PRIORITY_H_

namespace bt::storage {

inline constexpr int kFilePrioritySkip = 0;
inline constexpr int kFilePriorityLow = 1;
inline constexpr int kFilePriorityNormal = 4;  // every file's default
inline constexpr int kFilePriorityHigh = 7;

}  // namespace bt::storage

#endif  // STORAGE_FILE_PRIORITY_H_
