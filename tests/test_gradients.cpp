// Every op's local gradient and a small model's parameter gradients against
// central finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "allocators/arena.hpp"
#include "core/graph.hpp"
#include "core/model.hpp"

namespace mga {
namespace {

using G = Graph<ArenaPolicy>;
using Ref = ArenaPolicy::Ref;

// d f(x) / dx at x by backward() and by central differences.
void expect_gradient(const std::function<Ref(G&, Ref)>& f, double x, double tolerance = 1e-6) {
  ArenaPolicy policy;
  G g(policy);
  Node input;
  input.data = x;
  g.backward(f(g, &input));
  const double h = 1e-6;
  auto value_at = [&](double at) {
    Node probe;
    probe.data = at;
    return f(g, &probe)->data;
  };
  const double numeric = (value_at(x + h) - value_at(x - h)) / (2 * h);
  EXPECT_NEAR(input.grad, numeric, tolerance * std::max(1.0, std::abs(numeric))) << "at x = " << x;
}

TEST(Gradients, EachOpMatchesFiniteDifferences) {
  for (double x : {0.3, 1.7, 2.5}) {
    expect_gradient([](G& g, Ref a) { return g.add(a, a); }, x);
    expect_gradient([](G& g, Ref a) { return g.mul(a, g.mul(a, 3.0)); }, x);
    expect_gradient([](G& g, Ref a) { return g.pow(a, -0.5); }, x);
    expect_gradient([](G& g, Ref a) { return g.pow(a, 3.0); }, x);
    expect_gradient([](G& g, Ref a) { return g.log(a); }, x);
    expect_gradient([](G& g, Ref a) { return g.exp(a); }, x);
    expect_gradient([](G& g, Ref a) { return g.relu(g.sub(a, 1.0)); }, x);
    expect_gradient([](G& g, Ref a) { return g.div(g.neg(a), g.add(a, 2.0)); }, x);
  }
}

TEST(Gradients, SharedSubexpressionsAccumulate) {
  ArenaPolicy policy;
  G g(policy);
  Node a, b;
  a.data = 2.0;
  b.data = 3.0;
  g.backward(g.add(g.mul(&a, &b), &a));  // L = a*b + a: dL/da = b + 1, dL/db = a
  EXPECT_EQ(a.grad, 4.0);
  EXPECT_EQ(b.grad, 2.0);
}

TEST(Gradients, SmallModelMatchesFiniteDifferences) {
  const ModelConfig config{.n_embd = 4, .n_head = 2, .n_layer = 1, .block_size = 4};
  PythonRandom rng(3);
  ArenaPolicy policy;
  Gpt<ArenaPolicy> model(config, 5, rng, policy);
  G g(policy);
  const int tokens[] = {4, 1, 2, 3, 4};
  auto loss = [&] {
    Gpt<ArenaPolicy>::KvCache kv(config.n_layer);
    std::vector<Ref> losses;
    for (int pos = 0; pos < 4; ++pos) {
      auto probs = Gpt<ArenaPolicy>::softmax(g, model.forward(g, tokens[pos], pos, kv));
      losses.push_back(g.neg(g.log(probs[tokens[pos + 1]])));
    }
    return g.mul(g.sum(losses), 1.0 / 4);
  };
  g.backward(loss());
  auto params = model.params();
  double max_difference = 0;
  for (std::size_t i = 0; i < params.size(); i += 7) {  // a spread of parameters of every matrix
    const double original = params[i].data, h = 1e-6;
    params[i].data = original + h;
    const double up = loss()->data;
    params[i].data = original - h;
    const double down = loss()->data;
    params[i].data = original;
    const double numeric = (up - down) / (2 * h);
    max_difference = std::max(max_difference, std::abs(params[i].grad - numeric));
    EXPECT_NEAR(params[i].grad, numeric, 1e-6) << "parameter " << i;
  }
  std::printf("max |backward - finite difference| over sampled parameters: %.3g\n", max_difference);
  policy.release();
}

}  // namespace
}  // namespace mga
