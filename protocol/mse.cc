#include "protocol/mse.h"

#include <openssl/bn.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "base/big_endian.h"
#include "base/byte_writer.h"
#include "base/random.h"
#include "base/sha.h"
#include "base/status_macros.h"
#include "protocol/handshake.h"

namespace bt::protocol {

std::string_view EncryptionPolicyName(EncryptionPolicy policy) {
  switch (policy) {
    case EncryptionPolicy::kDisabled:
      return "disabled";
    case EncryptionPolicy::kEnabled:
      return "enabled";
    case EncryptionPolicy::kForced:
      return "forced";
  }
  return "enabled";
}

std::optional<EncryptionPolicy> ParseEncryptionPolicy(std::string_view name) {
  for (EncryptionPolicy p : {EncryptionPolicy::kDisabled,
                             EncryptionPolicy::kEnabled,
                             EncryptionPolicy::kForced}) {
    if (name == EncryptionPolicyName(p)) return p;
  }
  return std::nullopt;
}

namespace {

constexpr char kPrimeHex[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA6"
    "3B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
    "E485B576625E7EC6F44C42E9A63A36210000000000090563";

// Prime returns P (built once; BIGNUMs are safe to share read-only).
const BIGNUM* Prime() {
  static const BIGNUM* p = [] {
    BIGNUM* bn = nullptr;
    BN_hex2bn(&bn, kPrimeHex);
    return bn;
  }();
  return p;
}

Sha1Hash Hash(std::string_view tag, ByteSpan a, ByteSpan b = {}) {
  Sha1Hasher h;
  h.Update(AsBytes(tag));
  h.Update(a);
  h.Update(b);
  return h.Final();
}

const char* StateName(MseHandshake::State s) {
  switch (s) {
    case MseHandshake::State::kStart:
      return "start";
    case MseHandshake::State::kAwaitingKey:
      return "awaiting the peer's key";
    case MseHandshake::State::kSyncing:
      return "synchronising";
    case MseHandshake::State::kReadingHeader:
      return "reading the header";
    case MseHandshake::State::kDone:
      return "done";
    case MseHandshake::State::kFailed:
      return "failed";
  }
  return "?";
}

MutableByteSpan Mutable(std::string* s, size_t from, size_t n) {
  return MutableByteSpan(reinterpret_cast<uint8_t*>(s->data()) + from, n);
}

}  // namespace

Rc4Stream::Rc4Stream(const Sha1Hash& key) {
  RC4_set_key(&key_, static_cast<unsigned>(key.size()), key.data());
  uint8_t discard[1024] = {};
  RC4(&key_, sizeof discard, discard, discard);
}

void SkeyTable::Add(const Sha1Hash& skey) {
  by_req2_[Hash("req2", skey.span())] = skey;
}

void SkeyTable::Remove(const Sha1Hash& skey) {
  by_req2_.erase(Hash("req2", skey.span()));
}

std::optional<Sha1Hash> SkeyTable::Find(const Sha1Hash& req2_hash) const {
  auto it = by_req2_.find(req2_hash);
  if (it == by_req2_.end()) return std::nullopt;
  return it->second;
}

MseHandshake::MseHandshake(const MseOptions& options, absl::Time now)
    : options_(options),
      state_(State::kStart),
      deadline_(now + options.timeout) {}

MseHandshake::~MseHandshake() = default;

absl::Status MseHandshake::Fail(absl::Status s) {
  state_ = State::kFailed;
  status_ = s;
  in_.clear();
  in_pos_ = 0;
  return s;
}

void MseHandshake::RandomBytes(MutableByteSpan out) const {
  if (options_.random_bytes) {
    options_.random_bytes(out);
  } else {
    bt::RandomBytes(out);
  }
}

absl::Status MseHandshake::MakeKeyPair() {
  RandomBytes(MutableByteSpan(private_key_));
  bssl::UniquePtr<BN_CTX> ctx(BN_CTX_new());
  bssl::UniquePtr<BIGNUM> x(
      BN_bin2bn(private_key_.data(), private_key_.size(), nullptr));
  bssl::UniquePtr<BIGNUM> g(BN_new());
  bssl::UniquePtr<BIGNUM> y(BN_new());
  if (!ctx || !x || !g || !y || !BN_set_word(g.get(), 2) ||
      !BN_mod_exp_mont_consttime(y.get(), g.get(), x.get(), Prime(), ctx.get(),
                                 nullptr) ||
      !BN_bn2bin_padded(public_key_.data(), public_key_.size(), y.get())) {
    return absl::InternalError("MSE: Diffie-Hellman key generation failed");
  }
  return absl::OkStatus();
}

absl::Status MseHandshake::ComputeSecret(ByteSpan peer_key) {
  bssl::UniquePtr<BN_CTX> ctx(BN_CTX_new());
  bssl::UniquePtr<BIGNUM> x(
      BN_bin2bn(private_key_.data(), private_key_.size(), nullptr));
  bssl::UniquePtr<BIGNUM> y(
      BN_bin2bn(peer_key.data(), peer_key.size(), nullptr));
  bssl::UniquePtr<BIGNUM> limit(BN_dup(Prime()));
  bssl::UniquePtr<BIGNUM> s(BN_new());
  if (!ctx || !x || !y || !limit || !s || !BN_sub_word(limit.get(), 1)) {
    return absl::InternalError("MSE: out of memory");
  }
  // 1 < Y < P - 1: anything else gives a guessable shared secret.
  if (BN_cmp_word(y.get(), 1) <= 0 || BN_cmp(y.get(), limit.get()) >= 0) {
    return absl::InvalidArgumentError(
        "MSE: the peer's public key is out of range (not an MSE peer?)");
  }
  if (!BN_mod_exp_mont_consttime(s.get(), y.get(), x.get(), Prime(), ctx.get(),
                                 nullptr) ||
      !BN_bn2bin_padded(secret_.data(), secret_.size(), s.get())) {
    return absl::InternalError("MSE: Diffie-Hellman failed");
  }
  return absl::OkStatus();
}

void MseHandshake::AppendPublicKeyAndPad(std::string* out) const {
  uint8_t r[2];
  RandomBytes(MutableByteSpan(r, 2));
  size_t pad = LoadBigEndian16(r) % (kMseMaxPad + 1);
  size_t start = out->size();
  out->append(AsChars(ByteSpan(public_key_)));
  out->append(pad, '\0');
  RandomBytes(Mutable(out, start + kMseKeySize, pad));
}

void MseHandshake::SetKeys(const Sha1Hash& skey, bool initiator) {
  Rc4Stream a(Hash("keyA", ByteSpan(secret_), skey.span()));
  Rc4Stream b(Hash("keyB", ByteSpan(secret_), skey.span()));
  send_ = initiator ? a : b;
  recv_ = initiator ? b : a;
}

void MseHandshake::Finish() {
  state_ = State::kDone;
  size_t old = payload_.size();
  payload_.append(Pending());
  Decrypt(&payload_, old);
  in_.clear();
  in_pos_ = 0;
}

absl::Status MseHandshake::Receive(std::string_view in, std::string* out) {
  if (!status_.ok()) return status_;
  bytes_received_ += in.size();
  if (state_ == State::kDone) {
    size_t old = payload_.size();
    payload_.append(in);
    Decrypt(&payload_, old);
    return absl::OkStatus();
  }
  if (state_ == State::kStart) {
    return Fail(absl::FailedPreconditionError(
        "MSE: bytes received before the handshake was started"));
  }
  in_.append(in);
  while (state_ != State::kDone) {
    absl::StatusOr<bool> progressed = Step(out);
    if (!progressed.ok()) return Fail(progressed.status());
    if (!*progressed) break;
  }
  if (state_ != State::kDone) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  return absl::OkStatus();
}

absl::Status MseHandshake::CheckDeadline(absl::Time now) {
  if (state_ == State::kDone || state_ == State::kFailed) return status_;
  if (now < deadline_) return absl::OkStatus();
  return Fail(absl::UnavailableError(
      absl::StrFormat("MSE: handshake timed out while %s (%d bytes received)",
                      StateName(state_), bytes_received_)));
}

// ---------------------------------------------------------------- initiator

MseInitiator::MseInitiator(const Sha1Hash& skey, std::string initial_payload,
                           const MseOptions& options, absl::Time now)
    : MseHandshake(options, now),
      skey_(skey),
      initial_payload_(std::move(initial_payload)),
      provide_(options.policy == EncryptionPolicy::kForced
                   ? kCryptoRc4
                   : kCryptoRc4 | kCryptoPlaintext) {}

absl::Status MseInitiator::Start(std::string* out) {
  if (state_ != State::kStart) {
    return absl::FailedPreconditionError("MSE: Start called twice");
  }
  if (options_.policy == EncryptionPolicy::kDisabled) {
    return Fail(absl::FailedPreconditionError(
        "MSE: encryption is disabled; use a plain handshake"));
  }
  if (initial_payload_.size() > 65535) {
    return Fail(absl::FailedPreconditionError(
        absl::StrFormat("MSE: initial payload of %d bytes exceeds 65535",
                        initial_payload_.size())));
  }
  if (absl::Status s = MakeKeyPair(); !s.ok()) return Fail(s);
  AppendPublicKeyAndPad(out);
  state_ = State::kAwaitingKey;
  return absl::OkStatus();
}

absl::StatusOr<bool> MseInitiator::Step(std::string* out) {
  std::string_view p = Pending();
  switch (state_) {
    case State::kAwaitingKey: {
      if (p.size() < kMseKeySize) return false;
      RETURN_IF_ERROR(ComputeSecret(AsBytes(p.substr(0, kMseKeySize))));
      Consume(kMseKeySize);
      SetKeys(skey_, /*initiator=*/true);
      // What VC looks like under the responder's keystream.
      Rc4Stream probe = recv_;
      probe.Apply(MutableByteSpan(encrypted_vc_));
      // Step 3: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
      // ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA).
      out->append(AsChars(Hash("req1", ByteSpan(secret_)).span()));
      Sha1Hash req2 = Hash("req2", skey_.span());
      Sha1Hash req3 = Hash("req3", ByteSpan(secret_));
      for (size_t i = 0; i < req2.size(); ++i) req2[i] ^= req3[i];
      out->append(AsChars(req2.span()));
      size_t start = out->size();
      ByteWriter(out)
          .U64(0)
          .U32(provide_)
          .U16(0)
          .U16(static_cast<uint16_t>(initial_payload_.size()))
          .Bytes(initial_payload_);
      send_.Apply(Mutable(out, start, out->size() - start));
      initial_payload_.clear();
      state_ = State::kSyncing;
      return true;
    }
    case State::kSyncing: {
      size_t pos = p.find(AsChars(ByteSpan(encrypted_vc_)));
      if (pos == std::string_view::npos || pos > kMseMaxPad) {
        if (pos != std::string_view::npos ||
            p.size() >= kMseMaxPad + kMseVcSize) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "MSE: encrypted VC not found within %d bytes after the "
              "responder's key",
              kMseMaxPad + kMseVcSize));
        }
        return false;
      }
      Consume(pos + kMseVcSize);
      uint8_t vc[kMseVcSize] = {};
      recv_.Apply(MutableByteSpan(vc));  // keep the keystream in step
      state_ = State::kReadingHeader;
      return true;
    }
    case State::kReadingHeader: {
      if (!have_select_) {
        if (p.size() < 6) return false;
        uint8_t h[6];
        recv_.ApplyTo(AsBytes(p.substr(0, 6)), h);
        Consume(6);
        uint32_t select = LoadBigEndian32(h);
        pad_d_length_ = LoadBigEndian16(h + 4);
        if ((select != kCryptoRc4 && select != kCryptoPlaintext) ||
            !(select & provide_)) {
          return absl::FailedPreconditionError(absl::StrFormat(
              "MSE: responder selected crypto method 0x%x, but we offered "
              "0x%x",
              select, provide_));
        }
        if (pad_d_length_ > kMseMaxPad) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "MSE: PadD length %d exceeds %d", pad_d_length_, kMseMaxPad));
        }
        selected_ = select;
        have_select_ = true;
        return true;
      }
      if (p.size() < pad_d_length_) return false;
      std::string pad(p.substr(0, pad_d_length_));
      recv_.Apply(Mutable(&pad, 0, pad.size()));
      Consume(pad_d_length_);
      Finish();
      return true;
    }
    default:
      return false;
  }
}

