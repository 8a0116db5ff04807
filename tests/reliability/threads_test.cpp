// The thread axis (issue 17): replicas trained at once must each print what a
// single-threaded run of their seed prints, nodes freed on another thread must
// give the same training and all their memory back, the replica seeds follow
// --seed as Python's n + i, and bad thread options are one line.
#include <gtest/gtest.h>
#include <sys/prctl.h>

#include <algorithm>
#include <string>
#include <vector>

#include "allocators/registry.hpp"
#include "bench/background_release.hpp"
#include "bench/record.hpp"
#include "bench/replicas.hpp"
#include "bench/report.hpp"
#include "core/train.hpp"
#include "tests/policy_types.hpp"
#include "tests/reliability/bench_cli.hpp"

namespace {

using namespace mga::test;

// Names of three lengths: steps differ in size, as real ones do.
mga::Dataset names() {
  return mga::parse_dataset("ab\ncde\nfghij\nklm\nno\npqrst\nuvw\n");
}

mga::RunConfig small_config(int steps) {
  mga::RunConfig config;
  config.model = {.n_embd = 8, .n_head = 2, .n_layer = 1, .block_size = 8};
  config.steps = steps;
  config.samples = 2;
  return config;
}

std::pair<mga::RunResult, std::uint64_t> train_hashed(auto&& run, const mga::RunConfig& config) {
  mga::OutputHash hash;
  mga::RunResult result = run(config, [&](const std::string& line) { hash.add_line(line); });
  return {result, hash.value()};
}

// ---- seeds -------------------------------------------------------------------------

TEST(ReplicaSeeds, FollowTheSeedAsPythonsAddition) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"-1", "0"},
      {"-5", "-4"},
      {"0", "1"},
      {"9", "10"},
      {"99", "100"},
      {"-10", "-9"},
      {"18446744073709551615", "18446744073709551616"},
      {"-18446744073709551616", "-18446744073709551615"},
      {"-100000000000000000000", "-99999999999999999999"},
  };
  for (const auto& [seed, next] : cases) {
    EXPECT_EQ(mga::Seed::parse(seed)->plus(1)->decimal(), next) << seed;
  }
  EXPECT_EQ(mga::Seed::parse("-3")->plus(7)->decimal(), "4");
  EXPECT_EQ(mga::Seed::parse("-7")->plus(7)->decimal(), "0");
  EXPECT_EQ(mga::Seed::parse("123")->plus(0)->decimal(), "123");
  EXPECT_EQ(mga::Seed::parse("-1")->plus(1)->key(), (std::vector<std::uint32_t>{0}));
  const std::string longest(mga::Seed::kMaxDigits, '9');
  EXPECT_FALSE(mga::Seed::parse(longest)->plus(1).has_value()) << "past the digit limit";
  EXPECT_TRUE(mga::Seed::parse("-" + longest)->plus(1).has_value());

  mga::RunConfig config;
  config.seed = *mga::Seed::parse("-2");
  std::vector<std::string> seeds;
  for (const auto& seed : mga::replica_seeds(config, 4)) seeds.push_back(seed.decimal());
  EXPECT_EQ(seeds, (std::vector<std::string>{"-2", "-1", "0", "1"}));
  config.rng = mga::RngKind::mulberry32;
  config.seed = *mga::Seed::parse("9007199254740990");  // 2^53 - 2
  EXPECT_NO_THROW(mga::replica_seeds(config, 2));
  EXPECT_THROW(mga::replica_seeds(config, 3), std::invalid_argument);
}

// ---- replicas ------------------------------------------------------------------------

