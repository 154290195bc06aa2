// Decodes and encodes the same corpus with btkit and with libtorrent in one
// run, and prints per input class the ns per input of each and the ratio.
//
//   benchmarks/bencode/run.sh            (builds the corpus, then runs this)
//   decode_benchmark CORPUS_DIR [--benchmark_min_time=0.5]
//
// Corpus files are named CLASS.SOURCE (see make_corpus.py); the inputs of a
// class are decoded in turn and the time is divided by their count.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "bencode/decoder.h"
#include "bencode/encoder.h"
#include "benchmark/benchmark.h"
#include "libtorrent/bdecode.hpp"
#include "libtorrent/bencode.hpp"
#include "libtorrent/entry.hpp"

namespace {

std::map<std::string, std::vector<std::string>> g_classes;

void LoadCorpus(const std::filesystem::path& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string name = e.path().filename().string();
    std::string cls = name.substr(0, name.find('.'));
    std::ifstream in(e.path(), std::ios::binary);
    g_classes[cls].emplace_back(std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>());
  }
}

// Both decoders reuse their token storage across inputs, as a program
// decoding a stream of messages would.
void BtkitDecode(benchmark::State& state, const std::vector<std::string>* in) {
  bt::bencode::DecodeOptions options;
  options.allow_unsorted_keys = true;  // same leniency as libtorrent's order
  bt::bencode::Document doc;
  for (auto _ : state) {
    for (const std::string& s : *in) {
      if (!bt::bencode::Decode(s, &doc, options).ok()) {
        state.SkipWithError("btkit rejected a corpus input");
        return;
      }
      benchmark::DoNotOptimize(doc.root());
    }
  }
  state.SetItemsProcessed(state.iterations() * in->size());
}

void LibtorrentDecode(benchmark::State& state,
                      const std::vector<std::string>* in) {
  lt::bdecode_node node;
  lt::error_code ec;
  for (auto _ : state) {
    for (const std::string& s : *in) {
      int pos = 0;
      if (lt::bdecode(s.data(), s.data() + s.size(), node, ec, &pos, 100,
                      8'000'000) != 0) {
        state.SkipWithError("libtorrent rejected a corpus input");
        return;
      }
      benchmark::DoNotOptimize(node);
    }
  }
  state.SetItemsProcessed(state.iterations() * in->size());
}

// Encoding starts from each library's owned value type.
void BtkitEncode(benchmark::State& state, const std::vector<std::string>* in) {
  std::vector<bt::bencode::Value> values;
  for (const std::string& s : *in) {
    bt::bencode::DecodeOptions options;
    options.allow_unsorted_keys = true;
    values.push_back(bt::bencode::Value::FromNode(
        bt::bencode::Decode(s, options)->root()));
  }
  std::string out;
  for (auto _ : state) {
    for (const auto& v : values) {
      out.clear();
      bt::bencode::EncodeTo(v, &out);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * in->size());
}

void LibtorrentEncode(benchmark::State& state,
                      const std::vector<std::string>* in) {
  std::vector<lt::entry> values;
  for (const std::string& s : *in) values.emplace_back(lt::bdecode(s));
  std::vector<char> out;
  for (auto _ : state) {
    for (const auto& v : values) {
      out.clear();
      lt::bencode(std::back_inserter(out), v);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * in->size());
}

// Collects ns per input of every run and prints the comparison table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      const std::string name = r.benchmark_name();
      // CPU time: on a shared machine, wall time also counts other work.
      const double ns_per_input = r.GetAdjustedCPUTime() /
                                  g_classes[ClassOf(name)].size();
      ns_[name] = ns_per_input;
    }
  }

  void PrintTable() const {
    for (const char* op : {"decode", "encode"}) {
      std::printf("\n%s: CPU ns per input (lower is better)\n", op);
      std::printf("%-20s %7s %14s %14s %10s\n", "class", "inputs", "btkit",
                  "libtorrent", "ratio");
      for (const auto& [cls, inputs] : g_classes) {
        auto ours = ns_.find(std::string(op) + "/btkit/" + cls);
        auto theirs = ns_.find(std::string(op) + "/libtorrent/" + cls);
        if (ours == ns_.end() || theirs == ns_.end()) continue;
        std::printf("%-20s %7zu %14.0f %14.0f %9.2fx\n", cls.c_str(),
                    inputs.size(), ours->second, theirs->second,
                    theirs->second / ours->second);
      }
    }
    std::printf("\nratio = libtorrent time / btkit time (above 1: btkit faster)\n");
  }

 private:
  static std::string ClassOf(const std::string& name) {
    return name.substr(name.rfind('/') + 1);
  }
  std::map<std::string, double> ns_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: decode_benchmark CORPUS_DIR\n");
    return 2;
  }
  LoadCorpus(argv[1]);
  if (g_classes.empty()) {
    std::fprintf(stderr, "decode_benchmark: no inputs in %s\n", argv[1]);
    return 1;
  }
  for (const auto& [cls, inputs] : g_classes) {
    benchmark::RegisterBenchmark(("decode/btkit/" + cls).c_str(), BtkitDecode,
                                 &inputs);
    benchmark::RegisterBenchmark(("decode/libtorrent/" + cls).c_str(),
                                 LibtorrentDecode, &inputs);
    benchmark::RegisterBenchmark(("encode/btkit/" + cls).c_str(), BtkitEncode,
                                 &inputs);
    benchmark::RegisterBenchmark(("encode/libtorrent/" + cls).c_str(),
                                 LibtorrentEncode, &inputs);
  }
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintTable();
  return 0;
}
