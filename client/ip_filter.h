// IpFilter: a set of blocked address ranges (IPv4 and IPv6), checked before
// any connection is made or accepted, besides the ip_filter event.
//
//   bt::client::IpFilter filter;
//   RETURN_IF_ERROR(filter.AddRule("10.0.0.0/8"));
//   RETURN_IF_ERROR(filter.AddRule("192.168.1.10-192.168.1.20"));
//   RETURN_IF_ERROR(filter.AddRule("::1"));
//   if (filter.Blocked(peer)) ...
//
// Rules are a single address, "FIRST-LAST" (inclusive, same family) or
// CIDR "ADDRESS/BITS". Lookups are a binary search over merged ranges.
#ifndef CLIENT_IP_FILTER_H_
#define CLIENT_IP_FILTER_H_

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "base/endpoint.h"

namespace bt::client {

class IpFilter {
 public:
  // AddRule blocks the addresses `rule` names. kInvalidArgument (naming
  // the rule) for anything else, a reversed range, mixed families or too
  // many prefix bits.
  absl::Status AddRule(std::string_view rule);
  // AddRules adds one rule per line; blank lines and lines starting with
  // '#' are skipped. The error names the line number.
  absl::Status AddRules(std::string_view text);
  // Blocked is true if the address of `e` (its port ignored) is in a
  // blocked range.
  bool Blocked(const Endpoint& e) const;
  size_t range_count() const { return v4_.size() + v6_.size(); }
  void Clear() { v4_.clear(), v6_.clear(); }

 private:
  using Address = std::array<uint8_t, 16>;
  using Range = std::pair<Address, Address>;  // inclusive
  static void Insert(std::vector<Range>& ranges, const Range& r);
  static bool Contains(const std::vector<Range>& ranges, const Address& a);

  std::vector<Range> v4_, v6_;  // sorted, disjoint, merged
};

}  // namespace bt::client

#endif  // CLIENT_IP_FILTER_H_
