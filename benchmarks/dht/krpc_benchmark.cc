// KRPC parse and encode per message type, btkit against libtorrent on the
// same bytes:
//  - parse: bt::dht::ParseMessage (a full, checked parse into a Message)
//    against lt::bdecode (libtorrent's public decoder: tokenising only, the
//    field checks its DHT does afterwards are not in the public API), so
//    the ratio is a lower bound for btkit;
//  - encode: bt::dht::EncodeMessage of a Message against lt::bencode of an
//    lt::entry holding the same message (both give the same bytes; checked
//    before anything is measured).
// Benchmarks are named krpc_parse/{btkit,libtorrent}/TYPE and
// krpc_encode/{btkit,libtorrent}/TYPE; main.cc pairs them into ratios.
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/dht/random_values.h"
#include "dht/krpc.h"
#include "libtorrent/bdecode.hpp"
#include "libtorrent/bencode.hpp"
#include "libtorrent/entry.hpp"

namespace bt::dht::bench {
namespace {

constexpr size_t kNodesPerReply = 8;   // K contacts, as a full reply has
constexpr size_t kPeersPerReply = 50;  // about what fits in 1024 bytes
constexpr size_t kSamplesPerReply = 20;

struct Case {
  std::string name;
  Message message;
  std::string bytes;  // EncodeMessage(message)
};

// Mutable-item value of a BEP 44 put/get: a bencoded 100-byte string.
std::string ItemValue(Rng& rng) { return "100:" + RandomString(100, rng); }

Message Query(Method method, Rng& rng) {
  Message m = Message::MakeQuery("aa", method, RandomBytes<NodeId>(rng));
  m.version = std::string("BK\x00\x01", 4);
  return m;
}

Message Reply(Rng& rng) {
  Message m = Message::MakeResponse("aa", RandomBytes<NodeId>(rng));
  m.version = std::string("LT\x02\x00", 4);
  m.ip = PublicAddress(1);  // BEP 42: the asker's address, as nodes send
  return m;
}

std::vector<NodeInfo> Nodes(Rng& rng) { return RandomNodes(kNodesPerReply, rng); }

std::vector<Case> MakeCases() {
  Rng rng(14);
  std::vector<Case> cases;
  auto add = [&](std::string name, Message m) {
    cases.push_back({std::move(name), std::move(m), ""});
  };

  add("q_ping", Query(Method::kPing, rng));
  Message find = Query(Method::kFindNode, rng);
  find.query.target = RandomBytes<NodeId>(rng);
  add("q_find_node", find);
  Message get_peers = Query(Method::kGetPeers, rng);
  get_peers.query.info_hash = RandomBytes<Sha1Hash>(rng);
  add("q_get_peers", get_peers);
  Message announce = Query(Method::kAnnouncePeer, rng);
  announce.query.info_hash = RandomBytes<Sha1Hash>(rng);
  announce.query.port = 6881;
  announce.query.implied_port = true;
  announce.query.token = RandomString(8, rng);
  add("q_announce_peer", announce);
  Message sample = Query(Method::kSampleInfohashes, rng);
  sample.query.target = RandomBytes<NodeId>(rng);
  add("q_sample_infohashes", sample);
  Message get = Query(Method::kGet, rng);
  get.query.target = RandomBytes<NodeId>(rng);
  get.query.seq = 3;
  add("q_get", get);
  Message put = Query(Method::kPut, rng);
  put.query.token = RandomString(8, rng);
  put.query.value = ItemValue(rng);
  put.query.key = RandomString(32, rng);
  put.query.signature = RandomString(64, rng);
  put.query.salt = "salt";
  put.query.seq = 4;
  put.query.cas = 3;
  add("q_put_mutable", put);

  add("r_ping", Reply(rng));
  Message nodes = Reply(rng);
  nodes.response.nodes = Nodes(rng);
  add("r_find_node", nodes);
  Message with_nodes = Reply(rng);
  with_nodes.response.token = RandomString(8, rng);
  with_nodes.response.nodes = Nodes(rng);
  add("r_get_peers_nodes", with_nodes);
  Message with_peers = Reply(rng);
  with_peers.response.token = RandomString(8, rng);
  with_peers.response.values.emplace();
  for (size_t i = 0; i < kPeersPerReply; ++i) {
    with_peers.response.values->push_back(PublicAddress(1000 + i));
  }
  add("r_get_peers_values", with_peers);
  Message item = Reply(rng);
  item.response.token = RandomString(8, rng);
  item.response.nodes = Nodes(rng);
  item.response.value = ItemValue(rng);
  item.response.key = RandomString(32, rng);
  item.response.signature = RandomString(64, rng);
  item.response.seq = 4;
  add("r_get_mutable", item);
  Message samples = Reply(rng);
  samples.response.interval = 300;
  samples.response.num = 1234;
  samples.response.samples.emplace();
  for (size_t i = 0; i < kSamplesPerReply; ++i) {
    samples.response.samples->push_back(RandomBytes<Sha1Hash>(rng));
  }
  samples.response.nodes = Nodes(rng);
  add("r_sample_infohashes", samples);

  add("error", Message::MakeError("aa", kErrorProtocol, "Protocol Error"));

  for (Case& c : cases) c.bytes = EncodeMessage(c.message);
  return cases;
}

const std::vector<Case>& Cases() {
  static const std::vector<Case>* cases = new std::vector<Case>(MakeCases());
  return *cases;
}

lt::entry ToEntry(const std::string& bytes) {
  return lt::entry(lt::bdecode(lt::span<char const>(bytes.data(),
                                                    bytes.size())));
}

std::string LibtorrentEncode(const lt::entry& e) {
  std::string out;
  lt::bencode(std::back_inserter(out), e);
  return out;
}

void BtkitParse(benchmark::State& state, const Case* c) {
  Message m;
  for (auto _ : state) {
    if (!ParseMessage(c->bytes, &m).ok()) {
      state.SkipWithError("btkit rejected its own encoding");
      return;
    }
    benchmark::DoNotOptimize(m);
  }
  state.SetBytesProcessed(state.iterations() * c->bytes.size());
}

void LibtorrentParse(benchmark::State& state, const Case* c) {
  lt::bdecode_node node;
  lt::error_code ec;
  for (auto _ : state) {
    int pos = 0;
    if (lt::bdecode(c->bytes.data(), c->bytes.data() + c->bytes.size(), node,
                    ec, &pos, 100, 1'000'000) != 0) {
      state.SkipWithError("libtorrent rejected the message");
      return;
    }
    benchmark::DoNotOptimize(node);
  }
  state.SetBytesProcessed(state.iterations() * c->bytes.size());
}

void BtkitEncode(benchmark::State& state, const Case* c) {
  for (auto _ : state) {
    std::string out = EncodeMessage(c->message);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * c->bytes.size());
}

void LibtorrentEncodeBench(benchmark::State& state, const Case* c) {
  const lt::entry e = ToEntry(c->bytes);
  std::vector<char> out;
  for (auto _ : state) {
    out.clear();
    lt::bencode(std::back_inserter(out), e);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * c->bytes.size());
}

// Registered before main runs; checks that both libraries read and write
// exactly the bytes measured, so the ratios compare the same work.
const bool kRegistered = [] {
  for (const Case& c : Cases()) {
    Message m;
    absl::Status parsed = ParseMessage(c.bytes, &m);
    if (!parsed.ok() || EncodeMessage(m) != c.bytes ||
        LibtorrentEncode(ToEntry(c.bytes)) != c.bytes) {
      std::fprintf(stderr, "krpc case %s does not round-trip: %s\n",
                   c.name.c_str(), parsed.ToString().c_str());
      std::abort();
    }
    benchmark::RegisterBenchmark(("krpc_parse/btkit/" + c.name).c_str(),
                                 BtkitParse, &c);
    benchmark::RegisterBenchmark(("krpc_parse/libtorrent/" + c.name).c_str(),
                                 LibtorrentParse, &c);
    benchmark::RegisterBenchmark(("krpc_encode/btkit/" + c.name).c_str(),
                                 BtkitEncode, &c);
    benchmark::RegisterBenchmark(("krpc_encode/libtorrent/" + c.name).c_str(),
                                 LibtorrentEncodeBench, &c);
  }
  return true;
}();

}  // namespace
}  // namespace bt::dht::bench
