#include "protocol/utp/socket_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace bt::protocol::utp {

SocketTable::SocketTable(SocketTableOptions options,
                         std::function<uint32_t()> random)
    : options_(std::move(options)),
      random_(std::move(random)),
      reset_budget_(options_.resets_per_second, options_.resets_per_second,
                    options_.resets_per_second) {}

absl::StatusOr<SocketTable::Id> SocketTable::Connect(const Endpoint& peer,
                                                     absl::Time now) {
  if (entries_.size() >= options_.max_connections) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "uTP: ", options_.max_connections, " connections already open"));
  }
  // A receive id free for this peer, whose send id (+1) is free too.
  uint16_t recv_id = 0;
  for (int attempt = 0;; ++attempt) {
    recv_id = static_cast<uint16_t>(random_());
    if (!by_key_.contains(Key{peer, recv_id}) &&
        !by_key_.contains(Key{peer, static_cast<uint16_t>(recv_id + 1)})) {
      break;
    }
    if (attempt == 64) {
      return absl::ResourceExhaustedError(
          absl::StrCat("uTP: no free connection id for ", peer.ToString()));
    }
  }
  const Id id = next_id_++;
  entries_.emplace(
      id, Entry{Key{peer, recv_id},
                Connection::Connect(OptionsFor(peer), recv_id,
                                    static_cast<uint16_t>(random_()), now)});
  by_key_[Key{peer, recv_id}] = id;
  MarkActive(id);
  return id;
}

SocketTable::Entry* SocketTable::Lookup(const Endpoint& from,
                                        const Packet& packet) {
  const uint16_t id = packet.header.connection_id;
  if (auto it = by_key_.find(Key{from, id}); it != by_key_.end()) {
    return &entries_.at(it->second);
  }
  // A RESET may carry the id we send with (as libutp and libtorrent
  // accept): ours is that -1 if we connected, +1 if we accepted.
  if (packet.header.type != PacketType::kReset) return nullptr;
  for (uint16_t recv :
       {static_cast<uint16_t>(id - 1), static_cast<uint16_t>(id + 1)}) {
    auto it = by_key_.find(Key{from, recv});
    if (it == by_key_.end()) continue;
    Entry& e = entries_.at(it->second);
    if (e.connection.send_id() == id) return &e;
  }
  return nullptr;
}

void SocketTable::HandleDatagram(std::string_view datagram,
                                 const Endpoint& from, absl::Time now) {
  absl::StatusOr<Packet> packet = ParsePacket(datagram);
  if (!packet.ok()) {
    ++stats_.malformed;
    return;
  }
  const bool syn = packet->header.type == PacketType::kSyn;
  // A SYN names the id the peer will receive on; ours is one more. A
  // repeated SYN goes to the connection it made (to be answered again).
  const uint16_t key_id =
      syn ? static_cast<uint16_t>(packet->header.connection_id + 1)
          : packet->header.connection_id;
  Entry* e = nullptr;
  if (auto it = by_key_.find(Key{from, key_id}); it != by_key_.end()) {
    e = &entries_.at(it->second);
  } else if (!syn) {
    e = Lookup(from, *packet);
  }
  if (e == nullptr) {
    if (syn) {
      Accept(*packet, from, now);
    } else {
      ++stats_.unknown;
      SendReset(*packet, from, now);
    }
    return;
  }
  e->connection.OnPacket(*packet, now);
  const Id id = by_key_.at(e->key);
  if (e->connection.state() != ConnectionState::kSynReceived) {
    half_open_.erase(id);
  }
  Touch(id);
}

void SocketTable::HandleUnreachable(const Endpoint& peer, absl::Time now) {
  for (auto& [id, e] : entries_) {
    if (e.key.peer != peer) continue;
    e.connection.OnUnreachable(now);
    Touch(id);
  }
}

void SocketTable::Accept(const Packet& syn, const Endpoint& from,
                         absl::Time now) {
  if (!options_.accept_incoming ||
      entries_.size() >= options_.max_connections ||
      half_open_.size() >= options_.max_half_open) {
    ++stats_.syns_refused;
    return;
  }
  const Id id = next_id_++;
  Connection c = Connection::Accept(OptionsFor(from), syn,
                                    static_cast<uint16_t>(random_()), now);
  const Key key{from, c.recv_id()};
  entries_.emplace(id, Entry{key, std::move(c)});
  by_key_[key] = id;
  half_open_.insert(id);
  accepted_.push_back(id);
  ++stats_.accepted;
  Touch(id);
}

