// Early-return helpers for absl::Status and absl::StatusOr (Debian's Abseil
// 20220623 has none of its own).
//
//   absl::StatusOr<Piece> ParsePiece(ByteReader& r) {
//     ASSIGN_OR_RETURN(uint32_t index, r.ReadU32());
//     RETURN_IF_ERROR(CheckIndex(index));
//     ...
//   }
#ifndef BASE_STATUS_MACROS_H_
#define BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// RETURN_IF_ERROR evaluates `expr` (an absl::Status) once and returns it from
// the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                                   \
  do {                                                          \
    if (::absl::Status bt_status_ = (expr); !bt_status_.ok()) { \
      return bt_status_;                                        \
    }                                                           \
  } while (false)

#define BT_STATUS_CONCAT_INNER_(a, b) a##b
#define BT_STATUS_CONCAT_(a, b) BT_STATUS_CONCAT_INNER_(a, b)

// ASSIGN_OR_RETURN(lhs, expr) evaluates `expr` (an absl::StatusOr<T>) once;
// on error returns its status, otherwise moves the value into `lhs`, which
// may be a declaration (`ASSIGN_OR_RETURN(auto x, F())`).
#define ASSIGN_OR_RETURN(lhs, expr) \
  BT_ASSIGN_OR_RETURN_IMPL_(BT_STATUS_CONCAT_(bt_statusor_, __LINE__), lhs, expr)

#define BT_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                              \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

#endif  // BASE_STATUS_MACROS_H_
