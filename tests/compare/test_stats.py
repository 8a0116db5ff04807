"""scripts/mga_report/stats.py: medians, bootstrap intervals, log-log slopes."""

import statistics
import unittest

import helpers  # noqa: F401  (puts scripts/ on sys.path)
from mga_report import stats


class BasicsTest(unittest.TestCase):
    def test_median_and_cv_match_the_statistics_module(self):
        values = [3.0, 1.0, 4.0, 1.5, 5.0, 9.0]
        self.assertEqual(stats.median(values), statistics.median(values))
        self.assertEqual(stats.median(values[:5]), statistics.median(values[:5]))
        self.assertAlmostEqual(stats.cv(values), statistics.stdev(values) / statistics.mean(values))
        self.assertIsNone(stats.cv([2.0]))

    def test_log_slope_of_a_power_law_recovers_its_exponent(self):
        xs = [1e6, 3e6, 1e7, 5e7]
        self.assertAlmostEqual(stats.log_slope(xs, [2.0 * x ** 0.4 for x in xs]), 0.4)
        self.assertIsNone(stats.log_slope([1.0, 1.0], [1.0, 2.0]))

    def test_map_and_wide(self):
        share = stats.Interval(0.5, 0.4, 0.6)
        self.assertEqual(share.map(lambda s: 1 / (1 - s)), stats.Interval(2.0, 1 / 0.6, 2.5))
        self.assertEqual(stats.Interval(0.5, note="x").map(lambda s: 2 * s), stats.Interval(1.0, note="x"))
        self.assertTrue(stats.Interval(3.0, 1.0, 2.5).wide)
        self.assertFalse(stats.Interval(3.0, 2.0, 3.9).wide)

    def test_value_interval_of_a_median(self):
        found = stats.value_interval("v", stats.repetitions_sample([1.0, 1.1, 0.9, 1.05, 0.95]))
        self.assertEqual(found.point, 1.0)
        self.assertTrue(0.9 <= found.low < 1.0 < found.high <= 1.1)
        self.assertFalse(stats.value_interval("v", stats.repetitions_sample([1.0])).available)


class IntervalTest(unittest.TestCase):
    def test_the_same_label_gives_the_same_interval(self):
        a, b = stats.repetitions_sample([1.0, 1.1, 0.9, 1.05]), stats.repetitions_sample([2.0, 2.2, 1.9, 2.1])
        first = stats.ratio_interval("x", b, a)
        self.assertEqual(first, stats.ratio_interval("x", b, a))
        self.assertNotEqual(first, stats.ratio_interval("y", b, a), "labels seed the generator")

    def test_interval_contains_the_point_and_a_clear_difference_excludes_1(self):
        slow = stats.repetitions_sample([2.0, 2.1, 1.95, 2.05, 2.02])
        fast = stats.repetitions_sample([1.0, 1.02, 0.98, 1.01, 0.99])
        interval = stats.ratio_interval("clear", slow, fast)
        self.assertLessEqual(interval.low, interval.point)
        self.assertLessEqual(interval.point, interval.high)
        self.assertEqual(interval.side(), 1)
        self.assertEqual(stats.ratio_interval("clear", fast, slow).side(), -1)

    def test_overlapping_noise_is_no_measurable_difference(self):
        a = stats.repetitions_sample([1.0, 1.3, 0.8, 1.2, 0.9])
        b = stats.repetitions_sample([1.1, 0.85, 1.25, 0.95, 1.05])
        self.assertEqual(stats.ratio_interval("noise", a, b).side(), 0)

    def test_one_repetition_gives_no_interval(self):
        interval = stats.ratio_interval("one", stats.repetitions_sample([2.0]),
                                        stats.repetitions_sample([0.9, 1.0, 1.1]))
        self.assertFalse(interval.available)
        self.assertEqual(interval.point, 2.0)
        self.assertEqual(interval.side(), 0, "no interval is never called faster or slower")
        self.assertIn("one repetition", interval.note)

    def test_more_noise_gives_a_wider_interval(self):
        def width(spread):
            a = stats.repetitions_sample([1.0 + spread * d for d in (-2, -1, 0, 1, 2)])
            b = stats.repetitions_sample([2.0 + spread * d for d in (-1, 2, 0, -2, 1)])
            interval = stats.ratio_interval("w", b, a)
            return interval.high - interval.low
        self.assertLess(width(0.01), width(0.1))

    def test_summary_sample_is_parametric_and_centred_on_the_median(self):
        sample = stats.summary_sample(100.0, 101.0, 5.0, 5)
        self.assertTrue(sample.spread)
        rng = stats.generator("summary")
        draws = [sample.draw(rng) for _ in range(4000)]
        self.assertAlmostEqual(statistics.mean(draws), 100.0, delta=0.5)
        self.assertFalse(stats.summary_sample(100.0, None, None, 5).spread)
        self.assertFalse(stats.summary_sample(100.0, 100.0, 0.0, 5).spread)

    def test_overlap_and_side(self):
        a = stats.Interval(1.5, 1.2, 1.8)
        self.assertTrue(a.overlaps(stats.Interval(1.7, 1.6, 1.9)))
        self.assertFalse(a.overlaps(stats.Interval(2.5, 2.0, 3.0)))
        self.assertIsNone(a.overlaps(stats.Interval(2.0)))
        self.assertEqual(stats.Interval(0.9, 0.8, 1.1).side(), 0)
        self.assertEqual(stats.Interval(0.8, 0.2, 0.95).side(0.1), 1)

    def test_percentile_interpolates(self):
        self.assertEqual(stats.percentile([0.0, 10.0], 0.25), 2.5)
        self.assertEqual(stats.percentile([1.0, 2.0, 3.0], 1.0), 3.0)


class FitTest(unittest.TestCase):
    def samples(self, values):
        return [stats.repetitions_sample([v * f for f in (0.98, 1.0, 1.02)]) for v in values]

    def test_fit_interval_contains_the_exponent_of_an_exact_power_law(self):
        rates = [1e6, 3e6, 1e7, 3e7, 1e8]
        slope = stats.fit("power", self.samples(rates), self.samples([x ** 0.6 for x in rates]))
        self.assertAlmostEqual(slope.point, 0.6)
        self.assertLess(slope.low, 0.6)
        self.assertGreater(slope.high, 0.6)
        self.assertLess(slope.high - slope.low, 0.1)
        self.assertEqual(slope, stats.fit("power", self.samples(rates), self.samples([x ** 0.6 for x in rates])))

    def test_one_outlier_widens_the_slope_interval(self):
        rates = [1e6, 3e6, 1e7, 3e7, 1e8]
        clean = stats.fit("c", self.samples(rates), self.samples([x ** 0.5 for x in rates]))
        speeds = [x ** 0.5 for x in rates]
        speeds[0] /= 20
        outlier = stats.fit("o", self.samples(rates), self.samples(speeds))
        self.assertGreater(outlier.high - outlier.low, 5 * (clean.high - clean.low))

    def test_two_points_give_a_slope_without_interval(self):
        slope = stats.fit("two", self.samples([1e6, 1e7]), self.samples([10.0, 100.0]))
        self.assertAlmostEqual(slope.point, 1.0)
        self.assertFalse(slope.available)

    def test_no_spread_in_rates_gives_no_fit(self):
        self.assertIsNone(stats.fit("flat", self.samples([1e6, 1e6, 1e6]), self.samples([1.0, 2.0, 3.0])))


if __name__ == "__main__":
    unittest.main()
