#include "client/web_seed.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "tracker/tracker_url.h"

namespace bt::client {
namespace {

// ParseDigits reads a non-negative decimal of plain digits (RFC 9110's
// 1*DIGIT: no sign, no blanks), which SimpleAtoi alone would not insist on.
bool ParseDigits(absl::string_view text, int64_t* out) {
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), absl::ascii_isdigit)) {
    return false;
  }
  return absl::SimpleAtoi(text, out);
}

// ParseContentRange reads "bytes FIRST-LAST/TOTAL" (TOTAL may be '*').
// (Debian's Abseil has its own string_view, hence absl::string_view.)
bool ParseContentRange(std::string_view text, int64_t* first, int64_t* last,
                       int64_t* total) {
  absl::string_view v =
      absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size()));
  if (!absl::ConsumePrefix(&v, "bytes ")) return false;
  std::pair<absl::string_view, absl::string_view> range_total =
      absl::StrSplit(v, absl::MaxSplits('/', 1));
  std::pair<absl::string_view, absl::string_view> ends =
      absl::StrSplit(range_total.first, absl::MaxSplits('-', 1));
  if (!ParseDigits(ends.first, first) || !ParseDigits(ends.second, last)) {
    return false;
  }
  if (range_total.second == "*") {
    *total = -1;
    return true;
  }
  return ParseDigits(range_total.second, total);
}

}  // namespace

std::string WebSeedRequest::RangeHeader() const {
  return absl::StrFormat("Range: bytes=%d-%d\r\n", first, first + length - 1);
}

absl::StatusOr<WebSeed> WebSeed::Create(std::string url,
                                        const metainfo::TorrentInfo& info,
                                        WebSeedOptions options) {
  absl::StatusOr<tracker::TrackerUrl> parsed = tracker::TrackerUrl::Parse(url);
  if (!parsed.ok() || !parsed->is_http()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "web seed \"%s\" is not an http(s) URL%s", absl::CHexEscape(url),
        parsed.ok() ? "" : ": " + std::string(parsed.status().message())));
  }
  return WebSeed(std::move(url), info, options);
}

std::string WebSeed::FileUrl(size_t file) const {
  const bool directory = !url_.empty() && url_.back() == '/';
  if (!directory && !info_->multi_file()) return url_;
  std::string out = url_;
  if (!directory) out.push_back('/');
  const std::vector<std::string>& path = info_->layout().file(file).path;
  for (size_t i = 0; i < path.size(); ++i) {
    if (i > 0) out.push_back('/');
    out += tracker::UrlEncode(path[i]);
  }
  return out;
}

int WebSeed::MaxBlocks() const {
  // About a piece: the picker spreads pieces out, so blocks of more pieces
  // than that would seldom be contiguous.
  const int64_t bytes = std::min(options_.max_run_bytes, info_->piece_length());
  return static_cast<int>(std::max<int64_t>(1, bytes / kBlockSize));
}

bool WebSeed::Ready(absl::Time now) const {
  return !dropped_ && run_.empty() && now >= retry_at_;
}

uint32_t WebSeed::BlockLength(BlockRef b) const {
  return BlockLengthIn(b, info_->layout().PieceSize(b.piece));
}

std::vector<BlockRef> WebSeed::Begin(std::vector<BlockRef> blocks) {
  std::sort(blocks.begin(), blocks.end(), [](BlockRef a, BlockRef b) {
    return a.piece != b.piece ? a.piece < b.piece : a.block < b.block;
  });
  std::vector<BlockRef> rest;
  int64_t bytes = 0;
  for (BlockRef b : blocks) {
    bool follows = run_.empty();
    if (!follows) {
      const BlockRef last = run_.back();
      const bool last_of_piece = int64_t{last.begin()} + BlockLength(last) >=
                                 info_->layout().PieceSize(last.piece);
      follows = (b.piece == last.piece && b.block == last.block + 1) ||
                (last_of_piece && b.piece == last.piece + 1 && b.block == 0);
    }
    const uint32_t length = BlockLength(b);
    if (!follows || length == 0 || bytes + length > options_.max_run_bytes) {
      rest.push_back(b);
      continue;
    }
    run_.push_back(b);
    bytes += length;
  }
  data_.assign(static_cast<size_t>(bytes), '\0');
  PlanRequests();
  return rest;
}

