"""The whole report, end to end: scripts/compare.py on fixture results directories
(sections.py, sections_alloc.py, answer.py, report.py)."""

import json
import math
import shutil
import tempfile
import unittest
from pathlib import Path

import helpers
from helpers import (FIXTURES, PNG_MAGIC, code, fixture_order, fixture_roles, fixture_runs, leftovers, load,
                     make_results_dir, median_repetition, ms_per_step, report_row, run_report, section_text)
from mga_report import exactness

CHARTS = ["train_time.png", "phases.png", "alloc_vs_train.png", "memory.png"]
SIZE_CHARTS = ["size_ns_per_node.png", "size_rss.png"]
MACHINE_A = FIXTURES / "machine_a" / "bench_train.json"


def fixture_share(runs: dict, policy: str, reference: str) -> float:
    """alloc_share as REPORT.md documents it, from the fixture's median repetitions."""
    rep, ref = runs[policy][0], runs[reference][0]
    per_step = lambda r, phase: r["phases_seconds"][phase] / r["steps"]
    extra = sum(per_step(rep, phase) - per_step(ref, phase) for phase in ("forward", "release"))
    return max(0.0, extra / (sum(rep["phases_seconds"].values()) / rep["steps"]))


class FullReportTest(unittest.TestCase):
    """Two machines, Google Benchmark, crosslang.json, callgrind, and four bad files."""

    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        root = Path(cls.temp.name)
        cls.results = make_results_dir(root)
        cls.out = root / "out"
        cls.process, cls.report = run_report(cls.results, cls.out)
        cls.roles = fixture_roles(MACHINE_A)
        cls.runs = fixture_runs(MACHINE_A)

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
            self.assertIn(f"**{machine}.** Allocation ", answer[1])
        base, reference = self.roles["baseline"], self.roles["no_alloc_reference"]
        self.assertRegex(answer[1], rf"`{reference}` is \d+\.\d\d× as fast as `{base}` \(95% CI \d")
        self.assertIn("other than the reference-counted", answer[1])

    def test_each_context_field_is_listed_once_per_machine(self):
        section = section_text(self.report, "## Machines and builds")
        machine_a = section.split("### machine_a", 1)[1].split("### ", 1)[0]
        context = load(MACHINE_A)["context"]
        for key in ("cpu", "compiler", "flags", "git_commit", "host"):
            with self.subTest(field=key):
                label = key.replace("_", " ")
                rows = [line for line in machine_a.splitlines() if line.startswith(f"| {label} |")]
                self.assertEqual(rows, [f"| {label} | {context[key]} |"])
        date = [line for line in machine_a.splitlines() if line.startswith("| date |")]
        self.assertEqual(len(date), 1)
        self.assertRegex(date[0], r"\| date \| \S+ – \S+ \(2 files\) \|")

    def test_a_field_whose_values_differ_names_the_files(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_b",), with_bad_files=False)
            other = load(results / "machine_b" / "bench_train.json")
            other["context"]["git_commit"] = "0ther"
            other["config"]["topo"] = "creation"
            (results / "machine_b" / "later.json").write_text(json.dumps(other))
            process, report = run_report(results, Path(temp) / "out")
        self.assertEqual(process.returncode, 0, process.stderr)
        commit = load(FIXTURES / "machine_b" / "bench_train.json")["context"]["git_commit"]
        self.assertIn(f"| git commit | {commit} (bench_train.json); 0ther (later.json) |", report)
        self.assertIn("| compiler | g++ 12.2.0 |", report)

    def test_roles_are_stated(self):
        roles = self.roles
        self.assertIn(f"Roles (from the runs' traits): baseline {code(roles['baseline'])}; no-alloc reference "
                      f"{code(roles['no_alloc_reference'])}; reference-counted {code(roles['reference_counted'][0])}",
                      self.report)

    def test_bad_files_are_named_in_one_line_warnings(self):
        warnings = [line for line in self.process.stderr.splitlines() if line.startswith("compare.py: warning:")]
        for name, reason in (("empty.json", "empty file"), ("malformed.json", "malformed JSON"),
                             ("not_results.json", "not a results file"),
                             ("crosslang_schema1.json", "no longer read")):
            with self.subTest(file=name):
                matching = [w for w in warnings if name in w]
                self.assertEqual(len(matching), 1, self.process.stderr)
                self.assertIn(reason, matching[0])
                self.assertIn(name, section_text(self.report, "## Skipped files"))

    def test_speed_ratios_have_intervals_and_noisy_cells_are_flagged(self):
        section = section_text(self.report, "## Training time per policy")
        base = self.roles["baseline"]
        for policy, entry in self.runs.items():
            with self.subTest(policy=policy):
                row = report_row(section, "### machine_a", code(policy))
                expected = ms_per_step(self.runs[base]) / ms_per_step(entry)
                self.assertTrue(row[-1].startswith(f"{expected:.2f}×"), row)
                if policy != base:
                    self.assertRegex(row[-1], r"× \(\d+\.\d\d–\d+\.\d\d\)")
                noisy = entry[1]["cv"] > 0.05
                self.assertEqual(row[2].endswith("†"), noisy, row)
        self.assertIn("† cv above 5%", section)
        self.assertIn("re-run", section)

    def test_alloc_share_matches_the_documented_formula(self):
        reference = self.roles["no_alloc_reference"]
        self.assertIn("alloc_share(p) = max(0,", self.report)
        for policy in self.runs:
            with self.subTest(policy=policy):
                share = fixture_share(self.runs, policy, reference)
                row = report_row(self.report, "## Share of step time", code(policy))
                self.assertTrue(row[-1].startswith(f"{100 * share:.1f}%"), row)

    def test_callgrind_summary_confirms(self):
        (path,) = (FIXTURES / "machine_a").glob("callgrind_*.txt")
        policy = path.stem[len("callgrind_"):]
        self.assertEqual(report_row(self.report, "Callgrind confirmation", code(policy))[1], "23.0%")

    def test_throughput_fits_with_and_without_the_reference_counted_policy(self):
        bench = load(FIXTURES / "machine_a" / "gbench" / "bench_alloc.json")
        rates = {row["run_name"].split("<")[1].split(">")[0]: row["allocs/s"] for row in bench["benchmarks"]
                 if row.get("aggregate_name") == "median"}
        speeds = {p: e[0]["steps"] / e[1]["median"] for p, e in self.runs.items()}

        def r_of(policies):
            xs, ys = [math.log(rates[p]) for p in policies], [math.log(speeds[p]) for p in policies]
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / math.sqrt(
                sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))

        section = section_text(self.report, "## Allocation throughput vs training speed")
        everyone = report_row(section, "### machine_a", "every policy")
        self.assertEqual(everyone[1], str(len(rates)))
        self.assertTrue(everyone[4].startswith(f"{r_of(list(rates)):.2f} ("), everyone)
        counted = self.roles["reference_counted"][0]
        robust = report_row(section, "### machine_a", f"without {code(counted)} (robust)")
        self.assertTrue(robust[4].startswith(f"{r_of([p for p in rates if p != counted]):.2f} ("), robust)
        self.assertIn("Leave-one-out over the robust fit's policies", section)
        base = self.roles["baseline"]
        for policy in rates:
            if policy != base:
                row = report_row(section, "### machine_a", code(policy))
                self.assertTrue(row[3].startswith(f"{rates[policy] / rates[base]:.2f}× ("), row)

    def test_unmatched_and_failed_benchmarks_are_left_out(self):
        self.assertNotIn("BM_clock_overhead", self.report)
        self.assertNotIn("churn", self.report)
        self.assertIn("BM_clock_overhead", self.process.stderr)

    def test_runtimes_are_not_policies(self):
        runtimes = [r["runtime"] for r in load(FIXTURES / "machine_a" / "crosslang.json")["runs"]]
        training = section_text(self.report, "## Training time per policy")
        for runtime in runtimes:
            self.assertNotIn(code(runtime), training)
            self.assertIn(code(runtime), section_text(self.report, "## microgpt.ts's claim"))

    def test_no_temporary_files_remain(self):
        self.assertEqual(leftovers(self.out), [])

    def test_without_size_runs_no_size_chart_is_drawn(self):
        for chart in SIZE_CHARTS:
            self.assertFalse((self.out / "charts" / chart).exists(), chart)
        self.assertIn("No size-axis results", section_text(self.report, "## Size axis"))

    def test_the_same_results_give_the_same_report(self):
        with tempfile.TemporaryDirectory() as temp:
            process, again = run_report(self.results, Path(temp) / "out")
        self.assertEqual(process.returncode, 0)
        self.assertEqual(again, self.report)


