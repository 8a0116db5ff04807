"""scripts/mga_report/fmt.py: how numbers, intervals and tables are written."""

import unittest

import helpers  # noqa: F401  (puts scripts/ on sys.path)
from mga_report import fmt
from mga_report.stats import ITSELF, Interval


class FormatTest(unittest.TestCase):
    def test_units(self):
        self.assertEqual(fmt.seconds(2.3371), "2.337 s")
        self.assertEqual(fmt.seconds(0.04624), "46.24 ms")
        self.assertEqual(fmt.rate(278.9e6), "278.9 M/s")
        self.assertEqual(fmt.rate(950.0), "950 /s")
        self.assertEqual(fmt.size_bytes(7372.8), "7.2 KiB")
        self.assertEqual(fmt.kib(17864), "17.4 MiB")
        self.assertEqual(fmt.time_ns(7171729.0), "7.172 ms")
        self.assertEqual(fmt.percent(None), "–")

    def test_ratio_with_interval(self):
        self.assertEqual(fmt.ratio_ci(Interval(3.11, 2.9, 3.36)), "3.11× (2.90–3.36)")
        self.assertEqual(fmt.ratio_ci(Interval(1.02, 0.93, 1.1)), "1.02× (0.93–1.10), no measurable difference")
        self.assertEqual(fmt.ratio_ci(Interval(2.0, note="one repetition")), "2.00× (no interval: one repetition)")
        self.assertEqual(fmt.ratio_ci(Interval(1.0, note=ITSELF)), "1.00×")
        self.assertEqual(fmt.ratio_ci(None), "–")
        self.assertEqual(fmt.share_ci(Interval(0.527, 0.5, 0.55)), "52.7% (50.0–55.0%)")

    def test_speed_words_call_a_difference_only_outside_the_interval(self):
        self.assertEqual(fmt.speed_words(Interval(3.5, 3.3, 3.6), "`a`", "`b`"),
                         "`a` is 3.50× as fast as `b` (95% CI 3.30–3.60)")
        self.assertEqual(fmt.speed_words(Interval(0.5, 0.45, 0.55), "`a`", "`b`"),
                         "`a` takes 2.00× the time of `b` (95% CI 0.45–0.55)")
        self.assertIn("show no measurable difference", fmt.speed_words(Interval(1.1, 0.9, 1.3), "`a`", "`b`"))
        self.assertIn("not called faster or slower", fmt.speed_words(Interval(3.0), "`a`", "`b`"))

    def test_noisy_cells_are_marked(self):
        self.assertEqual(fmt.cv_cell(0.088), f"8.8% {fmt.NOISY_MARK}")
        self.assertEqual(fmt.cv_cell(0.044), "4.4%")
        self.assertIn("re-run", fmt.NOISY_LEGEND)

    def test_table_escapes_pipes(self):
        self.assertEqual(fmt.table(["a", "b"], [["x|y", 1]]), ["| a | b |", "|---|---|", "| x\\|y | 1 |", ""])
        self.assertEqual(fmt.names(["p", "q", "r"]), "`p`, `q` and `r`")


if __name__ == "__main__":
    unittest.main()
