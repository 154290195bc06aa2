// `bt bencode FILE [--lenient] [--full]`: prints a bencoded file as JSON.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "bencode/decoder.h"
#include "bencode/json.h"

namespace bt::client {

int RunBencodeCommand(const std::vector<std::string>& args) {
  std::string path;
  bencode::DecodeOptions decode_options;
  bencode::JsonOptions json_options;
  for (const std::string& a : args) {
    if (a == "--lenient") {
      decode_options.allow_unsorted_keys = true;
    } else if (a == "--full") {
      json_options.full_binary = true;
    } else if (path.empty() && (a.empty() || a[0] != '-' || a == "-")) {
      path = a;
    } else {
      std::fprintf(stderr, "bt bencode: unexpected argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: bt bencode FILE|- [--lenient] [--full]\n");
    return 2;
  }
  std::string bytes;
  if (path == "-") {
    bytes.assign(std::istreambuf_iterator<char>(std::cin),
                 std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "bt bencode: cannot open %s\n", path.c_str());
      return 1;
    }
    bytes.assign(std::istreambuf_iterator<char>(in),
                 std::istreambuf_iterator<char>());
  }
  decode_options.max_input_size = bytes.size() + 1;
  auto doc = bencode::Decode(bytes, decode_options);
  if (!doc.ok()) {
    std::fprintf(stderr, "bt bencode: %s: %s\n", path.c_str(),
                 std::string(doc.status().message()).c_str());
    return 1;
  }
  std::string json = bencode::ToJson(doc->root(), json_options);
  std::fwrite(json.data(), 1, json.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

}  // namespace bt::client
