// The ops of microgpt.py's Value, each defined once: its value and its local
// gradients (d out / d input), from the inputs and, where cheaper, the output.
// Graph makes a node of each (core/graph.hpp); the exact tape computes the
// same local gradients from the same operands (core/tape_exact.hpp), and the
// tapes' forward the same values (core/tape.hpp), so both have the node
// graph's bits. tests/test_ops.cpp checks the ops against finite differences
// and the tapes' fused kernels against the ops.
//
// Adding an op: a struct here, a method in Graph that applies it, and its
// test.
#pragma once

#include <array>
#include <cmath>

#include "core/python_pow.hpp"

namespace mga::ops {

struct Add {
  static double value(double a, double b) { return a + b; }
  static std::array<double, 2> local_grads(double, double) { return {1.0, 1.0}; }
};

struct Mul {
  static double value(double a, double b) { return a * b; }
  static std::array<double, 2> local_grads(double a, double b) { return {b, a}; }
};

// x ** exponent: Python's float ** is libm's pow (python_pow).
struct Pow {
  double exponent;
  double value(double x) const { return python_pow(x, exponent); }
  double local_grad(double x, double /*out*/) const {
    return exponent * python_pow(x, exponent - 1);
  }
};

struct Log {
  static double value(double x) { return std::log(x); }
  static double local_grad(double x, double /*out*/) { return 1 / x; }
};

// microgpt.py calls math.exp twice, for the value and the gradient: the same bits.
struct Exp {
  static double value(double x) { return std::exp(x); }
  static double local_grad(double /*x*/, double out) { return out; }
};

// +0.0 for x <= 0 (-0.0 and NaN included), as microgpt.py's `max(0, x)` branch.
struct Relu {
  static double value(double x) { return x > 0 ? x : 0.0; }
  static double local_grad(double x, double /*out*/) { return x > 0 ? 1.0 : 0.0; }
};

}  // namespace mga::ops
