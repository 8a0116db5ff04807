"""scripts/mga_report/figures.py and answer.py: every figure, and every number of the answer,
computed here again from the fixtures' own JSON (policies found by their traits, never by name)."""

import json
import math
import re
import shutil
import tempfile
import unittest
from pathlib import Path

from helpers import (FIXTURES, fixture_cells, fixture_roles, fixture_runs, load, load_quietly, make_results_dir,
                     ms_per_step)
from mga_report import answer, figures

THREADS_FILE = FIXTURES / "threads" / "machine_a" / "bench_train_threads.json"


def fixture_share(runs: dict, policy: str, reference: str) -> float:
    """The allocation share as REPORT.md documents it, from the fixture's median repetitions."""
    rep, ref = runs[policy][0], runs[reference][0]
    per_step = lambda r, phase: r["phases_seconds"][phase] / r["steps"]  # noqa: E731
    extra = sum(per_step(rep, phase) - per_step(ref, phase) for phase in ("forward", "release"))
    return min(1.0, max(0.0, extra / (sum(rep["phases_seconds"].values()) / rep["steps"])))


def fixture_rates(machine: str) -> dict:
    """policy -> the median allocs/s of its chain benchmark."""
    rows = load(FIXTURES / machine / "gbench" / "bench_alloc.json")["benchmarks"]
    return {row["run_name"].split("/")[1]: row["allocs/s"] for row in rows
            if row.get("aggregate_name") == "median" and row["run_name"].startswith("chain/")}


def slope(xs, ys) -> float:
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((x - mx) * (y - my) for x, y in zip(lx, ly)) / sum((x - mx) ** 2 for x in lx)


def computed(*machines, extra=None):
    temp = tempfile.TemporaryDirectory()
    results = make_results_dir(Path(temp.name), machines=machines, with_bad_files=False)
    if extra:
        extra(results)
    loaded, found, _ = load_quietly(results)
    temp.cleanup()
    return loaded, found


class FiguresTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.loaded, cls.figures = computed("machine_a", "machine_c", "machine_m", extra=lambda results: shutil.copy(
            THREADS_FILE, results / "machine_a" / THREADS_FILE.name))

    def test_speed_ratios_share_and_its_bound(self):
        for machine, name in (("machine_a", "bench_train.json"), ("machine_c", "bench_train_creation.json")):
            runs, roles = fixture_runs(FIXTURES / machine / name), fixture_roles(FIXTURES / machine / name)
            topo = load(FIXTURES / machine / name)["config"]["topo"]
            fig = self.figures[machine]
            for policy in runs:
                with self.subTest(machine=machine, policy=policy):
                    speed = fig.speed[topo][policy]
                    expected = ms_per_step(runs[roles["baseline"]]) / ms_per_step(runs[policy])
                    self.assertAlmostEqual(speed.point, expected)
                    share = fixture_share(runs, policy, roles["no_alloc_reference"])
                    self.assertAlmostEqual(fig.shares[topo][policy].point, share)
                    self.assertAlmostEqual(figures.amdahl(fig.shares[topo][policy]).point, 1 / (1 - share))
                    if policy != roles["baseline"]:
                        self.assertTrue(speed.low < speed.point < speed.high)

    def test_the_elasticity_is_the_log_log_slope_of_speed_on_rate(self):
        runs, roles = fixture_runs(FIXTURES / "machine_a" / "bench_train.json"), fixture_roles(
            FIXTURES / "machine_a" / "bench_train.json")
        rates = fixture_rates("machine_a")
        found = self.figures["machine_a"].throughput
        robust = [p for p in rates if p not in roles["reference_counted"]]
        speeds = {p: runs[p][0]["steps"] / runs[p][1]["median"] for p in rates}
        self.assertEqual(found.left_out, roles["reference_counted"])
        self.assertAlmostEqual(found.elasticity.point, slope([rates[p] for p in robust], [speeds[p] for p in robust]))
        self.assertAlmostEqual(found.elasticity_all.point, slope(list(rates.values()), [speeds[p] for p in rates]))
        self.assertAlmostEqual(figures.tenfold(found.elasticity).point, 10 ** found.elasticity.point)
        self.assertTrue(found.elasticity.low < found.elasticity.point < found.elasticity.high)

    def test_the_matrix_divides_by_its_own_baseline_under_glibc(self):
        cells = fixture_cells(FIXTURES / "machine_m" / "bench_train_malloc_dfs.json")
        base = fixture_roles(FIXTURES / "machine_m" / "bench_train_dfs.json")["baseline"]
        view = self.figures["machine_m"].matrix["dfs"]
        self.assertEqual(view.mallocs[0], "glibc")
        for (malloc, policy), entry in cells.items():
            expected = ms_per_step(cells[("glibc", base)]) / ms_per_step(entry)
            self.assertAlmostEqual(view.speed[(malloc, policy)].point, expected)

    def test_the_practical_rows(self):
        fig = self.figures["machine_m"]
        roles = fixture_roles(FIXTURES / "machine_m" / "bench_train_dfs.json")
        cells = fixture_cells(FIXTURES / "machine_m" / "bench_train_malloc_dfs.json")
        rows = {what: (found, note)
                for what, found, note in figures.practical(fig.machine, fig.matrix["dfs"], fig.roles)}
        base = roles["baseline"]
        drop_ins = {m: ms_per_step(cells[("glibc", base)]) / ms_per_step(cells[(m, base)])
                    for m, p in cells if p == base and m != "glibc"}
        for malloc, value in drop_ins.items():
            self.assertAlmostEqual(rows[f"`{base}` under `{malloc}` vs under glibc"][0].point, value)
        for standard in roles["standard_library"]:
            frees = standard in roles["frees_per_node"]
            twin = next(h for h in roles["hand_written"] if (h in roles["frees_per_node"]) == frees)
            self.assertAlmostEqual(rows[f"`{standard}` vs `{twin}`, under glibc"][0].point,
                                   ms_per_step(cells[("glibc", twin)]) / ms_per_step(cells[("glibc", standard)]))
        best = max(drop_ins, key=drop_ins.get)  # the fixture's drop-ins are measurably faster
        hand = roles["hand_written"][0]
        found, note = rows[f"`{hand}` under glibc vs `{base}` under its best drop-in"]
        self.assertEqual(note, f"`{best}`")
        self.assertAlmostEqual(found.point, ms_per_step(cells[(best, base)]) / ms_per_step(cells[("glibc", hand)]))

    def test_std_pmr_rows_come_from_the_train_runs_when_the_matrix_has_only_some_policies(self):
        # scripts/measure.sh's matrix holds the baseline, shared_ptr and the arena; std::pmr against
        # the hand-written policies is then read from the glibc training runs of the same order.
        fig = self.figures["machine_m"]
        full = fig.matrix["dfs"]
        base = fig.roles.baseline
        narrow = figures.MatrixView(full.topo, full.mallocs, [base],
                                    {k: run for k, run in full.cells.items() if k[1] == base})
        rows = {what: found for what, found, _ in figures.practical(fig.machine, narrow, fig.roles)}
        trained = fig.machine.series["dfs"]
        pmr = [w for w in rows if w.endswith(", under glibc")]
        self.assertTrue(pmr, "no std::pmr row")
        for what in pmr:
            standard, other = re.findall(r"`([^`]+)`", what)[:2]
            self.assertAlmostEqual(rows[what].point,
                                   trained[other].ms_per_step / trained[standard].ms_per_step)

    def test_the_no_node_ceiling_is_against_the_reference_in_creation_order(self):
        ceiling = self.figures["machine_m"].ceiling
        exact = fixture_runs(FIXTURES / "machine_m" / "bench_train_tape_exact.json")["tape-exact"]
        creation = fixture_cells(FIXTURES / "machine_m" / "bench_train_malloc_creation.json")
        reference = fixture_roles(FIXTURES / "machine_m" / "bench_train_dfs.json")["no_alloc_reference"]
        expected = ms_per_step(creation[("glibc", reference)]) / ms_per_step(exact)
        self.assertAlmostEqual(ceiling.exact_vs_graph.point, expected)

    def test_thread_scaling_and_gain_come_from_the_medians(self):
        medians = {(r["allocator"], r["release"], r["threads"]): r["train_seconds"]["median"]
                   for r in load(THREADS_FILE)["runs"]}
        found = figures.thread_figures(self.figures["machine_a"].machine)
        for (policy, release, n), seconds in medians.items():
            scaling, gain = found[("glibc", policy, n)] if release == "inline" else (None, None)
            if release == "inline" and n > 1:
                self.assertAlmostEqual(scaling.point, medians[(policy, "inline", 1)] / seconds)
            if release == "background":
                self.assertAlmostEqual(found[("glibc", policy, n)][1].point, medians[(policy, "inline", n)] / seconds)


