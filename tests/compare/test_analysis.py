"""scripts/mga_report/{analysis,figures,answer}.py: ratios, shares, the throughput verdict."""

import contextlib
import io
import json
import tempfile
import unittest
from pathlib import Path

import helpers
from helpers import FIXTURES, fixture_roles, load, make_results_dir
from mga_report import analysis, answer, figures, loading, model, stats


def load_figures(*machines, edit=None):
    with tempfile.TemporaryDirectory() as temp:
        results = make_results_dir(Path(temp), machines=machines, with_bad_files=False)
        if edit:
            edit(results)
        with contextlib.redirect_stderr(io.StringIO()):
            loaded = loading.load_results(results)
    return loaded, figures.compute_all(loaded)


def run_with(phases, seconds=3.0, steps=1000):
    reps = (model.Repetition(seconds, steps, phases, "1"),)
    return model.TrainRun("p", "", reps, seconds, seconds, seconds, None, 1, steps, phases, None, None, None, "f", "")


class ShareTest(unittest.TestCase):
    def test_alloc_share_is_clamped_at_zero(self):
        def phases(forward, release):
            return {"forward": forward, "backward": 2.0, "adam": 0.2, "release": release}

        reference = run_with(phases(0.4, 0.0))
        self.assertEqual(analysis.alloc_share(run_with(phases(0.3, 0.0)), reference), 0.0)
        self.assertAlmostEqual(analysis.alloc_share(run_with(phases(0.9, 0.5)), reference), 1.0 / 3.6)

    def test_share_interval_resamples_repetitions(self):
        loaded, computed = load_figures("machine_c")
        roles = fixture_roles(FIXTURES / "machine_c" / "bench_train_dfs.json")
        share = computed["machine_c"].shares["dfs"][roles["baseline"]]
        self.assertTrue(share.available)
        self.assertLessEqual(share.low, share.point)
        self.assertLessEqual(share.point, share.high)
        reference = computed["machine_c"].shares["dfs"][roles["no_alloc_reference"]]
        self.assertEqual(reference.point, 0.0)

    def test_share_verdict_respects_the_interval(self):
        self.assertEqual(analysis.share_verdict(stats.Interval(0.6, 0.55, 0.65)), "is the bottleneck")
        self.assertIn("spans the 50% line", analysis.share_verdict(stats.Interval(0.52, 0.45, 0.58)))
        self.assertEqual(analysis.share_verdict(stats.Interval(0.3, 0.25, 0.35)),
                         "is a large cost but not the bottleneck")
        self.assertEqual(analysis.share_verdict(stats.Interval(0.1)), "is not the bottleneck")


class SpeedRatioTest(unittest.TestCase):
    def test_speed_vs_the_baseline_is_the_ratio_of_median_times(self):
        loaded, computed = load_figures("machine_a")
        runs = helpers.fixture_runs(FIXTURES / "machine_a" / "bench_train.json")
        base = fixture_roles(FIXTURES / "machine_a" / "bench_train.json")["baseline"]
        speeds = computed["machine_a"].speed["dfs"]
        self.assertEqual(list(speeds), list(runs), "every policy, in the file's order")
        for policy, entry in runs.items():
            with self.subTest(policy=policy):
                expected = helpers.ms_per_step(runs[base]) / helpers.ms_per_step(entry)
                self.assertAlmostEqual(speeds[policy].point, expected)
                if policy != base:
                    self.assertTrue(speeds[policy].available)
        self.assertEqual(speeds[base].note, stats.ITSELF)

    def test_without_traits_there_are_no_ratios_and_no_shares(self):
        loaded, computed = load_figures("machine_c", edit=helpers.strip_traits)
        figure = computed["machine_c"]
        self.assertFalse(figure.roles.known)
        self.assertEqual(figure.speed, {"dfs": {}, "creation": {}, "hashset": {}})
        self.assertEqual(figure.shares, {})
        self.assertEqual(figure.rate_ratios, {})
        self.assertIsNotNone(figure.throughput, "the fit needs no role")
        self.assertEqual(figure.throughput.without, ())
        text = answer.answer_paragraph(figure)
        self.assertIn("predate per-run traits", text)
        self.assertIn("which one is reference-counted is not recorded", text)


