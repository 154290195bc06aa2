#include "dht/item_store.h"

#include <algorithm>

namespace bt::dht {

int ItemStore::Put(const DhtItem& item, std::optional<int64_t> cas,
                   absl::Time now) {
  if (item.value.size() > kMaxItemValueSize) return kErrorValueTooBig;
  if (item.salt.size() > kMaxItemSaltSize) return kErrorSaltTooBig;
  NodeId target = ItemTarget(item);
  if (!VerifyItem(item, target)) return kErrorInvalidSignature;
  auto it = items_.find(target);
  if (it != items_.end() && now - it->second.stored < options_.lifetime) {
    const DhtItem& old = it->second.item;
    if (item.is_mutable && old.is_mutable) {
      if (cas && *cas != old.seq) return kErrorCasMismatch;
      if (item.seq < old.seq) return kErrorSequenceTooLow;
      if (item.seq == old.seq && item.value != old.value) {
        return kErrorSequenceTooLow;
      }
    }
    it->second = Entry{item, now};
    return 0;
  }
  if (it == items_.end() && items_.size() >= options_.max_items) {
    Expire(now);
    if (items_.size() >= options_.max_items) {
      auto oldest = std::min_element(
          items_.begin(), items_.end(), [](const auto& a, const auto& b) {
            return a.second.stored < b.second.stored;
          });
      items_.erase(oldest);
    }
  }
  items_[target] = Entry{item, now};
  return 0;
}

const DhtItem* ItemStore::Get(const NodeId& target, absl::Time now) const {
  auto it = items_.find(target);
  if (it == items_.end() || now - it->second.stored >= options_.lifetime) {
    return nullptr;
  }
  return &it->second.item;
}

void ItemStore::Expire(absl::Time now) {
  for (auto it = items_.begin(); it != items_.end();) {
    if (now - it->second.stored >= options_.lifetime) {
      items_.erase(it++);
    } else {
      ++it;
    }
  }
}

}  // namespace bt::dht
