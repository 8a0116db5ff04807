// The ops of core/ops.hpp: each local gradient against central finite
// differences of the op's value; the node graph's nodes hold exactly the ops'
// values and local gradients; and the tapes' fused kernels compute what the
// ops and the graph's pieces compute: relu (forward and as a gradient mask),
// softmax and the matrix product, bit for bit where the tape is bit-exact.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "allocators/arena.hpp"
#include "core/model.hpp"
#include "core/ops.hpp"
#include "core/tape.hpp"
#include "core/tape_kernels.hpp"

namespace mga {
namespace {

using G = Graph<ArenaPolicy>;
using Ref = ArenaPolicy::Ref;

std::uint64_t bits(double x) {
  return std::bit_cast<std::uint64_t>(x);
}

// d value / dx at x, by central differences.
template <class Value>
double numeric_derivative(Value&& value, double x) {
  const double h = 1e-6;
  return (value(x + h) - value(x - h)) / (2 * h);
}

void expect_near_derivative(double analytic, double numeric, double x) {
  EXPECT_NEAR(analytic, numeric, 1e-6 * std::max(1.0, std::abs(numeric))) << "at x = " << x;
}

TEST(Ops, LocalGradientsMatchFiniteDifferences) {
  for (double x : {0.3, 1.7, 2.5, -1.2}) {
    const double y = 0.8;
    const auto add = ops::Add::local_grads(x, y);
    expect_near_derivative(
        add[0], numeric_derivative([y](double t) { return ops::Add::value(t, y); }, x), x);
    expect_near_derivative(
        add[1], numeric_derivative([x](double t) { return ops::Add::value(x, t); }, y), x);
    const auto mul = ops::Mul::local_grads(x, y);
    expect_near_derivative(
        mul[0], numeric_derivative([y](double t) { return ops::Mul::value(t, y); }, x), x);
    expect_near_derivative(
        mul[1], numeric_derivative([x](double t) { return ops::Mul::value(x, t); }, y), x);
    const ops::Exp exp;
    expect_near_derivative(exp.local_grad(x, exp.value(x)),
                           numeric_derivative([](double t) { return ops::Exp::value(t); }, x), x);
    const ops::Relu relu;
    expect_near_derivative(relu.local_grad(x, relu.value(x)),
                           numeric_derivative([](double t) { return ops::Relu::value(t); }, x), x);
    if (x <= 0) continue;
    for (double exponent : {-0.5, -1.0, 2.0, 0.5}) {
      const ops::Pow pow{exponent};
      expect_near_derivative(pow.local_grad(x, pow.value(x)),
                             numeric_derivative([pow](double t) { return pow.value(t); }, x), x);
    }
    const ops::Log log;
    expect_near_derivative(log.local_grad(x, log.value(x)),
                           numeric_derivative([](double t) { return ops::Log::value(t); }, x), x);
  }
}

TEST(Ops, GraphNodesHoldTheOpsValuesAndLocalGradients) {
  ArenaPolicy policy;
  G g(policy);
  for (double x : {0.3, 1.7, -2.5, 0.0, -0.0}) {
    Node a, b;
    a.data = x;
    b.data = 0.8;
    const auto expect_unary = [&](Ref made, double value, double local_grad) {
      EXPECT_EQ(bits(made->data), bits(value)) << "at x = " << x;
      EXPECT_EQ(bits(made->local_grads[0]), bits(local_grad)) << "at x = " << x;
    };
    const auto expect_binary = [&](Ref made, double value, std::array<double, 2> local_grads) {
      EXPECT_EQ(bits(made->data), bits(value)) << "at x = " << x;
      EXPECT_EQ(bits(made->local_grads[0]), bits(local_grads[0])) << "at x = " << x;
      EXPECT_EQ(bits(made->local_grads[1]), bits(local_grads[1])) << "at x = " << x;
    };
    expect_binary(g.add(&a, &b), ops::Add::value(x, 0.8), ops::Add::local_grads(x, 0.8));
    expect_binary(g.mul(&a, &b), ops::Mul::value(x, 0.8), ops::Mul::local_grads(x, 0.8));
    const ops::Pow pow{-0.5};
    expect_unary(g.pow(&a, -0.5), pow.value(x), pow.local_grad(x, pow.value(x)));
    expect_unary(g.log(&a), ops::Log::value(x), ops::Log::local_grad(x, ops::Log::value(x)));
    expect_unary(g.exp(&a), ops::Exp::value(x), ops::Exp::local_grad(x, ops::Exp::value(x)));
    expect_unary(g.relu(&a), ops::Relu::value(x), ops::Relu::local_grad(x, ops::Relu::value(x)));
  }
}

// The tapes' relu is simd::where_positive: forward, ops::Relu's value; as the
// fast tape's gradient mask, its local gradient times the gradient (the same
// value; the sign of a zero may differ, which the fast tape allows).
TEST(FusedKernels, ReluIsTheOps) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> x = {-2.0, -0.0, 0.0,  1e-310, -1e-310, 3.5,  inf,   -inf,
                           nan,  7.0,  -7.0, 0.25,   2.0,     -1.0, 1e300, -1e-300};
  x.resize(simd::padded(int(x.size())), 1.0);
  simd::Doubles in(x.begin(), x.end()), grads(x.size()), out(x.size()), masked(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) grads[i] = -1.5 + double(i);
  simd::where_positive(in.data(), in.data(), out.data(), int(x.size()));
  simd::where_positive(in.data(), grads.data(), masked.data(), int(x.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(bits(out[i]), bits(ops::Relu::value(x[i]))) << "relu(" << x[i] << ")";
    EXPECT_EQ(masked[i], ops::Relu::local_grad(x[i], out[i]) * grads[i]) << "at " << x[i];
  }
}

std::vector<double> random_values(std::size_t n, unsigned seed, double scale = 3.0) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> value(-scale, scale);
  std::vector<double> out(n);
  for (double& v : out) v = value(random);
  return out;
}

TEST(FusedKernels, SoftmaxIsTheGraphsBitForBit) {
  for (int n : {1, 2, 5, 27, 100}) {
    const std::vector<double> logits = random_values(std::size_t(n), unsigned(n));
    ArenaPolicy policy;
    G g(policy);
    std::vector<Node> leaves(logits.size());
    Gpt<ArenaPolicy>::Vector refs;
    for (std::size_t i = 0; i < logits.size(); ++i) {
      leaves[i].data = logits[i];
      refs.push_back(&leaves[i]);
    }
    const auto graph_probs = Gpt<ArenaPolicy>::softmax(g, refs);
    std::vector<double> exps = logits, probs(logits.size());
    TapeGpt::softmax(exps.data(), probs.data(), n);
    for (int i = 0; i < n; ++i)
      EXPECT_EQ(bits(probs[i]), bits(graph_probs[i]->data))
          << "softmax of " << n << ", entry " << i;
  }
}

// simd::matmul's outputs, several rows in vector lanes and several positions
// at once, are Gpt's rows (Gpt::sum_of_products) bit for bit.
TEST(FusedKernels, MatmulIsTheGraphsRowsBitForBit) {
  for (const auto [rows, cols, positions] :
       {std::array{3, 4, 1}, std::array{17, 5, 3}, std::array{40, 16, 5}, std::array{9, 1, 2}}) {
    const int rows_p = simd::padded(rows);
    const std::vector<double> w = random_values(std::size_t(rows) * cols, 1);  // W[o][i]
    const std::vector<double> x = random_values(std::size_t(positions) * cols, 2);
    simd::Doubles wt(std::size_t(cols) * rows_p, 0.0), outs(std::size_t(positions) * rows_p);
    for (int o = 0; o < rows; ++o) {
      for (int i = 0; i < cols; ++i) wt[std::size_t(i) * rows_p + o] = w[std::size_t(o) * cols + i];
    }
    simd::matmul({wt.data(), rows_p, cols}, {x.data(), std::size_t(cols)},
                 {outs.data(), std::size_t(rows_p)}, positions);

    std::vector<Node> w_nodes(w.size()), x_nodes(x.size());
    for (std::size_t k = 0; k < w.size(); ++k) w_nodes[k].data = w[k];
    for (std::size_t k = 0; k < x.size(); ++k) x_nodes[k].data = x[k];
    ArenaPolicy policy;
    G g(policy);
    for (int p = 0; p < positions; ++p) {
      for (int o = 0; o < rows; ++o) {
        const Ref row = Gpt<ArenaPolicy>::sum_of_products(
            g, cols, [&](int i) { return &w_nodes[std::size_t(o) * cols + i]; },
            [&](int i) { return &x_nodes[std::size_t(p) * cols + i]; });
        EXPECT_EQ(bits(outs[std::size_t(p) * rows_p + o]), bits(row->data))
            << rows << " x " << cols << ", position " << p << ", row " << o;
      }
    }
  }
}

}  // namespace
}  // namespace mga