class AnswerTest(unittest.TestCase):
    def test_every_number_comes_from_the_figures_and_no_verdict_word_is_used(self):
        _, found = computed("machine_a", "machine_m")
        fig = found["machine_m"]
        bullets = answer.bullets(fig)
        self.assertEqual(len(bullets), 5)
        text = "\n".join(bullets)
        base = fig.roles.baseline
        share = fig.shares["dfs"][base]
        self.assertTrue(bullets[0].startswith(f"- {100 * share.point:.1f}% (95% CI {100 * share.low:.1f}–"
                                              f"{100 * share.high:.1f}%) of a `{base}` training step"), bullets[0])
        self.assertIn(f"at most {figures.amdahl(share).point:.2f}× as fast", bullets[0])
        view = fig.matrix["dfs"]
        best = max(view.mallocs[1:], key=lambda m: view.speed[(m, base)].point)
        self.assertIn(f"`{best}`", bullets[2])
        self.assertIn(f"{view.speed[(best, base)].point:.2f}× (95% CI", bullets[2])
        self.assertIn(f"{fig.ceiling.exact_vs_graph.point:.2f}× (95% CI", bullets[3])
        for word in ("bottleneck", "explain", "**"):
            self.assertNotIn(word, text)
        self.assertIn("Google Benchmark allocation rates", bullets[4], "machine_m has no chain rates")
        detailed = answer.bullets(fig, details=True)
        self.assertIn(f"{figures.amdahl(share).point:.2f}× ({figures.amdahl(share).low:.2f}–", detailed[0])
        for short, long in zip(bullets, detailed):
            self.assertTrue(long.startswith(short), "REPORT.md's bullet is the README's and its details")

    def test_each_readme_bullet_is_one_number_with_its_interval_in_two_lines(self):
        _, found = computed("machine_a", "machine_m")
        for machine in ("machine_a", "machine_m"):
            for bullet in answer.bullets(found[machine]):
                with self.subTest(machine=machine, bullet=bullet[:40]):
                    self.assertLessEqual(len(bullet), answer.MAX_HEADLINE)
                    self.assertLessEqual(bullet.count("95% CI"), 1)
                    self.assertLessEqual(len(re.findall(r"\d\.\d\d× \(", bullet)), 1, "one ratio with an interval")

    def test_the_elasticity_bullet_names_the_policies_it_covers(self):
        _, found = computed("machine_a")
        fig = found["machine_a"]
        bullet = answer.elasticity_bullet(fig)
        roles = fixture_roles(FIXTURES / "machine_a" / "bench_train.json")
        tenfold = figures.tenfold(fig.throughput.elasticity)
        self.assertIn(f"went with {tenfold.point:.2f}× (95% CI {tenfold.low:.2f}–{tenfold.high:.2f}", bullet[0])
        self.assertIn(f"and the reference-counted `{roles['reference_counted'][0]}`", bullet[0])
        self.assertIn(f"the {len(fig.throughput.points) - 1} policies", bullet[0])
        self.assertIn(f"The log–log slope: {fig.throughput.elasticity.point:.2f}", bullet[1])

    def test_a_custom_allocator_beyond_the_bound_gets_its_measured_reason(self):
        _, found = computed("machine_m")
        fig = found["machine_m"]
        bullet, details = answer.custom_bullet(fig)
        hand = max((p for p in fig.roles.having("hand_written")), key=lambda p: fig.speed["dfs"][p].point)
        self.assertIn(f"`{hand}`, the fastest hand-written allocator, trains {fig.speed['dfs'][hand].point:.2f}×",
                      bullet)
        bound = figures.amdahl(fig.shares["dfs"][fig.roles.baseline])
        self.assertGreater(fig.speed["dfs"][hand].low, bound.high, "the fixture's allocator beats the bound")
        self.assertRegex(bullet, r"past the bound above: its \w+ phase, which allocates nothing, is faster too\.$")
        self.assertRegex(details, r"^Its \w+ phase, which allocates nothing, runs \d\.\d\d× \(95% CI")

    def test_where_the_nodes_land_is_said_when_the_scattered_control_loses_the_phase(self):
        def hand_written_reference(results):  # machine_d has a scattered control; its reference becomes hand-written
            data = load(results / "machine_d" / "bench_train_dfs.json")
            for run in data["runs"]:
                run["traits"]["hand_written"] = run["traits"]["no_alloc_reference"]
            (results / "machine_d" / "bench_train_dfs.json").write_text(json.dumps(data))

        _, found = computed("machine_d", extra=hand_written_reference)
        fig = found["machine_d"]
        bullet, details = answer.custom_bullet(fig)
        control = fig.roles.having("scattered")[0]
        self.assertRegex(bullet, r"past the bound above: where its nodes land makes even its \w+ phase, which "
                                 r"allocates nothing, faster\.$")
        self.assertRegex(details, rf"with its nodes scattered \(the layout control `{control}`\), 0\.\d\d× \(95% CI")

    def test_missing_data_is_said_not_invented(self):
        _, found = computed("machine_b")
        bullets = answer.bullets(found["machine_b"], details=True)
        self.assertLessEqual(len(bullets), 5)
        self.assertIn("No hand-written allocator", bullets[1])
        self.assertIn("No policy × process-allocator matrix", bullets[2])
        self.assertIn("No `--engine tape-exact` run", bullets[3])
        for bullet in bullets[1:]:
            self.assertIsNone(re.search(r"\d+\.\d\d×", bullet), bullet)


if __name__ == "__main__":
    unittest.main()