class VerdictTest(unittest.TestCase):
    def test_thresholds(self):
        self.assertEqual(analysis.explains(0.8, 0.9), analysis.EXPLAINS)
        self.assertEqual(analysis.explains(0.49, 0.9), analysis.LESS_THAN_PROPORTIONAL)
        self.assertEqual(analysis.explains(0.8, 0.5), analysis.DOES_NOT)
        self.assertEqual(analysis.explains(0.8, None), analysis.CANNOT_TELL)

    def test_verdict_that_flips_when_one_policy_is_removed(self):
        """fixtures/flip: the robust slope is just above 0.5, and without the fastest
        allocator it falls below: the verdict must say it does not survive."""
        loaded, computed = load_figures("flip")
        roles = fixture_roles(FIXTURES / "flip" / "bench_train.json")
        figure = computed["flip"]
        found, verdict = figure.throughput, figure.verdict
        self.assertEqual(found.without, tuple(roles["reference_counted"]))
        self.assertNotIn(roles["reference_counted"][0], found.robust.names)
        self.assertEqual(verdict.words, analysis.EXPLAINS)
        self.assertFalse(verdict.survives)
        self.assertEqual([f[0] for f in verdict.flips], [roles["no_alloc_reference"]])
        self.assertEqual(verdict.flips[0][3], analysis.LESS_THAN_PROPORTIONAL)
        self.assertLess(verdict.slope_range[0], analysis.PROPORTIONAL_SLOPE)
        self.assertGreater(found.everyone.slope.point, found.robust.slope.point,
                           "the reference-counted policy steepens the fit")
        text = " ".join(answer.verdict_sentences(figure))
        self.assertIn(f"other than the reference-counted `{roles['reference_counted'][0]}`", text)
        self.assertIn(f"does not survive removing a single policy: without `{roles['no_alloc_reference']}`", text)

    def test_verdict_that_survives_every_removal(self):
        def steady(results):
            """flip with every speed-up over the baseline squared: the slope doubles, far from 0.5."""
            path = results / "flip" / "bench_train.json"
            data = load(path)
            base = next(r for r in data["runs"] if r["traits"]["baseline"])["train_seconds"]["median"]
            for run in data["runs"]:
                for rep in run["repetitions"]:
                    rep["train_seconds"] = rep["train_seconds"] ** 2 / base
                run["train_seconds"] = {k: (v ** 2 / base if k in ("median", "min", "max") else v)
                                        for k, v in run["train_seconds"].items()}
            path.write_text(json.dumps(data))
        loaded, computed = load_figures("flip", edit=steady)
        verdict = computed["flip"].verdict
        self.assertTrue(verdict.survives, verdict.flips)
        self.assertEqual(verdict.flips, [])
        self.assertIn("This verdict survives removing any one of these policies",
                      " ".join(answer.verdict_sentences(computed["flip"])))

    def test_controls_are_left_out_of_the_fits(self):
        def control(results):
            path = results / "flip" / "bench_train.json"
            data = load(path)
            data["runs"][-1]["traits"]["control"] = True
            path.write_text(json.dumps(data))
        loaded, computed = load_figures("flip", edit=control)
        found = computed["flip"].throughput
        last = load(FIXTURES / "flip" / "bench_train.json")["runs"][-1]["allocator"]
        self.assertEqual(found.controls, (last,))
        self.assertNotIn(last, found.everyone.names)
        self.assertNotIn(last, found.loo)
        self.assertNotIn(f"`{last}`", answer.answer_paragraph(computed["flip"]), "a control is no strategy")


if __name__ == "__main__":
    unittest.main()
