// A process writing blocks and saving resume data (crash_writer) is killed
// with SIGKILL at 20 random moments. After each kill, restoring the resume
// data and re-checking what it does not vouch for must never claim a piece
// whose data is bad, and must keep every piece of the last completed save.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/hash_checker.h"
#include "storage/piece_storage.h"
#include "storage/posix_file_backend.h"
#include "storage/resume_data.h"
#include "tests/storage/storage_test_util.h"

namespace bt::storage {
namespace {

using testing::Kind;
using testing::MakeTestTorrent;
using testing::MemFile;
using testing::Pattern;
using testing::TempDir;
using testing::Torrent;
using testing::WriteFileOrDie;

// Output of one run of the writer: its stdout, complete lines only.
std::vector<std::string> RunAndKill(const std::vector<std::string>& args,
                                    int kill_after_ms) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  usleep(kill_after_ms * 1000);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the writer ended on its own with status " << status;
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, n);
  close(fds[0]);
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos;
       start = nl + 1) {
    lines.push_back(out.substr(start, nl - start));
  }
  return lines;
}

Bitfield FromHex(const std::string& hex, size_t bits) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  auto b = Bitfield::FromBytes(bytes, bits);
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : Bitfield(bits);
}

TEST(CrashTest, KilledWriterNeverLeavesBadClaims) {
  TempDir dir;
  std::vector<MemFile> files = {{{"a.bin"}, Pattern(1000000, 1), ""},
                                {{"b", "b.bin"}, Pattern(777, 2), ""},
                                {{"c.bin"}, Pattern(3000000, 3), ""},
                                {{"d.bin"}, Pattern(1200000, 4), ""}};
  Torrent t = MakeTestTorrent("album", files, 16384, Kind::kHybrid);
  uint32_t n = t.info.num_pieces();
  std::string tpath = dir.path() + "/album.torrent";
  std::string source = dir.path() + "/source";
  std::string save = dir.path() + "/dl";
  std::string resume = dir.path() + "/album.resume";
  WriteFileOrDie(tpath, t.bytes);
  WriteFileOrDie(source, t.piece_space);

  std::mt19937 rng(20261121);
  Bitfield saved(n);
  for (int round = 0; round < 20; ++round) {
    int ms = 30 + static_cast<int>(rng() % 300);
    std::vector<std::string> lines =
        RunAndKill({"tests/storage/crash_writer", tpath, save, source, resume,
                    std::to_string(rng())},
                   ms);
    for (const std::string& l : lines) {
      if (l.rfind("saved ", 0) == 0) saved = FromHex(l.substr(6), n);
    }
    // What a restarted client would believe.
    PosixFileBackend disk;
    auto s = PieceStorage::Create(t.info, save, &disk);
    ASSERT_TRUE(s.ok());
    std::string bytes;
    if (auto r = disk.ReadWholeFile(resume, 1 << 24); r.ok()) bytes = *r;
    ResumeState st = RestoreResumeData(t.info, **s, bytes);
    CheckOptions o;
    o.pieces = &st.recheck;
    auto checked = CheckPieces(t.info, **s, o);
    ASSERT_TRUE(checked.ok());
    Bitfield believed = st.have;
    believed.Or(checked->have);
    // The truth, from a full independent check.
    auto truth = CheckDirectory(t.info, save, CheckOptions());
    ASSERT_TRUE(truth.ok());
    for (uint32_t p = 0; p < n; ++p) {
      ASSERT_FALSE(believed.Get(p) && !truth->have.Get(p))
          << "round " << round << ": piece " << p << " claimed but bad";
      ASSERT_FALSE(saved.Get(p) && !believed.Get(p))
          << "round " << round << ": piece " << p << " was saved but lost";
    }
    std::printf("round %d: killed after %d ms, %zu of %u pieces kept, %zu "
                "trusted from resume data\n",
                round, ms, believed.Count(), n, st.have.Count());
  }
  EXPECT_GT(saved.Count(), 0u);
}

}  // namespace
}  // namespace bt::storage
