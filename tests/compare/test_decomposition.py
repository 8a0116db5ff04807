"""scripts/mga_report/{cachesim,decomposition,sections_decomposition}.py: each policy's extra
time split into allocator, layout and other.

machine_d's fixtures are synthetic: every extra time over the reference is 0.1 ns per
instruction plus 2 ns per L1 miss (or 4 ns per last-level miss, each last-level count being
half the L1 one), except the reference-counted policy's, which the fit leaves out and which
has 6 ns the model cannot see; so every figure below is known in advance. The policies'
names come from their traits, never from here.
"""

import contextlib
import io
import json
import tempfile
import unittest
from pathlib import Path

from helpers import FIXTURES, PNG_MAGIC, code, load, make_results_dir, run_report, section_text
from mga_report import charts, decomposition, figures, loading

MACHINE = "machine_d"
TRAIN = FIXTURES / MACHINE / "bench_train_dfs.json"
CACHE = FIXTURES / MACHINE / "cachesim" / "embd16_layer1_dfs.json"
SECTION = "## Where the extra time goes: allocator, layout, other"


def roles() -> dict:
    """role -> policy, from the cache file's traits; 'strategy' is the policy with no role."""
    runs = load(CACHE)["runs"]
    found = {role: next(r["allocator"] for r in runs if r["traits"][role])
             for role in ("baseline", "no_alloc_reference", "reference_counted", "scattered", "compact")}
    found["strategy"] = next(r["allocator"] for r in runs
                             if r["allocator"] not in found.values() and not r["traits"]["control"])
    return found


def load_cases(edit=None):
    with tempfile.TemporaryDirectory() as temp:
        results = make_results_dir(Path(temp), machines=(MACHINE,), with_bad_files=False)
        if edit:
            edit(results / MACHINE)
        with contextlib.redirect_stderr(io.StringIO()):
            loaded = loading.load_results(results)
    computed = figures.compute_all(loaded)
    return loaded, computed, computed[MACHINE].decomposition


def edit_json(path: Path, change) -> None:
    data = load(path)
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


class LoadingTest(unittest.TestCase):
    def test_cache_files_are_read_per_shape_and_order(self):
        loaded, _, _ = load_cases()
        machine = loaded.machines[MACHINE]
        self.assertEqual(list(machine.cachesim), [((16, 4, 1, 16), "dfs")])
        series = machine.cachesim[((16, 4, 1, 16), "dfs")]
        baseline = series.runs[roles()["baseline"]]
        self.assertAlmostEqual(baseline.total.instructions, 300.0)
        self.assertAlmostEqual(baseline.total.d1_misses, 5.0)
        self.assertAlmostEqual(baseline.total.ll_misses, 2.5)
        self.assertAlmostEqual(baseline.allocator.instructions, 150.0)
        self.assertAlmostEqual(baseline.phases["forward"].instructions, 180.0)
        self.assertEqual(series.cache_words(), "I1 32 KiB, 8-way, 64 B lines; D1 32 KiB, 8-way, 64 B lines; "
                                               "LL 1 MiB, 16-way, 64 B lines")

    def test_a_file_of_another_schema_is_skipped_with_the_reason(self):
        def newer(directory):
            edit_json(directory / "cachesim" / CACHE.name, lambda data: data.update(schema=2))

        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=(MACHINE,), with_bad_files=False)
            newer(results / MACHINE)
            process, report = run_report(results, Path(temp) / "out")
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("cachesim schema 2, this script reads schema 1", report)
        self.assertIn("No cache-simulation results", section_text(report, SECTION))


class DecompositionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        _, _, cases = load_cases()
        cls.case = cases[0]
        cls.rows = {row.policy: row for row in cls.case.rows + cls.case.controls}

    def test_prices_fit_the_scattered_control_and_the_strategies(self):
        self.assertEqual(self.case.problem, "")
        self.assertEqual(sorted(self.case.fitted), sorted([roles()["baseline"], roles()["strategy"]]),
                         "neither the controls nor the reference-counted policy are fitted")
        self.assertAlmostEqual(self.case.prices["d1"].per_instruction, 0.1)
        self.assertAlmostEqual(self.case.prices["d1"].per_miss, 2.0)
        self.assertAlmostEqual(self.case.prices["ll"].per_instruction, 0.1)
        self.assertAlmostEqual(self.case.prices["ll"].per_miss, 4.0)
        self.assertAlmostEqual(self.case.misfit, 0.0)
        scattered = self.rows[roles()["scattered"]]
        self.assertAlmostEqual(scattered.parts["residual"].point, 0.0, places=9)

    def test_parts_are_the_known_ones(self):
        known = {roles()["baseline"]: (17.0, 4.0, 5.0, 5.0), roles()["strategy"]: (3.4, 1.6, 2.0, 2.0),
                 roles()["reference_counted"]: (17.0, 5.0, 15.0, 9.0)}
        for policy, (allocator, layout, other, instructions) in known.items():
            row = self.rows[policy]
            self.assertAlmostEqual(row.parts["allocator"].point, allocator, places=6, msg=policy)
            self.assertAlmostEqual(row.parts["layout"].point, layout, places=6, msg=policy)
            self.assertAlmostEqual(row.parts["other"].point, other, places=6, msg=policy)
            self.assertAlmostEqual(row.parts["other_instructions"].point, instructions, places=6, msg=policy)
            self.assertAlmostEqual(sum(row.parts[p].point for p in decomposition.PARTS), row.extra.point)
            self.assertTrue(row.parts["allocator"].available, "an interval from the three runs' repetitions")
            self.assertLessEqual(row.parts["allocator"].low, allocator)
            self.assertGreaterEqual(row.parts["allocator"].high, allocator)

    def test_controls_are_apart_and_the_reference_is_no_row(self):
        self.assertEqual({r.policy for r in self.case.controls}, {roles()["scattered"], roles()["compact"]})
        self.assertNotIn(roles()["no_alloc_reference"], self.rows)
        self.assertEqual(set(self.case.compact_check), {"d1", "ll"})
        predicted, measured = self.case.compact_check["d1"]
        self.assertAlmostEqual(predicted, 15.0)
        self.assertAlmostEqual(measured, 14.5)

    def test_the_phase_gap_is_explained_only_when_the_model_gives_the_measured_share(self):
        counted, strategy = self.rows[roles()["reference_counted"]], self.rows[roles()["strategy"]]
        self.assertAlmostEqual(counted.instruction_share, 150 / 340)
        self.assertAlmostEqual(counted.phase_share.point, 32 / 51, places=6)  # 6 ns the model cannot see
        self.assertAlmostEqual(counted.model_phase_share.point, 26 / 51, places=6)
        self.assertAlmostEqual(counted.parts["residual"].point, 6.0, places=6)
        self.assertFalse(counted.explains_phase_share)
        self.assertAlmostEqual(strategy.phase_share.point, 5.1 / 21, places=6)
        self.assertTrue(strategy.explains_phase_share)

    def test_no_positive_prices_is_said_so(self):
        def faster_scattered(directory):
            scattered = roles()["scattered"]

            def change(data):
                for run in data["runs"]:
                    if run["allocator"] == scattered:
                        for rep in run["repetitions"]:
                            rep["train_seconds"] /= 3
                        run["train_seconds"]["median"] /= 3

            edit_json(directory / TRAIN.name, change)

        _, _, cases = load_cases(faster_scattered)
        self.assertIn("no positive price per instruction and per miss", cases[0].problem)
        self.assertEqual(cases[0].rows, [])

    def test_misses_dearer_than_the_strategies_allow_are_said_so(self):
        def slower_scattered(directory):  # random misses far dearer than the strategies' extra misses
            scattered = roles()["scattered"]

            def change(data):
                for run in data["runs"]:
                    if run["allocator"] == scattered:
                        for rep in run["repetitions"]:
                            rep["train_seconds"] *= 20
                        run["train_seconds"]["median"] *= 20

            edit_json(directory / TRAIN.name, change)

        _, _, cases = load_cases(slower_scattered)
        self.assertIn("would cost more than their whole extra time", cases[0].problem)
        self.assertIn("2 of the 2 strategies", cases[0].problem)

    def test_a_model_that_does_not_fit_is_not_used(self):
        def scale_strategies(directory):  # times the counts cannot explain
            factors = {roles()["strategy"]: 4.0, roles()["baseline"]: 0.5}

            def change(data):
                for run in data["runs"]:
                    factor = factors.get(run["allocator"], 1.0)
                    for rep in run["repetitions"]:
                        rep["train_seconds"] *= factor
                    run["train_seconds"]["median"] *= factor

            edit_json(directory / TRAIN.name, change)

        _, _, cases = load_cases(scale_strategies)
        self.assertIn("the model does not fit", cases[0].problem)
        self.assertIn("the limit is 25%", cases[0].problem)

    def test_roles_come_from_traits_not_names(self):
        def rename(directory):
            for path in (directory / TRAIN.name, directory / "cachesim" / CACHE.name):
                edit_json(path, lambda data: [run.update(allocator="x-" + run["allocator"]) for run in data["runs"]])

        _, _, cases = load_cases(rename)
        renamed = {row.policy: row for row in cases[0].rows}
        self.assertAlmostEqual(renamed["x-" + roles()["baseline"]].parts["layout"].point, 4.0, places=6)


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=(MACHINE,), with_bad_files=False)
            cls.process, cls.report = run_report(results, Path(temp) / "out")
            chart = Path(temp) / "out" / "charts" / charts.CHART_FILES["decomposition"]
            cls.chart = chart.read_bytes() if chart.exists() else b""
        cls.text = section_text(cls.report, SECTION)

    def test_the_section_shows_strategies_and_controls_apart(self):
        self.assertEqual(self.process.returncode, 0, self.process.stderr)
        strategies, controls = self.text.split("Controls (experiments, not strategies):")

        def first_cells(text):
            return [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| `")]

        self.assertEqual(first_cells(strategies), [code(roles()["baseline"]), code(roles()["reference_counted"]),
                                                   code(roles()["strategy"])])
        self.assertEqual(first_cells(controls.split("Cache-simulation counts")[0]),
                         [code(roles()["scattered"]), code(roles()["compact"])])

    def test_the_baseline_sentence_and_the_gap_verdict(self):
        self.assertIn(f"Of {code(roles()['baseline'])}'s extra 26.0 ns per node over "
                      f"{code(roles()['no_alloc_reference'])}, 65.4% is the allocator's work, 15.4% where the nodes "
                      "land and 19.2% other.", self.text)
        self.assertIn(f"The largest gap between callgrind's instruction share and the phase-derived share is "
                      f"{code(roles()['reference_counted'])}'s", self.text)
        self.assertIn("the gap stays open", self.text)
        self.assertIn(f"Check: the compact control ({code(roles()['compact'])}) takes 14.5 ns per node; the model "
                      "predicts 15.0 (+3%)", self.text)

    def test_the_chart_is_drawn(self):
        self.assertTrue(self.chart.startswith(PNG_MAGIC))
        self.assertIn("![extra time per node: allocator, layout, other](charts/decomposition.png)", self.text)

    def test_without_the_scattered_controls_times_there_is_no_decomposition_and_no_chart(self):
        scattered = roles()["scattered"]
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=(MACHINE,), with_bad_files=False)
            edit_json(results / MACHINE / TRAIN.name,
                      lambda data: data.update(runs=[r for r in data["runs"] if r["allocator"] != scattered]))
            process, report = run_report(results, Path(temp) / "out")
            drawn = (Path(temp) / "out" / "charts" / charts.CHART_FILES["decomposition"]).exists()
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("No decomposition: no wall-time runs of the reference and the scattered control",
                      section_text(report, SECTION))
        self.assertFalse(drawn)


if __name__ == "__main__":
    unittest.main()
