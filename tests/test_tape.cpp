// The tape engines (core/tape*.hpp) against the faithful one. The fast tape:
// the same initial parameters, the same loss bits for the same parameters,
// the same gradients up to summation order, the same losses over training
// and the same printed output. The exact tape: the node graph's bits, every
// gradient of a step, every loss and every parameter after training.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <type_traits>

#include "allocators/arena.hpp"
#include "core/tape_model.hpp"
#include "core/train.hpp"
#include "tests/dataset_path.hpp"
#include "tests/step_graph.hpp"

namespace mga {
namespace {

const std::string kShared = MGA_SHARED_DIR;
const std::string kNames = test::names_path();

const Dataset& names_dataset() {
  static const Dataset data = load_dataset(kNames);
  return data;
}

// The real names when shared/ is there, else a small set made here, so the
// exact tape's tests run on any checkout.
const Dataset& any_dataset() {
  if (!kNames.empty()) return names_dataset();
  static const Dataset made = parse_dataset(
      "emma\nolivia\nava\nisabella\nsophia\ncharlotte\nmia\namelia\nharper\nevelyn\n"
      "liam\nnoah\noliver\nelijah\njames\nwilliam\nbenjamin\nlucas\nhenry\ntheodore\n");
  return made;
}

#define SKIP_WITHOUT_NAMES() \
  if (kNames.empty())        \
  GTEST_SKIP() << "no names.txt (the shared/ directory beside the checkout is absent)"

ModelConfig two_layers() {
  return {.n_embd = 8, .n_head = 2, .n_layer = 2, .block_size = 8};
}

// Trainer::train_step's forward and backward on the faithful engine: the loss
// and d loss / d params for a model freshly drawn from seed 42.
std::pair<double, std::vector<double>> faithful_grads(const Dataset& data,
                                                      const ModelConfig& config,
                                                      std::span<const std::uint32_t> doc) {
  StepGraph step(data, config, doc);
  std::vector<double> grads;
  for (const auto& p : step.model.params()) grads.push_back(p.grad);
  const double value = step.loss->data;
  return {value, grads};
}

// For a short document and one filling the whole block, in three shapes: the
// parameters are drawn identically, the loss has the same bits (forward sums
// in microgpt.py's order) and the gradients agree to the last bits.
TEST(Tape, GradientsMatchFaithfulEngine) {
  SKIP_WITHOUT_NAMES();
  const Dataset& data = names_dataset();
  const auto longest = *std::max_element(data.docs.begin(), data.docs.end(),
                                         [](auto a, auto b) { return a.size() < b.size(); });
  for (const ModelConfig& model : {ModelConfig{}, two_layers(), ModelConfig{12, 3, 3, 10}}) {
    // BOS + the longest name fills every position of the block (and is cut at block_size 8).
    ASSERT_GE(longest.size() + 1, std::size_t(model.block_size));
    for (const auto& doc : {data.docs[0], longest}) {
      const auto [faithful_loss, faithful] = faithful_grads(data, model, doc);
      RunConfig config;
      config.model = model;
      auto rng = make_rng(RngKind::python, 42);
      TapeTrainer<TapeMode::fast> tape(data, config, *rng);
      ASSERT_EQ(tape.num_params(), faithful.size());
      PhaseSeconds phases;
      EXPECT_EQ(tape.loss_and_grads(doc, phases), faithful_loss);
      const std::vector<double> grads = tape.grads();
      double max_difference = 0, max_grad = 0;
      for (std::size_t i = 0; i < faithful.size(); ++i) {
        max_difference = std::max(max_difference, std::abs(grads[i] - faithful[i]));
        max_grad = std::max(max_grad, std::abs(faithful[i]));
      }
      std::printf(
          "n_embd %d n_layer %d, doc of %zu tokens: max |grad| %.3g, "
          "max |grad(tape) - grad(faithful)| = %.3g\n",
          model.n_embd, model.n_layer, doc.size(), max_grad, max_difference);
      EXPECT_GT(max_grad, 1e-3) << "a gradient check on all-zero gradients proves nothing";
      EXPECT_LE(max_difference, 1e-12);
    }
  }
}

template <TapeMode Mode>
void expect_gpt_initialisation(const Dataset& data, const ModelConfig& model) {
  auto rng_faithful = make_rng(RngKind::python, 7), rng_tape = make_rng(RngKind::python, 7);
  ArenaPolicy policy;
  Gpt<ArenaPolicy> faithful(model, data.vocab_size(), *rng_faithful, policy);
  RunConfig config;
  config.model = model;
  TapeTrainer<Mode> tape(data, config, *rng_tape);
  const std::vector<double> params = tape.params();
  ASSERT_EQ(params.size(), faithful.params().size());
  for (std::size_t i = 0; i < params.size(); ++i)
    ASSERT_EQ(params[i], faithful.params()[i].data) << "parameter " << i;
}

// Both tapes keep the parameters in their own order (transposed, padded);
// read back in ParamLayout's order they are Gpt's draws.
TEST(Tape, InitialisationIsGptsOrder) {
  for (const ModelConfig& model : {ModelConfig{}, two_layers(), ModelConfig{12, 3, 3, 10}}) {
    expect_gpt_initialisation<TapeMode::fast>(any_dataset(), model);
    expect_gpt_initialisation<TapeMode::exact>(any_dataset(), model);
  }
}

void expect_losses_match(const RunConfig& config) {
  const auto quiet = [](const std::string&) {};
  const RunResult faithful = run_microgpt<ArenaPolicy>(names_dataset(), config, quiet);
  const RunResult tape = run_tape_microgpt(names_dataset(), config, quiet);
  ASSERT_EQ(tape.losses.size(), faithful.losses.size());
  double max_difference = 0;
  for (std::size_t i = 0; i < tape.losses.size(); ++i)
    max_difference = std::max(max_difference, std::abs(tape.losses[i] - faithful.losses[i]));
  std::printf("n_embd %d n_layer %d, %d steps: max |loss(tape) - loss(faithful)| = %.3g\n",
              config.model.n_embd, config.model.n_layer, config.steps, max_difference);
  EXPECT_LE(max_difference, 1e-9);
  EXPECT_EQ(tape.num_params, faithful.num_params);
  EXPECT_EQ(tape.num_docs, faithful.num_docs);
  EXPECT_GT(tape.train_nodes, 0U);
}

TEST(Tape, First50LossesMatchFaithfulEngine) {
  SKIP_WITHOUT_NAMES();
  RunConfig config;
  config.steps = 50;
  config.samples = 0;
  expect_losses_match(config);
  config.model = two_layers();
  config.seed = 5;
  expect_losses_match(config);
}

std::vector<std::string> output_of(bool tape, const RunConfig& config,
                                   TapeMode mode = TapeMode::fast) {
  std::vector<std::string> lines;
  const auto sink = [&](const std::string& line) { lines.push_back(line); };
  if (tape) {
    run_tape_microgpt(names_dataset(), config, sink, mode);
  } else {
    run_microgpt<ArenaPolicy>(names_dataset(), config, sink);
  }
  return lines;
}

// Header and loss lines must be identical; a sample could in principle flip
// on a last-bit difference, so the count of differing samples is printed,
// and it is a failure too: none differ today.
TEST(Tape, PrintsWhatRunMicrogptPrints) {
  SKIP_WITHOUT_NAMES();
  RunConfig config;
  config.steps = 200;
  config.samples = 5;
  const auto faithful = output_of(false, config);
  const auto tape = output_of(true, config);
  ASSERT_EQ(tape.size(), faithful.size());
  int differing_samples = 0;
  for (std::size_t i = 0; i < tape.size(); ++i) {
    if (faithful[i].starts_with("sample ")) {
      differing_samples += tape[i] != faithful[i];
      if (tape[i] != faithful[i])
        std::printf("differs: tape '%s', faithful '%s'\n", tape[i].c_str(), faithful[i].c_str());
    } else {
      EXPECT_EQ(tape[i], faithful[i]) << "line " << i + 1;
    }
  }
  std::printf("%zu lines, %d of %d sample lines differ\n", tape.size(), differing_samples,
              config.samples);
  EXPECT_EQ(differing_samples, 0);
}

// The tapes are fast enough to train the whole reference run: their output is
// microgpt.py's, byte for byte (for the fast tape tested, not promised: a
// sample may flip one day; for the exact tape it follows from the tests below).
TEST(Tape, MatchesMicrogptPyReferenceRun) {
  const std::string reference = kShared + "/reference/microgpt_py_seed42_steps1000.txt";
  if (!std::filesystem::exists(reference) || !std::filesystem::exists(kNames))
    GTEST_SKIP() << "no " << reference << " (the shared/ directory beside the checkout is absent)";
  std::vector<std::string> expected;
  std::ifstream in(reference);
  for (std::string line; std::getline(in, line);) expected.push_back(line);
  for (TapeMode mode : {TapeMode::fast, TapeMode::exact}) {
    const auto printed = output_of(true, RunConfig{}, mode);
    ASSERT_EQ(printed.size(), expected.size());
    for (std::size_t i = 0; i < printed.size(); ++i)
      EXPECT_EQ(printed[i], expected[i]) << "line " << i + 1;
  }
}

// The tapes are made for the positions of the longest document; a sample
// that runs past them grows the tape (samples may run to block_size). On
// three-letter names with a block of 24, barely trained, samples run long:
// both tapes print what the node graph prints (the exact tape by promise, the
// fast one as tested above), and the run has samples past the longest document.
TEST(Tape, SamplesPastTheLongestDocumentGrowTheTape) {
  const Dataset data = parse_dataset("abc\nbca\ncab\nacb\n");
  RunConfig config;
  config.model = {.n_embd = 8, .n_head = 2, .n_layer = 2, .block_size = 24};
  config.steps = 3;
  config.samples = 20;
  std::vector<std::string> graph, fast, exact;
  run_microgpt<ArenaPolicy>(data, config, [&](const std::string& l) { graph.push_back(l); });
  run_tape_microgpt(data, config, [&](const std::string& l) { fast.push_back(l); });
  run_tape_microgpt(
      data, config, [&](const std::string& l) { exact.push_back(l); }, TapeMode::exact);
  int past_the_longest = 0;  // "sample  1: " and more than 3 letters
  for (const std::string& line : graph)
    past_the_longest += line.starts_with("sample ") && line.size() > 11 + 3;
  std::printf("%d of %d samples are longer than the longest document\n", past_the_longest,
              config.samples);
  EXPECT_GT(past_the_longest, 0);
  EXPECT_EQ(exact, graph);
  EXPECT_EQ(fast, graph);
}

// ---- the exact tape --------------------------------------------------------

const std::vector<ModelConfig>& exact_shapes() {
  static const std::vector<ModelConfig> shapes = {ModelConfig{}, two_layers(),
                                                  ModelConfig{12, 3, 3, 10}};
  return shapes;
}

// One step from the same parameters: every gradient has the node graph's
// bits, for short and block-filling documents (the longest name is cut at
// every block size here) in three shapes.
TEST(TapeExact, EveryGradientOfAStepIsTheNodeGraphs) {
  const Dataset& data = any_dataset();
  const auto longest = *std::max_element(data.docs.begin(), data.docs.end(),
                                         [](auto a, auto b) { return a.size() < b.size(); });
  for (const ModelConfig& model : exact_shapes()) {
    for (const auto& doc : {data.docs[0], data.docs[1], longest}) {
      const auto [faithful_loss, faithful] = faithful_grads(data, model, doc);
      RunConfig config;
      config.model = model;
      auto rng = make_rng(RngKind::python, 42);
      TapeTrainer<TapeMode::exact> tape(data, config, *rng);
      PhaseSeconds phases;
      EXPECT_EQ(tape.loss_and_grads(doc, phases), faithful_loss);
      const std::vector<double> grads = tape.grads();
      ASSERT_EQ(grads.size(), faithful.size());
      std::size_t differing = 0;
      double max_difference = 0;
      for (std::size_t i = 0; i < grads.size(); ++i) {
        differing += grads[i] != faithful[i];
        max_difference = std::max(max_difference, std::abs(grads[i] - faithful[i]));
      }
      std::printf(
          "n_embd %d n_layer %d, doc of %zu tokens: %zu of %zu gradients differ (max %.3g)\n",
          model.n_embd, model.n_layer, doc.size(), differing, grads.size(), max_difference);
      EXPECT_EQ(differing, 0U);
    }
  }
}

// Training: every loss, and every parameter after the last step, equal to the
// node graph's (microgpt.py's DFS order) for 1000 steps of the default config
// and 200 of two other shapes.
TEST(TapeExact, TrainingIsTheNodeGraphsBitForBit) {
  const Dataset& data = any_dataset();
  for (const ModelConfig& model : exact_shapes()) {
    RunConfig config;
    config.model = model;
    config.steps = model.n_layer == 1 ? 1000 : 200;
    auto train = [&]<class TrainerT>(std::type_identity<TrainerT>) {
      auto rng = make_rng(config.rng, config.seed);
      TrainerT trainer(data, config, *rng);
      PhaseSeconds phases;
      std::vector<double> losses;
      for (int step = 0; step < config.steps; ++step)
        losses.push_back(
            trainer.train_step(data.docs[std::size_t(step) % data.docs.size()], step, phases));
      std::vector<double> params;
      if constexpr (std::is_same_v<TrainerT, Trainer<ArenaPolicy>>) {
        for (const Node& p : trainer.params()) params.push_back(p.data);
      } else {
        params = trainer.params();
      }
      return std::pair{losses, params};
    };
    const auto [graph_losses, graph_params] = train(std::type_identity<Trainer<ArenaPolicy>>{});
    const auto [tape_losses, tape_params] =
        train(std::type_identity<TapeTrainer<TapeMode::exact>>{});
    std::size_t differing = 0;
    for (std::size_t i = 0; i < graph_params.size() && i < tape_params.size(); ++i)
      differing += graph_params[i] != tape_params[i];
    std::printf("n_embd %d n_layer %d, %d steps: %zu of %zu parameters differ\n", model.n_embd,
                model.n_layer, config.steps, differing, graph_params.size());
    EXPECT_EQ(tape_losses, graph_losses);
    EXPECT_EQ(tape_params, graph_params) << "parameters after " << config.steps << " steps";
  }
}

}  // namespace
}  // namespace mga
