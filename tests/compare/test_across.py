"""scripts/mga_report/across.py: which rankings and ratios hold on two fixture machines.

machine_a and machine_b share three policies with the baseline; machine_b swaps the
order of two of them (not measurably on machine_a), and one policy is measurably slower
than the baseline on machine_b only."""

import tempfile
import unittest
from pathlib import Path

from helpers import FIXTURES, code, fixture_roles, fixture_runs, make_results_dir, ms_per_step, run_report, section_text
from mga_report import across, stats

A, B = FIXTURES / "machine_a" / "bench_train.json", FIXTURES / "machine_b" / "bench_train.json"


class AcrossMachinesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        root = Path(cls.temp.name)
        cls.process, report = run_report(make_results_dir(root, with_bad_files=False), root / "out")
        cls.section = section_text(report, "## Across machines")
        cls.a, cls.b = fixture_runs(A), fixture_runs(B)
        cls.base = fixture_roles(B)["baseline"]
        cls.common = [p for p in cls.b if p in cls.a]

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def ranking(self, runs):
        return sorted(self.common, key=lambda p: ms_per_step(runs[p]))

    def test_exits_zero(self):
        self.assertEqual(self.process.returncode, 0, self.process.stderr)

    def test_rankings_are_compared(self):
        a, b = self.ranking(self.a), self.ranking(self.b)
        self.assertNotEqual(a, b, "the fixtures are meant to disagree")
        self.assertIn("- `--topo dfs`, fastest first: **differs**: machine_a: " + " < ".join(code(p) for p in a),
                      self.section)
        self.assertIn("machine_b: " + " < ".join(code(p) for p in b), self.section)
        swapped = [(x, y) for i, x in enumerate(a) for y in a[i + 1:] if b.index(x) > b.index(y)]
        self.assertEqual(len(swapped), 1)
        x, y = sorted(swapped[0], key=list(self.a).index)  # policies in the order of the first file
        self.assertIn(f"  - `{x}` over `{y}`: machine_a ", self.section)
        self.assertIn("not a measurable swap (an interval contains 1)", self.section)

    def test_each_speed_ratio_says_whether_it_holds(self):
        rows = {}
        for line in self.section.splitlines():
            if line.startswith("| speed of"):
                cells = [c.strip() for c in line.strip("|").split("|")]
                rows[cells[0]] = cells
        others = [p for p in self.common if p != self.base]
        self.assertEqual(sorted(rows), sorted(f"speed of `{p}` vs `{self.base}`, `--topo dfs`" for p in others))
        statuses = {p: rows[f"speed of `{p}` vs `{self.base}`, `--topo dfs`"][-1] for p in others}
        for policy, status in statuses.items():
            with self.subTest(policy=policy):
                ratio_a = ms_per_step(self.a[self.base]) / ms_per_step(self.a[policy])
                ratio_b = ms_per_step(self.b[self.base]) / ms_per_step(self.b[policy])
                row = rows[f"speed of `{policy}` vs `{self.base}`, `--topo dfs`"]
                self.assertTrue(row[1].startswith(f"{ratio_a:.2f}× ("), row)
                self.assertTrue(row[2].startswith(f"{ratio_b:.2f}× ("), row)
                if ratio_a > 1.2 and ratio_b > 1.2:
                    self.assertTrue(status.startswith("holds: faster everywhere"), status)
        self.assertEqual(sum(s.startswith("**does not hold**") for s in statuses.values()), 1, statuses)
        self.assertIn("**does not hold**: no measurable difference, slower", statuses.values())
        self.assertRegex(self.section, r"\d of \d figures hold")

    def test_one_machine_gives_no_section(self):
        with tempfile.TemporaryDirectory() as temp:
            process, report = run_report(make_results_dir(Path(temp), machines=("machine_b",), with_bad_files=False),
                                         Path(temp) / "out")
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertNotIn("## Across machines", report)


class StatusTest(unittest.TestCase):
    def test_status(self):
        above, above2 = stats.Interval(1.5, 1.3, 1.7), stats.Interval(1.6, 1.5, 1.8)
        far = stats.Interval(3.0, 2.5, 3.5)
        flat = stats.Interval(1.0, 0.9, 1.1)
        self.assertEqual(across.status([above, above2], True), "holds: faster everywhere (same size)")
        self.assertEqual(across.status([above, far], True), "holds: faster everywhere (size differs)")
        self.assertEqual(across.status([above, flat], True), "**does not hold**: faster, no measurable difference")
        self.assertEqual(across.status([flat, flat], True), "holds: no measurable difference everywhere (same size)")
        self.assertEqual(across.status([above, stats.Interval(1.5)], True), "not measurable on every machine")
        self.assertEqual(across.status([stats.Interval(0.6, 0.5, 0.7), stats.Interval(0.9, 0.8, 1.0)], False),
                         "size differs")


if __name__ == "__main__":
    unittest.main()
