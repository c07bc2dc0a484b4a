#include "node/eventual/storage/durable_map.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/sim_disk.h"
#include "sim/test_seed.h"

namespace crema::eventual {
namespace {

using Contents = DurableMap::Contents;

std::unique_ptr<DurableMap> OpenOrDie(Disk* disk, Contents* contents,
                                      DurableMapRecovery* recovery = nullptr,
                                      DurableMapOptions options = {}) {
  DurableMapRecovery ignored;
  absl::StatusOr<std::unique_ptr<DurableMap>> map =
      DurableMap::Open(disk, "ev/data/", options, contents, recovery ? recovery : &ignored);
  EXPECT_TRUE(map.ok()) << map.status();
  return map.ok() ? std::move(*map) : nullptr;
}

DurableMap::ForEach Emitter(const Contents& contents) {
  return [&contents](const DurableMap::Emit& emit) {
    for (const auto& [k, v] : contents) emit(k, v);
  };
}

sim::DiskFaultConfig NoFaults() {
  sim::DiskFaultConfig config;
  config.unsynced_write_lost = sim::Ratio{0, 1};
  config.unsynced_write_torn = sim::Ratio{0, 1};
  config.unsynced_file_vanishes = sim::Ratio{0, 1};
  return config;
}

TEST(DurableMapTest, CommittedMutationsSurviveAReopen) {
  sim::SimDisk disk(Random(1), NoFaults());
  Contents contents;
  {
    std::unique_ptr<DurableMap> map = OpenOrDie(&disk, &contents);
    EXPECT_TRUE(contents.empty());
    map->Put("a", "1");
    map->Put("b", "2");
    map->Erase("a");
    map->Put("c", std::string(1000, 'x'));
    ASSERT_TRUE(map->Commit().ok());
    map->Put("lost", "never committed");
  }
  disk.Crash();
  DurableMapRecovery recovery;
  OpenOrDie(&disk, &contents, &recovery);
  EXPECT_EQ(contents, (Contents{{"b", "2"}, {"c", std::string(1000, 'x')}}));
  EXPECT_EQ(recovery.log_records, 4u);
}

TEST(DurableMapTest, CompactionKeepsEverythingAndDropsTheOldLog) {
  sim::SimDisk disk(Random(2), NoFaults());
  Contents contents, model;
  std::unique_ptr<DurableMap> map =
      OpenOrDie(&disk, &contents, nullptr, DurableMapOptions{.compact_log_bytes = 2000});
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 10; ++i) {
      const std::string key = absl::StrCat("k", (round * 7 + i) % 23);
      const std::string value = absl::StrCat("v", round, "-", i);
      map->Put(key, value);
      model[key] = value;
    }
    ASSERT_TRUE(map->Commit().ok());
    if (map->NeedsCompaction()) {
      ASSERT_TRUE(map->Compact(Emitter(model)).ok());
    }
  }
  EXPECT_GT(map->generation(), 1u);
  map.reset();
  disk.Crash();
  DurableMapRecovery recovery;
  OpenOrDie(&disk, &contents, &recovery);
  EXPECT_EQ(contents, model);
  absl::StatusOr<std::vector<std::string>> files = disk.List("ev/data/");
  ASSERT_TRUE(files.ok());
  EXPECT_LE(files->size(), 2u);  // one snapshot and its log
}

TEST(DurableMapTest, AFailedCommitIsNotDurableAndTheMapKeepsWorking) {
  sim::SimDisk disk(Random(3), NoFaults());
  Contents contents;
  std::unique_ptr<DurableMap> map = OpenOrDie(&disk, &contents);
  map->Put("kept", "1");
  ASSERT_TRUE(map->Commit().ok());
  disk.config().capacity_bytes = disk.UsedBytes() + 10;  // disk full
  map->Put("refused", std::string(100, 'x'));
  EXPECT_FALSE(map->Commit().ok());
  disk.config().capacity_bytes = UINT64_MAX;
  map->Put("later", "2");
  ASSERT_TRUE(map->Commit().ok());
  map.reset();
  disk.Crash();
  OpenOrDie(&disk, &contents);
  EXPECT_EQ(contents, (Contents{{"kept", "1"}, {"later", "2"}}));
}

