#include "tracker/http_response.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace bt::tracker {
namespace {

constexpr size_t kMaxChunkLine = 1024;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string Quote(std::string_view s) {
  return absl::CHexEscape(std::string(s.substr(0, 80)));
}

}  // namespace

std::string BuildHttpGetRequest(const TrackerUrl& url,
                                std::string_view user_agent,
                                std::string_view extra_headers) {
  return absl::StrFormat(
      "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
      "Accept-Encoding: identity\r\nConnection: close\r\n%s\r\n",
      url.path_query, url.HostHeader(), user_agent, extra_headers);
}

std::optional<std::string_view> HttpResponse::Header(
    std::string_view lower_case_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_case_name) return std::string_view(value);
  }
  return std::nullopt;
}

bool HttpResponse::IsRedirect() const {
  return status == 301 || status == 302 || status == 303 || status == 307 ||
         status == 308;
}

absl::Status HttpResponseParser::Fail(absl::Status s) {
  state_ = State::kError;
  error_ = s;
  pending_.clear();
  return s;
}

bool HttpResponseParser::TakeLine(std::string* line) {
  size_t nl = pending_.find('\n');
  if (nl == std::string::npos) return false;
  size_t end = nl;
  if (end > 0 && pending_[end - 1] == '\r') --end;
  line->assign(pending_, 0, end);
  pending_.erase(0, nl + 1);
  pending_offset_ += nl + 1;
  if (state_ == State::kStatusLine || state_ == State::kHeaders ||
      state_ == State::kTrailers) {
    header_bytes_ += nl + 1;
  }
  return true;
}

absl::Status HttpResponseParser::ParseStatusLine(std::string_view line) {
  // HTTP/1.x SP 3DIGIT [SP reason]
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." ||
      !absl::ascii_isdigit(static_cast<unsigned char>(line[7])) ||
      line[8] != ' ' ||
      !std::all_of(line.begin() + 9, line.begin() + 12,
                   [](char c) { return c >= '0' && c <= '9'; }) ||
      (line.size() > 12 && line[12] != ' ')) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "HTTP response: bad status line \"%s\"", Quote(line)));
  }
  response_.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
                     (line[11] - '0');
  if (response_.status < 100) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "HTTP response: bad status code in \"%s\"", Quote(line)));
  }
  response_.reason = line.size() > 13 ? std::string(line.substr(13)) : "";
  return absl::OkStatus();
}

absl::Status HttpResponseParser::ParseHeaderLine(std::string_view line) {
  size_t line_offset = pending_offset_ - line.size() - 1;
  if (line[0] == ' ' || line[0] == '\t') {
    return absl::InvalidArgumentError(absl::StrFormat(
        "HTTP response: folded header line at byte %d", line_offset));
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0 ||
      !std::all_of(line.begin(), line.begin() + colon, IsTokenChar)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "HTTP response: bad header line \"%s\" at byte %d", Quote(line),
        line_offset));
  }
  if (response_.headers.size() >= limits_.max_headers) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "HTTP response: more than %d headers", limits_.max_headers));
  }
  response_.headers.emplace_back(
      absl::AsciiStrToLower(std::string(line.substr(0, colon))),
      std::string(Trim(line.substr(colon + 1))));
  return absl::OkStatus();
}

absl::Status HttpResponseParser::StartBody() {
  const int s = response_.status;
  if ((s >= 100 && s < 200) || s == 204 || s == 304) {
    state_ = State::kDone;
    return absl::OkStatus();
  }
  if (std::optional<std::string_view> te = response_.Header("transfer-encoding")) {
    std::string v = absl::AsciiStrToLower(std::string(*te));
    if (v != "chunked") {
      return absl::InvalidArgumentError(absl::StrFormat(
          "HTTP response: unsupported Transfer-Encoding \"%s\"", Quote(*te)));
    }
    state_ = State::kChunkSize;
    return absl::OkStatus();
  }
  std::optional<uint64_t> length;
  for (const auto& [name, value] : response_.headers) {
    if (name != "content-length") continue;
    if (value.empty() || value.size() > 15 ||
        !std::all_of(value.begin(), value.end(),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "HTTP response: bad Content-Length \"%s\"", Quote(value)));
    }
    uint64_t v = std::stoull(value);
    if (length && *length != v) {
      return absl::InvalidArgumentError(
          "HTTP response: conflicting Content-Length headers");
    }
    length = v;
  }
  if (length) {
    if (*length > limits_.max_body_bytes) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "HTTP response: Content-Length %d exceeds the limit of %d bytes",
          *length, limits_.max_body_bytes));
    }
    remaining_ = *length;
    state_ = remaining_ == 0 ? State::kDone : State::kBodyLength;
    return absl::OkStatus();
  }
  state_ = State::kBodyUntilEof;
  return absl::OkStatus();
}

absl::Status HttpResponseParser::AppendBody(std::string_view data) {
  if (response_.body.size() + data.size() > limits_.max_body_bytes) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "HTTP response: body exceeds the limit of %d bytes",
        limits_.max_body_bytes));
  }
  response_.body.append(data);
  return absl::OkStatus();
}

