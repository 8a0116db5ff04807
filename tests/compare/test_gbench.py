"""scripts/mga_report/gbench.py: Google Benchmark names, aggregates and callgrind summaries."""

import unittest

import helpers  # noqa: F401  (puts scripts/ on sys.path)
from mga_report import gbench


class GbenchTest(unittest.TestCase):
    KNOWN = ["plain", "bump-heap", "bump", "counted"]

    def test_policy_is_the_part_after_the_family(self):
        cases = {
            "chain/bump-heap": ("chain", "bump-heap"),
            "chain/bump_heap/repeats:5": ("chain", "bump-heap"),
            "chain/bump/1000/repeats:3": ("chain", "bump"),
            "train_step/plain/iterations:256": ("train_step", "plain"),
            "chain<counted>/1000": ("chain", "counted"),
            "BM_step_graph/Plain": ("step_graph", "plain"),
            "chain/other": None,
            "chain/1000": None,
            "BM_clock_overhead": None,
        }
        for name, expected in cases.items():
            with self.subTest(name=name):
                self.assertEqual(gbench.find_policy(name, self.KNOWN), expected)
        self.assertEqual(gbench.find_policy("chain/anything", []), ("chain", "anything"))

    def test_iterations_give_samples_and_aggregates_give_the_median_and_cv(self):
        rows = [{"name": "chain/plain/repeats:3", "run_name": "chain/plain/repeats:3", "run_type": "iteration",
                 "real_time": t, "time_unit": "ms", "allocs/s": r, "repetitions": 3}
                for t, r in ((2.0, 100.0), (2.2, 90.0), (1.9, 105.0))]
        rows.append({"name": "chain/plain/repeats:3_median", "run_name": "chain/plain/repeats:3",
                     "run_type": "aggregate", "aggregate_name": "median", "real_time": 2.0, "time_unit": "ms",
                     "allocs/s": 100.0, "repetitions": 3})
        rows.append({"name": "chain/plain/repeats:3_cv", "run_name": "chain/plain/repeats:3",
                     "run_type": "aggregate", "aggregate_name": "cv", "real_time": 0.07, "time_unit": "ms",
                     "allocs/s": 0.077, "repetitions": 3})
        points, unmatched = gbench.parse_gbench({"benchmarks": rows}, "bench_alloc", self.KNOWN)
        self.assertEqual(unmatched, [])
        (point,) = points
        self.assertEqual((point.family, point.policy, point.rate, point.repetitions), ("chain", "plain", 100.0, 3))
        self.assertEqual(point.rate_samples, (100.0, 90.0, 105.0))
        self.assertEqual(point.cv, 0.077)
        self.assertTrue(point.noisy)
        self.assertAlmostEqual(point.real_time_ns, 2e6)
        self.assertTrue(gbench.rate_sample(point).spread)

    def test_without_median_the_mean_of_iterations(self):
        data = {"benchmarks": [
            {"name": "chain/bump/8", "run_type": "iteration", "real_time": 1.0, "time_unit": "us", "allocs/s": 100.0},
            {"name": "chain/bump/8", "run_type": "iteration", "real_time": 3.0, "time_unit": "us", "allocs/s": 300.0},
            {"name": "chain/plain/8", "error_occurred": True, "real_time": 0.0},
        ]}
        (point,), unmatched = gbench.parse_gbench(data, "bench_alloc", self.KNOWN)
        self.assertEqual(unmatched, [])
        self.assertAlmostEqual(point.real_time_ns, 2000.0)
        self.assertAlmostEqual(point.rate, 200.0)

    def test_callgrind_share_values(self):
        self.assertEqual(gbench.share_value("23%"), 0.23)
        self.assertEqual(gbench.share_value("0.5"), 0.5)
        self.assertIsNone(gbench.share_value("many"))


if __name__ == "__main__":
    unittest.main()
