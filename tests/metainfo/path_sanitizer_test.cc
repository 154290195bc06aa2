#include "metainfo/path_sanitizer.h"

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

}  // namespace
}  // namespace bt::metainfo
