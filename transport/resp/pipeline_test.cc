#include "transport/resp/pipeline.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

namespace crema::resp {
namespace {

Pipeline::Item Cmd(std::vector<std::string> keys, bool barrier = false) {
  Pipeline::Item item;
  item.keys = std::move(keys);
  item.barrier = barrier;
  return item;
}

TEST(PipelineTest, IndependentKeysRunConcurrentlySameKeyWaits) {
  Pipeline p(8);
  const uint64_t a = p.Add(Cmd({"a"}));
  const uint64_t b = p.Add(Cmd({"b"}));
  const uint64_t a2 = p.Add(Cmd({"a"}));
  EXPECT_EQ(p.NextRunnable()->seq, a);
  EXPECT_EQ(p.NextRunnable()->seq, b);
  EXPECT_EQ(p.NextRunnable(), nullptr);  // a2 waits for a
  p.Complete(b, "B");
  std::string out;
  EXPECT_EQ(p.PopReplies(&out), 0u);  // b's reply waits behind a's
  p.Complete(a, "A");
  EXPECT_EQ(p.NextRunnable()->seq, a2);
  EXPECT_EQ(p.PopReplies(&out), 2u);
  EXPECT_EQ(out, "AB");
}

TEST(PipelineTest, BarrierRunsAlone) {
  Pipeline p(8);
  const uint64_t a = p.Add(Cmd({"a"}));
  const uint64_t auth = p.Add(Cmd({}, true));
  p.Add(Cmd({"b"}));
  EXPECT_EQ(p.NextRunnable()->seq, a);
  EXPECT_EQ(p.NextRunnable(), nullptr);  // barrier waits for a; b waits for the barrier
  p.Complete(a, "A");
  EXPECT_EQ(p.NextRunnable()->seq, auth);
  EXPECT_EQ(p.NextRunnable(), nullptr);
  p.Complete(auth, "OK");
  EXPECT_NE(p.NextRunnable(), nullptr);
}

TEST(PipelineTest, WindowBoundsHeldCommands) {
  Pipeline p(2);
  p.Add(Cmd({"a"}));
  p.Add(Cmd({"b"}));
  EXPECT_TRUE(p.full());
}

// Any completion order: replies come out in arrival order, no two running commands share a key,
// and a running barrier is the only running command.
RC_GTEST_PROP(PipelineProperty, OrderAndExclusion, ()) {
  const auto specs = *rc::gen::container<std::vector<std::pair<int, bool>>>(
      rc::gen::pair(rc::gen::inRange(0, 4), rc::gen::element(false, false, false, true)));
  Pipeline p(specs.size() + 1);
  for (const auto& [key, barrier] : specs) {
    p.Add(Cmd(barrier ? std::vector<std::string>{} : std::vector<std::string>{std::to_string(key)},
              barrier));
  }
  std::vector<Pipeline::Item*> running;
  std::string out;
  size_t finished = 0;
  while (finished < specs.size()) {
    while (Pipeline::Item* item = p.NextRunnable()) running.push_back(item);
    RC_ASSERT(!running.empty());
    for (size_t i = 0; i < running.size(); ++i) {
      for (size_t j = i + 1; j < running.size(); ++j) {
        RC_ASSERT(!running[i]->barrier && !running[j]->barrier);
        RC_ASSERT(running[i]->keys != running[j]->keys);
      }
    }
    const size_t pick = *rc::gen::inRange<size_t>(0, running.size());
    const uint64_t seq = running[pick]->seq;
    running.erase(running.begin() + pick);
    p.Complete(seq, std::to_string(seq) + ",");
    ++finished;
    // Items behind the head stay addressable: refresh running pointers after pops.
    std::vector<uint64_t> seqs;
    for (auto* r : running) seqs.push_back(r->seq);
    p.PopReplies(&out);
    running.clear();
    for (uint64_t s : seqs) running.push_back(p.Find(s));
  }
  std::string expected;
  for (size_t i = 1; i <= specs.size(); ++i) expected += std::to_string(i) + ",";
  RC_ASSERT(out == expected);
}

}  // namespace
}  // namespace crema::resp
