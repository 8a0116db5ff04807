"""scripts/mga_report/matrix.py and the loader's malloc axis: the policy x process-malloc
matrix of fixtures/machine_m (dfs: a matrix file beside an older glibc-only file;
creation: a matrix file alone, one cell missing)."""

import contextlib
import io
import json
import tempfile
import unittest
from pathlib import Path

from helpers import (FIXTURES, PNG_MAGIC, code, fixture_cells, fixture_mallocs, fixture_roles, fixture_runs, load,
                     make_results_dir, ms_per_step, report_row, run_report, section_text)
from mga_report import charts, figures, loading, matrix
from mga_report.model import DEFAULT_MALLOC

MACHINE = "machine_m"
MATRIX_DFS = FIXTURES / MACHINE / "bench_train_malloc_dfs.json"
MATRIX_CREATION = FIXTURES / MACHINE / "bench_train_malloc_creation.json"
GLIBC_DFS = FIXTURES / MACHINE / "bench_train_dfs.json"
SECTION = "## The process allocator: policy × malloc"


def quiet_load(results: Path):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        loaded = loading.load_results(results)
    return loaded, stderr.getvalue()


class MatrixLoadingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        cls.results = make_results_dir(Path(cls.temp.name), machines=(MACHINE,), with_bad_files=False)
        cls.loaded, cls.stderr = quiet_load(cls.results)
        cls.machine = cls.loaded.machines[MACHINE]
        cls.figures = figures.compute_all(cls.loaded)[MACHINE]

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def test_every_cell_is_kept_and_no_policy_collides_with_itself(self):
        self.assertNotIn("appears in", self.stderr)
        for path, topo in ((MATRIX_DFS, "dfs"), (MATRIX_CREATION, "creation")):
            cells = fixture_cells(path)
            found = {(m, p): run for m, runs in self.machine.matrix[topo].items() for p, run in runs.items()}
            self.assertEqual(set(found), set(cells))
            for key, (_, summary) in cells.items():
                self.assertEqual(found[key].median_s, summary["median"], key)

    def test_the_headline_uses_the_glibc_only_file_where_there_is_one(self):
        for policy, (_, summary) in fixture_runs(GLIBC_DFS).items():
            self.assertEqual(self.machine.series["dfs"][policy].median_s, summary["median"])
        self.assertNotIn("dfs", self.machine.series_from_matrix)

    def test_without_a_glibc_only_file_the_headline_is_the_matrix_glibc_column(self):
        glibc = {p: s for (m, p), (_, s) in fixture_cells(MATRIX_CREATION).items() if m == DEFAULT_MALLOC}
        self.assertEqual({p: r.median_s for p, r in self.machine.series["creation"].items()},
                         {p: s["median"] for p, s in glibc.items()})
        self.assertEqual(self.machine.series_from_matrix, {"creation"})

    def test_mallocs_keep_the_files_order_glibc_first(self):
        view = self.figures.matrix["dfs"]
        self.assertEqual(view.mallocs, fixture_mallocs(MATRIX_DFS))
        self.assertEqual(view.mallocs[0], DEFAULT_MALLOC)

    def test_ratios_divide_by_the_matrix_files_own_baseline(self):
        base = fixture_roles(MATRIX_DFS)["baseline"]
        cells = fixture_cells(MATRIX_DFS)
        reference = ms_per_step(cells[(DEFAULT_MALLOC, base)])
        view = self.figures.matrix["dfs"]
        self.assertIs(view.reference, self.machine.matrix["dfs"][DEFAULT_MALLOC][base])
        for key, entry in cells.items():
            with self.subTest(cell=key):
                self.assertAlmostEqual(view.speed[key].point, reference / ms_per_step(entry), places=9)
                if key != (DEFAULT_MALLOC, base):
                    self.assertTrue(view.speed[key].available)

    def test_a_matrix_without_glibc_cells_takes_them_from_the_glibc_only_file_and_says_so(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=(MACHINE,), with_bad_files=False)
            path = results / MACHINE / "bench_train_malloc_dfs.json"
            data = load(path)
            data["runs"] = [r for r in data["runs"] if r["malloc"] != DEFAULT_MALLOC]
            data["config"]["malloc"] = data["runs"][0]["malloc"]
            path.write_text(json.dumps(data))
            loaded, _ = quiet_load(results)
            process, report = run_report(results, Path(temp) / "out")
        view = figures.compute_all(loaded)[MACHINE].matrix["dfs"]
        self.assertTrue(view.glibc_from_series)
        base = fixture_roles(GLIBC_DFS)["baseline"]
        self.assertIs(view.reference, loaded.machines[MACHINE].series["dfs"][base])
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("which hold no glibc cell: the glibc column and the reference cell are the glibc-only "
                      "`bench_train_dfs.json`", section_text(report, SECTION))


class MatrixReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        root = Path(cls.temp.name)
        cls.results = make_results_dir(root, machines=(MACHINE, "machine_c"), with_bad_files=False)
        cls.out = root / "out"
        cls.process, cls.report = run_report(cls.results, cls.out)
        cls.section = section_text(cls.report, SECTION)
        cls.roles = fixture_roles(MATRIX_DFS)

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def test_exits_zero_and_links_the_chart(self):
        self.assertEqual(self.process.returncode, 0, self.process.stderr)
        self.assertEqual((self.out / "charts" / matrix.CHART_FILE).read_bytes()[:8], PNG_MAGIC)
        self.assertIn(f"](charts/{matrix.CHART_FILE})", self.section)

    def test_one_table_pair_per_order_and_machine_only_where_a_matrix_ran(self):
        self.assertIn(f"### {MACHINE} — topo dfs", self.section)
        self.assertIn(f"### {MACHINE} — topo creation", self.section)
        self.assertNotIn("### machine_c", self.section)

    def test_cells_hold_time_and_ratio_with_interval_and_noisy_flags(self):
        cells = fixture_cells(MATRIX_DFS)
        mallocs = fixture_mallocs(MATRIX_DFS)
        base = self.roles["baseline"]
        reference = ms_per_step(cells[(DEFAULT_MALLOC, base)])
        dfs = f"### {MACHINE} — topo dfs"
        speeds = self.section.split(dfs, 1)[1].split("Speed vs", 1)[1]
        self.assertTrue(speeds.startswith(f" {code(base)} under `{DEFAULT_MALLOC}` (95% CI):"), speeds[:80])
        for (malloc, policy), entry in cells.items():
            column = mallocs.index(malloc)
            with self.subTest(cell=(malloc, policy)):
                cell = report_row(self.section, dfs, code(policy))[2 + column]
                self.assertTrue(cell.startswith(f"{entry[1]['median']:.3f} s"), cell)
                self.assertEqual(cell.endswith("†"), entry[1]["cv"] > 0.05, cell)
                speed = report_row(speeds, "(95% CI):", code(policy))[1 + column]
                self.assertAlmostEqual(float(speed.split("×")[0]), reference / ms_per_step(entry), delta=0.0051)
                if (malloc, policy) != (DEFAULT_MALLOC, base):
                    self.assertRegex(speed, r"× \(\d+\.\d\d–\d+\.\d\d\)")
        self.assertTrue(any(s["cv"] > 0.05 for _, s in cells.values()), "the fixture has a noisy cell")

    def test_a_missing_cell_is_a_dash(self):
        cells = fixture_cells(MATRIX_CREATION)
        mallocs = fixture_mallocs(MATRIX_CREATION)
        missing = [(m, p) for p in dict.fromkeys(p for _, p in cells) for m in mallocs if (m, p) not in cells]
        self.assertTrue(missing, "the creation fixture leaves a cell out")
        creation = self.section.split(f"### {MACHINE} — topo creation", 1)[1]
        malloc, policy = missing[0]
        row = report_row(creation, "Training time", code(policy))
        self.assertEqual(row[2 + mallocs.index(malloc)], "–")

    def test_the_section_says_which_file_the_headline_uses(self):
        dfs = self.section.split(f"### {MACHINE} — topo dfs", 1)[1].split("###", 1)[0]
        self.assertIn("The headline tables of `--topo dfs` use the glibc-only `bench_train_dfs.json` "
                      "(2026-11-20T10:00:00Z)", dfs)
        self.assertIn("so that no ratio mixes files taken at different times", dfs)
        creation = self.section.split(f"### {MACHINE} — topo creation", 1)[1]
        self.assertIn("No glibc-only file ran `--topo creation`, so the headline tables of this order", creation)

    def test_roles_name_the_standard_library_and_hand_written_policies(self):
        for policy in self.roles["standard_library"]:
            self.assertIn("standard library", report_row(self.section, f"### {MACHINE} — topo dfs", code(policy))[1])
        for policy in self.roles["hand_written"]:
            self.assertIn("hand-written", report_row(self.section, f"### {MACHINE} — topo dfs", code(policy))[1])
        machines = section_text(self.report, "## Machines and builds").split(f"### {MACHINE}", 1)[1]
        self.assertIn("; standard library " + ", ".join(map(code, self.roles["standard_library"][:-1])) +
                      f" and {code(self.roles['standard_library'][-1])}; hand-written", machines)

    def test_machines_and_builds_counts_the_matrix_runs(self):
        row = report_row(section_text(self.report, "## Machines and builds"), f"### {MACHINE}", "process allocator")
        count = len(fixture_cells(MATRIX_DFS)) + len(fixture_cells(MATRIX_CREATION))
        self.assertIn(f"the policy × malloc matrix has {count} run(s) under "
                      + ", ".join(fixture_mallocs(MATRIX_DFS)), row[1])

    def test_without_traits_there_are_times_but_no_ratios(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=(MACHINE,), with_bad_files=False)
            for path in results.rglob("bench_train*.json"):
                data = load(path)
                for run in data["runs"]:
                    run.pop("traits", None)
                path.write_text(json.dumps(data))
            process, report = run_report(results, Path(temp) / "out")
        self.assertEqual(process.returncode, 0, process.stderr)
        section = section_text(report, SECTION)
        self.assertIn("No speed ratios: no role is known", section)
        self.assertIn("Training time (median):", section)


class MatrixChartTest(unittest.TestCase):
    def test_one_panel_per_order_with_a_bar_per_cell_and_noisy_cells_hatched(self):
        plt = charts.import_pyplot()
        with tempfile.TemporaryDirectory() as temp:
            loaded, _ = quiet_load(make_results_dir(Path(temp), machines=(MACHINE,), with_bad_files=False))
        computed = figures.compute_all(loaded)
        figure = matrix.chart(plt, [loaded.machines[MACHINE]], computed)
        try:
            self.assertEqual(len(figure.axes), 2)
            for axes, path in zip(figure.axes, (MATRIX_DFS, MATRIX_CREATION)):
                cells = fixture_cells(path)
                self.assertEqual(axes.get_yscale(), "log")
                bars = [p for p in axes.patches]
                self.assertEqual(len(bars), len(cells))
                noisy = sum(1 for _, summary in cells.values() if summary["cv"] > 0.05)
                self.assertEqual(sum(1 for b in bars if b.get_hatch() == matrix.NOISY_HATCH), noisy)
                legend = [t.get_text() for t in axes.get_legend().get_texts()]
                self.assertEqual(legend[:-1], fixture_mallocs(path))
        finally:
            plt.close("all")


if __name__ == "__main__":
    unittest.main()
