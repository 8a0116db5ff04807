"""scripts/mga_report/charts.py: what the charts draw (matplotlib, Agg)."""

import contextlib
import io
import shutil
import tempfile
import unittest
from pathlib import Path

from helpers import FIXTURES, PNG_MAGIC, load, make_results_dir
from mga_report import charts, figures, loading, threads
from mga_report.sections_alloc import size_points


class ChartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.plt = charts.import_pyplot()
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_a", "machine_c", "machine_m"),
                                       with_bad_files=False)
            shutil.copy(FIXTURES / "threads" / "machine_a" / "bench_train_threads.json", results / "machine_a")
            with contextlib.redirect_stderr(io.StringIO()):
                cls.results = loading.load_results(results)
        cls.figures = figures.compute_all(cls.results)
        cls.machine = cls.results.machines["machine_a"]

    def tearDown(self):
        self.plt.close("all")

    def test_training_time_is_log_scale_with_policies_and_runtimes(self):
        figure = charts.chart_train_time(self.plt, self.results, [self.machine])
        axes = figure.axes[0]
        self.assertEqual(axes.get_yscale(), "log")
        labels = [t.get_text() for t in axes.get_xticklabels()]
        runtimes = [r["runtime"] for r in load(FIXTURES / "machine_a" / "crosslang.json")["runs"]]
        self.assertEqual(labels, list(self.machine.policies) + runtimes)
        self.assertEqual(axes.get_ylabel().splitlines()[0], "training time, ms per step (log)",
                         "C++ runs 20 steps, runtimes 1000: per step")

    def test_noisy_bars_are_hatched(self):
        figure = charts.chart_train_time(self.plt, self.results, [self.machine])
        bars = [p for p in figure.axes[0].patches]
        noisy = [r for r in self.machine.policies.values() if r.noisy]
        noisy += [r for r in self.machine.crosslang.runs.values() if r.summary.noisy]
        self.assertGreater(len(noisy), 0, "machine_a has noisy cells")
        self.assertEqual(len(bars), len(self.machine.policies) + len(self.machine.crosslang.runs))
        self.assertEqual(sum(1 for b in bars if b.get_hatch() == charts.NOISY_HATCH), len(noisy))
        legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
        self.assertIn(charts.NOISY_LABEL, legend)
        self.assertIn("re-run", charts.NOISY_LABEL)

    def test_alloc_vs_train_has_a_runtime_series_and_the_robust_fit(self):
        figure = charts.chart_alloc_vs_train(self.plt, self.results, self.figures, [self.machine])
        legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
        self.assertTrue(any("runtimes" in text for text in legend), legend)
        counted = self.figures["machine_a"].throughput.without[0]
        self.assertTrue(any(f"fit without {counted}" in text for text in legend), legend)
        annotations = [child.get_text() for child in figure.axes[0].texts]
        for runtime in self.machine.crosslang.chain:
            self.assertIn(runtime, annotations)

    def test_threads_plot_throughput_per_policy_and_the_background_gain(self):
        figure = threads.chart(self.plt, [self.machine], self.results.order)
        scaling, gain = figure.axes
        inline = {r.name for r in self.machine.thread_runs if r.release == threads.INLINE}
        self.assertEqual(len(scaling.get_lines()), len(inline))
        ticks = [t.get_text() for t in scaling.get_xticklabels()]
        self.assertEqual(ticks, ["1", "2", "4" + threads.OVERSUBSCRIBED_MARK], "4 threads on 2 cores")
        background = {r.name for r in self.machine.thread_runs if r.release == threads.BACKGROUND}
        self.assertEqual(sorted(t.get_text() for t in gain.get_xticklabels()), sorted(background))
        self.assertEqual(len(gain.patches), sum(1 for r in self.machine.thread_runs
                                                if r.release == threads.BACKGROUND))

    def test_render_gives_pngs_for_the_data_present(self):
        images = charts.render(self.results, self.figures, size_points)
        # The decomposition needs cache-simulation files, which these fixtures lack (test_decomposition).
        self.assertEqual(sorted(images), sorted(set(charts.CHART_FILES) - {"decomposition"}))
        for key, png in images.items():
            self.assertEqual(png[:8], PNG_MAGIC, key)


if __name__ == "__main__":
    unittest.main()
