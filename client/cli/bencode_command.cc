// `bt bencode FILE|- [--lenient] [--full]`: prints a bencoded file (or
// standard input) as JSON.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "bencode/decoder.h"
#include "bencode/json.h"
#include "client/cli/command.h"
#include "client/cli/common.h"

namespace bt::client::cli {
namespace {

struct BencodeArgs {
  std::string path;
  bencode::DecodeOptions decode;
  bencode::JsonOptions json;
};

void DeclareBencode(FlagSet& flags, BencodeArgs& a) {
  flags.String("FILE", &a.path, "the bencoded file, or - for standard input");
  flags.Bool("--lenient", &a.decode.allow_unsorted_keys,
             "accept dictionaries whose keys are out of order");
  flags.Bool("--full", &a.json.full_binary,
             "print binary strings whole instead of their first 32 bytes");
}

int RunBencode(const BencodeArgs& a) {
  absl::StatusOr<std::string> read =
      a.path == "-" ? std::string(std::istreambuf_iterator<char>(std::cin),
                                  std::istreambuf_iterator<char>())
                    : ReadFileToString(a.path, kMaxFileSize);
  if (!read.ok()) return Fail("bencode", read.status());
  const std::string& bytes = *read;
  bencode::DecodeOptions decode_options = a.decode;
  decode_options.max_input_size = bytes.size() + 1;
  auto doc = bencode::Decode(bytes, decode_options);
  if (!doc.ok()) {
    return Fail("bencode", absl::StrCat(a.path, ": ", doc.status().message()));
  }
  std::string json = bencode::ToJson(doc->root(), a.json);
  std::fwrite(json.data(), 1, json.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

[[maybe_unused]] const bool kRegistered = RegisterCommand(
    MakeCommand<BencodeArgs>({"bencode", "print a bencoded file as JSON", "",
                              DeclareBencode, RunBencode}));

}  // namespace
}  // namespace bt::client::cli
