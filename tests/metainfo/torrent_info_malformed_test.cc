// Table-driven test: each malformed torrent is refused with the expected
// error code and a message that names the problem. Unsafe names are refused
// only with ParseOptions::strict_paths (by default they are repaired: see
// torrent_info_compat_test.cc).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bencode/encoder.h"
#include "gtest/gtest.h"
#include "metainfo/torrent_info.h"
#include "tests/metainfo/test_torrents.h"

namespace bt::metainfo {
namespace {

using bencode::Value;
using testing::MakeTorrent;
using testing::MemFile;
using testing::Pattern;
using testing::Version;

struct Case {
  const char* name;
  Version version;
  std::function<void(Value::Dict& root, Value::Dict& info)> edit;
  absl::StatusCode code;
  const char* message;  // substring of the error message
  std::function<void(std::string& bytes)> raw_edit = nullptr;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<MemFile> Files() {
  return {{{"a.bin"}, Pattern(40000, 1), ""},
          {{"dir", "b.bin"}, Pattern(70000, 2), ""}};
}

Value::Dict& V1File(Value::Dict& info, size_t i) {
  return info["files"].list()[i].dict();
}
Value::Dict& TreeFile(Value::Dict& info, const std::vector<std::string>& p) {
  Value::Dict* d = &info["file tree"].dict();
  for (const std::string& c : p) d = &(*d)[c].dict();
  return (*d)[""].dict();
}

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

const std::vector<Case>& Cases() {
  static const auto* cases = new std::vector<Case>{
      // --- path traversal and unsafe names (strict_paths; see IsStrict) ---
      {"dotdot_component", Version::kV1,
       [](auto&, auto& info) {
         V1File(info, 0)["path"] = Value::List{"..", "..", "etc", "passwd"};
       },
       kInvalid, "'..' would leave the download directory"},
      {"absolute_path", Version::kV1,
       [](auto&, auto& info) {
         V1File(info, 0)["path"] = Value::List{"/etc/passwd"};
       },
       kInvalid, "contains a path separator"},
      {"backslash_traversal", Version::kV1,
       [](auto&, auto& info) {
         V1File(info, 0)["path"] = Value::List{"..\\..\\x"};
       },
       kInvalid, "contains a path separator"},
      {"windows_drive", Version::kV1,
       [](auto&, auto& info) { V1File(info, 0)["path"] = Value::List{"C:"}; },
       kInvalid, "drive letter"},
      {"empty_component", Version::kV1,
       [](auto&, auto& info) {
         V1File(info, 0)["path"] = Value::List{"dir", "", "x"};
       },
       kInvalid, "empty"},
      {"dot_component", Version::kV1,
       [](auto&, auto& info) { V1File(info, 0)["path"] = Value::List{"."}; },
       kInvalid, "'.'"},
      {"control_character", Version::kV1,
       [](auto&, auto& info) {
         V1File(info, 0)["path"] = Value::List{"bad\nname"};
       },
       kInvalid, "control character"},
      {"nul_in_name", Version::kV1,
       [](auto&, auto& info) { info["name"] = std::string("a\0b", 3); },
       kInvalid, "control character"},
      {"empty_path_list", Version::kV1,
       [](auto&, auto& info) { V1File(info, 0)["path"] = Value::List{}; },
       kInvalid, "missing or empty 'path'"},
      {"dotdot_name", Version::kV1,
       [](auto&, auto& info) { info["name"] = ".."; }, kInvalid, "info.name"},
      {"slash_in_name", Version::kV1,
       [](auto&, auto& info) { info["name"] = "/tmp"; }, kInvalid,
       "path separator"},
      {"utf8_path_traversal", Version::kV1,
       [](auto&, auto& info) {
         V1File(info, 0)["path.utf-8"] = Value::List{"..", "x"};
       },
       kInvalid, "'..'"},
      {"v2_tree_dotdot", Version::kV2,
       [](auto&, auto& info) {
         Value::Dict& tree = info["file tree"].dict();
         tree[".."] = tree["a.bin"];
         tree.erase("a.bin");
       },
       kInvalid, "'..'"},
      {"v2_tree_separator", Version::kV2,
       [](auto&, auto& info) {
         Value::Dict& tree = info["file tree"].dict();
         tree["x/../../y"] = tree["a.bin"];
         tree.erase("a.bin");
       },
       kInvalid, "path separator"},
      {"symlink_escapes", Version::kV1,
       [](auto&, auto& info) {
         V1File(info, 0)["attr"] = "l";
         V1File(info, 0)["symlink path"] = Value::List{"..", "..", "etc"};
       },
       kInvalid, "symlink path"},
      {"duplicate_path", Version::kV1,
       [](auto&, auto& info) {
         V1File(info, 1)["path"] = Value::List{"a.bin"};
       },
       kInvalid, "listed twice"},
      {"file_is_also_directory", Version::kV1,
       [](auto&, auto& info) {
         V1File(info, 1)["path"] = Value::List{"a.bin", "b.bin"};
       },
       kInvalid, "also a file"},
      // --- end of the strict_paths cases ---
      // --- piece length ---
      {"piece_length_zero", Version::kV1,
       [](auto&, auto& info) { info["piece length"] = 0; }, kInvalid,
       "piece length 0 is out of range"},
      {"piece_length_negative", Version::kV1,
       [](auto&, auto& info) { info["piece length"] = -16384; }, kInvalid,
       "out of range"},
      {"piece_length_huge", Version::kV1,
       [](auto&, auto& info) { info["piece length"] = int64_t{1} << 40; },
       kInvalid, "out of range"},
      {"v2_piece_length_not_power_of_two", Version::kV2,
       [](auto&, auto& info) { info["piece length"] = 3 * 16384; }, kInvalid,
       "not a power of two >= 16384"},
      {"v2_piece_length_too_small", Version::kV2,
       [](auto&, auto& info) { info["piece length"] = 8192; }, kInvalid,
       "not a power of two >= 16384"},
      // --- inconsistent lengths ---
      {"pieces_not_multiple_of_20", Version::kV1,
       [](auto&, auto& info) {
         info["pieces"] = info["pieces"].string_value() + "x";
       },
       kInvalid, "not a multiple of 20"},
      {"too_few_pieces", Version::kV1,
       [](auto&, auto& info) {
         std::string p = info["pieces"].string_value();
         info["pieces"] = p.substr(0, p.size() - 20);
       },
       kInvalid,
       "'pieces' holds 3 hashes but 110000 bytes in pieces of 32768 need 4"},
      {"too_many_pieces", Version::kV1,
       [](auto&, auto& info) {
         info["pieces"] = info["pieces"].string_value() + std::string(20, 0);
       },
       kInvalid, "'pieces' holds 5 hashes"},
      {"length_disagrees_with_pieces", Version::kV1,
       [](auto&, auto& info) { V1File(info, 1)["length"] = 200000; }, kInvalid,
       "'pieces' holds"},
      {"negative_length", Version::kV1,
       [](auto&, auto& info) { V1File(info, 0)["length"] = -1; }, kInvalid,
       "negative 'length'"},
      {"total_length_overflows", Version::kV1,
       [](auto&, auto& info) {
         V1File(info, 0)["length"] = int64_t{1} << 62;
         V1File(info, 1)["length"] = int64_t{1} << 62;
       },
       kInvalid, "overflow"},
      {"both_length_and_files", Version::kV1,
       [](auto&, auto& info) { info["length"] = 5; }, kInvalid,
       "both 'length' and 'files'"},
      {"neither_length_nor_files", Version::kV1,
       [](auto&, auto& info) { info.erase("files"); }, kInvalid,
       "neither 'length' nor 'files'"},
      {"empty_files_list", Version::kV1,
       [](auto&, auto& info) { info["files"] = Value::List{}; }, kInvalid,
       "empty list"},
      {"v2_piece_layer_wrong_size", Version::kV2,
       [](auto& root, auto&) {
         for (auto& [k, v] : root["piece layers"].dict()) {
           v = v.string_value().substr(32);
         }
       },
       kInvalid, "expected 64 for 2 pieces"},
      {"v2_pieces_root_wrong_size", Version::kV2,
       [](auto&, auto& info) {
         TreeFile(info, {"a.bin"})["pieces root"] = std::string(31, 'x');
       },
       kInvalid, "'pieces root' is not 32 bytes"},
      {"v2_pieces_root_missing", Version::kV2,
       [](auto&, auto& info) {
         TreeFile(info, {"a.bin"}).erase("pieces root");
       },
       kInvalid, "missing 'pieces root'"},
      {"v2_file_and_directory", Version::kV2,
       [](auto&, auto& info) {
         info["file tree"].dict()["a.bin"].dict()["x"] = Value::Dict{};
       },
       kInvalid, "both a file and a directory"},
      {"v2_empty_directory", Version::kV2,
       [](auto&, auto& info) {
         info["file tree"].dict()["empty"] = Value::Dict{};
       },
       kInvalid, "empty directory"},
      {"v2_empty_tree", Version::kV2,
       [](auto&, auto& info) { info["file tree"] = Value::Dict{}; }, kInvalid,
       "info.file tree: empty"},
      {"hybrid_size_mismatch", Version::kHybrid,
       [](auto&, auto& info) { TreeFile(info, {"a.bin"})["length"] = 40001; },
       kInvalid, "differs between v1 and v2"},
      {"hybrid_name_mismatch", Version::kHybrid,
       [](auto&, auto& info) {
         V1File(info, 0)["path"] = Value::List{"z.bin"};
       },
       kInvalid, "differs between v1 and v2"},
      {"hybrid_missing_pad", Version::kHybrid,
       [](auto&, auto& info) {
         Value::List& files = info["files"].list();
         files.erase(files.begin() + 1);  // the pad after a.bin
         std::string p = info["pieces"].string_value();
         info["pieces"] = p.substr(0, p.size() - 20);
       },
       kInvalid, "differs between v1 and v2"},
      {"hybrid_file_count_mismatch", Version::kHybrid,
       [](auto&, auto& info) {
         info["file tree"].dict()["c"] =
             Value::Dict{{"", Value::Dict{{"length", 0}}}};
       },
       kInvalid, "v1 lists 2 files, v2 file tree 3"},
      // --- versions ---
      {"unknown_meta_version", Version::kV2,
       [](auto&, auto& info) { info["meta version"] = 3; }, kInvalid,
       "unsupported meta version 3"},
      {"file_tree_without_meta_version", Version::kV2,
       [](auto&, auto& info) { info.erase("meta version"); }, kInvalid,
       "'file tree' without 'meta version'"},
      {"meta_version_without_file_tree", Version::kV2,
       [](auto&, auto& info) { info.erase("file tree"); }, kInvalid,
       "meta version 2 without 'file tree'"},
      {"neither_v1_nor_v2", Version::kV1,
       [](auto&, auto& info) { info.erase("pieces"); }, kInvalid,
       "neither 'pieces' (v1) nor 'file tree' (v2)"},
      // --- missing keys and wrong types ---
      {"missing_info", Version::kV1,
       [](auto& root, auto&) { root.erase("info"); }, kInvalid,
       "missing 'info'"},
      {"missing_name", Version::kV1,
       [](auto&, auto& info) { info.erase("name"); }, kInvalid,
       "missing 'name'"},
      {"missing_piece_length", Version::kV1,
       [](auto&, auto& info) { info.erase("piece length"); }, kInvalid,
       "missing 'piece length'"},
      {"info_is_a_list", Version::kV1,
       [](auto& root, auto&) { root["info"] = Value::List{1}; }, kInvalid,
       "expected dict"},
      {"name_is_an_integer", Version::kV1,
       [](auto&, auto& info) { info["name"] = 5; }, kInvalid, "name"},
      {"piece_length_is_a_string", Version::kV1,
       [](auto&, auto& info) { info["piece length"] = "16384"; }, kInvalid,
       "piece length"},
      {"pieces_is_an_integer", Version::kV1,
       [](auto&, auto& info) { info["pieces"] = 7; }, kInvalid, "pieces"},
      {"path_is_a_string", Version::kV1,
       [](auto&, auto& info) { V1File(info, 0)["path"] = "a.bin"; }, kInvalid,
       "info.files[0].path"},
      {"length_is_a_string", Version::kV1,
       [](auto&, auto& info) { V1File(info, 0)["length"] = "40000"; }, kInvalid,
       "length"},
      {"files_entry_is_a_string", Version::kV1,
       [](auto&, auto& info) { info["files"].list()[0] = "a.bin"; }, kInvalid,
       "info.files[0]"},
      {"files_is_a_dict", Version::kV1,
       [](auto&, auto& info) { info["files"] = Value::Dict{}; }, kInvalid,
       "files"},
      {"sha1_wrong_size", Version::kV1,
       [](auto&, auto& info) { V1File(info, 0)["sha1"] = "short"; }, kInvalid,
       "'sha1' is not 20 bytes"},
      {"private_is_a_string", Version::kV1,
       [](auto&, auto& info) { info["private"] = "1"; }, kInvalid, "private"},
      {"announce_is_a_list", Version::kV1,
       [](auto& root, auto&) { root["announce"] = Value::List{"x"}; }, kInvalid,
       "announce"},
      {"announce_list_tier_is_an_integer", Version::kV1,
       [](auto& root, auto&) { root["announce-list"] = Value::List{5}; },
       kInvalid, "announce-list[0]"},
      {"nodes_entry_malformed", Version::kV1,
       [](auto& root,
          auto&) { root["nodes"] = Value::List{Value(Value::List{"host"})}; },
       kInvalid, "[host, port] pair"},
      {"nodes_is_a_string", Version::kV1,
       [](auto& root, auto&) { root["nodes"] = "router.example:6881"; },
       kInvalid, "nodes"},
      {"nodes_port_is_zero", Version::kV1,
       [](auto& root, auto&) {
         root["nodes"] = Value::List{Value(Value::List{"a.example", 0})};
       },
       kInvalid, "nodes: entry is not a [host, port] pair"},
      {"nodes_port_is_too_large", Version::kV1,
       [](auto& root, auto&) {
         root["nodes"] = Value::List{Value(Value::List{"a.example", 65536})};
       },
       kInvalid, "nodes: entry is not a [host, port] pair"},
      {"nodes_port_is_a_string", Version::kV1,
       [](auto& root, auto&) {
         root["nodes"] = Value::List{Value(Value::List{"a.example", "6881"})};
       },
       kInvalid, "nodes: entry is not a [host, port] pair"},
      {"nodes_entry_has_three_items", Version::kV1,
       [](auto& root, auto&) {
         root["nodes"] = Value::List{Value(Value::List{"a.example", 1, 2})};
       },
       kInvalid, "nodes: entry is not a [host, port] pair"},
      {"nodes_host_is_empty", Version::kV1,
       [](auto& root, auto&) {
         root["nodes"] = Value::List{Value(Value::List{"", 6881})};
       },
       kInvalid, "nodes: host is not 1 to 253 bytes"},
      {"nodes_host_is_too_long", Version::kV1,
       [](auto& root, auto&) {
         root["nodes"] = Value::List{Value(Value::List{std::string(254, 'a'), 6881})};
       },
       kInvalid, "nodes: host is not 1 to 253 bytes"},
      {"nodes_host_has_a_nul", Version::kV1,
       [](auto& root, auto&) {
         root["nodes"] =
             Value::List{Value(Value::List{std::string("a\0b", 3), 6881})};
       },
       kInvalid, "nodes: host is not 1 to 253 bytes"},
      {"nodes_host_has_a_space", Version::kV1,
       [](auto& root, auto&) {
         root["nodes"] = Value::List{Value(Value::List{"a b", 6881})};
       },
       kInvalid, "nodes: host is not 1 to 253 bytes"},
      {"creation_date_is_a_string", Version::kV1,
       [](auto& root, auto&) { root["creation date"] = "today"; }, kInvalid,
       "creation date"},
      {"v2_tree_entry_is_a_string", Version::kV2,
       [](auto&, auto& info) { info["file tree"].dict()["a.bin"] = "x"; },
       kInvalid, "info.file tree/a.bin"},
      // --- broken encodings ---
      {"truncated", Version::kV1, nullptr, kInvalid, "",
       [](std::string& b) { b.resize(b.size() / 2); }},
      {"not_bencode", Version::kV1, nullptr, kInvalid, "",
       [](std::string& b) { b = "<html>404</html>"; }},
      {"root_is_a_list", Version::kV1, nullptr, kInvalid, "expected dict",
       [](std::string& b) { b = "l4:infoe"; }},
      {"empty_input", Version::kV1, nullptr, kInvalid, "",
       [](std::string& b) { b.clear(); }},
  };
  return *cases;
}

// IsStrict: the case is refused only with ParseOptions::strict_paths (the
// cases listed before "piece_length_zero").
bool IsStrict(const Case& c) {
  for (const Case& k : Cases()) {
    if (std::string_view(k.name) == c.name) return true;
    if (std::string_view(k.name) == "piece_length_zero") return false;
  }
  return false;
}

class MalformedTorrentTest : public ::testing::TestWithParam<Case> {};

TEST_P(MalformedTorrentTest, IsRefusedWithTheExpectedError) {
  const Case& c = GetParam();
  Value torrent = MakeTorrent("t", Files(), 32768, c.version);
  // The unmodified torrent is valid.
  ASSERT_TRUE(TorrentInfo::Parse(bencode::Encode(torrent)).ok());
  if (c.edit) c.edit(torrent.dict(), torrent.dict()["info"].dict());
  std::string bytes = bencode::Encode(torrent);
  if (c.raw_edit) c.raw_edit(bytes);
  ParseOptions options;
  options.strict_paths = IsStrict(c);
  absl::StatusOr<TorrentInfo> t = TorrentInfo::Parse(bytes, options);
  ASSERT_FALSE(t.ok()) << c.name << " was accepted";
  EXPECT_EQ(t.status().code(), c.code) << t.status();
  EXPECT_NE(t.status().message().find(c.message), std::string::npos)
      << "message: " << t.status().message() << "\nexpected: " << c.message;
}

INSTANTIATE_TEST_SUITE_P(Table, MalformedTorrentTest,
                         ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace bt::metainfo
