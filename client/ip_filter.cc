#include "client/ip_filter.h"

#include <algorithm>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace bt::client {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Parse reads a bare address into 16 bytes (IPv4 in the first 4).
bool Parse(std::string_view text, std::array<uint8_t, 16>* out, bool* v6) {
  absl::StatusOr<Endpoint> e = Endpoint::ParseAddress(text, 0);
  if (!e.ok()) return false;
  out->fill(0);
  std::copy(e->address_bytes().begin(), e->address_bytes().end(), out->begin());
  *v6 = e->is_v6();
  return true;
}

// Increment adds one to a big-endian address; false on overflow.
bool Increment(std::array<uint8_t, 16>& a, size_t width) {
  for (size_t i = width; i-- > 0;) {
    if (++a[i] != 0) return true;
  }
  return false;
}

}  // namespace

absl::Status IpFilter::AddRule(std::string_view rule_text) {
  std::string_view rule = Trim(rule_text);
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ip filter rule \"%s\": %s", rule, why));
  };
  Address first, last;
  bool v6_first = false, v6_last = false;
  if (size_t dash = rule.find('-'); dash != std::string_view::npos) {
    if (!Parse(Trim(rule.substr(0, dash)), &first, &v6_first) ||
        !Parse(Trim(rule.substr(dash + 1)), &last, &v6_last)) {
      return bad("expected FIRST-LAST addresses");
    }
    if (v6_first != v6_last) return bad("the range mixes IPv4 and IPv6");
    if (last < first) return bad("the range ends before it starts");
  } else if (size_t slash = rule.find('/'); slash != std::string_view::npos) {
    int bits = 0;
    if (!Parse(rule.substr(0, slash), &first, &v6_first) ||
        !absl::SimpleAtoi(std::string(rule.substr(slash + 1)), &bits)) {
      return bad("expected ADDRESS/BITS");
    }
    const int width = v6_first ? 128 : 32;
    if (bits < 0 || bits > width) {
      return bad(absl::StrFormat("prefix length must be 0-%d", width));
    }
    last = first;
    for (int bit = bits; bit < width; ++bit) {
      first[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
      last[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
    }
  } else {
    if (!Parse(rule, &first, &v6_first)) return bad("not an address");
    last = first;
  }
  Insert(v6_first ? v6_ : v4_, {first, last});
  return absl::OkStatus();
}

absl::Status IpFilter::AddRules(std::string_view text) {
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    if (absl::Status s = AddRule(line); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("line %d: %s", line_no, s.message()));
    }
  }
  return absl::OkStatus();
}

void IpFilter::Insert(std::vector<Range>& ranges, const Range& r) {
  ranges.push_back(r);
  std::sort(ranges.begin(), ranges.end());
  // Merge overlapping and adjacent ranges.
  std::vector<Range> merged;
  for (const Range& x : ranges) {
    if (!merged.empty()) {
      Address after = merged.back().second;
      bool no_overflow = Increment(after, 16);
      if (!no_overflow || x.first <= after) {
        merged.back().second = std::max(merged.back().second, x.second);
        continue;
      }
    }
    merged.push_back(x);
  }
  ranges = std::move(merged);
}

bool IpFilter::Contains(const std::vector<Range>& ranges, const Address& a) {
  auto it = std::upper_bound(
      ranges.begin(), ranges.end(), a,
      [](const Address& v, const Range& r) { return v < r.first; });
  if (it == ranges.begin()) return false;
  --it;
  return a <= it->second;
}

bool IpFilter::Blocked(const Endpoint& e) const {
  Address a{};
  std::copy(e.address_bytes().begin(), e.address_bytes().end(), a.begin());
  return Contains(e.is_v6() ? v6_ : v4_, a);
}

}  // namespace bt::client