class SeriesAndSizeTest(unittest.TestCase):
    """machine_c: dfs, creation and hashset series, a sweep/ folder and a gbench/ folder
    whose host_name differs from the folder name; beside machine_a."""

    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        root = Path(cls.temp.name)
        cls.results = make_results_dir(root, machines=("machine_a", "machine_c"), with_bad_files=False)
        cls.out = root / "out"
        cls.process, cls.report = run_report(cls.results, cls.out)
        cls.dfs = fixture_runs(FIXTURES / "machine_c" / "bench_train_dfs.json")
        cls.creation = fixture_runs(FIXTURES / "machine_c" / "bench_train_creation.json")
        cls.roles = fixture_roles(FIXTURES / "machine_c" / "bench_train_dfs.json")
        cls.order = fixture_order(FIXTURES / "machine_c" / "bench_train_dfs.json")

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def test_exits_zero_without_collisions(self):
        self.assertEqual(self.process.returncode, 0, self.process.stderr)
        self.assertNotIn("appears in", self.process.stderr)
        self.assertNotIn("differs between", self.process.stderr)

    def test_headline_series_is_dfs(self):
        base = self.roles["baseline"]
        row = report_row(self.report, "### machine_c — topo dfs", code(base))
        self.assertEqual(row[7], f"{ms_per_step(self.dfs[base]):.3f}")
        self.assertEqual(row[6], "20", "a sweep file must not replace the headline run")

    def test_backward_order_table_compares_topos(self):
        section = section_text(self.report, "## Backward order")
        self.assertIn("| policy | dfs | creation | hashset | speed-up creation vs dfs | speed-up hashset vs dfs |",
                      section)
        self.assertNotIn("### machine_a", section, "machine_a ran one order only")
        for policy in self.order:
            with self.subTest(policy=policy):
                row = report_row(section, "### machine_c", code(policy))
                dfs, creation = ms_per_step(self.dfs[policy]), ms_per_step(self.creation[policy])
                self.assertIn(f"({dfs:.3f} ms/step)", row[1])
                self.assertIn(f"({creation:.3f} ms/step)", row[2])
                self.assertTrue(row[4].startswith(f"{dfs / creation:.2f}× ("), row)
        self.assertEqual(report_row(section, "### machine_c", code(self.roles["baseline"]))[3], "–")

    def test_alloc_share_is_reported_per_topo(self):
        section = section_text(self.report, "## Share of step time spent allocating and releasing")
        for topo, runs in (("dfs", self.dfs), ("creation", self.creation)):
            for policy in self.order:
                with self.subTest(topo=topo, policy=policy):
                    row = report_row(section, f"### machine_c — topo {topo}", code(policy))
                    share = fixture_share(runs, policy, self.roles["no_alloc_reference"])
                    self.assertTrue(row[-1].startswith(f"{100 * share:.1f}%"), row)
        self.assertIn("### machine_c — topo hashset", section)

    def test_answer_uses_dfs_and_creation_shares(self):
        answer = self.report.split("\n## Answer\n", 1)[1]
        paragraph = answer.split("**machine_c.**", 1)[1].split("\n\n", 1)[0]
        reference = self.roles["no_alloc_reference"]
        dfs_share = f"{100 * fixture_share(self.dfs, self.roles['baseline'], reference):.1f}%"
        creation_share = f"{100 * fixture_share(self.creation, self.roles['baseline'], reference):.1f}%"
        self.assertIn(f"faithful DFS order (`--topo dfs`), allocating and releasing take about {dfs_share} (95% CI",
                      paragraph)
        self.assertIn(f"creation order (`--topo creation`) the same share is {creation_share} (95% CI", paragraph)

    def test_size_charts_are_pngs_linked_from_the_report(self):
        for chart in SIZE_CHARTS:
            with self.subTest(chart=chart):
                path = self.out / "charts" / chart
                self.assertEqual(path.read_bytes()[:8], PNG_MAGIC)
                self.assertIn(f"](charts/{chart})", section_text(self.report, "## Size axis"))

    def sweep_run(self, name: str, policy: str):
        run = next(r for r in load(FIXTURES / "machine_c" / "sweep" / name)["runs"] if r["allocator"] == policy)
        rep = median_repetition(run)
        ns = 1e9 * run["train_seconds"]["median"] / rep["steps"] / rep["nodes_per_step"]
        return ns, rep["peak_rss_kib"] / 1024, rep["nodes_per_step"]

    def test_size_table_has_ns_per_node_and_rss_per_shape(self):
        section = section_text(self.report, "## Size axis")
        self.assertIn("| shape | steps | nodes/step | " + " | ".join(code(p) for p in self.order) + " |", section)
        for name, label in (("embd16_layer1.json", "embd 16 · head 4 · layer 1 · block 16"),
                            ("embd128_layer4.json", "embd 128 · head 4 · layer 4 · block 16")):
            row = report_row(section, "### machine_c", label)
            for column, policy in enumerate(self.order, start=3):
                with self.subTest(shape=label, policy=policy):
                    ns, rss, nodes = self.sweep_run(name, policy)
                    self.assertEqual(row[column], f"{ns:.1f} ns · {rss:.1f} MiB")
                    self.assertEqual(row[2], f"{nodes:,}")
        shapes = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| embd")]
        self.assertEqual(shapes, [f"embd {embd} · head 4 · layer {layer} · block 16"
                                  for embd, layer in ((16, 1), (32, 2), (128, 4))], "smallest graph first")

    def test_size_sentence_compares_smallest_and_largest_shape(self):
        base, reference = self.roles["baseline"], self.roles["no_alloc_reference"]
        small = self.sweep_run("embd16_layer1.json", base)[0] / self.sweep_run("embd16_layer1.json", reference)[0]
        large = self.sweep_run("embd128_layer4.json", base)[0] / self.sweep_run("embd128_layer4.json", reference)[0]
        self.assertGreater(large, small * 1.1)
        self.assertRegex(self.report, rf"`{base}` takes {small:.2f}× \(no interval: one repetition\) `{reference}`'s "
                                      rf"time per node at the smallest shape \(embd 16 [^)]*\) and {large:.2f}× "
                                      r"\(no interval: one repetition\) at the largest \(embd 128 [^)]*\), so these "
                                      "two diverge as the graph grows")


