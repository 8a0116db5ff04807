"""scripts/mga_report/threads.py: the thread axis (bench_train --threads, --release) read from its
own files, kept out of the policy series, and turned into a table, a sentence and a chart.

The fixture (fixtures/threads/) is a real `bench_train --threads 1,2,4 --release=all --repeat 2` file
cut down to four policies; the expected figures are computed here from the fixture's own medians, and
the policies are found by their traits, never by name."""

import contextlib
import copy
import io
import json
import shutil
import tempfile
import unittest
from pathlib import Path

from helpers import FIXTURES, PNG_MAGIC, load, make_results_dir, run_report
from mga_report import loading, threads

THREADS_FILE = FIXTURES / "threads" / "machine_a" / "bench_train_threads.json"


def quiet_load(results: Path):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        loaded = loading.load_results(results)
    return loaded, stderr.getvalue()


def fixture_cells() -> dict:
    """(policy, release, threads) -> median seconds, from the fixture's own runs."""
    return {(r["allocator"], r["release"], r["threads"]): r["train_seconds"]["median"]
            for r in load(THREADS_FILE)["runs"]}


def with_trait(trait: str, value: bool = True) -> list:
    return sorted({r["allocator"] for r in load(THREADS_FILE)["runs"] if r["traits"][trait] == value})


def results_with_threads(root: Path, data: dict | None = None) -> Path:
    """machine_a's fixture with the thread-axis file beside it (or `data` in its place)."""
    results = make_results_dir(root, machines=("machine_a",), with_bad_files=False)
    target = results / "machine_a" / THREADS_FILE.name
    if data is None:
        shutil.copy(THREADS_FILE, target)
    else:
        target.write_text(json.dumps(data))
    return results


class LoadingTest(unittest.TestCase):
    def test_thread_runs_stay_out_of_the_policy_series(self):
        with tempfile.TemporaryDirectory() as plain_dir, tempfile.TemporaryDirectory() as both_dir:
            plain, _ = quiet_load(make_results_dir(Path(plain_dir), machines=("machine_a",), with_bad_files=False))
            both, stderr = quiet_load(results_with_threads(Path(both_dir)))
        before, after = plain.machines["machine_a"], both.machines["machine_a"]
        self.assertEqual({t: {p: r.median_s for p, r in s.items()} for t, s in before.series.items()},
                         {t: {p: r.median_s for p, r in s.items()} for t, s in after.series.items()}, stderr)
        self.assertEqual(len(after.thread_runs), len(load(THREADS_FILE)["runs"]))
        self.assertEqual(before.thread_runs, [])
        self.assertNotIn("appears in", stderr, "no cell collides with a series run")
        self.assertTrue(set(map(id, (r.train for r in after.thread_runs))) <= set(map(id, after.all_runs)),
                        "the thread runs' hashes take part in the exactness check")

    def test_each_cell_keeps_its_threads_release_and_replicas(self):
        with tempfile.TemporaryDirectory() as temp:
            loaded, _ = quiet_load(results_with_threads(Path(temp)))
        runs = loaded.machines["machine_a"].thread_runs
        for raw, run in zip(load(THREADS_FILE)["runs"], runs):
            self.assertEqual((run.name, run.release, run.threads, run.oversubscribed),
                             (raw["allocator"], raw["release"], raw["threads"], raw["oversubscribed"]))
            self.assertEqual(len(run.replica_seconds), run.threads)
            self.assertAlmostEqual(run.steps_per_second, raw["steps_per_second"], places=3)

    def test_a_bad_cell_is_skipped_and_the_rest_used(self):
        data = copy.deepcopy(load(THREADS_FILE))
        data["runs"][0]["threads"] = 0
        data["runs"][1]["release"] = "later"
        del data["runs"][2]["threads"]
        with tempfile.TemporaryDirectory() as temp:
            loaded, stderr = quiet_load(results_with_threads(Path(temp), data))
        self.assertEqual(len(loaded.machines["machine_a"].thread_runs), len(data["runs"]) - 3)
        self.assertIn("'threads' is not a positive integer", stderr)
        self.assertIn("'release' is not one of inline, background", stderr)

    def test_a_file_without_a_usable_cell_is_skipped(self):
        data = copy.deepcopy(load(THREADS_FILE))
        for run in data["runs"]:
            run["threads"] = "two"
        with tempfile.TemporaryDirectory() as temp:
            loaded, stderr = quiet_load(results_with_threads(Path(temp), data))
        self.assertEqual(loaded.machines["machine_a"].thread_runs, [])
        self.assertTrue(any("no usable run" in s for s in loaded.skipped), loaded.skipped)