TEST(Replicas, EachPrintsWhatASingleThreadedRunOfItsSeedPrints) {
  const mga::Dataset data = names();
  mga::RunConfig config = small_config(6);
  config.seed = 7;
  auto train = [&](const mga::RunConfig& c, const mga::LineSink& print) {
    return mga::run_microgpt<mga::BaselinePolicy>(data, c, print);
  };
  const mga::ReplicaRuns runs = mga::run_replicas(config, 3, train);
  ASSERT_EQ(runs.replicas.size(), 3U);
  std::vector<std::uint64_t> hashes;
  for (int i = 0; i < 3; ++i) {
    mga::RunConfig single = config;
    single.seed = 7 + i;
    const auto [run, hash] = train_hashed(train, single);
    EXPECT_EQ(runs.replicas[std::size_t(i)].seed.decimal(), std::to_string(7 + i));
    EXPECT_EQ(runs.replicas[std::size_t(i)].output_hash, hash) << "replica " << i + 1;
    EXPECT_EQ(runs.replicas[std::size_t(i)].run.losses, run.losses);
    EXPECT_LE(runs.replicas[std::size_t(i)].run.train_seconds, runs.wall_seconds);
    hashes.push_back(hash);
  }
  EXPECT_NE(hashes[0], hashes[1]) << "the seeds differ, so must the outputs";
}

TEST(Replicas, AFailingReplicaFailsTheRunAfterTheOthersEnd) {
  const mga::Dataset data = names();
  auto train = [&](const mga::RunConfig& c, const mga::LineSink& print) {
    if (c.seed.decimal() == "43") throw std::runtime_error("replica failed");
    return mga::run_microgpt<mga::BaselinePolicy>(data, c, print);
  };
  EXPECT_THROW(mga::run_replicas(small_config(2), 3, train), std::runtime_error);
}

TEST(Replicas, RecordsCarryTheReplicas) {
  mga::Measurement m;
  m.allocator = "x";
  m.steps = 3;
  m.threads = 2;
  m.release = mga::ReleaseMode::background;
  m.replicas = {{"-1", 0.5, 12345, 2.5}, {"0", 0.25, 678, 3.5}};
  const auto parsed = mga::parse_record(mga::to_record(m));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->threads, 2);
  EXPECT_EQ(parsed->release, mga::ReleaseMode::background);
  ASSERT_EQ(parsed->replicas.size(), 2U);
  EXPECT_EQ(parsed->replicas[0].seed, "-1");
  EXPECT_EQ(parsed->replicas[1].output_hash, 678U);
  EXPECT_EQ(parsed->replicas[1].final_loss, 3.5);
  std::string record = mga::to_record(m);
  EXPECT_FALSE(mga::parse_record(record + " 1").has_value()) << "a field too many";
  m.threads = 1'000'000'000;
  m.replicas.clear();
  EXPECT_FALSE(mga::parse_record(mga::to_record(m)).has_value()) << "an absurd thread count";
}

// ---- background release --------------------------------------------------------------

using mga::testing_support::AllPolicyTypes;
using mga::testing_support::PolicyNames;

template <class Policy>
class BackgroundRelease : public ::testing::Test {};
TYPED_TEST_SUITE(BackgroundRelease, AllPolicyTypes, PolicyNames);

