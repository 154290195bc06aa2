// Message Stream Encryption / Protocol Encryption (MSE/PE): the obfuscated
// handshake BitTorrent clients run before the peer-wire handshake, as
// sans-I/O state machines. Bytes go in, bytes to send come out; the caller
// owns the socket and the clock. See specs/mse.md.
//
//   // Outgoing connection:
//   std::string handshake;                      // the BitTorrent handshake
//   bt::protocol::AppendHandshake(my_handshake, &handshake);
//   bt::protocol::MseInitiator mse(info_hash, handshake, {}, now);
//   std::string out;
//   RETURN_IF_ERROR(mse.Start(&out));           // send `out`
//   while (!mse.done()) {
//     out.clear();
//     RETURN_IF_ERROR(mse.Receive(ReadSome(), &out));  // send `out`
//     RETURN_IF_ERROR(mse.CheckDeadline(Now()));
//   }
//   std::string first = mse.TakeReceivedPayload();  // peer-wire bytes so
//   parser.Feed(first);                              // far (keep alive)
//   // From now on: mse.Encrypt(outgoing) before sending,
//   // mse.Decrypt(incoming) after receiving (no-ops if plaintext chosen).
//
//   // Incoming connections, any of many torrents:
//   bt::protocol::SkeyTable torrents;
//   torrents.Add(info_hash);
//   bt::protocol::MseResponder mse(&torrents, {}, now);
//   ... mse.Receive(bytes, &out) until done(); then mse.skey() tells which
//   torrent, or mse.plaintext_handshake() says the peer sent a plain
//   BitTorrent handshake (its bytes are in TakeReceivedPayload()).
//
// All cryptography and randomness come from BoringSSL: 768-bit
// Diffie-Hellman (BN), SHA-1 key derivation, RC4 with the first 1024
// keystream bytes discarded. Every limit of the spec is enforced (pads at
// most 512 bytes, synchronisation windows of 512 + 20 / 512 + 8 bytes,
// initial payload at most max_initial_payload bytes), so a handshake holds
// at most a few KiB plus the initial payload. After a failure the machine
// stays failed and the connection should be closed.
#ifndef PROTOCOL_MSE_H_
#define PROTOCOL_MSE_H_

#include <openssl/rc4.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/bytes.h"
#include "base/hash.h"

namespace bt::protocol {

// EncryptionPolicy is a client's stance on MSE.
enum class EncryptionPolicy {
  // Plain BitTorrent handshakes only; incoming MSE is refused.
  kDisabled,
  // Outgoing: MSE offering RC4 and plaintext (the responder picks; ours
  // picks RC4). Incoming: MSE or plain. A caller whose outgoing MSE attempt
  // fails before the peer's key arrives should retry in plaintext
  // (MseInitiator::PlaintextRetryAdvised).
  kEnabled,
  // MSE only, and only RC4 after the handshake.
  kForced,
};

// EncryptionPolicyName is "disabled", "enabled" or "forced";
// ParseEncryptionPolicy is its inverse (nullopt for any other name).
std::string_view EncryptionPolicyName(EncryptionPolicy policy);
std::optional<EncryptionPolicy> ParseEncryptionPolicy(std::string_view name);

// crypto_provide / crypto_select bits.
inline constexpr uint32_t kCryptoPlaintext = 0x01;
inline constexpr uint32_t kCryptoRc4 = 0x02;

// Sizes from the spec.
inline constexpr size_t kMseKeySize = 96;  // Ya, Yb, S
inline constexpr size_t kMseMaxPad = 512;  // PadA..PadD
inline constexpr size_t kMseVcSize = 8;

// Rc4Stream is one direction's RC4 keystream, keyed from a 20-byte SHA-1
// and with the first 1024 bytes already discarded.
class Rc4Stream {
 public:
  Rc4Stream() = default;
  explicit Rc4Stream(const Sha1Hash& key);
  // Apply XORs the keystream into `data` in place (encrypts or decrypts).
  void Apply(MutableByteSpan data) {
    RC4(&key_, data.size(), data.data(), data.data());
  }
  // ApplyTo writes `in` XOR keystream to `out` (at least in.size() bytes).
  void ApplyTo(ByteSpan in, uint8_t* out) {
    RC4(&key_, in.size(), in.data(), out);
  }

 private:
  RC4_KEY key_{};
};

// SkeyTable is the set of torrents a responder accepts, indexed by
// HASH('req2', SKEY) so an incoming stream is matched in O(1) whatever the
// number of torrents.
class SkeyTable {
 public:
  void Add(const Sha1Hash& skey);
  void Remove(const Sha1Hash& skey);
  // Find returns the SKEY whose HASH('req2', SKEY) is `req2_hash`.
  std::optional<Sha1Hash> Find(const Sha1Hash& req2_hash) const;
  size_t size() const { return by_req2_.size(); }

