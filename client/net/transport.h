// Transport: one non-blocking byte stream to a peer, the layer under a peer
// session. TCP is one (tcp_transport.h); uTP plugs in the same way. The
// owner reads and writes when told it can, and pauses reading to apply
// back-pressure (rate limits, a busy disk).
//
//   class Conn : public bt::client::Transport::Observer { ... };
//   std::unique_ptr<bt::client::Transport> t = ...;  // e.g. TcpTransport
//   RETURN_IF_ERROR(t->Start(&conn));
//   // in Conn::OnTransportReadable():
//   ASSIGN_OR_RETURN(size_t n, t->Read(absl::MakeSpan(buf)));  // 0: none now
//   // in Conn::OnTransportWritable():
//   ASSIGN_OR_RETURN(size_t sent, t->Write(pending));  // 0: full now
//
// Errors from Read and Write are kUnavailable with a message saying what
// happened ("connection closed by peer", "read failed: ..."); after one the
// transport is dead and the owner closes it. Callbacks run on the event
// loop's thread; the observer may Close() (but not destroy) the transport
// from inside one.
#ifndef CLIENT_NET_TRANSPORT_H_
#define CLIENT_NET_TRANSPORT_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/endpoint.h"

namespace bt::client {

class Transport {
 public:
  class Observer {
   public:
    virtual ~Observer() = default;
    // OnTransportConnected: an outgoing connection is established.
    virtual void OnTransportConnected() = 0;
    // OnTransportReadable: Read has bytes (or an error) for us.
    virtual void OnTransportReadable() = 0;
    // OnTransportWritable: Write can take bytes again (only while
    // SetWantWrite(true)).
    virtual void OnTransportWritable() = 0;
    // OnTransportError: the connection failed (connect refused, reset).
    virtual void OnTransportError(absl::Status status) = 0;
  };

  virtual ~Transport() = default;

  // Start delivers callbacks to `observer` from now on; it must outlive the
  // transport, or Close() it first.
  virtual absl::Status Start(Observer* observer) = 0;
  // Read copies up to buf.size() received bytes into `buf`; 0 when none
  // are available now.
  virtual absl::StatusOr<size_t> Read(absl::Span<char> buf) = 0;
  // Write sends what it can of `data` now and returns how much; 0 when the
  // stream is full.
  virtual absl::StatusOr<size_t> Write(std::string_view data) = 0;
  // SendFile sends what it can of `length` bytes at `offset` of the open
  // file `fd` straight from the page cache (no copy through memory), for a
  // stream that can_send_file(); 0 when the stream is full. kDataLoss if
  // the file ends first.
  // BeginFileSends / EndFileSends bracket a run of writes mixed with
  // SendFile calls (where can_send_file()), so that message headers and
  // the file bytes after them leave in full segments.
  virtual void BeginFileSends() {}
  virtual void EndFileSends() {}
  virtual bool can_send_file() const { return false; }
  virtual absl::StatusOr<size_t> SendFile(int fd, int64_t offset,
                                          size_t length) {
    return absl::UnimplementedError("this stream cannot send from files");
  }
  // SetReading pauses (false) or resumes OnTransportReadable callbacks.
  virtual void SetReading(bool on) = 0;
  // SetWantWrite asks for OnTransportWritable while there is unsent data.
  virtual void SetWantWrite(bool on) = 0;
  // Close ends the stream; no callback runs afterwards. Idempotent.
  virtual void Close() = 0;
  virtual bool connected() const = 0;
  virtual const Endpoint& remote() const = 0;
  // is_utp: the stream runs over uTP (BEP 29) rather than TCP.
  virtual bool is_utp() const { return false; }
};

}  // namespace bt::client

#endif  // CLIENT_NET_TRANSPORT_H_
