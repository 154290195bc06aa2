#include "client/client_state.h"

#include "absl/strings/str_format.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "bencode/decoder.h"
#include "bencode/encoder.h"

namespace bt::client {
namespace {

std::string EncodeData(const ClientState& s) {
  std::string out;
  bencode::Writer w(&out);
  w.BeginDict();
  w.Key("dht").String(s.dht);
  w.Key("dht6").String(s.dht6);
  w.Key("settings").BeginDict();
  w.Key("download limit").Int(s.download_rate_limit);
  w.Key("encryption").String(s.encryption);
  w.Key("local hosts").BeginList();
  for (const std::string& h : s.local_hosts) w.String(h);
  w.End();
  w.Key("local ports").BeginList();
  for (uint16_t p : s.local_ports) w.Int(p);
  w.End();
  w.Key("upload limit").Int(s.upload_rate_limit);
  w.End();
  w.Key("timestamp").Int(s.timestamp);
  w.Key("torrents").BeginList();
  for (const ClientState::Torrent& t : s.torrents) {
    w.BeginDict()
        .Key("info-hash")
        .String(AsChars(t.info_hash.span()))
        .Key("resume path")
        .String(t.resume_path)
        .Key("save path")
        .String(t.save_path)
        .Key("source")
        .String(t.source)
        .Key("state")
        .String(t.state)
        .End();
  }
  w.End();
  w.End();
  return out;
}

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrFormat("client state: %s", what));
}

// ReadLocalHosts reads "local hosts" (version 1: the one "local host").
absl::Status ReadLocalHosts(const bencode::Node& settings, int64_t version,
                            std::vector<std::string>* out) {
  if (version < 2) {
    ASSIGN_OR_RETURN(std::string_view host, settings.GetString("local host"));
    out->push_back(std::string(host));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(bencode::Node hosts, settings.GetList("local hosts"));
  for (bencode::Node h : hosts.items()) {
    if (!h.is_string()) return Bad("a local host is not a string");
    out->push_back(std::string(h.string_value()));
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeClientState(const ClientState& state) {
  const std::string data = EncodeData(state);
  std::string out;
  bencode::Writer w(&out);
  w.BeginDict()
      .Key("checksum")
      .String(AsChars(Sha1(AsBytes(data)).span()))
      .Key("data")
      .Raw(data)
      .Key("format")
      .String(kClientStateFormat)
      .Key("version")
      .Int(kClientStateVersion)
      .End();
  return out;
}

absl::StatusOr<ClientState> DecodeClientState(std::string_view bytes) {
  bencode::DecodeOptions options;
  options.max_input_size = kMaxClientStateSize;
  absl::StatusOr<bencode::Document> doc = bencode::Decode(bytes, options);
  if (!doc.ok()) return Bad(std::string(doc.status().message()));
  bencode::Node root = doc->root();
  absl::StatusOr<std::string_view> format = root.GetString("format");
  if (!format.ok()) return Bad(std::string(format.status().message()));
  if (*format != kClientStateFormat) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "client state: format \"%s\" is not \"%s\"", *format,
        kClientStateFormat));
  }
  ASSIGN_OR_RETURN(int64_t version, root.GetInt("version"));
  if (version > kClientStateVersion) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "client state: version %d is newer than this btkit understands (%d)",
        version, kClientStateVersion));
  }
  ASSIGN_OR_RETURN(std::string_view checksum, root.GetString("checksum"));
  ASSIGN_OR_RETURN(bencode::Node data, root.GetDict("data"));
  if (checksum != AsChars(Sha1(AsBytes(data.raw())).span())) {
    return absl::DataLossError(
        "client state: checksum mismatch, the file is damaged or was "
        "tampered with");
  }
  ClientState s;
  ASSIGN_OR_RETURN(std::string_view dht, data.GetString("dht"));
  s.dht = std::string(dht);
  if (version >= 2) {
    ASSIGN_OR_RETURN(std::string_view dht6, data.GetString("dht6"));
    s.dht6 = std::string(dht6);
  }
  ASSIGN_OR_RETURN(s.timestamp, data.GetInt("timestamp"));
  ASSIGN_OR_RETURN(bencode::Node settings, data.GetDict("settings"));
  ASSIGN_OR_RETURN(s.download_rate_limit, settings.GetInt("download limit"));
  ASSIGN_OR_RETURN(s.upload_rate_limit, settings.GetInt("upload limit"));
  ASSIGN_OR_RETURN(std::string_view enc, settings.GetString("encryption"));
  s.encryption = std::string(enc);
  RETURN_IF_ERROR(ReadLocalHosts(settings, version, &s.local_hosts));
  ASSIGN_OR_RETURN(bencode::Node ports, settings.GetList("local ports"));
  for (bencode::Node p : ports.items()) {
    ASSIGN_OR_RETURN(int64_t port, p.AsInt());
    if (port < 0 || port > 65535) return Bad("a local port is out of range");
    s.local_ports.push_back(static_cast<uint16_t>(port));
  }
  ASSIGN_OR_RETURN(bencode::Node torrents, data.GetList("torrents"));
  for (bencode::Node t : torrents.items()) {
    ClientState::Torrent entry;
    ASSIGN_OR_RETURN(std::string_view hash, t.GetString("info-hash"));
    if (!Sha1Hash::FromSpan(AsBytes(hash), &entry.info_hash)) {
      return Bad("a torrent's info-hash is not 20 bytes");
    }
    ASSIGN_OR_RETURN(std::string_view source, t.GetString("source"));
    ASSIGN_OR_RETURN(std::string_view save, t.GetString("save path"));
    ASSIGN_OR_RETURN(std::string_view resume, t.GetString("resume path"));
    ASSIGN_OR_RETURN(std::string_view state, t.GetString("state"));
    entry.source = std::string(source);
    entry.save_path = std::string(save);
    entry.resume_path = std::string(resume);
    entry.state = std::string(state);
    s.torrents.push_back(std::move(entry));
  }
  return s;
}

absl::Status SaveClientState(const std::string& path,
                             const ClientState& state) {
  return WriteFileAtomically(path, EncodeClientState(state));
}

absl::StatusOr<ClientState> LoadClientState(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes,
                   ReadFileToString(path, kMaxClientStateSize));
  absl::StatusOr<ClientState> state = DecodeClientState(bytes);
  if (!state.ok()) {
    return absl::Status(
        state.status().code(),
        absl::StrFormat("%s: %s", path, state.status().message()));
  }
  return state;
}

}  // namespace bt::client
