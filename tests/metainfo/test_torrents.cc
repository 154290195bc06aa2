#include "tests/metainfo/test_torrents.h"

#include "base/sha.h"
#include "metainfo/merkle.h"

namespace bt::metainfo::testing {

using bencode::Value;

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>(x);
  }
  return s;
}

std::string PieceSpace(const std::vector<MemFile>& files, int64_t piece_length,
                       Version version) {
  std::string out;
  for (size_t i = 0; i < files.size(); ++i) {
    out += files[i].data;
    bool last = i + 1 == files.size();
    if (version != Version::kV1 && !last && out.size() % piece_length) {
      out.append(piece_length - out.size() % piece_length, '\0');
    }
  }
  return out;
}

namespace {

Sha256Hash FileRoot(const std::string& data, int64_t piece_length,
                    std::string* layer_out) {
  std::vector<Sha256Hash> leaves;
  for (size_t i = 0; i < data.size(); i += kMerkleBlockSize) {
    leaves.push_back(
        Sha256(AsBytes(std::string_view(data).substr(i, kMerkleBlockSize))));
  }
  Sha256Hash root = FileMerkleRoot(leaves);
  layer_out->clear();
  if (data.size() > static_cast<size_t>(piece_length)) {
    for (const Sha256Hash& h :
         PieceLayerFromLeaves(leaves, piece_length / kMerkleBlockSize)) {
      layer_out->append(h.ToString());
    }
  }
  return root;
}

}  // namespace

Value MakeTorrent(const std::string& name, const std::vector<MemFile>& files,
                  int64_t piece_length, Version version, bool single) {
  Value::Dict info;
  info["name"] = name;
  info["piece length"] = piece_length;
  Value::Dict layers;
  if (version != Version::kV1) {
    info["meta version"] = 2;
    Value::Dict tree;
    for (const MemFile& f : files) {
      Value::Dict* dir = &tree;
      for (size_t i = 0; i + 1 < f.path.size(); ++i) {
        Value& sub = (*dir)[f.path[i]];
        if (!sub.is_dict()) sub = Value::Dict{};
        dir = &sub.dict();
      }
      Value::Dict props;
      props["length"] = static_cast<int64_t>(f.data.size());
      if (!f.attr.empty()) props["attr"] = f.attr;
      if (!f.data.empty()) {
        std::string layer;
        Sha256Hash root = FileRoot(f.data, piece_length, &layer);
        props["pieces root"] = root.ToString();
        if (!layer.empty()) layers[root.ToString()] = layer;
      }
      (*dir)[f.path.back()] = Value::Dict{{"", props}};
    }
    info["file tree"] = tree;
  }
  if (version != Version::kV2) {
    std::string space = PieceSpace(files, piece_length, version);
    std::string pieces;
    for (size_t i = 0; i < space.size(); i += piece_length) {
      pieces += Sha1(AsBytes(std::string_view(space).substr(i, piece_length)))
                    .ToString();
    }
    info["pieces"] = pieces;
    if (single) {
      info["length"] = static_cast<int64_t>(files[0].data.size());
      if (!files[0].attr.empty()) info["attr"] = files[0].attr;
    } else {
      Value::List list;
      int64_t offset = 0;
      for (size_t i = 0; i < files.size(); ++i) {
        const MemFile& f = files[i];
        Value::Dict entry;
        entry["length"] = static_cast<int64_t>(f.data.size());
        Value::List path;
        for (const std::string& c : f.path) path.push_back(c);
        entry["path"] = path;
        if (!f.attr.empty()) entry["attr"] = f.attr;
        list.push_back(entry);
        offset += f.data.size();
        bool last = i + 1 == files.size();
        if (version == Version::kHybrid && !last && offset % piece_length) {
          int64_t pad = piece_length - offset % piece_length;
          list.push_back(
              Value::Dict{{"attr", "p"},
                          {"length", pad},
                          {"path", Value::List{".pad", std::to_string(pad)}}});
          offset += pad;
        }
      }
      info["files"] = list;
    }
  }
  Value::Dict root;
  root["announce"] = "http://tracker.example/announce";
  root["info"] = info;
  if (!layers.empty()) root["piece layers"] = layers;
  return root;
}

}  // namespace bt::metainfo::testing