// Every policy that claims cross_thread_release trains exactly as inline, in
// every backward order, gives every node back (per node: as many frees as
// allocations; regions: reused, so steps 3 to 8 ask for nothing), and
// run_microgpt_background refuses the others with their reason.
TYPED_TEST(BackgroundRelease, TrainsAsInlineAndGivesEverythingBack) {
  const mga::Dataset data = names();
  if constexpr (!mga::ReleasesAcrossThreads<TypeParam>) {
    try {
      mga::run_microgpt_background(TypeParam::name, data, small_config(1), [](const auto&) {});
      FAIL() << "not refused";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(TypeParam::traits.single_thread_release_reason),
                std::string::npos);
    }
  } else {
    for (const auto& topo : mga::kTopoOrderNames) {
      SCOPED_TRACE(std::string(topo.name));
      mga::RunConfig config = small_config(8);
      config.topo = topo.value;
      const auto [inline_run, inline_hash] = train_hashed(
          [&](const mga::RunConfig& c, const mga::LineSink& p) {
            return mga::run_microgpt<TypeParam>(data, c, p);
          },
          config);
      const auto [background, background_hash] = train_hashed(
          [&](const mga::RunConfig& c, const mga::LineSink& p) {
            return mga::run_microgpt<mga::BackgroundRelease<TypeParam>>(data, c, p);
          },
          config);
      EXPECT_EQ(background_hash, inline_hash);
      EXPECT_EQ(background.losses, inline_run.losses);
      EXPECT_EQ(background.train_nodes, inline_run.train_nodes);
      const mga::AllocStats& alloc = background.train_alloc;
      EXPECT_EQ(alloc.frees, inline_run.train_alloc.frees) << "the same frees, all counted";
      if constexpr (TypeParam::traits.frees_per_node) {
        EXPECT_EQ(alloc.frees, alloc.allocations) << "every node freed";
      } else if (alloc.allocations != background.train_nodes) {  // chunks, not nodes
        config.steps = 3;
        const mga::RunResult three =
            mga::run_microgpt<mga::BackgroundRelease<TypeParam>>(data, config, [](const auto&) {});
        EXPECT_EQ(alloc.allocations, three.train_alloc.allocations) << "two regions, then reused";
      }
    }
  }
}

// ---- the command line ----------------------------------------------------------------

TEST(ThreadOptions, BadValuesAreOneLine) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  const std::vector<std::vector<std::string>> cases = {
      {"--threads", "0"},
      {"--threads", "-1"},
      {"--threads", "x"},
      {"--threads", "1,,2"},
      {"--threads", "2,2"},
      {"--threads", "1025"},
      {"--threads", ""},
      {"--threads", "1,"},
      {"--threads", "0x2"},
      {"--threads", "1.5"},
      {"--release", "later"},
      {"--release", ""},
      {"--threads", "99999999999999999999"},
  };
  for (const auto& extra : cases) {
    SCOPED_TRACE(extra[0] + " '" + extra[1] + "'");
    expect_refused(bench(small_run(data, extra)), kBadInput, extra[0]);
  }
}

TEST(ThreadOptions, APolicyThatCannotFreeOnAnotherThreadIsRefusedWithItsReason) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  int refused = 0;
  mga::for_each_policy([&]<class P>(std::type_identity<P>) {
    if (P::traits.cross_thread_release) return;
    ++refused;
    auto r =
        bench(small_run(data, {"--allocator", std::string(P::name), "--release", "background"}));
    expect_refused(r, kBadInput, std::string(P::traits.single_thread_release_reason));
  });
  EXPECT_GT(refused, 0) << "some policy cannot: the check above must have run";
  expect_refused(bench(small_run(data, {"--engine", "tape", "--release", "background"})), kBadInput,
                 "no nodes to release");
  // Replica seeds past what --rng mulberry32 takes: refused before any training.
  expect_refused(bench(small_run(data, {"--rng", "mulberry32", "--seed", "9007199254740991",
                                        "--threads", "2"})),
                 kBadInput, "replica 2");
}

// A replica that prints something else than a single-threaded run of its
// seed fails the run in one line, and no JSON is written.
TEST(ThreadOptions, AReplicaThatDiffersIsOneLineAndNoJson) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  const std::string json = dir / "out.json";
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  auto r = bench(small_run(data, {"--threads", "2", "--quiet", "--json", json}),
                 {.timeout_seconds = 60, .environment = {"MGA_WORKER_FAULT=differ@1"}});
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  expect_refused(r, kRuntimeFailure, "replica 2 of");
  EXPECT_NE(r.err.find("single-threaded run of seed 43"), std::string::npos) << r.err;
  EXPECT_EQ(entries(dir.path()), (std::vector<std::string>{"names.txt"})) << "no JSON";
}

}  // namespace
