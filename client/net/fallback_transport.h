// FallbackTransport: an outgoing connection that tries one transport and,
// if it fails before connecting, another, without its observer noticing.
// The client uses it to try uTP first and fall back to TCP, as libtorrent
// does by default.
//
//   auto t = std::make_unique<bt::client::FallbackTransport>(
//       std::move(utp), [&]() { return TcpTransport::Connect(loop, peer, {});
//       });
//   RETURN_IF_ERROR(t->Start(&observer));
//
// Once either transport has connected, errors reach the observer as they
// are. used_fallback() says which one carries the stream.
#ifndef CLIENT_NET_FALLBACK_TRANSPORT_H_
#define CLIENT_NET_FALLBACK_TRANSPORT_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "client/net/transport.h"

namespace bt::client {

class FallbackTransport : public Transport, private Transport::Observer {
 public:
  using Factory = std::function<absl::StatusOr<std::unique_ptr<Transport>>()>;

  // `first` must not be started yet; `fallback` makes the second one when
  // `first` fails to connect.
  FallbackTransport(std::unique_ptr<Transport> first, Factory fallback);
  ~FallbackTransport() override;

  absl::Status Start(Transport::Observer* observer) override;
  absl::StatusOr<size_t> Read(absl::Span<char> buf) override;
  absl::StatusOr<size_t> Write(std::string_view data) override;
  void SetReading(bool on) override;
  void SetWantWrite(bool on) override;
  void Close() override;
  bool connected() const override;
  const Endpoint& remote() const override;
  bool is_utp() const override { return current_->is_utp(); }
  bool can_send_file() const override { return current_->can_send_file(); }
  void BeginFileSends() override { current_->BeginFileSends(); }
  void EndFileSends() override { current_->EndFileSends(); }
  absl::StatusOr<size_t> SendFile(int fd, int64_t offset,
                                  size_t length) override {
    return current_->SendFile(fd, offset, length);
  }
  bool used_fallback() const { return fallback_ == nullptr; }

 private:
  void OnTransportConnected() override;
  void OnTransportReadable() override;
  void OnTransportWritable() override;
  void OnTransportError(absl::Status status) override;

  std::unique_ptr<Transport> current_;
  std::unique_ptr<Transport> retired_;  // the failed one, kept till we go
  Factory fallback_;                    // null once used
  Transport::Observer* observer_ = nullptr;
  bool reading_ = true, want_write_ = false;
};

}  // namespace bt::client

#endif  // CLIENT_NET_FALLBACK_TRANSPORT_H_
