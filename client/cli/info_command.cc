// `bt info FILE.torrent|MAGNET [--json] [--strict]`: prints what a torrent
// file or a magnet link describes: name, info-hashes, piece length and
// count, total size, files, trackers, and the warnings of the parser (what
// it repaired or ignored, e.g. unsafe file names). A malformed input exits
// 1 with the parser's message; with --strict so does an unsafe file name.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "client/cli/command.h"
#include "client/cli/common.h"
#include "metainfo/magnet.h"
#include "metainfo/torrent_info.h"

namespace bt::client::cli {
namespace {

using metainfo::FileEntry;
using metainfo::MagnetLink;
using metainfo::TorrentInfo;

// JsonString quotes `s` for JSON. Valid UTF-8 passes through; other bytes
// are rendered as the code point of the same value (Latin-1).
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += absl::StrFormat("\\u%04x", c);
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      int len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
      bool valid = len > 0 && i + len <= s.size();
      for (int k = 1; valid && k < len; ++k) {
        valid = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
      }
      if (valid) {
        out.append(s.substr(i, len));
        i += len - 1;
      } else {
        out += absl::StrFormat("\\u%04x", c);
      }
    }
  }
  return out + "\"";
}

std::string JsonList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += JsonString(items[i]);
  }
  return out + "]";
}

void PrintTorrentText(const TorrentInfo& t) {
  std::printf("name:          %s\n", t.name().c_str());
  std::printf("version:       %s\n", metainfo::TorrentVersionName(t.version()));
  if (t.info_hash_v1()) {
    std::printf("info-hash v1:  %s\n", t.info_hash_v1()->ToHex().c_str());
  }
  if (t.info_hash_v2()) {
    std::printf("info-hash v2:  %s\n", t.info_hash_v2()->ToHex().c_str());
  }
  std::printf("piece length:  %lld\n",
              static_cast<long long>(t.piece_length()));
  std::printf("pieces:        %u\n", t.num_pieces());
  std::printf("total size:    %lld (%s)\n",
              static_cast<long long>(t.content_size()),
              HumanBytes(t.content_size(), 2).c_str());
  if (t.is_private()) std::printf("private:       yes\n");
  if (!t.comment().empty())
    std::printf("comment:       %s\n", t.comment().c_str());
  if (!t.created_by().empty()) {
    std::printf("created by:    %s\n", t.created_by().c_str());
  }
  if (t.creation_date()) {
    std::printf("creation date: %lld\n",
                static_cast<long long>(*t.creation_date()));
  }
  std::printf("files:         %zu\n", t.num_real_files());
  for (const FileEntry& f : t.files()) {
    if (f.pad()) continue;
    std::string attr = f.AttributeString();
    std::printf("  %14lld  %s%s\n", static_cast<long long>(f.size),
                f.PathString().c_str(),
                attr.empty() ? "" : (" [" + attr + "]").c_str());
  }
  std::printf("trackers:\n");
  for (size_t i = 0; i < t.trackers().size(); ++i) {
    for (const std::string& u : t.trackers()[i]) {
      std::printf("  tier %zu: %s\n", i, u.c_str());
    }
  }
  for (const std::string& w : t.web_seeds()) {
    std::printf("web seed:      %s\n", w.c_str());
  }
  for (const metainfo::ParseWarning& w : t.warnings()) {
    std::printf("warning:       %s\n", w.ToString().c_str());
  }
}

void PrintTorrentJson(const TorrentInfo& t) {
  std::string j = "{\n";
  j += "  \"name\": " + JsonString(t.name()) + ",\n";
  j += absl::StrFormat("  \"version\": \"%s\",\n",
                       metainfo::TorrentVersionName(t.version()));
  if (t.info_hash_v1()) {
    j += "  \"info_hash_v1\": \"" + t.info_hash_v1()->ToHex() + "\",\n";
  }
  if (t.info_hash_v2()) {
    j += "  \"info_hash_v2\": \"" + t.info_hash_v2()->ToHex() + "\",\n";
  }
  j += absl::StrFormat("  \"piece_length\": %d,\n", t.piece_length());
  j += absl::StrFormat("  \"num_pieces\": %d,\n", t.num_pieces());
  j += absl::StrFormat("  \"total_size\": %d,\n", t.content_size());
  j += absl::StrFormat("  \"private\": %s,\n",
                       t.is_private() ? "true" : "false");
  j += "  \"comment\": " + JsonString(t.comment()) + ",\n";
  j += "  \"created_by\": " + JsonString(t.created_by()) + ",\n";
  if (t.creation_date()) {
    j += absl::StrFormat("  \"creation_date\": %d,\n", *t.creation_date());
  }
  j += "  \"files\": [";
  bool first = true;
  for (const FileEntry& f : t.files()) {
    if (f.pad()) continue;
    j += first ? "\n" : ",\n";
    first = false;
    j += "    {\"path\": " + JsonString(f.PathString()) +
         absl::StrFormat(", \"size\": %d, \"offset\": %d", f.size, f.offset) +
         ", \"attr\": " + JsonString(f.AttributeString());
    if (f.pieces_root)
      j += ", \"pieces_root\": \"" + f.pieces_root->ToHex() + "\"";
    j += "}";
  }
  j += "\n  ],\n  \"trackers\": [";
  for (size_t i = 0; i < t.trackers().size(); ++i) {
    j += (i ? ", " : "") + JsonList(t.trackers()[i]);
  }
  j += "],\n  \"web_seeds\": " + JsonList(t.web_seeds()) + ",\n";
  j += "  \"warnings\": [";
  for (size_t i = 0; i < t.warnings().size(); ++i) {
    const metainfo::ParseWarning& w = t.warnings()[i];
    j += (i ? ", " : "") + std::string("{\"where\": ") + JsonString(w.where) +
         ", \"what\": " + JsonString(w.what) + "}";
  }
  j += "]\n}\n";
  std::fwrite(j.data(), 1, j.size(), stdout);
}