// ---------------------------------------------------------------- responder

MseResponder::MseResponder(const SkeyTable* skeys, const MseOptions& options,
                           absl::Time now)
    : MseHandshake(options, now), skeys_(skeys) {
  state_ = State::kAwaitingKey;
}

std::optional<Sha1Hash> MseResponder::FindSkeyWithUnpaddedSecret(
    ByteSpan obfuscated) const {
  // libtorrent up to 2.0.8 computes HASH('req3', S) over S's significant
  // bytes written to the front of an uninitialised 96-byte buffer. With one
  // leading zero byte in S (1 in 256 handshakes) only the buffer's last
  // byte is unknown: try all 256. More leading zeros are 256 times rarer
  // again and not worth the search.
  if (secret_[0] != 0 || secret_[1] == 0) return std::nullopt;
  std::array<uint8_t, kMseKeySize> shifted;
  std::copy(secret_.begin() + 1, secret_.end(), shifted.begin());
  for (int last = 0; last < 256; ++last) {
    shifted.back() = static_cast<uint8_t>(last);
    Sha1Hash mask = Hash("req3", ByteSpan(shifted));
    Sha1Hash x;
    for (size_t i = 0; i < x.size(); ++i) x[i] = obfuscated[i] ^ mask[i];
    if (std::optional<Sha1Hash> skey = skeys_->Find(x)) return skey;
  }
  return std::nullopt;
}

