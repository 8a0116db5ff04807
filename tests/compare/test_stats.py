"""scripts/mga_report/stats.py: medians, bootstrap intervals, log-log slopes, the Mann-Whitney U test."""

import itertools
import math
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


def brute_force_p(a, b) -> float:
    """Two-sided exact p by listing every split of the pooled values into two groups."""
    pooled = [*a, *b]

    def u(first):
        chosen = set(first)
        left = [pooled[i] for i in chosen]
        right = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        return sum(x > y for x in left for y in right)

    observed = u(range(len(a)))
    low = min(observed, len(a) * len(b) - observed)
    splits = [u(c) for c in itertools.combinations(range(len(pooled)), len(a))]
    return min(1.0, 2 * sum(1 for s in splits if s <= low) / len(splits))


class MannWhitneyTest(unittest.TestCase):
    def test_known_exact_values(self):
        # 5 against 5, every value of one above the other: 2 / C(10, 5), the smallest p of 5 against 5.
        found = stats.mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
        self.assertEqual((found.u, found.method), (0.0, "exact"))
        self.assertAlmostEqual(found.p, 2 / 252)
        self.assertAlmostEqual(stats.smallest_p(5, 5), 0.0079365, places=6)
        # R's ?wilcox.test example: W = 35, one-sided exact p 0.1272, so two-sided 0.2544.
        x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
        found = stats.mann_whitney(x, [1.15, 0.88, 0.90, 0.74, 1.21])
        self.assertEqual(found.u, 35.0)
        self.assertAlmostEqual(found.p, 0.2544, places=4)
        # SciPy's mannwhitneyu documentation (males against females): U = 17, exact p = 1/9.
        found = stats.mann_whitney([19, 22, 16, 29, 24], [20, 11, 17, 12])
        self.assertEqual(found.u, 17.0)
        self.assertAlmostEqual(found.p, 1 / 9)

    def test_the_normal_approximation_matches_known_values(self):
        # SciPy's method="asymptotic" on the same samples (continuity correction, no ties).
        self.assertAlmostEqual(stats.normal_p(17.0, 5, 4, []), 0.11134688653314041, places=12)
        # With ties, by hand: U = 0.5 + 0.5 = 1; the value 2 three times, so the variance is
        # 3*3/12 * (7 - (27 - 3) / (6*5)) = 4.65, z = (|1 - 4.5| - 0.5) / sqrt(4.65) = 1.39122.
        found = stats.mann_whitney([1, 2, 2], [2, 3, 4])
        self.assertEqual((found.u, found.method), (1.0, "normal"))
        self.assertAlmostEqual(found.p, math.erfc(3 / math.sqrt(4.65) / math.sqrt(2)))
        self.assertAlmostEqual(found.p, 0.164160, places=5)
        self.assertEqual(stats.mann_whitney([3.0, 3.0], [3.0, 3.0]).p, 1.0)

    def test_the_exact_distribution_is_the_enumerated_one(self):
        cases = [([1.0], [2.0]), ([1.0, 5.0, 9.0], [2.0, 3.0]), ([4.1, 2.2, 8.3, 6.4], [1.5, 7.6, 3.7, 9.8, 5.9]),
                 ([0.5, 1.5, 2.5, 3.5, 4.5, 10.0], [5.5, 6.5, 7.5, 8.5, 9.5, 0.1, 11.0])]
        for a, b in cases:
            with self.subTest(a=a, b=b):
                self.assertAlmostEqual(stats.mann_whitney(a, b).p, brute_force_p(a, b))
                self.assertAlmostEqual(stats.mann_whitney(b, a).p, stats.mann_whitney(a, b).p)
        self.assertEqual(sum(stats.u_counts(7, 6)), math.comb(13, 7))

    def test_large_samples_use_the_normal_approximation_which_agrees_with_the_exact_one(self):
        a = [i + 0.25 for i in range(40)]
        b = [i + 5.5 for i in range(40)]  # p near 0.05
        exact = stats.mann_whitney(a, b)
        self.assertEqual(exact.method, "exact")
        approx = stats.normal_p(exact.u, 40, 40, [])
        self.assertAlmostEqual(approx, exact.p, delta=0.02 * exact.p)
        self.assertEqual(stats.mann_whitney([*a, *a], [*b, *b]).method, "normal")
        with self.assertRaises(ValueError):
            stats.mann_whitney([], [1.0])


if __name__ == "__main__":
    unittest.main()
