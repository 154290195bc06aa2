#include "daemon/daemon.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/status_macros.h"

namespace bt::daemon {
namespace {

// Replies this long (a torrent-get of a few thousand torrents) are followed
// by ReleaseFreedMemory.
constexpr size_t kTrimAfterReply = 64 << 10;

// ReleaseFreedMemory hands the heap pages freed by a big save or reply
// back to the system: glibc keeps them resident otherwise, and a torrent-get
// of 10,000 torrents left 4 MiB behind each time.
void ReleaseFreedMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

// kMaxRecordsFile bounds torrents.json (about 200 bytes a torrent).
constexpr size_t kMaxRecordsFile = size_t{64} << 20;

absl::StatusOr<std::string> Absolute(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec)
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", ec.message()));
  return p.lexically_normal().string();
}

// LoadSettings: the saved settings with the command line's over them.
absl::StatusOr<DaemonSettings> LoadSettings(const std::string& path,
                                            const DaemonOptions& o) {
  absl::StatusOr<DaemonSettings> saved = LoadDaemonSettings(path);
  if (!saved.ok() && !absl::IsNotFound(saved.status())) return saved.status();
  DaemonSettings s = saved.ok() ? *saved : DaemonSettings();
  if (!saved.ok()) {
    s.peer_limit_global = o.client.max_connections;
    s.peer_limit_per_torrent = o.client.max_connections_per_torrent;
    s.encryption =
        o.client.encryption == protocol::EncryptionPolicy::kForced ? "required"
        : o.client.encryption == protocol::EncryptionPolicy::kDisabled
            ? "tolerated"
            : "preferred";
  }
  if (!o.download_dir.empty()) {
    ASSIGN_OR_RETURN(s.download_dir, Absolute(o.download_dir));
  }
  if (s.download_dir.empty()) {
    return absl::InvalidArgumentError(
        "no download directory: give one on the first start");
  }
  if (o.download_rate) {
    s.speed_limit_down_enabled = *o.download_rate > 0;
    if (*o.download_rate > 0)
      s.speed_limit_down = (*o.download_rate + 999) / 1000;
  }
  if (o.upload_rate) {
    s.speed_limit_up_enabled = *o.upload_rate > 0;
    if (*o.upload_rate > 0) s.speed_limit_up = (*o.upload_rate + 999) / 1000;
  }
  return s;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(DaemonOptions options) {
  ASSIGN_OR_RETURN(options.state_dir, Absolute(options.state_dir));
  RETURN_IF_ERROR(MakeDirectories(options.state_dir));
  std::unique_ptr<Daemon> d(new Daemon(std::move(options)));
  DaemonOptions& o = d->options_;
  ASSIGN_OR_RETURN(d->settings_, LoadSettings(d->settings_path(), o));
  RETURN_IF_ERROR(MakeDirectories(d->settings_.download_dir));
  std::vector<std::string> roots = o.allowed_roots;
  if (roots.empty()) roots.push_back(d->settings_.download_dir);
  for (std::string& r : roots) {
    ASSIGN_OR_RETURN(r, Absolute(r));
  }
  ASSIGN_OR_RETURN(AllowedRoots allowed, AllowedRoots::Make(roots));
  if (absl::Status s = allowed.Check(d->settings_.download_dir).status();
      !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the download directory: ", s.message()));
  }
  if (d->settings_.peer_port != 0)
    o.client.local_ports = {d->settings_.peer_port, 0};
  if (std::filesystem::exists(d->state_path())) {
    ASSIGN_OR_RETURN(d->client_, client::Client::Restore(d->state_path(),
                                                         nullptr, o.client));
  } else {
    ASSIGN_OR_RETURN(d->client_, client::Client::Create(o.client));
  }
  Daemon* self = d.get();
  ASSIGN_OR_RETURN(
      d->http_, RpcHttpServer::Start(
                    d->client_->loop(), o.http, [self](std::string_view body) {
                      std::string reply = self->rpc_->Handle(body);
                      if (reply.size() >= kTrimAfterReply) {
                        ReleaseFreedMemory();
                      }
                      return reply;
                    }));
  d->rpc_ = std::make_unique<TransmissionRpc>(
      d->client_.get(), &d->settings_,
      RpcOptions{.state_dir = o.state_dir,
                 .roots = std::move(allowed),
                 .session_id = d->http_->session_id(),
                 .on_change = [self] { self->dirty_ = true; },
                 .on_close = [self] { self->close_requested_ = true; }});
  d->rpc_->ApplySettings();
  if (std::filesystem::exists(d->records_path())) {
    ASSIGN_OR_RETURN(std::string records,
                     ReadFileToString(d->records_path(), kMaxRecordsFile));
    if (absl::Status s = d->rpc_->RestoreRecords(records); !s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat(d->records_path(), ": ", s.message()));
    }
  }
  RETURN_IF_ERROR(d->Save(/*with_resume_data=*/false));
  return d;
}

Daemon::~Daemon() {
  // The server's handler uses rpc_: stop serving first.
  http_.reset();
  rpc_.reset();
}

absl::Status Daemon::RunOnce(double timeout_seconds) {
  RETURN_IF_ERROR(client_->DoOneLoop(timeout_seconds));
  if (dirty_ && absl::Now() - last_save_ >= absl::Seconds(1)) {
    RETURN_IF_ERROR(Save(/*with_resume_data=*/false));
  }
  return absl::OkStatus();
}

absl::Status Daemon::Save(bool with_resume_data) {
  dirty_ = false;
  last_save_ = absl::Now();
  RETURN_IF_ERROR(SaveDaemonSettings(settings_path(), settings_));
  RETURN_IF_ERROR(WriteFileAtomically(records_path(), rpc_->SaveRecords()));
  absl::Status saved = client_->SaveState(state_path(), with_resume_data);
  ReleaseFreedMemory();  // a few MiB of text for many torrents
  return saved;
}

absl::Status Daemon::Shutdown() {
  // The state first, while it still says which torrents run; then each
  // running torrent's Stop writes its resume data (stopped ones wrote
  // theirs when they stopped), once rather than twice.
  absl::Status status = Save(/*with_resume_data=*/false);
  for (client::Torrent* t : client_->torrents()) status.Update(t->Stop());
  status.Update(client_->FinishStopAnnounces(absl::Milliseconds(500)));
  return status;
}

}  // namespace bt::daemon
