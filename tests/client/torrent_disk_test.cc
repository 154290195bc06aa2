// TorrentDisk: disk jobs still queued when their torrent is gone keep what
// they touch alive. (A torrent destroyed with a hash job queued once freed
// the file backend the job was about to read through: a crash at client
// shutdown, one run in four of the rate-limit test.)
#include "client/torrent_disk.h"

#include <future>
#include <memory>
#include <utility>

#include "client/disk_pool.h"
#include "gtest/gtest.h"
#include "storage/memory_file_backend.h"
#include "storage/piece_storage.h"
#include "tests/client/testing/remote_peer.h"

namespace bt::client {
namespace {

TEST(TorrentDiskTest, AQueuedJobKeepsAnOwnedBackendUntilItRuns) {
  testing::TestTorrent t = testing::MakeSingleFile(64 * 1024);
  auto backend = std::make_shared<storage::MemoryFileBackend>();
  t.PutOnDisk(*backend);
  std::weak_ptr<storage::FileBackend> watch = backend;

  // One worker, held busy until the torrent is gone; completions dropped.
  DiskPool pool({.threads = 1}, [](DiskPool::Task) {});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  pool.Submit(0, [released] { released.wait(); }, [] {});

  auto storage = storage::PieceStorage::Create(*t.info, "/dl", backend.get());
  ASSERT_TRUE(storage.ok()) << storage.status();
  auto disk = std::make_unique<TorrentDisk>(&pool, t.info, *std::move(storage),
                                            std::move(backend));
  disk->Hash(0, false, [](TorrentDisk::HashResult) {});
  disk.reset();  // the torrent goes; its hash job is still queued
  EXPECT_FALSE(watch.expired()) << "the queued job would read a freed backend";

  release.set_value();
  // The pool's destructor runs what is queued; the backend goes with the
  // job that held it last.
  std::promise<void> drained;
  pool.Submit(0, [&drained] { drained.set_value(); }, [] {});
  drained.get_future().wait();
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace bt::client
