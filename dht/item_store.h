// ItemStore: the BEP 44 items other nodes put to us, bounded in count and
// expiring after two hours unless put again. Applies the BEP's rules for
// replacing mutable items (signature, sequence number, compare-and-swap).
//
//   bt::dht::ItemStore store;
//   int error = store.Put(item, cas, now);   // 0 or a BEP 44 error code
//   const bt::dht::DhtItem* found = store.Get(target, now);
#ifndef DHT_ITEM_STORE_H_
#define DHT_ITEM_STORE_H_

#include <cstddef>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "base/hash.h"
#include "dht/item.h"

namespace bt::dht {

struct ItemStoreOptions {
  size_t max_items = 700;
  absl::Duration lifetime = absl::Hours(2);
};

class ItemStore {
 public:
  explicit ItemStore(ItemStoreOptions options = {}) : options_(options) {}

  // Put checks and stores `item` (its salt included), returning 0 on
  // success or the BEP 44 error code: 205 value too big, 206 bad
  // signature, 207 salt too big, 301 `cas` mismatch, 302 sequence number
  // not newer. When full, the oldest item makes room.
  int Put(const DhtItem& item, std::optional<int64_t> cas, absl::Time now);

  // Get returns the live item stored at `target`, or nullptr. The pointer
  // is valid until the next Put or Expire.
  const DhtItem* Get(const NodeId& target, absl::Time now) const;

  void Expire(absl::Time now);
  size_t size() const { return items_.size(); }

 private:
  struct Entry {
    DhtItem item;
    absl::Time stored;
  };
  ItemStoreOptions options_;
  absl::flat_hash_map<NodeId, Entry> items_;
};

}  // namespace bt::dht

#endif  // DHT_ITEM_STORE_H_
