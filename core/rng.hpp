// Random number generators that reproduce the reference programs bit for bit.
//
// PythonRandom mirrors CPython 3.11's `random` module (MT19937 seeded like
// random.seed(int), random(), gauss(), shuffle(), choices()); Mulberry32Random
// mirrors microgpt.ts (mulberry32, Box-Muller gauss, Fisher-Yates shuffle,
// subtractive weighted choice). Training code sees only the Rng interface: it
// draws a few thousand numbers per run, so a virtual call costs nothing.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/enum_names.hpp"
#include "core/seed.hpp"

namespace mga {

class Rng {
 public:
  virtual ~Rng() = default;
  // random.gauss(mu, sigma)
  virtual double gauss(double mu, double sigma) = 0;
  // random.choices(range(n), weights=weights)[0]
  virtual std::size_t choose(std::span<const double> weights) = 0;
  // random.shuffle(items), on indices so any container can be permuted
  virtual void shuffle(std::span<std::uint32_t> items) = 0;
};

class PythonRandom final : public Rng {
 public:
  explicit PythonRandom(const Seed& seed);   // random.seed(n) for any integer n
  std::uint32_t next_u32();                  // genrand_uint32
  double random();                           // random.random(): 53-bit float in [0, 1)
  std::uint32_t getrandbits(int bits);       // 1 <= bits <= 32
  std::uint64_t randbelow(std::uint64_t n);  // n >= 1, n < 2^32
  double gauss(double mu, double sigma) override;
  std::size_t choose(std::span<const double> weights) override;
  void shuffle(std::span<std::uint32_t> items) override;

 private:
  void init_genrand(std::uint32_t s);
  void init_by_array(std::span<const std::uint32_t> key);
  void twist();
  std::array<std::uint32_t, 624> state_{};
  int index_ = 624;
  bool has_gauss_next_ = false;
  double gauss_next_ = 0.0;
};

class Mulberry32Random final : public Rng {
 public:
  explicit Mulberry32Random(std::uint32_t seed);  // mulberry32(seed): `seed | 0`
  double random();                                // mulberry32 output / 2^32
  double gauss(double mu, double sigma) override;
  std::size_t choose(std::span<const double> weights) override;
  void shuffle(std::span<std::uint32_t> items) override;

 private:
  std::uint32_t state_;
};

enum class RngKind { python, mulberry32 };
inline constexpr EnumName<RngKind> kRngKindNames[] = {
    {RngKind::python, "python", "CPython's MT19937 like microgpt.py"},
    {RngKind::mulberry32, "mulberry32", "like microgpt.ts"},
};
constexpr std::span<const EnumName<RngKind>> enum_names(RngKind) {
  return kRngKindNames;
}

// The generator for `kind`; a mulberry32 seed beyond JavaScript's safe
// integers (Seed::javascript_int32) throws std::invalid_argument.
std::unique_ptr<Rng> make_rng(RngKind kind, const Seed& seed);

}  // namespace mga
