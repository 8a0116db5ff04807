"""scripts/mga_report/charts.py: each chart readable at 800 pixels, its intervals drawn as
error bars, no label over another, and an outlier's bar cut instead of flattening the rest."""

import io
import json
import shutil
import tempfile
import unittest
from pathlib import Path

from matplotlib.container import ErrorbarContainer
from matplotlib.text import Text

from helpers import FIXTURES, PNG_MAGIC, load, load_quietly, make_results_dir
from mga_report import charts


def error_bars(figure) -> int:
    return sum(isinstance(c, ErrorbarContainer) for axes in figure.axes for c in axes.containers)


class ChartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.plt = charts.import_pyplot()
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_a", "machine_c", "machine_m"),
                                       with_bad_files=False)
            shutil.copy(FIXTURES / "threads" / "machine_a" / "bench_train_threads.json", results / "machine_a")
            cls.loaded, cls.figures, _ = load_quietly(results)

    def tearDown(self):
        self.plt.close("all")

    def test_training_time_bars_are_sorted_with_intervals(self):
        fig = self.figures["machine_c"]
        figure = charts.time_panels(self.plt, fig, stacked=False)
        runs = fig.machine.series["dfs"]
        labels = [t.get_text().split(" (")[0] for t in figure.axes[0].get_yticklabels()]
        self.assertEqual(labels, sorted(runs, key=lambda p: runs[p].median_s), "fastest on top")
        self.assertEqual(len(figure.axes), 2, "one panel per backward order")
        self.assertGreaterEqual(error_bars(figure), len(runs))

    def test_an_outlier_is_cut_and_says_so(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_b",), with_bad_files=False)
            data = load(results / "machine_b" / "bench_train.json")
            slow = data["runs"][-1]
            slow["train_seconds"]["median"] *= 20
            for repetition in slow["repetitions"]:
                repetition["train_seconds"] *= 20
            (results / "machine_b" / "bench_train.json").write_text(json.dumps(data))
            _, found, _ = load_quietly(results)
        runs = found["machine_b"].machine.series["dfs"]
        axes = charts.time_panels(self.plt, found["machine_b"], stacked=False).axes[0]
        self.assertLess(axes.get_xlim()[1], runs[slow["allocator"]].median_s / 5, "the outlier does not set the scale")
        self.assertTrue(any("not to scale" in t.get_text() and f"{runs[slow['allocator']].median_s:.3g}" in t.get_text()
                            for t in axes.texts))

    def test_elasticity_points_have_error_bars_and_labels_that_do_not_overlap(self):
        fig = self.figures["machine_a"]
        figure = charts.alloc_vs_train(self.plt, fig)
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        axes = figure.axes[0]
        self.assertEqual(error_bars(figure), len(fig.throughput.points))
        boxes = [Text.get_window_extent(t, renderer) for t in axes.texts]
        self.assertEqual(sorted(t.get_text() for t in axes.texts), sorted(p.policy for p in fig.throughput.points))
        for i, box in enumerate(boxes):
            for other in boxes[i + 1:]:
                self.assertFalse(box.overlaps(other), [t.get_text() for t in axes.texts])

    def test_matrix_and_threads_draw_their_intervals(self):
        fig = self.figures["machine_m"]
        cells = sum(len(view.speed) for view in fig.matrix.values())
        self.assertEqual(error_bars(charts.malloc_matrix(self.plt, fig)), cells)
        threads = charts.threads_chart(self.plt, self.figures["machine_a"], self.loaded.order)
        self.assertGreater(error_bars(threads), 0)

    def test_render_gives_pngs_about_800_pixels_wide(self):
        images = charts.render(self.loaded, self.figures)
        self.assertEqual(sorted(images), sorted(["answer.png", "phases.png", "alloc_vs_train.png", "threads.png"]),
                         "the first machine by name, machine_a: no matrix, no size axis")
        import matplotlib.image as image

        for name, png in images.items():
            with self.subTest(chart=name):
                self.assertEqual(png[:8], PNG_MAGIC)
                width = image.imread(io.BytesIO(png)).shape[1]
                self.assertTrue(600 <= width <= 850, width)


class OtherMachinesTest(unittest.TestCase):
    def test_the_matrix_and_size_charts_of_a_machine_that_has_them(self):
        with tempfile.TemporaryDirectory() as temp:
            loaded, found, _ = load_quietly(make_results_dir(Path(temp), machines=("machine_m",), with_bad_files=False))
            self.assertIn("malloc_matrix.png", charts.render(loaded, found))
        with tempfile.TemporaryDirectory() as temp:
            loaded, found, _ = load_quietly(make_results_dir(Path(temp), machines=("machine_c",), with_bad_files=False))
            self.assertIn("size.png", charts.render(loaded, found))


if __name__ == "__main__":
    unittest.main()
