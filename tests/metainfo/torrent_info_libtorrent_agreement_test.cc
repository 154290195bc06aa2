// btkit and libtorrent 2.0.8 (python3-libtorrent) read the same hand-made
// edge-case .torrent files the same way: both accept or both refuse each,
// and where both accept, they name the same files (after sanitising). The
// documented differences are listed in the cases (`same_paths` false).
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bencode/encoder.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_info.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::metainfo {
namespace {

namespace fs = std::filesystem;
using bencode::Value;
using testing::MakeTorrent;
using testing::MemFile;
using testing::Pattern;
using testing::Version;

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kLoader[] = "tests/metainfo/lt_load.py";

struct Case {
  const char* name;
  Version version;
  std::function<void(Value::Dict& root, Value::Dict& info)> edit;
  std::string suffix = "";  // raw bytes appended to the file
  bool same_paths = true;   // false where btkit names files differently
};

std::vector<MemFile> Files() {
  return {{{"a.bin"}, Pattern(40000, 1), ""},
          {{"dir", "b.bin"}, Pattern(70000, 2), ""}};
}

Value::Dict& V1Path0(Value::Dict& info) {
  return info["files"].list()[0].dict();
}
Value::Dict& TreeLeaf(Value::Dict& info, const std::string& key) {
  return info["file tree"].dict()[key].dict()[""].dict();
}
void SetPath0(Value::Dict& info, Value::List path) {
  V1Path0(info)["path"] = std::move(path);
}

std::vector<Case> Cases() {
  auto none = [](Value::Dict&, Value::Dict&) {};
  auto drop_layers = [](Value::Dict& root, Value::Dict&) {
    root.erase("piece layers");
  };
  return {
      {"clean_v1", Version::kV1, none},
      {"clean_hybrid", Version::kHybrid, none},
      {"trailing_bytes", Version::kV1, none, "\r\n<html>x</html>"},
      {"url_list_mixed", Version::kV1,
       [](Value::Dict& root, Value::Dict&) {
         root["url-list"] = Value::List{"http://a/", 5, Value::List{}};
       }},
      {"url_list_integer", Version::kV1,
       [](Value::Dict& root, Value::Dict&) { root["url-list"] = 5; }},
      {"v2_no_piece_layers", Version::kV2, drop_layers},
      {"hybrid_no_piece_layers", Version::kHybrid, drop_layers},
      {"v2_bad_piece_layer", Version::kV2,
       [](Value::Dict& root, Value::Dict&) {
         for (auto& [k, v] : root["piece layers"].dict()) {
           std::string s = v.string_value();
           s[0] ^= 1;
           v = s;
         }
       }},
      {"path_dotdot", Version::kV1,
       [](Value::Dict&, Value::Dict& info) {
         SetPath0(info, {"..", "..", "etc", "x"});
       }},
      {"path_dotdot_only", Version::kV1,
       [](Value::Dict&, Value::Dict& info) { SetPath0(info, {".."}); }},
      {"path_dot", Version::kV1,
       [](Value::Dict&, Value::Dict& info) { SetPath0(info, {".", "x"}); }},
      {"path_empty", Version::kV1,
       [](Value::Dict&, Value::Dict& info) { SetPath0(info, {"", "x"}); }},
      {"path_absolute", Version::kV1,
       [](Value::Dict&, Value::Dict& info) { SetPath0(info, {"/etc", "x"}); }},
      {"path_separators", Version::kV1,
       [](Value::Dict&, Value::Dict& info) {
         SetPath0(info, {"a/b", "c\\d"});
       }},
      {"path_control", Version::kV1,
       [](Value::Dict&, Value::Dict& info) {
         SetPath0(info, {"a\x01" "b", std::string("n\0ul", 4)});
       }},
      {"path_del", Version::kV1,
       [](Value::Dict&, Value::Dict& info) { SetPath0(info, {"d\x7f"}); },
       "", /*same_paths=*/false},  // libtorrent keeps DEL, btkit drops it
      {"path_drive", Version::kV1,
       [](Value::Dict&, Value::Dict& info) { SetPath0(info, {"C:", "x"}); },
       "", /*same_paths=*/false},  // libtorrent "C:", btkit "C_"
      {"path_overlong", Version::kV1,
       [](Value::Dict&, Value::Dict& info) {
         SetPath0(info, {std::string(300, 'a') + ".txt"});
       },
       "", /*same_paths=*/false},  // libtorrent cuts to 240, btkit to 255
      {"path_duplicate", Version::kV1,
       [](Value::Dict&, Value::Dict& info) {
         SetPath0(info, {"dir", "b.bin"});
       }},
      {"path_file_is_directory", Version::kV1,
       [](Value::Dict&, Value::Dict& info) { SetPath0(info, {"dir"}); }},
      // libtorrent names this file "t", beside its own directory "t/";
      // btkit keeps it inside, as "t/_".
      {"v2_tree_dotdot", Version::kV2,
       [](Value::Dict&, Value::Dict& info) {
         Value::Dict& tree = info["file tree"].dict();
         tree[".."] = tree["a.bin"];
         tree.erase("a.bin");
       },
       "", /*same_paths=*/false},
      {"name_empty", Version::kV1,
       [](Value::Dict&, Value::Dict& info) { info["name"] = ""; }},
      {"single_file_name_dotdot", Version::kV1,
       [](Value::Dict&, Value::Dict& info) {
         info.erase("files");
         info["length"] = 40000;
         info["name"] = "..";
         info["pieces"] = info["pieces"].string_value().substr(0, 40);
       }},
      {"name_separator", Version::kV1,
       [](Value::Dict&, Value::Dict& info) { info["name"] = "a/b"; }},
      {"name_dotdot", Version::kV1,
       [](Value::Dict&, Value::Dict& info) { info["name"] = ".."; }},
      {"no_data", Version::kV1,
       [](Value::Dict&, Value::Dict& info) {
         for (Value& f : info["files"].list()) f.dict()["length"] = 0;
         info["pieces"] = "";
       }},
      {"v2_pad_attribute", Version::kV2,
       [](Value::Dict&, Value::Dict& info) {
         TreeLeaf(info, "a.bin")["attr"] = "p";
       }},
      {"v2_zero_pieces_root", Version::kV2,
       [](Value::Dict&, Value::Dict& info) {
         TreeLeaf(info, "a.bin")["pieces root"] = std::string(32, '\0');
       }},
  };
}

struct LtResult {
  bool ok = false;
  std::string detail;  // paths joined by '|', or the error
};

std::map<std::string, LtResult> RunLibtorrent(
    const std::vector<std::string>& paths) {
  std::string cmd = std::string(kPython) + " " + kLoader;
  for (const std::string& p : paths) cmd += " '" + p + "'";
  std::map<std::string, LtResult> out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return out;
  std::string raw;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) raw.append(buf.data(), n);
  pclose(pipe);
  std::stringstream lines(raw);
  std::string line;
  while (std::getline(lines, line)) {
    size_t a = line.find('\t');
    size_t b = line.find('\t', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    out[line.substr(a + 1, b - a - 1)] =
        LtResult{line.substr(0, a) == "ok", line.substr(b + 1)};
  }
  return out;
}

TEST(LibtorrentAgreementTest, EdgeCaseTorrentsAreReadTheSameWay) {
  if (!fs::exists(kPython) ||
      std::system((std::string(kPython) +
                   " -c 'import libtorrent' >/dev/null 2>&1")
                      .c_str()) != 0) {
    GTEST_SKIP() << "needs /usr/bin/python3 with python3-libtorrent";
  }
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / "agreement";
  fs::create_directories(dir);
  const std::vector<Case> cases = Cases();
  std::vector<std::string> paths;
  std::vector<std::string> bytes;
  for (const Case& c : cases) {
    Value v = MakeTorrent("t", Files(), 32768, c.version);
    c.edit(v.dict(), v.dict()["info"].dict());
    bytes.push_back(bencode::Encode(v) + c.suffix);
    paths.push_back((dir / (std::string(c.name) + ".torrent")).string());
    std::ofstream(paths.back(), std::ios::binary) << bytes.back();
  }
  std::map<std::string, LtResult> lt = RunLibtorrent(paths);
  ASSERT_EQ(lt.size(), cases.size()) << "libtorrent did not answer each file";
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    const LtResult& theirs = lt[paths[i]];
    absl::StatusOr<TorrentInfo> ours = TorrentInfo::Parse(bytes[i]);
    EXPECT_EQ(ours.ok(), theirs.ok)
        << "btkit: " << ours.status() << "\nlibtorrent: " << theirs.detail;
    if (!ours.ok() || !theirs.ok || !cases[i].same_paths) continue;
    std::string names;
    for (const FileEntry& f : ours->files()) {
      if (f.pad()) continue;
      if (!names.empty()) names += "|";
      names += f.PathString();
    }
    EXPECT_EQ(names, theirs.detail);
  }
}

}  // namespace
}  // namespace bt::metainfo