class FiguresTest(unittest.TestCase):
    def setUp(self):
        self.temp = tempfile.TemporaryDirectory()
        loaded, _ = quiet_load(results_with_threads(Path(self.temp.name)))
        self.machine = loaded.machines["machine_a"]
        self.order = loaded.order
        self.cells = threads.cells(self.machine)

    def tearDown(self):
        self.temp.cleanup()

    def test_efficiency_and_gain_come_from_the_medians(self):
        medians = fixture_cells()
        checked = 0
        for (malloc, policy, release, count), run in self.cells.items():
            self.assertAlmostEqual(threads.efficiency(self.cells, run),
                                   medians[(policy, release, 1)] / medians[(policy, release, count)])
            gain = threads.background_gain(self.cells, run)
            if release == threads.BACKGROUND:
                self.assertAlmostEqual(gain, medians[(policy, "inline", count)] / medians[(policy, release, count)])
                checked += 1
            else:
                self.assertIsNone(gain)
        self.assertGreater(checked, 0)

    def test_the_table_has_a_row_per_policy_and_thread_count(self):
        malloc = threads.chart_malloc(self.machine)
        rows = threads.machine_rows(self.machine, malloc, self.order)
        expected = sorted({(f"`{p}`", t) for (p, _, t) in fixture_cells()})
        self.assertEqual(sorted((row[0], int(row[2].split()[0])) for row in rows), expected)
        for row in rows:
            policy = row[0].strip("`")
            if policy in with_trait("cross_thread_release", False):
                self.assertEqual(row[5:], [threads.DASH] * 3, f"{policy} has no background cells")
            if int(row[2].split()[0]) == 4:
                self.assertIn(threads.OVERSUBSCRIBED_MARK, row[2], "4 threads on 2 cores is oversubscribed")

    def test_the_section_names_roles_refusals_and_the_baselines_scaling(self):
        text = "\n".join(threads.section([self.machine], self.order, {"threads"}))
        self.assertIn("## Threads", text)
        self.assertIn("![throughput vs threads](charts/threads.png)", text)
        (baseline,) = with_trait("baseline")
        medians = fixture_cells()
        self.assertIn(f"the baseline (`{baseline}`) keeps "
                      f"{100 * medians[(baseline, 'inline', 1)] / medians[(baseline, 'inline', 2)]:.0f}% of linear "
                      "scaling at 2 threads", text)
        for refused in with_trait("cross_thread_release", False):
            self.assertIn(f"`{refused}`", text.split("No background runs for")[1].split("\n")[0])
        self.assertIn(threads.OVERSUBSCRIBED_LEGEND, text)

    def test_no_thread_runs_no_section(self):
        self.assertEqual(threads.section([loading.Machine("m")], self.order, set()), [])


class ReportTest(unittest.TestCase):
    def test_compare_draws_the_thread_chart_and_writes_the_section(self):
        with tempfile.TemporaryDirectory() as temp:
            results = results_with_threads(Path(temp))
            process, report = run_report(results, Path(temp) / "out")
            self.assertEqual(process.returncode, 0, process.stderr)
            chart = Path(temp) / "out" / "charts" / "threads.png"
            self.assertTrue(chart.read_bytes().startswith(PNG_MAGIC))
        self.assertIn("## Threads", report)
        self.assertIn("charts/threads.png", report)

    def test_a_results_directory_with_only_the_thread_axis(self):
        with tempfile.TemporaryDirectory() as temp:
            results = Path(temp) / "results" / "machine_a"
            results.mkdir(parents=True)
            shutil.copy(THREADS_FILE, results)
            process, report = run_report(results.parent, Path(temp) / "out")
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("## Threads", report)


if __name__ == "__main__":
    unittest.main()