class EngineTest(unittest.TestCase):
    """machine_c plus a bench_train --engine tape file and a file of an unknown engine."""

    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        root = Path(cls.temp.name)
        cls.results = make_results_dir(root, machines=("machine_c",), with_bad_files=False)
        shutil.copy(FIXTURES / "tape" / "bench_train_tape.json", cls.results / "machine_c")
        unknown = load(FIXTURES / "machine_c" / "bench_train_dfs.json")
        unknown["config"]["engine"] = "fpga"
        unknown["context"]["date"] = "2027-01-01T00:00:00Z"
        for run in unknown["runs"]:
            run["train_seconds"]["median"] /= 10
        (cls.results / "machine_c" / "bench_train_fpga.json").write_text(json.dumps(unknown))
        cls.process, cls.report = run_report(cls.results, root / "out")
        cls.dfs = fixture_runs(FIXTURES / "machine_c" / "bench_train_dfs.json")
        cls.creation = fixture_runs(FIXTURES / "machine_c" / "bench_train_creation.json")
        cls.hashset = fixture_runs(FIXTURES / "machine_c" / "bench_train_hashset_arena.json")
        cls.tape = next(iter(fixture_runs(FIXTURES / "tape" / "bench_train_tape.json").values()))
        cls.roles = fixture_roles(FIXTURES / "machine_c" / "bench_train_dfs.json")

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def test_exits_zero(self):
        self.assertEqual(self.process.returncode, 0, self.process.stderr)

    def test_tape_adds_no_policy_to_the_policy_sections(self):
        section = section_text(self.report, "## Training time per policy")
        policies = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| `")]
        self.assertEqual(policies, [code(p) for p in self.dfs])
        for heading in ("## Backward order", "## Phases of a training step", "## Share of step time spent "
                        "allocating and releasing", "## Allocation throughput vs training speed", "## Memory",
                        "## Size axis"):
            with self.subTest(section=heading):
                self.assertNotIn("`tape`", section_text(self.report, heading))

    def test_modes_table_lists_each_order_and_the_tape_with_its_output(self):
        section = section_text(self.report, "## Modes")
        reference = self.roles["no_alloc_reference"]
        base = ms_per_step(self.dfs[reference])
        expected = {f"{code(reference)} · `--topo dfs`": self.dfs[reference],
                    f"{code(reference)} · `--topo creation`": self.creation[reference],
                    f"{code(reference)} · `--topo hashset`": self.hashset[reference],
                    "`--engine tape`": self.tape}
        for mode, entry in expected.items():
            with self.subTest(mode=mode):
                row = report_row(section, "### machine_c", mode)
                self.assertEqual(row[5], f"{ms_per_step(entry):.3f}")
                self.assertTrue(row[7].startswith(f"{base / ms_per_step(entry):.2f}×"), row)
                self.assertEqual(row[8], "identical to the config's other runs (no reference)")
        tape = report_row(section, "### machine_c", "`--engine tape`")
        self.assertEqual(tape[1:5], ["45.00 ms", "44.20 ms – 46.80 ms", "3", "1000"])
        self.assertEqual(tape[6], "116 tape ops")
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        self.assertEqual(len(rows), 4, "one row per mode, nothing from the unknown engine")

    def test_unknown_engine_is_warned_about_and_skipped(self):
        warnings = [line for line in self.process.stderr.splitlines()
                    if line.startswith("compare.py: warning:") and "bench_train_fpga.json" in line]
        self.assertEqual(len(warnings), 1, self.process.stderr)
        self.assertIn('unknown engine "fpga"', warnings[0])
        self.assertNotIn("appears in", self.process.stderr, "the unknown engine's runs were merged")
        self.assertNotIn("fpga", self.report.split("## Skipped files", 1)[0])

    def test_empty_output_hash_of_the_tape_is_loud(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_c",), with_bad_files=False)
            tape = load(FIXTURES / "tape" / "bench_train_tape.json")
            for rep in tape["runs"][0]["repetitions"]:
                rep["output_fnv1a64"] = exactness.EMPTY_HASH
            (results / "machine_c" / "tape.json").write_text(json.dumps(tape))
            process, report = run_report(results, Path(temp) / "out")
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("**EMPTY-OUTPUT HASH: nothing was hashed**",
                      report_row(section_text(report, "## Modes"), "### machine_c", "`--engine tape`")[8])
        self.assertIn("the hash of empty output: this run hashed nothing", section_text(report, "## Exactness"))


class NoTraitsTest(unittest.TestCase):
    def test_results_without_traits_say_no_role_is_known(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_a",), with_bad_files=False)
            helpers.strip_traits(results)
            process, report = run_report(results, Path(temp) / "out")
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("Roles: the results predate per-run traits, so no role is known", report)
        self.assertIn("No speed ratios: no role is known", section_text(report, "## Training time per policy"))
        self.assertIn("Not computed: no role is known", section_text(report, "## Share of step time spent "
                                                                             "allocating and releasing"))
        self.assertIn("which one is reference-counted is not recorded", section_text(report, "## Answer"))

    def test_a_huge_negative_or_positive_seed_is_reported(self):
        for seed in (-12, 10 ** 30):
            with self.subTest(seed=seed), tempfile.TemporaryDirectory() as temp:
                results = make_results_dir(Path(temp), machines=("machine_b",), with_bad_files=False)
                path = results / "machine_b" / "bench_train.json"
                path.write_text(path.read_text().replace('"seed": 42', f'"seed": {seed}'))
                process, report = run_report(results, Path(temp) / "out")
                self.assertEqual(process.returncode, 0, process.stderr)
                self.assertIn(f"| config seed | {seed} |", report)
                self.assertIn(f"seed {seed}, rng python", section_text(report, "## Exactness"))


if __name__ == "__main__":
    unittest.main()
