// bencode_json: prints a bencoded file as JSON, built on btkit's bencode
// layer alone. Reads FILE, or standard input when FILE is "-" or absent.
//
//   bencode_json a.torrent
//   curl -s "$announce_url" | bencode_json --full-binary
//
// Binary strings (SHA-1 piece lists, compact peers) show as {"hex": ...},
// shortened unless --full-binary. Exit status 1 on a read or decode error,
// with the decoder's message (which names the byte offset) on stderr.
#include <cstdio>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/file_util.h"
#include "bencode/decoder.h"
#include "bencode/json.h"

namespace {

// kMaxInput is the decoder's own default bound on an input's size.
constexpr size_t kMaxInput = bt::bencode::DecodeOptions{}.max_input_size;

// ReadStdin reads standard input, refusing more than `max_size` bytes.
absl::StatusOr<std::string> ReadStdin(size_t max_size) {
  std::string data;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
    if (data.size() + n > max_size) {
      return absl::ResourceExhaustedError("stdin: more than " +
                                          std::to_string(max_size) + " bytes");
    }
    data.append(buf, n);
  }
  if (std::ferror(stdin)) return absl::UnavailableError("stdin: read error");
  return data;
}

int Usage() {
  std::fprintf(stderr, "usage: bencode_json [--full-binary] [FILE|-]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bt::bencode::JsonOptions options;
  std::string path = "-";
  int files = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--full-binary") {
      options.full_binary = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return Usage();
    } else if (++files > 1) {
      return Usage();
    } else {
      path = arg;
    }
  }
  absl::StatusOr<std::string> input =
      path == "-" ? ReadStdin(kMaxInput)
                  : bt::ReadFileToString(path, kMaxInput);
  if (!input.ok()) {
    std::fprintf(stderr, "bencode_json: %s\n",
                 input.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<bt::bencode::Document> doc = bt::bencode::Decode(*input);
  if (!doc.ok()) {
    std::fprintf(stderr, "bencode_json: %s: %s\n",
                 path == "-" ? "stdin" : path.c_str(),
                 doc.status().ToString().c_str());
    return 1;
  }
  std::string json = bt::bencode::ToJson(doc->root(), options);
  std::fwrite(json.data(), 1, json.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}