 private:
  absl::flat_hash_map<Sha1Hash, Sha1Hash> by_req2_;
};

struct MseOptions {
  EncryptionPolicy policy = EncryptionPolicy::kEnabled;
  // The whole handshake must finish by (start + timeout); CheckDeadline
  // enforces it. The spec's 30 s.
  absl::Duration timeout = absl::Seconds(30);
  // Responder with policy kEnabled: pick RC4 when the initiator offers
  // both methods (true), or plaintext (false).
  bool prefer_rc4 = true;
  // Largest initial payload (IA) accepted from an initiator (spec: 65535).
  size_t max_initial_payload = 65535;
  // Random source for keys and pads; BoringSSL's CSPRNG unless a test
  // needs reproducible bytes.
  void (*random_bytes)(MutableByteSpan) = nullptr;
};

// MseHandshake holds what both roles share; use MseInitiator/MseResponder.
class MseHandshake {
 public:
  enum class State {
    kStart,          // initiator: Start not called yet
    kAwaitingKey,    // waiting for the peer's 96-byte public key
    kSyncing,        // scanning for req1 (responder) / encrypted VC (initiator)
    kReadingHeader,  // the encrypted fields after the sync point
    kDone,           // handshake complete (MSE or, responder, plain)
    kFailed,
  };

  MseHandshake(const MseHandshake&) = delete;
  MseHandshake& operator=(const MseHandshake&) = delete;
  virtual ~MseHandshake();

  // Receive consumes the next bytes from the peer and appends bytes to send
  // (if any) to `*out`. On failure the returned error (also kept in
  // status()) says which rule broke: kInvalidArgument for a bad key, a
  // missing sync pattern, a VC that does not decrypt to zeros, a pad or
  // payload length out of range; kNotFound for an SKEY no torrent matches;
  // kFailedPrecondition when the policies leave no common method. Bytes
  // after the handshake are added to the received payload (decrypted).
  absl::Status Receive(std::string_view in, std::string* out);

  // CheckDeadline fails the handshake (kUnavailable) if it is not complete
  // at `now` and its deadline has passed.
  absl::Status CheckDeadline(absl::Time now);

  State state() const { return state_; }
  bool done() const { return state_ == State::kDone; }
  const absl::Status& status() const { return status_; }
  absl::Time deadline() const { return deadline_; }
  // bytes_received counts every byte given to Receive.
  uint64_t bytes_received() const { return bytes_received_; }

  // selected_method is kCryptoRc4 or kCryptoPlaintext once done (0 for a
  // responder that saw a plain BitTorrent handshake).
  uint32_t selected_method() const { return selected_; }
  bool encrypted() const { return selected_ == kCryptoRc4; }

  // TakeReceivedPayload returns (and forgets) the peer-wire bytes received
  // after the handshake, already decrypted: for a responder the initial
  // payload IA first. Call it after done() and after each later Receive.
  std::string TakeReceivedPayload() { return std::exchange(payload_, {}); }

  // Encrypt / Decrypt run post-handshake traffic through the selected
  // method in place: RC4 keystreams, or nothing for plaintext.
  // Precondition: done().
  void Encrypt(MutableByteSpan data) {
    if (encrypted()) send_.Apply(data);
  }
  void Decrypt(MutableByteSpan data) {
    if (encrypted()) recv_.Apply(data);
  }
  void Encrypt(std::string* data, size_t from = 0) {
    Encrypt(MutableByteSpan(reinterpret_cast<uint8_t*>(data->data()) + from,
                            data->size() - from));
  }
  void Decrypt(std::string* data, size_t from = 0) {
    Decrypt(MutableByteSpan(reinterpret_cast<uint8_t*>(data->data()) + from,
                            data->size() - from));
  }

 protected:
  MseHandshake(const MseOptions& options, absl::Time now);

  // Step consumes from in_ what the current state needs; returns false to
  // wait for more input.
  virtual absl::StatusOr<bool> Step(std::string* out) = 0;

