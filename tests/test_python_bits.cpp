// The node graph against microgpt.py itself, bit for bit: the real program
// runs under CPython (unchanged but for its seed, shape and step count, the
// lines the shared programs' README allows to edit) through
// tests/microgpt_bits.py, which writes every parameter after training and the
// last loss as float.hex, and the lines it printed. The node graph (and the
// exact tape, which promises the node graph's bits) trains the same config
// here; every parameter must have the same bits, and every printed line must
// be the same. Like llm.c's test, it prints the largest difference and how
// many values differ. Skips when /usr/bin/python3 or the program is absent.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "allocators/arena.hpp"
#include "core/tape_model.hpp"
#include "core/train.hpp"
#include "tests/dataset_path.hpp"
#include "tests/reliability/subprocess.hpp"

namespace mga {
namespace {

const std::string kPython = "/usr/bin/python3";
const std::string kProgram = std::string(MGA_SHARED_DIR) + "/programs/microgpt.py";
const std::string kDumper = std::string(MGA_SOURCE_DIR) + "/tests/microgpt_bits.py";

// What microgpt.py computed: microgpt_bits.py's output file, parsed.
struct PythonRun {
  std::vector<double> params;  // ParamLayout's order (state_dict's)
  double last_loss = NAN;
  std::vector<std::string> printed;
};

PythonRun parse_python_run(const std::string& path) {
  std::ifstream in(path);
  PythonRun run;
  std::string line;
  auto expect_count = [&](const std::string& word) {
    if (!std::getline(in, line) || !line.starts_with(word + " ")) return std::size_t(0);
    return std::size_t(std::stoull(line.substr(word.size() + 1)));
  };
  auto hex = [](const std::string& text) { return std::strtod(text.c_str(), nullptr); };
  for (std::size_t i = expect_count("params"); i > 0 && std::getline(in, line); --i)
    run.params.push_back(hex(line));
  if (std::getline(in, line) && line == "loss" && std::getline(in, line)) run.last_loss = hex(line);
  for (std::size_t i = expect_count("printed"); i > 0 && std::getline(in, line); --i)
    run.printed.push_back(line);
  return run;
}

// microgpt.py run under CPython for `config` in a fresh directory, on a copy
// of `data_file` as its input.txt.
PythonRun run_microgpt_py(const RunConfig& config, const std::string& data_file) {
  test::TempDir dir;
  std::filesystem::copy_file(data_file, dir / "input.txt");
  const auto& m = config.model;
  const std::vector<std::string> argv = {kPython,
                                         kDumper,
                                         kProgram,
                                         dir.path().string(),
                                         dir / "bits.txt",
                                         "--seed",
                                         config.seed.decimal(),
                                         "--n-embd",
                                         std::to_string(m.n_embd),
                                         "--n-head",
                                         std::to_string(m.n_head),
                                         "--n-layer",
                                         std::to_string(m.n_layer),
                                         "--block-size",
                                         std::to_string(m.block_size),
                                         "--num-steps",
                                         std::to_string(config.steps)};
  test::RunOptions options;
  options.timeout_seconds = 600;
  const test::ProcessResult done = test::run_process(argv, options);
  EXPECT_EQ(done.exit_code, 0) << "microgpt_bits.py failed: " << done.err;
  std::printf("microgpt.py: %d steps under CPython in %.1f s\n", config.steps, done.seconds);
  return parse_python_run(dir / "bits.txt");
}

// run_training's program up to the end of training (shuffle, draw the
// parameters, train): the parameters in ParamLayout's order and the last loss.
template <class TrainerT>
std::pair<std::vector<double>, double> train(const Dataset& data, const RunConfig& config) {
  auto rng = make_rng(config.rng, config.seed);
  std::vector<std::uint32_t> order(data.docs.size());
  std::iota(order.begin(), order.end(), 0U);
  rng->shuffle(order);
  TrainerT trainer(data, config, *rng);
  PhaseSeconds phases;
  double loss = NAN;
  for (int step = 0; step < config.steps; ++step)
    loss = trainer.train_step(data.docs[order[std::size_t(step) % order.size()]], step, phases);
  std::vector<double> params;
  if constexpr (requires { trainer.params()[0].data; }) {
    for (const auto& p : trainer.params()) params.push_back(p.data);
  } else {
    params = trainer.params();
  }
  return {params, loss};
}

// Prints and returns how many of `got` differ from `expected` in any bit.
std::size_t count_differing(const std::string& what, const std::vector<double>& got,
                            const std::vector<double>& expected) {
  std::size_t differing = 0;
  double max_difference = 0;
  for (std::size_t i = 0; i < got.size() && i < expected.size(); ++i) {
    differing += std::bit_cast<std::uint64_t>(got[i]) != std::bit_cast<std::uint64_t>(expected[i]);
    max_difference = std::max(max_difference, std::abs(got[i] - expected[i]));
  }
  std::printf("%s: %zu of %zu parameters differ from microgpt.py's, max |difference| %.3g\n",
              what.c_str(), differing, expected.size(), max_difference);
  return differing;
}

void expect_microgpt_py_bits(const RunConfig& config) {
  if (!std::filesystem::exists(kPython) || !std::filesystem::exists(kProgram))
    GTEST_SKIP() << "needs " << kPython << " and " << kProgram;
  SCOPED_TRACE("n_embd " + std::to_string(config.model.n_embd) + ", n_layer " +
               std::to_string(config.model.n_layer) + ", " + std::to_string(config.steps) +
               " steps");
  // The real names when shared/ has them, else a few made here.
  test::TempDir dir;
  const std::string data_file =
      !test::names_path().empty()
          ? test::names_path()
          : dir.write("names.txt",
                      "emma\nolivia\nava\nisabella\nsophia\ncharlotte\nmia\n"
                      "amelia\nharper\nevelyn\nliam\nnoah\noliver\nelijah\n");
  const Dataset data = load_dataset(data_file);
  const PythonRun python = run_microgpt_py(config, data_file);
  ASSERT_EQ(python.params.size(), ParamLayout(config.model, data.vocab_size()).total);

  const auto [graph, graph_loss] = train<Trainer<ArenaPolicy>>(data, config);
  std::printf("last loss: microgpt.py %a, node graph %a\n", python.last_loss, graph_loss);
  EXPECT_EQ(count_differing("node graph (dfs)", graph, python.params), 0U);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(graph_loss),
            std::bit_cast<std::uint64_t>(python.last_loss))
      << "last loss: node graph " << graph_loss << ", microgpt.py " << python.last_loss;
  const auto [tape, tape_loss] = train<TapeTrainer<TapeMode::exact>>(data, config);
  EXPECT_EQ(count_differing("exact tape", tape, python.params), 0U);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(tape_loss),
            std::bit_cast<std::uint64_t>(python.last_loss));

  std::vector<std::string> printed;
  run_microgpt<ArenaPolicy>(data, config,
                            [&](const std::string& line) { printed.push_back(line); });
  EXPECT_EQ(printed, python.printed) << "the printed lines";
}

TEST(MicrogptPyBits, DefaultConfigForty) {
  RunConfig config;
  config.steps = 40;
  expect_microgpt_py_bits(config);
}

TEST(MicrogptPyBits, TwoLayersTwenty) {
  RunConfig config;
  config.model = {.n_embd = 8, .n_head = 2, .n_layer = 2, .block_size = 8};
  config.seed = 5;
  config.steps = 20;
  expect_microgpt_py_bits(config);
}

}  // namespace
}  // namespace mga
