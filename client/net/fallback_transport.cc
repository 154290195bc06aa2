#include "client/net/fallback_transport.h"

#include <utility>

#include "absl/strings/str_format.h"

namespace bt::client {

FallbackTransport::FallbackTransport(std::unique_ptr<Transport> first,
                                     Factory fallback)
    : current_(std::move(first)), fallback_(std::move(fallback)) {}

FallbackTransport::~FallbackTransport() { Close(); }

absl::Status FallbackTransport::Start(Transport::Observer* observer) {
  observer_ = observer;
  return current_->Start(this);
}

absl::StatusOr<size_t> FallbackTransport::Read(absl::Span<char> buf) {
  return current_->Read(buf);
}

absl::StatusOr<size_t> FallbackTransport::Write(std::string_view data) {
  return current_->Write(data);
}

void FallbackTransport::SetReading(bool on) {
  reading_ = on;
  current_->SetReading(on);
}

void FallbackTransport::SetWantWrite(bool on) {
  want_write_ = on;
  current_->SetWantWrite(on);
}

void FallbackTransport::Close() {
  if (current_) current_->Close();
}

bool FallbackTransport::connected() const { return current_->connected(); }

const Endpoint& FallbackTransport::remote() const { return current_->remote(); }

void FallbackTransport::OnTransportConnected() {
  fallback_ = nullptr;  // this one carries the stream now
  observer_->OnTransportConnected();
}

void FallbackTransport::OnTransportReadable() {
  observer_->OnTransportReadable();
}

void FallbackTransport::OnTransportWritable() {
  observer_->OnTransportWritable();
}

void FallbackTransport::OnTransportError(absl::Status status) {
  if (current_->connected() || fallback_ == nullptr) {
    observer_->OnTransportError(std::move(status));
    return;
  }
  Factory make = std::exchange(fallback_, nullptr);
  absl::StatusOr<std::unique_ptr<Transport>> next = make();
  if (!next.ok()) {
    observer_->OnTransportError(absl::UnavailableError(absl::StrFormat(
        "%s; fallback: %s", status.message(), next.status().message())));
    return;
  }
  // The failed transport may be inside this very callback: close it now,
  // destroy it only when the next one replaces it after we return.
  current_->Close();
  std::unique_ptr<Transport> failed = std::exchange(current_, *std::move(next));
  current_->SetReading(reading_);
  current_->SetWantWrite(want_write_);
  if (absl::Status s = current_->Start(this); !s.ok()) {
    observer_->OnTransportError(std::move(s));
  }
  retired_ = std::move(failed);
}

}  // namespace bt::client