void WebSeed::PlanRequests() {
  requests_.clear();
  next_request_ = 0;
  const metainfo::FileLayout& layout = info_->layout();
  int64_t run_offset = 0;
  for (BlockRef b : run_) {
    const uint32_t length = BlockLength(b);
    absl::StatusOr<std::vector<metainfo::FileSlice>> slices =
        layout.MapBlock(b.piece, b.begin(), length);
    // The blocks came from the picker for this layout, so they map.
    if (slices.ok()) {
      int64_t at = run_offset;
      for (const metainfo::FileSlice& s : *slices) {
        const metainfo::FileEntry& f = layout.file(s.file_index);
        if (!f.pad() && !f.symlink()) {
          WebSeedRequest* last =
              requests_.empty() ? nullptr : &requests_.back();
          if (last != nullptr && last->url == FileUrl(s.file_index) &&
              last->first + last->length == s.offset &&
              last->run_offset + last->length == at) {
            last->length += s.length;  // the same file, read on
          } else {
            requests_.push_back(
                {FileUrl(s.file_index), s.offset, s.length, f.size, at});
          }
        }
        at += s.length;
      }
    }
    run_offset += length;
  }
}

const WebSeedRequest* WebSeed::NextRequest() const {
  return next_request_ < requests_.size() ? &requests_[next_request_] : nullptr;
}

absl::Status WebSeed::OnResponse(const tracker::HttpResponse& response) {
  const WebSeedRequest* r = NextRequest();
  if (r == nullptr) {
    return absl::FailedPreconditionError("web seed response without a request");
  }
  const std::string where = absl::StrFormat("web seed %s (bytes %d-%d)", r->url,
                                            r->first, r->first + r->length - 1);
  if (response.status == 404) {
    return absl::NotFoundError(absl::StrCat(where, ": 404 not found"));
  }
  if (response.status == 206) {
    int64_t first = 0, last = 0, total = 0;
    std::optional<std::string_view> cr = response.Header("content-range");
    if (!cr || !ParseContentRange(*cr, &first, &last, &total)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": 206 without a valid Content-Range"));
    }
    if (first != r->first || last != r->first + r->length - 1 ||
        (total >= 0 && total != r->file_size)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: server sent range %d-%d/%d", where, first, last, total));
    }
  } else if (response.status == 200) {
    if (r->first != 0 || r->length != r->file_size) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": server ignored the Range header (200)"));
    }
  } else {
    return absl::UnavailableError(
        absl::StrFormat("%s: HTTP status %d", where, response.status));
  }
  if (static_cast<int64_t>(response.body.size()) != r->length) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: body of %d bytes, expected %d", where,
                        response.body.size(), r->length));
  }
  data_.replace(static_cast<size_t>(r->run_offset), response.body.size(),
                response.body);
  ++next_request_;
  return absl::OkStatus();
}

std::vector<BlockRef> WebSeed::Fail(absl::Time now) {
  ++failures_;
  absl::Duration wait = options_.initial_backoff;
  for (int i = 1; i < failures_ && wait < options_.max_backoff; ++i) wait *= 2;
  retry_at_ = now + std::min(wait, options_.max_backoff);
  return EndRun();
}

std::vector<BlockRef> WebSeed::EndRun() {
  std::vector<BlockRef> blocks = std::move(run_);
  run_.clear();
  requests_.clear();
  next_request_ = 0;
  data_.clear();
  return blocks;
}

std::vector<BlockRef> WebSeed::Abandon() { return EndRun(); }

bool WebSeed::RunComplete() const {
  return !run_.empty() && next_request_ >= requests_.size();
}

std::vector<std::pair<BlockRef, std::string>> WebSeed::TakeBlocks() {
  std::vector<std::pair<BlockRef, std::string>> out;
  if (!RunComplete()) return out;
  size_t at = 0;
  for (BlockRef b : run_) {
    const uint32_t length = BlockLength(b);
    out.emplace_back(b, data_.substr(at, length));
    at += length;
  }
  failures_ = 0;
  retry_at_ = absl::InfinitePast();
  EndRun();
  return out;
}

std::vector<BlockRef> WebSeed::Drop(std::string reason) {
  dropped_ = true;
  drop_reason_ = std::move(reason);
  return EndRun();
}

}  // namespace bt::client
