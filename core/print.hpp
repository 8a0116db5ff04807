// How the mirrored programs print a training step. microgpt.py uses Python's
// f"step {step+1:4d} / {num_steps:4d} | loss {loss.data:.4f}", microgpt.ts
// `step ${String(step + 1).padStart(4)} / ${numSteps} | loss ${loss.data.toFixed(4)}`:
// the total is padded only by Python, and the loss is rounded by two different
// rules. The RNG kind says which program a run mirrors, so it picks the format.
// (Their other lines agree: "num docs: N", "sample %2d: ..." as padStart(2).)
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

#include "core/rng.hpp"

namespace mga {

// Python's f"{x:.4f}": the exact value rounded half to even, which is what
// glibc's %.4f does, except that Python prints any NaN as "nan" (glibc "-nan"
// when the sign bit is set).
inline std::string python_fixed4(double x) {
  if (std::isnan(x)) return "nan";
  char text[400];  // %.4f of the largest double has 309 integer digits
  std::snprintf(text, sizeof text, "%.4f", x);
  return text;
}

// JavaScript's x.toFixed(4) (ECMA-262 Number.prototype.toFixed): the exact
// value rounded half away from zero ("pick the larger n" for |x|), "NaN",
// "Infinity", and -0 as "0.0000". From 1e21 on toFixed switches to exponent
// form; a loss never gets there (it is at most -log of the least double, 745).
inline std::string js_to_fixed4(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x == 0) return "0.0000";
  // Only an exact tie rounds differently from %.4f: |x| = (2k + 1) / 20000,
  // i.e. x * 20000 is exact (fma shows no remainder) and an odd integer.
  const double scaled = std::fabs(x) * 20000.0;
  if (scaled < 0x1p53 && std::fma(std::fabs(x), 20000.0, -scaled) == 0 &&
      std::fmod(scaled, 2.0) == 1.0) {
    const auto units = static_cast<long long>((scaled + 1) / 2);  // k + 1 ten-thousandths
    char text[64];
    std::snprintf(text, sizeof text, "%s%lld.%04lld", x < 0 ? "-" : "", units / 10000,
                  units % 10000);
    return text;
  }
  char text[400];
  std::snprintf(text, sizeof text, "%.4f", x);
  return text;
}

// One training step's line, as microgpt.py (RngKind::python) or microgpt.ts
// (RngKind::mulberry32) prints it; `step` counts from 1.
inline std::string format_step(int step, int steps, double loss, RngKind program) {
  char head[64];
  if (program == RngKind::mulberry32) {
    std::snprintf(head, sizeof head, "step %4d / %d | loss ", step, steps);
    return head + js_to_fixed4(loss);
  }
  std::snprintf(head, sizeof head, "step %4d / %4d | loss ", step, steps);
  return head + python_fixed4(loss);
}

}  // namespace mga