void PrintMagnet(const MagnetLink& m, bool json) {
  std::vector<std::string> so;
  for (const auto& r : m.select_only) {
    so.push_back(r.first == r.last ? absl::StrFormat("%d", r.first)
                                   : absl::StrFormat("%d-%d", r.first, r.last));
  }
  if (json) {
    std::string j = "{\n  \"name\": " + JsonString(m.display_name) + ",\n";
    if (m.info_hash_v1) {
      j += "  \"info_hash_v1\": \"" + m.info_hash_v1->ToHex() + "\",\n";
    }
    if (m.info_hash_v2) {
      j += "  \"info_hash_v2\": \"" + m.info_hash_v2->ToHex() + "\",\n";
    }
    j += "  \"trackers\": " + JsonList(m.trackers) + ",\n";
    j += "  \"web_seeds\": " + JsonList(m.web_seeds) + ",\n";
    j += "  \"peers\": " + JsonList(m.peers) + ",\n";
    j += "  \"select_only\": " + JsonList(so) + "\n}\n";
    std::fwrite(j.data(), 1, j.size(), stdout);
    return;
  }
  std::printf("name:          %s\n", m.display_name.c_str());
  if (m.info_hash_v1) {
    std::printf("info-hash v1:  %s\n", m.info_hash_v1->ToHex().c_str());
  }
  if (m.info_hash_v2) {
    std::printf("info-hash v2:  %s\n", m.info_hash_v2->ToHex().c_str());
  }
  for (const std::string& t : m.trackers)
    std::printf("tracker:       %s\n", t.c_str());
  for (const std::string& w : m.web_seeds)
    std::printf("web seed:      %s\n", w.c_str());
  for (const std::string& p : m.peers)
    std::printf("peer:          %s\n", p.c_str());
  for (const std::string& s : so) std::printf("select only:   %s\n", s.c_str());
}

struct InfoArgs {
  std::string input;
  bool json = false;
  bool strict = false;
};

void DeclareInfo(FlagSet& flags, InfoArgs& a) {
  flags.String("FILE.torrent|MAGNET", &a.input,
               "a torrent file, or a magnet link (magnet:?...)");
  flags.Bool("--json", &a.json, "print JSON instead of text");
  flags.Bool("--strict", &a.strict,
             "refuse unsafe file names instead of repairing them");
}

int RunInfo(const InfoArgs& a) {
  if (a.input.rfind("magnet:", 0) == 0) {
    absl::StatusOr<MagnetLink> m = metainfo::ParseMagnet(a.input);
    if (!m.ok()) return Fail("info", m.status());
    PrintMagnet(*m, a.json);
    return 0;
  }
  metainfo::ParseOptions options;
  options.strict_paths = a.strict;
  absl::StatusOr<TorrentInfo> t = ReadTorrentFile(a.input, options);
  if (!t.ok()) return Fail("info", t.status());
  if (a.json) {
    PrintTorrentJson(*t);
  } else {
    PrintTorrentText(*t);
  }
  return 0;
}

[[maybe_unused]] const bool kRegistered = RegisterCommand(MakeCommand<InfoArgs>(
    {"info", "describe a torrent or magnet link",
     "Prints a torrent's name, info-hashes, pieces, size, files and trackers,\n"
     "or what a magnet link names, and a warning for each repair the parser\n"
     "made (unsafe file names are sanitised as libtorrent does; --strict\n"
     "refuses them). A malformed input exits 1 with the parser's message.",
     DeclareInfo, RunInfo}));

}  // namespace
}  // namespace bt::client::cli