absl::Status HttpResponseParser::Feed(std::string_view data) {
  if (state_ == State::kError) return error_;
  if (state_ == State::kDone) return absl::OkStatus();
  consumed_ += data.size();
  pending_.append(data);
  std::string line;
  while (true) {
    switch (state_) {
      case State::kStatusLine:
      case State::kHeaders: {
        if (!TakeLine(&line)) {
          if (header_bytes_ + pending_.size() > limits_.max_header_bytes) {
            return Fail(absl::ResourceExhaustedError(absl::StrFormat(
                "HTTP response: headers exceed the limit of %d bytes",
                limits_.max_header_bytes)));
          }
          return absl::OkStatus();
        }
        if (header_bytes_ > limits_.max_header_bytes) {
          return Fail(absl::ResourceExhaustedError(absl::StrFormat(
              "HTTP response: headers exceed the limit of %d bytes",
              limits_.max_header_bytes)));
        }
        if (state_ == State::kStatusLine) {
          if (absl::Status s = ParseStatusLine(line); !s.ok()) return Fail(s);
          state_ = State::kHeaders;
        } else if (line.empty()) {
          if (response_.status >= 100 && response_.status < 200) {
            // An interim response (100 Continue): the real one follows.
            response_ = HttpResponse();
            state_ = State::kStatusLine;
          } else if (absl::Status s = StartBody(); !s.ok()) {
            return Fail(s);
          }
        } else if (absl::Status s = ParseHeaderLine(line); !s.ok()) {
          return Fail(s);
        }
        break;
      }
      case State::kBodyLength:
      case State::kChunkData: {
        if (pending_.empty()) return absl::OkStatus();
        size_t n = static_cast<size_t>(
            std::min<uint64_t>(remaining_, pending_.size()));
        if (absl::Status s = AppendBody(std::string_view(pending_).substr(0, n));
            !s.ok()) {
          return Fail(s);
        }
        pending_.erase(0, n);
        pending_offset_ += n;
        remaining_ -= n;
        if (remaining_ == 0) {
          state_ = state_ == State::kBodyLength ? State::kDone
                                                : State::kChunkDataEnd;
        }
        break;
      }
      case State::kBodyUntilEof: {
        if (absl::Status s = AppendBody(pending_); !s.ok()) return Fail(s);
        pending_offset_ += pending_.size();
        pending_.clear();
        return absl::OkStatus();
      }
      case State::kChunkSize: {
        size_t line_offset = pending_offset_;
        if (!TakeLine(&line)) {
          if (pending_.size() > kMaxChunkLine) {
            return Fail(absl::InvalidArgumentError(absl::StrFormat(
                "HTTP response: chunk size line too long at byte %d",
                line_offset)));
          }
          return absl::OkStatus();
        }
        std::string_view size_text = Trim(std::string_view(line).substr(
            0, std::string_view(line).find(';')));
        if (size_text.empty() || size_text.size() > 15 ||
            !std::all_of(size_text.begin(), size_text.end(), [](char c) {
              return absl::ascii_isxdigit(static_cast<unsigned char>(c));
            })) {
          return Fail(absl::InvalidArgumentError(absl::StrFormat(
              "HTTP response: bad chunk size \"%s\" at byte %d", Quote(line),
              line_offset)));
        }
        remaining_ = std::stoull(std::string(size_text), nullptr, 16);
        if (response_.body.size() + remaining_ > limits_.max_body_bytes) {
          return Fail(absl::ResourceExhaustedError(absl::StrFormat(
              "HTTP response: body exceeds the limit of %d bytes",
              limits_.max_body_bytes)));
        }
        state_ = remaining_ == 0 ? State::kTrailers : State::kChunkData;
        break;
      }
      case State::kChunkDataEnd: {
        size_t line_offset = pending_offset_;
        if (pending_.size() >= 1 && pending_[0] != '\r' && pending_[0] != '\n') {
          return Fail(absl::InvalidArgumentError(absl::StrFormat(
              "HTTP response: missing CRLF after chunk data at byte %d",
              line_offset)));
        }
        if (!TakeLine(&line)) {
          if (pending_.size() > 2) {
            return Fail(absl::InvalidArgumentError(absl::StrFormat(
                "HTTP response: missing CRLF after chunk data at byte %d",
                line_offset)));
          }
          return absl::OkStatus();
        }
        if (!line.empty()) {
          return Fail(absl::InvalidArgumentError(absl::StrFormat(
              "HTTP response: missing CRLF after chunk data at byte %d",
              line_offset)));
        }
        state_ = State::kChunkSize;
        break;
      }
      case State::kTrailers: {
        bool got = TakeLine(&line);
        if (header_bytes_ + (got ? 0 : pending_.size()) >
            limits_.max_header_bytes) {
          return Fail(absl::ResourceExhaustedError(
              "HTTP response: headers and trailers exceed the header limit"));
        }
        if (!got) return absl::OkStatus();
        if (line.empty()) state_ = State::kDone;
        break;
      }
      case State::kDone:
        pending_.clear();
        return absl::OkStatus();
      case State::kError:
        return error_;
    }
  }
}

absl::Status HttpResponseParser::FinishAtEof() {
  switch (state_) {
    case State::kDone:
      return absl::OkStatus();
    case State::kError:
      return error_;
    case State::kBodyUntilEof:
      state_ = State::kDone;
      return absl::OkStatus();
    case State::kStatusLine:
      return Fail(absl::InvalidArgumentError(absl::StrFormat(
          "HTTP response truncated: connection closed after %d bytes, before "
          "the status line ended",
          consumed_)));
    case State::kHeaders:
      return Fail(absl::InvalidArgumentError(
          "HTTP response truncated: connection closed inside the headers"));
    case State::kBodyLength:
      return Fail(absl::InvalidArgumentError(absl::StrFormat(
          "HTTP response truncated: connection closed with %d of %d body "
          "bytes missing",
          remaining_, remaining_ + response_.body.size())));
    default:
      return Fail(absl::InvalidArgumentError(
          "HTTP response truncated: connection closed inside a chunked body"));
  }
}

}  // namespace bt::tracker