ConnectionOptions SocketTable::OptionsFor(const Endpoint& peer) const {
  ConnectionOptions o = options_.connection;
  if (options_.loopback_probe_payload > 0 && peer.IsLoopback()) {
    o.probe_payload = options_.loopback_probe_payload;
  }
  return o;
}

void SocketTable::SendReset(const Packet& packet, const Endpoint& from,
                            absl::Time now) {
  if (packet.header.type == PacketType::kReset) return;  // never answer one
  reset_budget_.Refill(now);
  if (reset_budget_.tokens() < 1) return;
  reset_budget_.Take(1);
  Packet reset;
  reset.header.type = PacketType::kReset;
  reset.header.connection_id = packet.header.connection_id;
  reset.header.timestamp_us = static_cast<uint32_t>(absl::ToUnixMicros(now));
  reset.header.seq_nr = static_cast<uint16_t>(random_());
  reset.header.ack_nr = packet.header.seq_nr;
  resets_.emplace_back(EncodePacket(reset), from);
  ++stats_.resets_sent;
}

void SocketTable::Touch(Id id) {
  if (to_poll_set_.insert(id).second) to_poll_.push_back(id);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  const Entry& e = it->second;
  if (!e.released) {
    to_report_.insert(id);
  } else if (e.connection.state() == ConnectionState::kClosed) {
    next_deadline_ = absl::InfinitePast();  // forget it at the next Tick
  }
  NoteDeadline(e.connection);
}

void SocketTable::NoteDeadline(const Connection& c) {
  next_deadline_ = std::min(next_deadline_, c.next_deadline());
}

void SocketTable::MarkActive(Id id) { Touch(id); }

void SocketTable::Tick(absl::Time now) {
  next_deadline_ = absl::InfiniteFuture();
  std::vector<Id> done;
  for (auto& [id, e] : entries_) {
    if (e.connection.next_deadline() <= now) {
      e.connection.Tick(now);
      if (e.connection.state() != ConnectionState::kSynReceived) {
        half_open_.erase(id);
      }
      Touch(id);
    }
    if (Finished(e, now)) {
      done.push_back(id);
    } else {
      NoteDeadline(e.connection);
      if (e.released) {
        next_deadline_ =
            std::min(next_deadline_, e.released_at + options_.linger);
      }
    }
  }
  for (Id id : done) Forget(id);
}

bool SocketTable::Finished(const Entry& e, absl::Time now) const {
  if (!e.released) {
    // Never owned: an accepted connection the owner has not taken yet
    // stays; a half-open one the connection itself times out.
    return false;
  }
  return e.connection.state() == ConnectionState::kClosed ||
         now >= e.released_at + options_.linger;
}

void SocketTable::Forget(Id id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  by_key_.erase(it->second.key);
  half_open_.erase(id);
  to_report_.erase(id);
  entries_.erase(it);
}

std::vector<SocketTable::Id> SocketTable::TakeAccepted() {
  return std::exchange(accepted_, {});
}

std::vector<SocketTable::Id> SocketTable::TakeTouched() {
  std::vector<Id> out(to_report_.begin(), to_report_.end());
  to_report_.clear();
  std::sort(out.begin(), out.end());
  return out;
}

bool SocketTable::PollDatagram(absl::Time now, std::string& out, Endpoint& to) {
  if (!resets_.empty()) {
    std::tie(out, to) = std::move(resets_.back());
    resets_.pop_back();
    return true;
  }
  while (poll_index_ < to_poll_.size()) {
    auto it = entries_.find(to_poll_[poll_index_]);
    if (it != entries_.end()) {
      Entry& e = it->second;
      if (e.connection.PollDatagram(now, out)) {
        to = e.key.peer;
        return true;
      }
      NoteDeadline(e.connection);
    }
    ++poll_index_;
  }
  to_poll_.clear();
  to_poll_set_.clear();
  poll_index_ = 0;
  return false;
}

Connection* SocketTable::Find(Id id) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.released) return nullptr;
  return &it->second.connection;
}

Endpoint SocketTable::peer(Id id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? Endpoint() : it->second.key.peer;
}

void SocketTable::Release(Id id, absl::Time now) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.released) return;
  Entry& e = it->second;
  e.released = true;
  e.released_at = now;
  next_deadline_ = std::min(next_deadline_, now + options_.linger);
  e.connection.Close();
  to_report_.erase(id);
  Touch(id);
}

}  // namespace bt::protocol::utp
