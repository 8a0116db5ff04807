#include "core/rng.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace mga {

// ---- CPython MT19937 (Modules/_randommodule.c) ---------------------------

namespace {
constexpr int kN = 624;
constexpr int kM = 397;
constexpr std::uint32_t kMatrixA = 0x9908b0dfU;
constexpr std::uint32_t kUpperMask = 0x80000000U;
constexpr std::uint32_t kLowerMask = 0x7fffffffU;
}  // namespace

PythonRandom::PythonRandom(const Seed& seed) {
  // random.seed(n) feeds abs(n) to init_by_array as little-endian 32-bit words,
  // all of them, with at least one word (so seed 0 is the key [0]).
  init_by_array(seed.key());
}

void PythonRandom::init_genrand(std::uint32_t s) {
  state_[0] = s;
  for (int i = 1; i < kN; ++i) {
    state_[i] =
        1812433253U * (state_[i - 1] ^ (state_[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
  }
  index_ = kN;
}

void PythonRandom::init_by_array(std::span<const std::uint32_t> key) {
  init_genrand(19650218U);
  int i = 1;
  std::size_t j = 0;
  for (std::size_t k = std::max<std::size_t>(kN, key.size()); k; --k) {
    state_[i] = (state_[i] ^ ((state_[i - 1] ^ (state_[i - 1] >> 30)) * 1664525U)) + key[j] +
                static_cast<std::uint32_t>(j);
    ++i;
    ++j;
    if (i >= kN) {
      state_[0] = state_[kN - 1];
      i = 1;
    }
    if (j >= key.size()) j = 0;
  }
  for (int k = kN - 1; k; --k) {
    state_[i] = (state_[i] ^ ((state_[i - 1] ^ (state_[i - 1] >> 30)) * 1566083941U)) -
                static_cast<std::uint32_t>(i);
    ++i;
    if (i >= kN) {
      state_[0] = state_[kN - 1];
      i = 1;
    }
  }
  state_[0] = 0x80000000U;  // MSB is 1, assuring a non-zero initial array
}

void PythonRandom::twist() {
  auto mix = [](std::uint32_t upper, std::uint32_t lower, std::uint32_t far) {
    std::uint32_t y = (upper & kUpperMask) | (lower & kLowerMask);
    return far ^ (y >> 1) ^ ((y & 1U) ? kMatrixA : 0U);
  };
  int k = 0;
  for (; k < kN - kM; ++k) state_[k] = mix(state_[k], state_[k + 1], state_[k + kM]);
  for (; k < kN - 1; ++k) state_[k] = mix(state_[k], state_[k + 1], state_[k + (kM - kN)]);
  state_[kN - 1] = mix(state_[kN - 1], state_[0], state_[kM - 1]);
  index_ = 0;
}

std::uint32_t PythonRandom::next_u32() {
  if (index_ >= kN) twist();
  std::uint32_t y = state_[index_++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= (y >> 18);
  return y;
}

double PythonRandom::random() {
  std::uint32_t a = next_u32() >> 5;
  std::uint32_t b = next_u32() >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

std::uint32_t PythonRandom::getrandbits(int bits) {
  return next_u32() >> (32 - bits);
}

std::uint64_t PythonRandom::randbelow(std::uint64_t n) {
  int bits = std::bit_width(n);  // n.bit_length()
  std::uint64_t r = getrandbits(bits);
  while (r >= n) r = getrandbits(bits);
  return r;
}

double PythonRandom::gauss(double mu, double sigma) {
  // Random.gauss caches the second value of each Box-Muller pair.
  double z;
  if (has_gauss_next_) {
    z = gauss_next_;
    has_gauss_next_ = false;
  } else {
    double x2pi = random() * (2.0 * std::numbers::pi);
    double g2rad = std::sqrt(-2.0 * std::log(1.0 - random()));
    z = std::cos(x2pi) * g2rad;
    gauss_next_ = std::sin(x2pi) * g2rad;
    has_gauss_next_ = true;
  }
  return mu + z * sigma;
}

std::size_t PythonRandom::choose(std::span<const double> weights) {
  // cum_weights = list(accumulate(weights)); bisect_right(cum, random() * total, 0, n - 1)
  std::vector<double> cumulative(weights.size());
  double running = 0.0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    running = i == 0 ? weights[0] : running + weights[i];
    cumulative[i] = running;
  }
  double total = cumulative.back() + 0.0;
  double x = random() * total;
  auto last = cumulative.begin() + static_cast<std::ptrdiff_t>(weights.size() - 1);
  return static_cast<std::size_t>(std::upper_bound(cumulative.begin(), last, x) -
                                  cumulative.begin());
}

void PythonRandom::shuffle(std::span<std::uint32_t> items) {
  for (std::size_t i = items.size(); i-- > 1;) {
    std::size_t j = randbelow(i + 1);
    std::swap(items[i], items[j]);
  }
}

// ---- mulberry32 as in microgpt.ts ----------------------------------------

Mulberry32Random::Mulberry32Random(std::uint32_t seed) : state_(seed) {}

double Mulberry32Random::random() {
  state_ += 0x6d2b79f5U;
  std::uint32_t t = state_;
  t = (t ^ (t >> 15)) * (t | 1U);
  t ^= t + (t ^ (t >> 7)) * (t | 61U);
  return static_cast<double>(t ^ (t >> 14)) / 4294967296.0;
}

// microgpt.ts's Box-Muller, u1 == 0 included: it does not draw again, so a
// parameter becomes infinite and the losses NaN, as they do in microgpt.ts
// (seed 3000542827 on names.txt: the first parameter's u1 is 0).
double Mulberry32Random::gauss(double mu, double sigma) {
  const double u1 = random();
  const double u2 = random();
  return mu + sigma * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::size_t Mulberry32Random::choose(std::span<const double> weights) {
  double total = 0.0;
  for (double w : weights) total += w;
  double r = random() * total;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    r -= weights[i];
    if (r <= 0) return i;
  }
  return weights.size() - 1;
}

void Mulberry32Random::shuffle(std::span<std::uint32_t> items) {
  for (std::size_t i = items.size(); i-- > 1;) {
    auto j = static_cast<std::size_t>(std::floor(random() * static_cast<double>(i + 1)));
    std::swap(items[i], items[j]);
  }
}

std::unique_ptr<Rng> make_rng(RngKind kind, const Seed& seed) {
  if (kind == RngKind::mulberry32) {
    const auto state = seed.javascript_int32();
    if (!state)
      throw std::invalid_argument("mulberry32 takes a seed of at most 2^53 - 1 in magnitude");
    return std::make_unique<Mulberry32Random>(*state);
  }
  return std::make_unique<PythonRandom>(seed);
}

}  // namespace mga