  absl::Status Fail(absl::Status s);
  void RandomBytes(MutableByteSpan out) const;
  // MakeKeyPair picks a private key and writes our public key.
  absl::Status MakeKeyPair();
  // ComputeSecret sets s_ from the peer's public key.
  absl::Status ComputeSecret(ByteSpan peer_key);
  // AppendPublicKeyAndPad appends our key and 0..512 random pad bytes.
  void AppendPublicKeyAndPad(std::string* out) const;
  // SetKeys keys send_/recv_ for `skey`; `initiator` picks keyA/keyB.
  void SetKeys(const Sha1Hash& skey, bool initiator);
  // Finish marks the handshake done and moves the rest of in_ to payload_.
  void Finish();
  // Consume drops `n` bytes from the front of in_.
  void Consume(size_t n) { in_pos_ += n; }
  std::string_view Pending() const {
    return std::string_view(in_).substr(in_pos_);
  }

  MseOptions options_;
  State state_;
  absl::Status status_;
  absl::Time deadline_;
  uint64_t bytes_received_ = 0;
  std::string in_;  // received bytes not consumed yet (from in_pos_)
  size_t in_pos_ = 0;
  std::string payload_;  // decrypted peer-wire bytes after the handshake
  uint32_t selected_ = 0;
  std::array<uint8_t, 20> private_key_{};
  std::array<uint8_t, kMseKeySize> public_key_{};
  std::array<uint8_t, kMseKeySize> secret_{};
  Rc4Stream send_;
  Rc4Stream recv_;
};

// MseInitiator runs the side that opened the connection, for one torrent.
class MseInitiator : public MseHandshake {
 public:
  // `skey` is the torrent's info-hash; `initial_payload` (IA, at most 65535
  // bytes, usually the BitTorrent handshake) is sent encrypted in step 3.
  // `options.policy` must not be kDisabled (that means: no MSE at all).
  MseInitiator(const Sha1Hash& skey, std::string initial_payload,
               const MseOptions& options, absl::Time now);

  // Start appends step 1 (Ya, PadA) to `*out`. Call once, first.
  // kFailedPrecondition with policy kDisabled or an oversized IA.
  absl::Status Start(std::string* out);

  // PlaintextRetryAdvised: the policy is kEnabled and the handshake ended
  // (failed, or the caller saw the connection close) before the peer's
  // public key arrived, which is how a peer without MSE reacts. The caller
  // should then reconnect with a plain BitTorrent handshake.
  bool PlaintextRetryAdvised() const {
    return options_.policy == EncryptionPolicy::kEnabled &&
           (state_ == State::kAwaitingKey || state_ == State::kFailed) &&
           bytes_received_ < kMseKeySize;
  }

 private:
  absl::StatusOr<bool> Step(std::string* out) override;

  Sha1Hash skey_;
  std::string initial_payload_;
  uint32_t provide_;
  std::array<uint8_t, kMseVcSize> encrypted_vc_{};
  uint16_t pad_d_length_ = 0;
  bool have_select_ = false;
};

// MseResponder runs the side that accepted the connection. It tells apart
// a plain BitTorrent handshake (plaintext_handshake(), allowed unless the
// policy is kForced) from MSE, and finds the torrent in `skeys`. It also
// accepts the SKEY obfuscation of libtorrent up to 2.0.8, which hashes
// HASH('req3', S) over an unpadded S when S starts with a zero byte (1 in
// 256 handshakes); libtorrent's side of the opposite case cannot be fixed
// from here, so an initiator talking to it sees 1 in 256 handshakes end
// with the connection closed, and should simply reconnect.
class MseResponder : public MseHandshake {
 public:
  // `skeys` must outlive the responder.
  MseResponder(const SkeyTable* skeys, const MseOptions& options,
               absl::Time now);

  // skey is the matched torrent's info-hash (after the SKEY step).
  const std::optional<Sha1Hash>& skey() const { return skey_; }
  // plaintext_handshake: the peer sent a plain BitTorrent handshake; every
  // byte received is in TakeReceivedPayload(), unmodified, and Encrypt /
  // Decrypt do nothing.
  bool plaintext_handshake() const { return plaintext_; }

 private:
  enum class Field { kSkey, kVcProvide, kPadC, kInitialPayload };
  absl::StatusOr<bool> Step(std::string* out) override;
  // FindSkeyWithUnpaddedSecret matches an SKEY obfuscated the way
  // libtorrent (up to 2.0.8) does when S has a leading zero byte.
  std::optional<Sha1Hash> FindSkeyWithUnpaddedSecret(ByteSpan obfuscated) const;

  const SkeyTable* skeys_;
  std::optional<Sha1Hash> skey_;
  bool plaintext_ = false;
  Sha1Hash req1_;
  Sha1Hash req3_;
  Field field_ = Field::kSkey;
  uint32_t provide_ = 0;
  uint16_t pad_c_length_ = 0;
  uint16_t ia_length_ = 0;
};

}  // namespace bt::protocol

#endif  // PROTOCOL_MSE_H_
