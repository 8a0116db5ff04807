"""The whole report, end to end: compare.py on fixture results directories. The answer comes
first, one table per question follows, the machines come last, and every number in a table is
computed here again from the fixtures."""

import json
import shutil
import tempfile
import unittest
from pathlib import Path

from helpers import (FIXTURES, PNG_MAGIC, code, fixture_cells, fixture_order, fixture_roles, fixture_runs, leftovers,
                     load, make_results_dir, median_repetition, ms_per_step, report_of, report_row, run_report,
                     section_text)
from mga_report import exactness

THREADS_FILE = FIXTURES / "threads" / "machine_a" / "bench_train_threads.json"
QUESTIONS = ["## The answer", "## How long does training take with each policy?",
             "## How much of a step is allocating and releasing?", "## Does faster allocation mean faster training?",
             "## What does a drop-in process allocator buy?", "## Preload a malloc, use std::pmr, or write an arena?",
             "## What does removing the nodes buy?"]


def headings(report: str) -> list:
    return [line for line in report.splitlines() if line.startswith("## ")]


class FullReportTest(unittest.TestCase):
    """Every fixture machine but machine_b, the thread axis, and the bad files."""

    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        root = Path(cls.temp.name)
        cls.results = make_results_dir(root, machines=("machine_a", "machine_c", "machine_d", "machine_m"))
        shutil.copy(THREADS_FILE, cls.results / "machine_a" / THREADS_FILE.name)
        cls.out = root / "out"
        cls.process, cls.report = run_report(cls.results, cls.out)

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def test_the_answer_comes_first_and_the_machines_last(self):
        self.assertEqual(self.process.returncode, 0, self.process.stderr)
        found = headings(self.report)
        self.assertEqual(found[:len(QUESTIONS)], QUESTIONS)
        self.assertEqual(found[-1], "## Machines and builds")
        answer = section_text(self.report, "## The answer")
        for machine in ("machine_a", "machine_c", "machine_m"):
            bullets = answer.split(f"### {machine}\n\n", 1)[1].split("\n\n", 1)[0].strip().split("\n")
            self.assertTrue(1 <= len(bullets) <= 5 and all(b.startswith("- ") for b in bullets), bullets)

    def test_every_chart_is_a_png_linked_from_the_report(self):
        names = sorted(p.name for p in (self.out / "charts").iterdir())
        self.assertEqual(names, sorted(["answer.png", "phases.png", "alloc_vs_train.png", "threads.png"]))
        for name in names:
            self.assertEqual((self.out / "charts" / name).read_bytes()[:8], PNG_MAGIC)
            self.assertIn(f"](charts/{name})", self.report)
        self.assertEqual(leftovers(self.out), [])

    def test_training_table_has_times_ratios_and_the_order_speed_up(self):
        section = section_text(self.report, "## How long does training take with each policy?")
        dfs = fixture_runs(FIXTURES / "machine_c" / "bench_train_dfs.json")
        creation = fixture_runs(FIXTURES / "machine_c" / "bench_train_creation.json")
        base = fixture_roles(FIXTURES / "machine_c" / "bench_train_dfs.json")["baseline"]
        for policy in dfs:
            with self.subTest(policy=policy):
                row = report_row(section, "### machine_c", code(policy))
                self.assertEqual(row[2].split()[0], f"{dfs[policy][1]['median']:.3f}")
                self.assertTrue(row[3].startswith(f"{ms_per_step(dfs[base]) / ms_per_step(dfs[policy]):.2f}×"), row)
                self.assertTrue(row[8].startswith(f"{ms_per_step(dfs[policy]) / ms_per_step(creation[policy]):.2f}×"))
                self.assertEqual(row[2].endswith("†"), dfs[policy][1]["cv"] > 0.05)

    def test_share_table_has_phases_share_bound_and_callgrind(self):
        section = section_text(self.report, "## How much of a step is allocating and releasing?")
        runs = fixture_runs(FIXTURES / "machine_a" / "bench_train.json")
        for policy, (rep, _) in runs.items():
            row = report_row(section, "### machine_a", code(policy))
            self.assertEqual(row[2], f"{1000 * rep['phases_seconds']['backward'] / rep['steps']:.3f}")
        (path,) = (FIXTURES / "machine_a").glob("callgrind_*.txt")
        self.assertEqual(report_row(section, "### machine_a", code(path.stem[len("callgrind_"):]))[-1], "23.0%")

    def test_the_matrix_and_the_practical_answer_are_tables(self):
        cells = fixture_cells(FIXTURES / "machine_m" / "bench_train_malloc_dfs.json")
        base = fixture_roles(FIXTURES / "machine_m" / "bench_train_dfs.json")["baseline"]
        matrix = section_text(self.report, "## What does a drop-in process allocator buy?")
        row = report_row(matrix, "### machine_m", code(base))
        mallocs = list(dict.fromkeys(m for m, _ in cells))
        for column, malloc in enumerate(mallocs, start=2):
            expected = ms_per_step(cells[("glibc", base)]) / ms_per_step(cells[(malloc, base)])
            self.assertTrue(row[column].startswith(f"{expected:.2f}×"), row)
        practical = section_text(self.report, "## Preload a malloc, use std::pmr, or write an arena?")
        self.assertIn("| comparison | `--topo dfs` | `--topo creation` |", practical)
        self.assertIn(f"| `{base}` under `{mallocs[1]}` vs under glibc |", practical)

    def test_the_no_node_section_and_the_peers(self):
        section = section_text(self.report, "## What does removing the nodes buy?")
        exact = fixture_runs(FIXTURES / "machine_m" / "bench_train_tape_exact.json")["tape-exact"]
        row = report_row(section, "### machine_m", "`--engine tape-exact`")
        self.assertEqual(row[2], f"{ms_per_step(exact):.3f}")
        self.assertIn("making, linking and walking the nodes is", section)
        peers = section_text(self.report, "## The tapes beside a peer program")
        for program in load(FIXTURES / "machine_m" / "tape_vs_peers.json")["programs"]:
            self.assertIn(f"| {program['name']} |", peers)

    def test_the_cache_counts_are_the_measured_counts_per_node(self):
        section = section_text(self.report, "## Instructions and cache misses per node")
        data = load(FIXTURES / "machine_d" / "cachesim" / "embd16_layer1_dfs.json")
        for run in data["runs"]:
            row = report_row(section, "### machine_d", code(run["allocator"]))
            events = run["events"]
            self.assertEqual(row[2], f"{events['Ir'] / run['nodes']:.1f}")
            self.assertEqual(row[3], f"{(events['D1mr'] + events['D1mw']) / run['nodes']:.2f}")
        self.assertNotIn("model", section.lower().replace("the model's size", ""))

    def test_size_table_has_ns_per_node_per_shape_smallest_first(self):
        section = section_text(self.report, "## Does it change with the model's size?")
        order = fixture_order(FIXTURES / "machine_c" / "bench_train_dfs.json")
        rows = [line for line in section.split("### machine_c", 1)[1].splitlines() if line.startswith("| n_embd")]
        self.assertEqual([r.split("|")[1].strip() for r in rows],
                         ["n_embd 16, n_layer 1, `dfs`", "n_embd 32, n_layer 2, `dfs`",
                          "n_embd 128, n_layer 4, `dfs`"] * 2,
                         "ns per node, then peak RSS")
        for name, row in zip(("embd16_layer1.json", "embd32_layer2.json", "embd128_layer4.json"), rows[:3]):
            runs = {r["allocator"]: r for r in load(FIXTURES / "machine_c" / "sweep" / name)["runs"]}
            cells = [c.strip() for c in row.strip("|").split("|")]
            rss = [c.strip() for c in rows[rows.index(row) + 3].strip("|").split("|")]
            for column, policy in enumerate(order, start=3):
                rep = median_repetition(runs[policy])
                ns = 1e9 * runs[policy]["train_seconds"]["median"] / rep["steps"] / rep["nodes_per_step"]
                self.assertEqual(cells[column].split()[0], f"{ns:.1f}")
                self.assertEqual(rss[column], f"{rep['peak_rss_kib'] / 1024:.1f}")

    def test_threads_and_the_claim_are_tables(self):
        threads = section_text(self.report, "## Threads")
        self.assertIn("| policy | scaling, 2", threads)
        claim = section_text(self.report, "## microgpt.ts's claim")
        runtimes = [r["runtime"] for r in load(FIXTURES / "machine_a" / "crosslang.json")["runs"]]
        for runtime in runtimes:
            self.assertIn(f"| {code(runtime)} |", claim)
            training = section_text(self.report, "## How long does training take with each policy?")
            self.assertNotIn(code(runtime), training)
        self.assertIn("| pair | chain allocs/s ratio | training speed ratio |", claim)

    def test_bad_files_are_named_in_one_line_warnings_and_listed(self):
        warnings = [line for line in self.process.stderr.splitlines() if line.startswith("compare.py: warning:")]
        for name, reason in (("empty.json", "empty file"), ("malformed.json", "malformed JSON"),
                             ("not_results.json", "not a results file")):
            with self.subTest(file=name):
                matching = [w for w in warnings if name in w]
                self.assertEqual(len(matching), 1, self.process.stderr)
                self.assertIn(reason, matching[0])
                self.assertIn(name, section_text(self.report, "## Skipped files"))

    def test_the_traits_table_is_the_runs_own_record(self):
        section = section_text(self.report, "## Machines and builds").split("### machine_m", 1)[1]
        runs = load(FIXTURES / "machine_m" / "bench_train_dfs.json")["runs"]
        names = list(runs[0]["traits"])
        self.assertIn("| policy | " + " | ".join(names) + " |", section)
        for run in runs:
            marks = " | ".join("✓" if run["traits"][t] else "" for t in names)
            self.assertIn(f"| {code(run['allocator'])} | {marks} |", section)

    def test_across_machines_is_there_and_the_same_results_give_the_same_report(self):
        self.assertIn("## Across machines", self.report)
        with tempfile.TemporaryDirectory() as temp:
            process, again = run_report(self.results, Path(temp) / "out")
        self.assertEqual(process.returncode, 0)
        self.assertEqual(again, self.report)


class SmallReportTest(unittest.TestCase):
    def test_missing_data_is_said_per_section(self):
        process, report = report_of("machine_b")
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("Not measured: `scripts/bench_gbench.sh` writes the data.",
                      section_text(report, "## Does faster allocation mean faster training?"))
        self.assertNotIn("## Across machines", report)

    def test_an_empty_output_hash_is_loud(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_c",), with_bad_files=False)
            tape = load(FIXTURES / "tape" / "bench_train_tape.json")
            for rep in tape["runs"][0]["repetitions"]:
                rep["output_fnv1a64"] = exactness.EMPTY_HASH
            (results / "machine_c" / "tape.json").write_text(json.dumps(tape))
            process, report = run_report(results, Path(temp) / "out")
        self.assertEqual(process.returncode, 0, process.stderr)
        row = report_row(section_text(report, "## What does removing the nodes buy?"), "| mode", "`--engine tape`")
        self.assertIn("hashed nothing", row[-1])


if __name__ == "__main__":
    unittest.main()
