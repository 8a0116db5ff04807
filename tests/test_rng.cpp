// The generators against values printed by CPython 3.11 (`random`) and by
// Node running microgpt.ts's mulberry32 code.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "core/rng.hpp"

namespace mga {
namespace {

TEST(PythonRandom, RandomMatchesCPython) {
  PythonRandom rng(42);  // random.seed(42); [random.random() for _ in range(3)]
  EXPECT_EQ(rng.random(), 0.6394267984578837);
  EXPECT_EQ(rng.random(), 0.025010755222666936);
  EXPECT_EQ(rng.random(), 0.27502931836911926);
  EXPECT_EQ(PythonRandom(0).random(), 0.8444218515250481);
  EXPECT_EQ(PythonRandom((1ULL << 40) + 7).random(), 0.6137037779936511);  // two key words
}

TEST(PythonRandom, GaussMatchesCPython) {
  PythonRandom rng(42);  // second value comes from the cached Box-Muller pair
  EXPECT_EQ(rng.gauss(0, 0.08), -0.011527226366234268);
  EXPECT_EQ(rng.gauss(0, 0.08), -0.013832288026521545);
  EXPECT_EQ(rng.gauss(0, 0.08), -0.008905268925412997);
}

// random.shuffle(list(range(10))) with a fresh generator.
std::vector<std::uint32_t> shuffled_range_10(Rng&& rng) {
  std::vector<std::uint32_t> items(10);
  std::iota(items.begin(), items.end(), 0U);
  rng.shuffle(items);
  return items;
}

TEST(PythonRandom, ShuffleMatchesCPython) {
  EXPECT_EQ(shuffled_range_10(PythonRandom(42)),
            (std::vector<std::uint32_t>{7, 3, 2, 8, 5, 6, 9, 4, 0, 1}));
}

TEST(PythonRandom, ChoicesMatchesCPython) {
  PythonRandom rng(7);  // [random.choices(range(4), weights=[.1,.2,.3,.4])[0] for _ in range(12)]
  const double weights[] = {0.1, 0.2, 0.3, 0.4};
  std::vector<std::size_t> picks;
  for (int i = 0; i < 12; ++i) picks.push_back(rng.choose(weights));
  EXPECT_EQ(picks, (std::vector<std::size_t>{2, 1, 3, 0, 2, 2, 0, 2, 0, 2, 0, 0}));
}

TEST(Mulberry32Random, MatchesMicrogptTs) {
  Mulberry32Random rng(42);
  EXPECT_EQ(rng.random(), 0.60110375192016363);
  EXPECT_EQ(rng.random(), 0.44829055899754167);
  EXPECT_EQ(rng.random(), 0.85246579349040985);
  Mulberry32Random gauss(42);
  EXPECT_EQ(gauss.gauss(0, 0.08), -0.076492978350731919);
  EXPECT_EQ(gauss.gauss(0, 0.08), -0.021842088390608833);
  EXPECT_EQ(shuffled_range_10(Mulberry32Random(42)),
            (std::vector<std::uint32_t>{0, 7, 3, 5, 2, 1, 8, 9, 4, 6}));
}

// mulberry32 returns 0 when its state becomes 0: seed 2^32 - 0x6d2b79f5 on the
// first draw. microgpt.ts's gauss takes log(0) as it is and gives -Infinity
// (Node: 0.08 * sqrt(-2 * log(0)) * cos(2 pi * 0.2664...)); it never draws again.
TEST(Mulberry32Random, GaussKeepsAZeroDrawAsMicrogptTs) {
  const std::uint64_t zero_first = 0x100000000ULL - 0x6d2b79f5ULL;
  EXPECT_EQ(Mulberry32Random(zero_first).random(), 0.0);
  Mulberry32Random gauss(zero_first);
  EXPECT_EQ(gauss.gauss(0, 0.08), -INFINITY);
  EXPECT_EQ(gauss.random(), Mulberry32Random(zero_first + 0x6d2b79f5ULL * 2).random());
}

TEST(Mulberry32Random, ChooseSubtractsUntilNonPositive) {
  Mulberry32Random rng(42);  // first draw 0.601 * total 1.0: 0.601 - 0.5 > 0, then - 0.2 <= 0
  const double weights[] = {0.5, 0.2, 0.3};
  EXPECT_EQ(rng.choose(weights), 1U);
}

}  // namespace
}  // namespace mga
