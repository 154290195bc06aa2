#include "metainfo/path_sanitizer.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace bt::metainfo {
namespace {

TEST(PathSanitizerTest, AcceptsOrdinaryNames) {
  for (const std::string& c :
       std::vector<std::string>{"a", "file.txt", ".hidden", "...", "..a", "ünï",
                                "with space", std::string("\xff\xfe", 2)}) {
    EXPECT_TRUE(ValidatePathComponent(c).ok()) << c;
  }
  // A letter and a colon is a Windows drive: rejected (see the header).
  EXPECT_FALSE(ValidatePathComponent("a:b").ok());
  EXPECT_TRUE(ValidateRelativePath({"dir", "sub", "f"}).ok());
  EXPECT_EQ(JoinPath({"dir", "sub", "f"}), "dir/sub/f");
}

TEST(PathSanitizerTest, RejectsUnsafeComponents) {
  for (const std::string& c : std::vector<std::string>{
           "", ".", "..", "/", "/etc", "a/b", "a\\b", "..\\x", "C:", "c:\\x",
           std::string("a\0b", 3), "tab\there", "new\nline", "del\x7f"}) {
    absl::Status s = ValidatePathComponent(c);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c;
  }
}

TEST(PathSanitizerTest, Limits) {
  PathLimits limits;
  limits.max_depth = 2;
  limits.max_component_bytes = 4;
  limits.max_path_bytes = 7;
  EXPECT_TRUE(ValidateRelativePath({"abcd", "ef"}, limits).ok());
  EXPECT_EQ(ValidateRelativePath({"a", "b", "c"}, limits).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ValidateRelativePath({"abcde"}, limits).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ValidateRelativePath({"abcd", "efg"}, limits).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ValidateRelativePath({}, limits).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PathSanitizerTest, MessagesQuoteEscapedBytes) {
  absl::Status s = ValidatePathComponent(std::string("x\ny"));
  EXPECT_NE(s.message().find("x\\ny"), std::string::npos) << s;
}

// Sanitize runs SanitizePathComponent and returns "<dropped>" for nullopt.
std::string Sanitize(std::string_view c, const PathLimits& limits = {}) {
  std::string reason;
  std::optional<std::string> out = SanitizePathComponent(c, limits, &reason);
  if (out && *out == c) {
    EXPECT_EQ(reason, "") << c;
  } else {
    EXPECT_NE(reason, "") << c;  // every change is explained
  }
  return out ? *out : "<dropped>";
}

TEST(PathSanitizerTest, SanitisesEachKindOfUnsafeComponent) {
  EXPECT_EQ(Sanitize("file.txt"), "file.txt");
  EXPECT_EQ(Sanitize(".hidden"), ".hidden");
  EXPECT_EQ(Sanitize(".."), "<dropped>");
  EXPECT_EQ(Sanitize("."), "<dropped>");
  EXPECT_EQ(Sanitize(""), "_");
  EXPECT_EQ(Sanitize("/etc"), "etc");
  EXPECT_EQ(Sanitize("a/b"), "ab");
  EXPECT_EQ(Sanitize("a\\b"), "ab");
  EXPECT_EQ(Sanitize("/"), "<dropped>");
  EXPECT_EQ(Sanitize("../"), "<dropped>");  // ".." once the '/' is gone
  EXPECT_EQ(Sanitize("..\\"), "<dropped>");
  EXPECT_EQ(Sanitize(std::string("a\0b", 3)), "ab");
  EXPECT_EQ(Sanitize("del\x7f"), "del");
  EXPECT_EQ(Sanitize("new\nline\x01"), "new_line_");
  EXPECT_EQ(Sanitize("C:"), "C_");
  EXPECT_EQ(Sanitize("c:\\x"), "c_x");
}

TEST(PathSanitizerTest, OverlongComponentsAreCutKeepingTheExtension) {
  PathLimits limits;
  limits.max_component_bytes = 10;
  EXPECT_EQ(Sanitize("abcdefghijklmnop.flac", limits), "abcde.flac");
  EXPECT_EQ(Sanitize("abcdefghijklmnop", limits), "abcdefghij");
  // A two-byte UTF-8 letter straddling the cut is not split.
  EXPECT_EQ(Sanitize("abcdefghi\xc3\xa9xyz", limits), "abcdefghi");
  // An extension as long as the limit is not kept.
  EXPECT_EQ(Sanitize("a.0123456789", limits), "a.01234567");
}

TEST(PathSanitizerTest, SanitisedPathsAlwaysValidate) {
  const std::vector<std::string> nasty = {
      "..", ".", "", "/", "/etc", "a/b", "..\\..\\x", "C:", std::string(300, 'x'),
      std::string("\0", 1), "\x7f", "\x01", "../", "ok"};
  for (const std::string& a : nasty) {
    for (const std::string& b : nasty) {
      std::vector<std::string> reasons;
      std::vector<std::string> safe = SanitizeRelativePath({a, b}, {}, &reasons);
      EXPECT_TRUE(ValidateRelativePath(safe).ok()) << JoinPath(safe);
    }
  }
  std::vector<std::string> reasons;
  EXPECT_EQ(SanitizeRelativePath({"..", "..", "etc", "passwd"}, {}, &reasons),
            (std::vector<std::string>{"etc", "passwd"}));
  EXPECT_EQ(reasons.size(), 2u);
  reasons.clear();
  EXPECT_EQ(SanitizeRelativePath({".."}, {}, &reasons),
            (std::vector<std::string>{"_"}));
  EXPECT_EQ(reasons.size(), 2u);
  reasons.clear();
  EXPECT_EQ(SanitizeRelativePath({"a", "b"}, {}, &reasons),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(reasons.empty());
}

}  // namespace
}  // namespace bt::metainfo
