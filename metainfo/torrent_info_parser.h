// Internal to //metainfo:torrent_info: the parser that fills a TorrentInfo
// from decoded bencode nodes, and the small lookup helpers its parts share.
// The parser's work is split by concern over several files:
//   info_dict.cc     the info dictionary, v1 file lists, hybrid agreement
//   file_tree.cc     the v2 `file tree` and `piece layers`
//   outer_fields.cc  the outer .torrent keys (trackers, web seeds, hints)
//   file_paths.cc    safe names and paths, duplicates
//   parse_util.cc    the helpers below
//
//   TorrentInfo t;
//   TorrentInfoParser parser(options, &t);
//   RETURN_IF_ERROR(parser.ParseInfo(info_node));
//
// Not part of the public API: include metainfo/torrent_info.h instead.
#ifndef METAINFO_TORRENT_INFO_PARSER_H_
#define METAINFO_TORRENT_INFO_PARSER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "bencode/decoder.h"
#include "metainfo/torrent_info.h"

namespace bt::metainfo {
namespace internal {

// Contextualise prefixes an error with its location; a missing key
// (kNotFound from the decoder) is malformed input, so kInvalidArgument.
absl::Status Contextualise(std::string_view where, const absl::Status& s);

// Bad is kInvalidArgument "where: what (at byte N)" for node `at`.
absl::Status Bad(std::string_view where, const bencode::Node& at,
                 std::string_view what);

// TooMany is kResourceExhausted for a list longer than `limit`.
absl::Status TooMany(std::string_view where, size_t limit);

// OptString looks `key` up; if present checks the type. `*out` stays
// nullopt if absent.
absl::Status OptString(const bencode::Node& dict, std::string_view key,
                       std::string_view where,
                       std::optional<std::string_view>* out);

// OptUtf8String is OptString preferring `key`.utf-8 when it is present.
absl::Status OptUtf8String(const bencode::Node& dict, std::string_view key,
                           std::string_view where,
                           std::optional<std::string_view>* out);

// OptInt is OptString for integers.
absl::Status OptInt(const bencode::Node& dict, std::string_view key,
                    std::string_view where, std::optional<int64_t>* out);

// StringList parses a list of strings into owned strings (at most
// `max_entries`, else kResourceExhausted).
absl::Status StringList(const bencode::Node& list, std::string_view where,
                        size_t max_entries, std::vector<std::string>* out);

// ParseAttributes ORs the BEP 47 `attr` letters of `dict` into
// `*attributes` (unknown letters are ignored).
absl::Status ParseAttributes(const bencode::Node& dict, std::string_view where,
                             uint8_t* attributes);

}  // namespace internal

// TorrentInfoParser fills a TorrentInfo from decoded nodes.
class TorrentInfoParser {
 public:
  TorrentInfoParser(const ParseOptions& options, TorrentInfo* t)
      : options_(options), t_(*t) {}

  absl::Status ParseInfo(const bencode::Node& info);
  absl::Status ParseOuter(const bencode::Node& root);
  // ParsePieceLayers adopts the layers of the files still missing one.
  // With `allow_missing` (a .torrent file) a file may go without; else
  // (AddPieceLayers) every missing layer must be given.
  absl::Status ParsePieceLayers(const bencode::Node& layers,
                                bool allow_missing);

 private:
  absl::Status ParseFileExtras(const bencode::Node& dict,
                               std::string_view where, FileEntry* f);
  absl::Status ParseV1Files(const bencode::Node& info,
                            std::vector<FileEntry>* out);
  absl::Status ParseV2Tree(const bencode::Node& tree, bool has_v1_files,
                           std::vector<FileEntry>* out);
  absl::Status WalkTree(const bencode::Node& dir,
                        std::vector<std::string>* prefix,
                        std::vector<FileEntry>* out);
  absl::Status ParseV2File(const bencode::Node& file_dict,
                           std::string_view where, FileEntry* f);
  // file_paths.cc: names and paths made safe (or, with
  // ParseOptions::strict_paths, checked), duplicates renamed or refused.
  absl::Status SafeName(std::string_view name, const bencode::Node& info);
  absl::Status SafePath(std::string_view where,
                        std::vector<std::string>* components);
  absl::Status SafeFilePaths(std::vector<FileEntry>* files);
  absl::Status CheckUniquePaths(const std::vector<FileEntry>& files);
  void MakeUniquePaths(std::vector<FileEntry>* files);
  // Warn records a repair (bounded by ParseOptions::max_warnings).
  void Warn(std::string where, std::string what);
  absl::Status UrlList(const bencode::Node& n, std::string_view where,
                       std::vector<std::string>* out);
  // WebSeedList reads `url-list` / `httpseeds`: a URL or a list whose
  // non-string entries are skipped (with a warning).
  absl::Status WebSeedList(const bencode::Node& n, std::string_view where,
                           std::vector<std::string>* out);

  const ParseOptions& options_;
  TorrentInfo& t_;
  int64_t piece_length_ = 0;
  size_t suppressed_warnings_ = 0;
};

}  // namespace bt::metainfo

#endif  // METAINFO_TORRENT_INFO_PARSER_H_