absl::StatusOr<bool> MseResponder::Step(std::string* out) {
  std::string_view p = Pending();
  switch (state_) {
    case State::kAwaitingKey: {
      if (p.empty()) return false;
      if (p[0] == kHandshakePrefix[0]) {
        size_t n = std::min(p.size(), kHandshakePrefix.size());
        if (p.substr(0, n) == kHandshakePrefix.substr(0, n)) {
          if (n < kHandshakePrefix.size()) return false;  // undecided yet
          if (options_.policy == EncryptionPolicy::kForced) {
            return absl::FailedPreconditionError(
                "MSE: plain BitTorrent handshake refused: encryption is "
                "forced");
          }
          plaintext_ = true;
          selected_ = 0;
          Finish();
          return true;
        }
      }
      if (options_.policy == EncryptionPolicy::kDisabled) {
        return absl::FailedPreconditionError(
            "MSE: not a plain BitTorrent handshake, and encryption is "
            "disabled");
      }
      if (p.size() < kMseKeySize) return false;
      RETURN_IF_ERROR(MakeKeyPair());
      RETURN_IF_ERROR(ComputeSecret(AsBytes(p.substr(0, kMseKeySize))));
      Consume(kMseKeySize);
      AppendPublicKeyAndPad(out);
      req1_ = Hash("req1", ByteSpan(secret_));
      req3_ = Hash("req3", ByteSpan(secret_));
      state_ = State::kSyncing;
      return true;
    }
    case State::kSyncing: {
      size_t pos = p.find(AsChars(req1_.span()));
      if (pos == std::string_view::npos || pos > kMseMaxPad) {
        if (pos != std::string_view::npos || p.size() >= kMseMaxPad + 20) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "MSE: HASH('req1', S) not found within %d bytes after the "
              "initiator's key",
              kMseMaxPad + 20));
        }
        return false;
      }
      Consume(pos + 20);
      state_ = State::kReadingHeader;
      return true;
    }
    case State::kReadingHeader:
      break;
    default:
      return false;
  }
  switch (field_) {
    case Field::kSkey: {
      if (p.size() < 20) return false;
      Sha1Hash x;
      for (size_t i = 0; i < x.size(); ++i) {
        x[i] = static_cast<uint8_t>(p[i]) ^ req3_[i];
      }
      skey_ = skeys_->Find(x);
      if (!skey_) skey_ = FindSkeyWithUnpaddedSecret(AsBytes(p.substr(0, 20)));
      if (!skey_) {
        return absl::NotFoundError(
            "MSE: the stream's SKEY matches no torrent we serve");
      }
      Consume(20);
      SetKeys(*skey_, /*initiator=*/false);
      field_ = Field::kVcProvide;
      return true;
    }
    case Field::kVcProvide: {
      if (p.size() < 14) return false;
      uint8_t h[14];
      recv_.ApplyTo(AsBytes(p.substr(0, 14)), h);
      Consume(14);
      for (size_t i = 0; i < kMseVcSize; ++i) {
        if (h[i] != 0) {
          return absl::InvalidArgumentError(
              "MSE: VC does not decrypt to zeros");
        }
      }
      provide_ = LoadBigEndian32(h + 8);
      pad_c_length_ = LoadBigEndian16(h + 12);
      if (pad_c_length_ > kMseMaxPad) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "MSE: PadC length %d exceeds %d", pad_c_length_, kMseMaxPad));
      }
      field_ = Field::kPadC;
      return true;
    }
    case Field::kPadC: {
      if (p.size() < size_t{pad_c_length_} + 2) return false;
      std::string h(p.substr(0, pad_c_length_ + 2));
      recv_.Apply(Mutable(&h, 0, h.size()));
      Consume(h.size());
      ia_length_ = LoadBigEndian16(AsBytes(h).data() + pad_c_length_);
      if (ia_length_ > options_.max_initial_payload) {
        return absl::ResourceExhaustedError(absl::StrFormat(
            "MSE: initial payload of %d bytes exceeds the limit %d", ia_length_,
            options_.max_initial_payload));
      }
      field_ = Field::kInitialPayload;
      return true;
    }
    case Field::kInitialPayload: {
      if (p.size() < ia_length_) return false;
      uint32_t select;
      bool plaintext_ok = options_.policy != EncryptionPolicy::kForced &&
                          (provide_ & kCryptoPlaintext);
      if (plaintext_ok && !options_.prefer_rc4) {
        select = kCryptoPlaintext;
      } else if (provide_ & kCryptoRc4) {
        select = kCryptoRc4;
      } else if (plaintext_ok) {
        select = kCryptoPlaintext;
      } else {
        return absl::FailedPreconditionError(absl::StrFormat(
            "MSE: no acceptable crypto method in crypto_provide 0x%x%s",
            provide_,
            options_.policy == EncryptionPolicy::kForced ? " (RC4 is forced)"
                                                         : ""));
      }
      payload_.append(p.substr(0, ia_length_));
      recv_.Apply(Mutable(&payload_, payload_.size() - ia_length_, ia_length_));
      Consume(ia_length_);
      // Step 4: ENCRYPT(VC, crypto_select, len(PadD), PadD).
      size_t start = out->size();
      ByteWriter(out).U64(0).U32(select).U16(0);
      send_.Apply(Mutable(out, start, out->size() - start));
      selected_ = select;
      Finish();
      return true;
    }
  }
  return false;
}

}  // namespace bt::protocol
