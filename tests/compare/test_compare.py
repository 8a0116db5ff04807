"""Tests for scripts/compare.py (issue 4; topo series, size axis, engines); scripts/crosslang.py
has its own in tests/crosslang/.

Run: python3 tests/compare/test_compare.py  (the python3 must have matplotlib;
on Debian that is /usr/bin/python3 with python3-matplotlib). Registered in CTest
as compare_py. Everything is written into temporary directories.
"""

import contextlib
import importlib.util
import io
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
COMPARE = REPO / "scripts" / "compare.py"
FIXTURES = HERE / "fixtures"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CHARTS = ["train_time.png", "phases.png", "alloc_vs_train.png", "memory.png", "crosslang.png"]
SIZE_CHARTS = ["size_ns_per_node.png", "size_rss.png"]


def run_compare(*args):
    return subprocess.run([sys.executable, str(COMPARE), *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def run_report(results, out):
    """compare.py on `results` into `out`: the process and REPORT.md's text ("" if none)."""
    process = run_compare("--results", results, "--out", out)
    report_path = Path(out) / "REPORT.md"
    return process, report_path.read_text(encoding="utf-8") if report_path.exists() else ""


def load_compare_module():
    spec = importlib.util.spec_from_file_location("compare_under_test", COMPARE)
    module = importlib.util.module_from_spec(spec)
    sys.dont_write_bytecode = True  # no __pycache__ inside scripts/
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def make_results_dir(root: Path, machines=("machine_a", "machine_b"), with_bad_files=True) -> Path:
    results = root / "results"
    results.mkdir()
    for machine in machines:
        shutil.copytree(FIXTURES / machine, results / machine)
    if with_bad_files:
        (results / "empty.json").write_bytes(b"")
        for bad in (FIXTURES / "bad").iterdir():
            shutil.copy(bad, results / bad.name)
    return results


def leftovers(directory: Path) -> list[str]:
    """Temporary files a write left behind (compare.py's start with '.')."""
    return sorted(str(p) for p in directory.rglob(".*")) if directory.exists() else []


def median_repetition(run: dict) -> dict:
    ordered = sorted(run["repetitions"], key=lambda r: r["train_seconds"])
    return ordered[(len(ordered) - 1) // 2]


def report_row(report: str, section: str, first_cell: str) -> list[str]:
    """Cells of the first table row starting with first_cell after the heading `section`."""
    text = report[report.index(section):]
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} after {section!r}")


class FullReportTest(unittest.TestCase):
    """Two machines, Google Benchmark, cross-language, callgrind, and three bad files."""

    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        root = Path(cls.temp.name)
        cls.results = make_results_dir(root)
        cls.out = root / "out"
        cls.process, cls.report = run_report(cls.results, cls.out)

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def test_exits_zero(self):
        self.assertEqual(self.process.returncode, 0, self.process.stderr)

    def test_every_chart_is_a_png_linked_from_the_report(self):
        for chart in CHARTS:
            with self.subTest(chart=chart):
                path = self.out / "charts" / chart
                self.assertTrue(path.is_file(), f"{chart} missing")
                self.assertEqual(path.read_bytes()[:8], PNG_MAGIC)
                self.assertIn(f"](charts/{chart})", self.report)

    def test_report_ends_with_an_answer_paragraph_per_machine(self):
        answer = self.report.split("\n## Answer\n", 1)
        self.assertEqual(len(answer), 2, "no '## Answer' section")
        self.assertNotIn("\n## ", answer[1], "the answer must be the last section")
        for machine in ("machine_a", "machine_b"):
            self.assertIn(f"**{machine}.** Allocation is", answer[1])
        self.assertRegex(answer[1], r"Switching from `new` to `arena` (saves|costs) \d+\.\d%")
        self.assertIn("allocation throughput", answer[1])

    def test_context_of_each_machine_is_shown(self):
        for text in ("### machine_a", "### machine_b", "AMD EPYC", "Intel Xeon", "g++ 12.2.0",
                     "-O2 -ffp-contract=off", "2.0.9", "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c",
                     "45fb507", "2026-11-25T17:38:30Z", "repetitions per policy"):
            self.assertIn(text, self.report)

    def test_bad_files_are_named_in_one_line_warnings(self):
        warnings = [line for line in self.process.stderr.splitlines() if line.startswith("compare.py: warning:")]
        for name, reason in (("empty.json", "empty file"), ("malformed.json", "malformed JSON"),
                             ("not_results.json", "not a results file")):
            with self.subTest(file=name):
                matching = [w for w in warnings if name in w]
                self.assertEqual(len(matching), 1, self.process.stderr)
                self.assertIn(reason, matching[0])
                self.assertIn(name, self.report.split("## Skipped files", 1)[1])

    def test_alloc_share_matches_the_documented_formula(self):
        data = json.loads((FIXTURES / "machine_a" / "bench_train.json").read_text())
        runs = {run["allocator"]: median_repetition(run) for run in data["runs"]}
        arena = runs["arena"]
        self.assertIn("alloc_share(p) = max(0,", self.report)
        for policy in ("new", "shared_ptr", "pool", "jemalloc"):
            rep = runs[policy]
            extra = (rep["phases_seconds"]["forward"] / rep["steps"] - arena["phases_seconds"]["forward"] / arena["steps"]
                     + rep["phases_seconds"]["release"] / rep["steps"] - arena["phases_seconds"]["release"] / arena["steps"])
            share = max(0.0, extra / (sum(rep["phases_seconds"].values()) / rep["steps"]))
            row = report_row(self.report, "## Share of step time", f"`{policy}`")
            self.assertEqual(row[-1], f"{100 * share:.1f}%", policy)
        self.assertEqual(report_row(self.report, "## Share of step time", "`arena`")[-1], "0.0%")

    def test_callgrind_summary_confirms(self):
        row = report_row(self.report, "Callgrind confirmation", "`new`")
        self.assertEqual(row[1], "23.0%")

    def test_throughput_correlation_and_ratios(self):
        bench = json.loads((FIXTURES / "machine_a" / "gbench" / "bench_alloc.json").read_text())
        rates = {}
        for row in bench["benchmarks"]:
            if row.get("aggregate_name") == "median":
                rates[row["run_name"].split("<")[1].split(">")[0]] = row["allocs/s"]
        train = json.loads((FIXTURES / "machine_a" / "bench_train.json").read_text())
        speeds = {run["allocator"]: median_repetition(run)["steps"] / run["train_seconds"]["median"]
                  for run in train["runs"]}
        policies = sorted(rates)
        xs = [math.log(rates[p]) for p in policies]
        ys = [math.log(speeds[p]) for p in policies]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        r = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / math.sqrt(
            sum((x - mean_x) ** 2 for x in xs) * sum((y - mean_y) ** 2 for y in ys))
        self.assertIn(f"over {len(policies)} policies: {r:.3f}", self.report)
        arena = report_row(self.report, "## Allocation throughput", "`arena`")
        self.assertEqual(arena[3], f"{rates['arena'] / rates['new']:.2f}×")
        self.assertEqual(arena[4], f"{speeds['arena'] / speeds['new']:.2f}×")

    def test_unmatched_and_failed_benchmarks_are_left_out(self):
        self.assertNotIn("BM_clock_overhead", self.report)
        self.assertNotIn("churn", self.report)
        self.assertIn("BM_clock_overhead", self.process.stderr)

    def test_cross_language_runs_sit_beside_the_policies(self):
        self.assertIn("## Other languages", self.report)
        self.assertEqual(report_row(self.report, "## Other languages", "`cpython`")[4], "62.500")
        self.assertNotIn("`cpython`", self.report.split("## Training time per policy", 1)[1].split("## Phases", 1)[0])

    def test_no_temporary_files_remain(self):
        self.assertEqual(leftovers(self.out), [])

    def test_without_size_runs_no_size_chart_is_drawn(self):
        for chart in SIZE_CHARTS:
            self.assertFalse((self.out / "charts" / chart).exists(), chart)
        self.assertIn("No size-axis results", self.report.split("## Size axis", 1)[1])


def fixture_runs(name: str) -> dict:
    """policy -> (median repetition, train_seconds summary) of a machine_c fixture file."""
    data = json.loads((FIXTURES / "machine_c" / name).read_text())
    return {run["allocator"]: (median_repetition(run), run["train_seconds"]) for run in data["runs"]}


def ms_per_step(entry) -> float:
    repetition, summary = entry
    return 1000 * summary["median"] / repetition["steps"]


def fixture_share(runs: dict, policy: str) -> float:
    """alloc_share as REPORT.md documents it, from the fixture's median repetitions."""
    rep, arena = runs[policy][0], runs["arena"][0]
    per_step = lambda r, phase: r["phases_seconds"][phase] / r["steps"]
    extra = sum(per_step(rep, phase) - per_step(arena, phase) for phase in ("forward", "release"))
    return max(0.0, extra / (sum(rep["phases_seconds"].values()) / rep["steps"]))


class SeriesAndSizeTest(unittest.TestCase):
    """machine_c: dfs, creation and hashset series, a sweep/ folder and a gbench/ folder
    whose host_name differs from the folder name; beside machine_a so that nothing is
    attached to the only machine with training runs by accident."""

    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        root = Path(cls.temp.name)
        cls.results = make_results_dir(root, machines=("machine_a", "machine_c"), with_bad_files=False)
        cls.out = root / "out"
        cls.process, cls.report = run_report(cls.results, cls.out)
        cls.dfs = fixture_runs("bench_train_dfs.json")
        cls.creation = fixture_runs("bench_train_creation.json")

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def test_exits_zero(self):
        self.assertEqual(self.process.returncode, 0, self.process.stderr)

    def test_topo_series_do_not_collide(self):
        self.assertNotIn("appears in", self.process.stderr)
        self.assertNotIn("differs between", self.process.stderr)

    def test_headline_series_is_dfs(self):
        self.assertIn("Headline series: the default shape", self.report)
        row = report_row(self.report, "### machine_c — topo dfs", "`new`")
        self.assertEqual(row[5], f"{ms_per_step(self.dfs['new']):.3f}")
        self.assertEqual(row[4], "20", "a sweep file must not replace the headline run")

    def test_backward_order_table_compares_topos(self):
        section = self.report.split("## Backward order", 1)[1].split("\n## ", 1)[0]
        self.assertIn("| policy | dfs | creation | hashset | speed-up creation vs dfs |", section)
        self.assertNotIn("### machine_a", section, "machine_a ran one order only")
        for policy in ("new", "arena", "pool"):
            with self.subTest(policy=policy):
                row = report_row(section, "### machine_c", f"`{policy}`")
                dfs, creation = ms_per_step(self.dfs[policy]), ms_per_step(self.creation[policy])
                self.assertIn(f"({dfs:.3f} ms/step)", row[1])
                self.assertIn(f"({creation:.3f} ms/step)", row[2])
                self.assertEqual(row[4], f"{dfs / creation:.2f}×")
        self.assertEqual(report_row(section, "### machine_c", "`new`")[3], "–")

    def test_alloc_share_is_reported_per_topo(self):
        section = self.report.split("## Share of step time", 1)[1]
        for topo, runs in (("dfs", self.dfs), ("creation", self.creation)):
            for policy in ("new", "pool"):
                with self.subTest(topo=topo, policy=policy):
                    row = report_row(section, f"### machine_c — topo {topo}", f"`{policy}`")
                    self.assertEqual(row[-1], f"{100 * fixture_share(runs, policy):.1f}%")
        self.assertIn("### machine_c — topo hashset", section)

    def test_answer_uses_dfs_and_creation_shares(self):
        answer = self.report.split("\n## Answer\n", 1)[1]
        paragraph = answer.split("**machine_c.**", 1)[1].split("\n\n", 1)[0]
        dfs_share = f"{100 * fixture_share(self.dfs, 'new'):.1f}%"
        creation_share = f"{100 * fixture_share(self.creation, 'new'):.1f}%"
        self.assertIn(f"faithful DFS order (`--topo dfs`), allocating and releasing take about {dfs_share}",
                      paragraph)
        self.assertIn(f"creation order (`--topo creation`) the same share is {creation_share}", paragraph)
        speed_up = ms_per_step(self.dfs["new"]) / ms_per_step(self.creation["new"])
        self.assertIn(f"`new` trains {speed_up:.2f}× as fast as with dfs", paragraph)

    def test_size_charts_are_pngs_linked_from_the_report(self):
        for chart in SIZE_CHARTS:
            with self.subTest(chart=chart):
                path = self.out / "charts" / chart
                self.assertTrue(path.is_file(), f"{chart} missing")
                self.assertEqual(path.read_bytes()[:8], PNG_MAGIC)
                self.assertIn(f"](charts/{chart})", self.report.split("## Size axis", 1)[1])

    def sweep_run(self, name: str, policy: str):
        data = json.loads((FIXTURES / "machine_c" / "sweep" / name).read_text())
        run = next(r for r in data["runs"] if r["allocator"] == policy)
        rep = median_repetition(run)
        ns = 1e9 * run["train_seconds"]["median"] / rep["steps"] / rep["nodes_per_step"]
        return ns, rep["peak_rss_kib"] / 1024, rep["nodes_per_step"]

    def test_size_table_has_ns_per_node_and_rss_per_shape(self):
        section = self.report.split("## Size axis", 1)[1]
        self.assertIn("| shape | steps | nodes/step | `new` | `arena` | `pool` |", section)
        for name, label in (("embd16_layer1.json", "embd 16 · head 4 · layer 1 · block 16"),
                            ("embd128_layer4.json", "embd 128 · head 4 · layer 4 · block 16")):
            row = report_row(section, "### machine_c", label)
            for column, policy in ((3, "new"), (4, "arena"), (5, "pool")):
                with self.subTest(shape=label, policy=policy):
                    ns, rss, nodes = self.sweep_run(name, policy)
                    self.assertEqual(row[column], f"{ns:.1f} ns · {rss:.1f} MiB")
                    self.assertEqual(row[2], f"{nodes:,}")
        shapes = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| embd")]
        self.assertEqual(shapes, [f"embd {embd} · head 4 · layer {layer} · block 16"
                                  for embd, layer in ((16, 1), (32, 2), (128, 4))], "smallest graph first")

    def test_size_sentence_compares_smallest_and_largest_shape(self):
        small = self.sweep_run("embd16_layer1.json", "new")[0] / self.sweep_run("embd16_layer1.json", "arena")[0]
        large = self.sweep_run("embd128_layer4.json", "new")[0] / self.sweep_run("embd128_layer4.json", "arena")[0]
        self.assertGreater(large, small * 1.1)
        self.assertRegex(self.report, rf"`new` takes {small:.2f}× `arena`'s time per node at the smallest shape "
                                      rf"\(embd 16 [^)]*\) and {large:.2f}× at the largest \(embd 128 [^)]*\), "
                                      "so these two diverge as the graph grows")

    def test_files_below_a_machine_folder_belong_to_it(self):
        compare = load_compare_module()
        with contextlib.redirect_stderr(io.StringIO()):
            results = compare.load_results(self.results)
        self.assertEqual(sorted(results.machines), ["machine_a", "machine_c"])
        machine = results.machines["machine_c"]
        self.assertEqual({(p.source, p.policy) for p in machine.rate_points},
                         {("bench_alloc", "new"), ("bench_alloc", "arena"), ("bench_alloc", "pool")})
        self.assertEqual(sorted(machine.series), ["creation", "dfs", "hashset"])
        self.assertEqual(len(machine.size_runs), 3)
        self.assertEqual(machine.headline_topo, "dfs")
        self.assertEqual(results.machines["machine_a"].size_runs, {})


def section_text(report: str, heading: str) -> str:
    """The text of one '## ' section, without the next one."""
    return report.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


class EngineTest(unittest.TestCase):
    """machine_c plus a bench_train --engine tape file (fixtures/tape) and a file of an
    engine compare.py does not know: the tape is no policy, and appears only in *Modes*."""

    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        root = Path(cls.temp.name)
        cls.results = make_results_dir(root, machines=("machine_c",), with_bad_files=False)
        shutil.copy(FIXTURES / "tape" / "bench_train_tape.json", cls.results / "machine_c")
        # A graph-shaped file (arena, new, pool) under an unknown engine: were it merged,
        # it would replace the dfs series' runs.
        unknown = json.loads((FIXTURES / "machine_c" / "bench_train_dfs.json").read_text())
        unknown["config"]["engine"] = "fpga"
        unknown["context"]["date"] = "2027-01-01T00:00:00Z"
        for run in unknown["runs"]:
            run["train_seconds"]["median"] /= 10
        (cls.results / "machine_c" / "bench_train_fpga.json").write_text(json.dumps(unknown))
        cls.out = root / "out"
        cls.process, cls.report = run_report(cls.results, cls.out)
        cls.dfs = fixture_runs("bench_train_dfs.json")
        cls.creation = fixture_runs("bench_train_creation.json")
        cls.hashset = fixture_runs("bench_train_hashset_arena.json")
        tape = json.loads((FIXTURES / "tape" / "bench_train_tape.json").read_text())
        (run,) = tape["runs"]
        cls.tape = (median_repetition(run), run["train_seconds"])

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def test_exits_zero(self):
        self.assertEqual(self.process.returncode, 0, self.process.stderr)

    def test_tape_adds_no_policy_to_the_headline_table(self):
        section = section_text(self.report, "## Training time per policy")
        policies = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| `")]
        self.assertEqual(policies, ["`new`", "`arena`", "`pool`"])
        row = report_row(section, "### machine_c — topo dfs", "`arena`")
        self.assertEqual(row[5], f"{ms_per_step(self.dfs['arena']):.3f}", "the unknown engine replaced arena")
        for heading in ("## Backward order", "## Phases of a training step", "## Share of step time spent "
                        "allocating and releasing", "## Allocation throughput vs training speed", "## Memory",
                        "## Size axis"):
            with self.subTest(section=heading):
                self.assertNotIn("`tape`", section_text(self.report, heading))

    def test_tape_is_kept_apart_from_the_series(self):
        compare = load_compare_module()
        with contextlib.redirect_stderr(io.StringIO()):
            machine = compare.load_results(self.results).machines["machine_c"]
        self.assertEqual(list(machine.engines), ["tape"])
        self.assertNotIn("tape", {p for runs in machine.series.values() for p in runs})
        self.assertNotIn("tape", {p for runs in machine.size_runs.values() for p in runs})
        self.assertEqual(sorted(machine.policies), ["arena", "new", "pool"])

    def test_modes_table_lists_each_order_and_the_tape(self):
        section = section_text(self.report, "## Modes")
        self.assertIn("| mode | median | min – max | reps | steps | ms/step | work/step | speed vs arena dfs "
                      "| output |", section)
        base = ms_per_step(self.dfs["arena"])
        expected = {
            "`arena` · `--topo dfs`": (self.dfs["arena"], "microgpt.py's order, bit-identical"),
            "`arena` · `--topo creation`": (self.creation["arena"], "identical doubles to dfs, no sort"),
            "`arena` · `--topo hashset`": (self.hashset["arena"], "identical doubles to dfs"),
            "`--engine tape`": (self.tape, "fused ops, not bit-exact (gradients differ in the last bits)"),
        }
        for mode, (entry, note) in expected.items():
            with self.subTest(mode=mode):
                row = report_row(section, "### machine_c", mode)
                self.assertEqual(row[5], f"{ms_per_step(entry):.3f}")
                self.assertEqual(row[7], f"{base / ms_per_step(entry):.2f}×")
                self.assertEqual(row[8], note)
        tape = report_row(section, "### machine_c", "`--engine tape`")
        self.assertEqual(tape[1:5], ["45.00 ms", "44.20 ms – 46.80 ms", "3", "1000"])
        self.assertEqual(tape[6], "116 tape ops")
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        self.assertEqual(len(rows), 4, "one row per mode, nothing from the unknown engine")

    def test_modes_from_different_builds_are_flagged(self):
        section = section_text(self.report, "## Modes")
        self.assertNotIn("different builds", section, "every machine_c fixture names commit ad0a666")
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_c",), with_bad_files=False)
            tape = json.loads((FIXTURES / "tape" / "bench_train_tape.json").read_text())
            tape["context"]["git_commit"] = "f578232"
            (results / "machine_c" / "bench_train_tape.json").write_text(json.dumps(tape))
            out = Path(temp) / "out"
            process = run_compare("--results", results, "--out", out)
            report = (out / "REPORT.md").read_text(encoding="utf-8")
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("The rows come from different builds (git commit ad0a666: `arena` · `--topo dfs`, "
                      "`arena` · `--topo creation`, `arena` · `--topo hashset`; f578232: `--engine tape`)",
                      section_text(report, "## Modes"))

    def test_files_without_an_engine_are_graph_runs(self):
        for name in ("bench_train_dfs.json", "bench_train_creation.json", "bench_train_hashset_arena.json"):
            config = json.loads((FIXTURES / "machine_c" / name).read_text())["config"]
            self.assertNotIn("engine", config, f"{name} must stay a file from before --engine")
        compare = load_compare_module()
        self.assertEqual(compare.config_engine({}), "graph")
        self.assertEqual(compare.config_engine({"engine": "tape"}), "tape")
        self.assertIn("### machine_c — topo creation", self.report)

    def test_unknown_engine_is_warned_about_and_skipped(self):
        warnings = [line for line in self.process.stderr.splitlines()
                    if line.startswith("compare.py: warning:") and "bench_train_fpga.json" in line]
        self.assertEqual(len(warnings), 1, self.process.stderr)
        self.assertIn('unknown engine "fpga"', warnings[0])
        self.assertIn("bench_train_fpga.json", section_text(self.report, "## Skipped files"))
        self.assertNotIn("appears in", self.process.stderr, "the unknown engine's runs were merged")
        self.assertNotIn("fpga", self.report.split("## Skipped files", 1)[0])

    def test_tape_on_the_size_axis_is_skipped(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_c",), with_bad_files=False)
            shutil.copy(FIXTURES / "tape" / "bench_train_tape.json", results / "machine_c" / "sweep" / "tape.json")
            compare = load_compare_module()
            stderr = io.StringIO()
            with contextlib.redirect_stderr(stderr):
                loaded = compare.load_results(results)
        self.assertIn("tape.json: engine 'tape' on the size axis", stderr.getvalue())
        machine = loaded.machines["machine_c"]
        self.assertEqual(machine.engines, {})
        self.assertEqual(len(machine.size_runs), 3)

    def test_without_a_tape_run_the_modes_table_has_the_orders_only(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_b",), with_bad_files=False)
            out = Path(temp) / "out"
            process = run_compare("--results", results, "--out", out)
            report = (out / "REPORT.md").read_text(encoding="utf-8")
        self.assertEqual(process.returncode, 0, process.stderr)
        section = section_text(report, "## Modes")
        self.assertEqual(report_row(section, "### machine_b", "`arena` · `--topo dfs`")[7], "1.00×")
        self.assertNotIn("| `--engine tape` |", section)


class MachineAssignmentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.compare = load_compare_module()

    def test_first_folder_names_the_machine_unless_it_groups_by_kind(self):
        results = Path("/r")
        cases = {
            "m1/bench_train.json": "m1",
            "m1/gbench/bench_alloc.json": "m1",
            "m1/sweep/embd16_layer1.json": "m1",
            "m1/a/b/c.json": "m1",
            "bench_train.json": None,
            "gbench/bench_alloc.json": None,
            "sweep/embd16_layer1.json": None,
            "callgrind/callgrind_new.txt": None,
            "crosslang/x.json": None,
        }
        for relative, machine in cases.items():
            with self.subTest(path=relative):
                self.assertEqual(self.compare.directory_machine(results / relative, results), machine)

    def test_other_shapes_and_sweep_folders_form_the_size_axis(self):
        results = Path("/r")
        default = {"n_embd": 16, "n_head": 4, "n_layer": 1, "block_size": 16, "topo": "creation"}
        size_axis = self.compare.is_size_axis_file
        self.assertFalse(size_axis(results / "m1" / "bench_train.json", results, default))
        self.assertFalse(size_axis(results / "m1" / "bench_train.json", results, {}))  # defaults assumed
        self.assertTrue(size_axis(results / "m1" / "bench_train.json", results, dict(default, n_layer=2)))
        self.assertTrue(size_axis(results / "m1" / "sweep" / "embd16_layer1.json", results, default))
        self.assertTrue(size_axis(results / "sweep" / "embd16_layer1.json", results, default))

    def test_top_level_sweep_folder_is_a_size_axis_not_a_machine(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_b",), with_bad_files=False)
            shutil.copytree(FIXTURES / "machine_c" / "sweep", results / "sweep")
            stderr = io.StringIO()
            with contextlib.redirect_stderr(stderr):
                loaded = self.compare.load_results(results)
        self.assertEqual(list(loaded.machines), ["machine_b"], stderr.getvalue())
        self.assertEqual(len(loaded.machines["machine_b"].size_runs), 3)
        self.assertEqual(sorted(loaded.machines["machine_b"].policies), ["arena", "new", "pool"])

    def test_same_policy_twice_in_one_series_still_warns(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_c",), with_bad_files=False)
            shutil.copy(results / "machine_c" / "bench_train_dfs.json", results / "machine_c" / "again.json")
            stderr = io.StringIO()
            with contextlib.redirect_stderr(stderr):
                self.compare.load_results(results)
        self.assertIn("'new' (topo dfs) on machine_c appears in", stderr.getvalue())


class FailureTest(unittest.TestCase):
    def setUp(self):
        self.temp = tempfile.TemporaryDirectory()
        self.root = Path(self.temp.name)
        self.addCleanup(self.temp.cleanup)

    def test_help_describes_the_options(self):
        process = run_compare("--help")
        self.assertEqual(process.returncode, 0)
        for text in ("--results", "--out", "REPORT.md", "callgrind_", "Exit status"):
            self.assertIn(text, process.stdout)

    def test_nothing_usable_exits_2_and_keeps_the_old_report(self):
        results = make_results_dir(self.root, machines=())
        out = self.root / "out"
        out.mkdir()
        (out / "REPORT.md").write_text("old report\n")
        process = run_compare("--results", results, "--out", out)
        self.assertEqual(process.returncode, 2)
        self.assertIn("compare.py: error: no usable results", process.stderr)
        for name in ("empty.json", "malformed.json", "not_results.json"):
            self.assertIn(name, process.stderr)
        self.assertEqual((out / "REPORT.md").read_text(), "old report\n")
        self.assertEqual(leftovers(out), [])

    def test_missing_results_directory_is_a_clear_error(self):
        process = run_compare("--results", self.root / "nowhere", "--out", self.root / "out")
        self.assertEqual(process.returncode, 2)
        self.assertIn("does not exist", process.stderr)
        self.assertEqual(len(process.stderr.strip().splitlines()), 1)
        self.assertFalse((self.root / "out").exists())

    def test_interrupted_write_leaves_old_file_and_no_temporary(self):
        compare = load_compare_module()
        target = self.root / "REPORT.md"

        def write_half_then_fail(file):
            file.write(b"# half a rep")
            raise OSError("disk full")

        with self.assertRaises(OSError):
            compare.write_atomically(target, write_half_then_fail)
        self.assertFalse(target.exists())
        target.write_text("old report\n")
        with self.assertRaises(OSError):
            compare.write_atomically(target, write_half_then_fail)
        self.assertEqual(target.read_text(), "old report\n")
        self.assertEqual(leftovers(self.root), [])

    def test_failing_chart_writes_no_report(self):
        compare = load_compare_module()
        results = make_results_dir(self.root, machines=("machine_a",), with_bad_files=False)
        out = self.root / "out"

        def broken_chart(*args):
            raise RuntimeError("chart failed")

        compare.chart_memory = broken_chart
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(RuntimeError):
            compare.main(["--results", str(results), "--out", str(out)])
        self.assertFalse((out / "REPORT.md").exists())
        self.assertEqual(leftovers(self.root), [])


class ParsingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.compare = load_compare_module()

    def test_policy_is_found_in_benchmark_names_longest_first(self):
        cases = {
            "chain<mimalloc-heap>/1000": "mimalloc-heap",
            "chain<mimalloc>/1000_median": "mimalloc",
            "BM_step_graph/mimalloc_heap/8": "mimalloc-heap",
            "churn<shared_ptr>/64": "shared_ptr",
            "chain<new>/1000": "new",
            "BM_chain<mga::ArenaPolicy>": "arena",
            "renewal/1000": None,
            "BM_clock_overhead": None,
        }
        for name, policy in cases.items():
            with self.subTest(name=name):
                self.assertEqual(self.compare.find_policy(name), policy)

    def test_family_is_the_first_word(self):
        family = self.compare.benchmark_family
        self.assertEqual(family("chain<arena>/1000", "arena"), "chain")
        self.assertEqual(family("BM_step_graph<pool>", "pool"), "step_graph")
        self.assertEqual(family("churn_mimalloc_heap/64", "mimalloc-heap"), "churn")

    def test_gbench_without_median_uses_the_mean_of_iterations(self):
        data = {"benchmarks": [
            {"name": "chain<pool>/8", "run_type": "iteration", "real_time": 1.0, "time_unit": "us", "allocs/s": 100.0},
            {"name": "chain<pool>/8", "run_type": "iteration", "real_time": 3.0, "time_unit": "us", "allocs/s": 300.0},
        ]}
        points, unmatched = self.compare.parse_gbench(data, "bench_alloc")
        self.assertEqual(unmatched, [])
        self.assertEqual(len(points), 1)
        self.assertEqual((points[0].family, points[0].policy), ("chain", "pool"))
        self.assertAlmostEqual(points[0].real_time_ns, 2000.0)
        self.assertAlmostEqual(points[0].rate, 200.0)

    def test_alloc_share_is_clamped_at_zero(self):
        TrainRun = self.compare.TrainRun

        def run(forward, release):
            phases = {"forward": forward, "backward": 2.0, "adam": 0.2, "release": release}
            return TrainRun("p", "", 3.0, 3.0, 3.0, 1, 1000, phases, None, None, None, "f", "")

        arena = run(0.4, 0.0)
        self.assertEqual(self.compare.alloc_share(run(0.3, 0.0), arena), 0.0)
        self.assertAlmostEqual(self.compare.alloc_share(run(0.9, 0.5), arena), 1.0 / 3.6)

    def test_pearson_needs_three_points(self):
        self.assertIsNone(self.compare.pearson([1.0, 2.0], [1.0, 2.0]))
        xs, ys = [1.0, 2.0, 3.0, 5.0], [2.0, 4.0, 6.5, 7.0]
        self.assertAlmostEqual(self.compare.pearson(xs, ys), statistics.correlation(xs, ys))
        self.assertIsNone(self.compare.pearson([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))


if __name__ == "__main__":
    if importlib.util.find_spec("matplotlib") is None:
        sys.exit(f"test_compare.py: matplotlib is not installed for {sys.executable}; "
                 "run the tests with a python3 that has it (Debian: /usr/bin/python3, python3-matplotlib)")
    unittest.main(verbosity=2)