TEST(DurableMapTest, ACorruptSnapshotIsDataLossAndWipeStartsOver) {
  sim::SimDisk disk(Random(4), NoFaults());
  Contents contents;
  std::unique_ptr<DurableMap> map = OpenOrDie(&disk, &contents);
  map->Put("a", "1");
  ASSERT_TRUE(map->Commit().ok());
  ASSERT_TRUE(map->Compact(Emitter(Contents{{"a", "1"}})).ok());
  map.reset();
  disk.config().read_corruption = sim::Ratio{1, 1};  // every read flips a bit
  DurableMapRecovery recovery;
  absl::StatusOr<std::unique_ptr<DurableMap>> reopened =
      DurableMap::Open(&disk, "ev/data/", {}, &contents, &recovery);
  EXPECT_TRUE(absl::IsDataLoss(reopened.status())) << reopened.status();
  disk.config().read_corruption = sim::Ratio{0, 1};
  ASSERT_TRUE(DurableMap::Wipe(&disk, "ev/data/").ok());
  OpenOrDie(&disk, &contents);
  EXPECT_TRUE(contents.empty());
}

// Random mutations, commits, compactions, disk errors and crashes with lost, torn and corrupted
// unsynced writes: after every crash the recovered map holds exactly the committed mutations,
// plus possibly a prefix of the one batch whose Commit failed without its truncation reaching the
// disk (an unacknowledged batch may partly survive, as any unsynced write may).
TEST(DurableMapTest, CrashesNeverLoseCommittedMutations) {
  using Op = std::pair<std::string, std::optional<std::string>>;  // value nullopt: erase
  for (uint64_t seed : sim::TestSeeds(20)) {
    SCOPED_TRACE(sim::ReproCommand(seed));
    Random random(seed);
    sim::DiskFaultConfig faults;  // default: unsynced writes lost 1/3, torn 1/3
    faults.read_corruption = sim::Ratio{1, 20};
    sim::SimDisk disk(random.Fork("disk"), faults);
    Contents contents, committed;
    std::vector<std::vector<Op>> failed_batches;  // since the last successful commit
    std::unique_ptr<DurableMap> map = OpenOrDie(&disk, &contents, nullptr, {.compact_log_bytes = 4096});
    for (int step = 0; step < 400 && map != nullptr; ++step) {
      std::vector<Op> batch;
      const int ops = 1 + static_cast<int>(random.Uniform(6));
      for (int i = 0; i < ops; ++i) {
        const std::string key = absl::StrCat("key", random.Uniform(40));
        if (random.OneIn(4)) {
          map->Erase(key);
          batch.emplace_back(key, std::nullopt);
        } else {
          const std::string value = absl::StrCat(step, ":", std::string(random.Uniform(300), 'v'));
          map->Put(key, value);
          batch.emplace_back(key, value);
        }
      }
      disk.config().io_error = random.OneIn(10) ? sim::Ratio{1, 2} : sim::Ratio{0, 1};
      if (map->Commit().ok()) {
        for (const auto& [k, v] : batch) {
          if (v) committed[k] = *v; else committed.erase(k);
        }
        failed_batches.clear();
      } else {
        failed_batches.push_back(batch);
      }
      disk.config().io_error = sim::Ratio{0, 1};
      if (map->NeedsCompaction() && map->failure().ok()) (void)map->Compact(Emitter(committed));
      if (random.OneIn(15)) {
        map.reset();
        disk.Crash();
        map = OpenOrDie(&disk, &contents);
        ASSERT_NE(map, nullptr);
        bool explained = contents == committed;
        for (const std::vector<Op>& failed : failed_batches) {
          Contents state = committed;
          for (const auto& [k, v] : failed) {
            if (v) state[k] = *v; else state.erase(k);
            explained = explained || state == contents;
          }
        }
        ASSERT_TRUE(explained) << "step " << step;
        committed = contents;
        failed_batches.clear();
      }
    }
  }
}

}  // namespace
}  // namespace crema::eventual
