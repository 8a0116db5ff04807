"""scripts/mga_report/practical.py: preload a malloc, use std::pmr, or write an arena? The
answer from fixtures/machine_m's matrix, in the report and in the README's `practical`
block. Policies and mallocs are found by their traits and in the fixture, never by name."""

import contextlib
import io
import json
import re
import tempfile
import unittest
from pathlib import Path

from helpers import (FIXTURES, code, complete_readme, fixture_cells, fixture_mallocs, fixture_roles, load, make_results_dir,
                     ms_per_step, run_compare, run_report, section_text)
from mga_report import figures, loading, practical, readme
from mga_report.model import DEFAULT_MALLOC
from mga_report.stats import Interval

MACHINE = "machine_m"
MATRIX_DFS = FIXTURES / MACHINE / "bench_train_malloc_dfs.json"
SECTION = "## Preload a malloc, use std::pmr, or write an arena?"
CI = r"\(95% CI \d+\.\d\d–\d+\.\d\d\)"


def load_quietly(results: Path):
    with contextlib.redirect_stderr(io.StringIO()):
        loaded = loading.load_results(results)
    return loaded, figures.compute_all(loaded)


def speed(cells: dict, run: tuple, other: tuple) -> float:
    """How many times as fast as `other` the cell `run` is, per step."""
    return ms_per_step(cells[other]) / ms_per_step(cells[run])


def ratio_in(text: str, before: str) -> float:
    """The first 'N.NN×' after `before` in text."""
    return float(re.search(r"(\d+\.\d\d)×", text.split(before, 1)[1]).group(1))


def write_edited(results: Path, edit) -> None:
    for path in results.rglob("bench_train*.json"):
        data = load(path)
        for run in data["runs"]:
            edit(run)
        path.write_text(json.dumps(data))


class PracticalAnswerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        cls.results = make_results_dir(Path(cls.temp.name), machines=(MACHINE,), with_bad_files=False)
        cls.loaded, cls.figures = load_quietly(cls.results)
        cls.fig = cls.figures[MACHINE]
        cls.dfs = practical.paragraph(cls.fig.matrix["dfs"], cls.fig.roles)
        cls.cells = fixture_cells(MATRIX_DFS)
        cls.roles = fixture_roles(MATRIX_DFS)
        cls.mallocs = [m for m in fixture_mallocs(MATRIX_DFS) if m != DEFAULT_MALLOC]

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def drop_in(self, policy: str, malloc: str) -> float:
        return speed(self.cells, (malloc, policy), (DEFAULT_MALLOC, policy))

    def test_one_paragraph_per_order(self):
        paragraphs = practical.paragraphs(self.fig)
        self.assertEqual([p.split(":", 1)[0] for p in paragraphs], ["With `--topo dfs`", "With `--topo creation`"])

    def test_a_drop_in_is_called_faster_only_when_its_interval_excludes_one(self):
        base = self.roles["baseline"]
        clause = self.dfs.split("the baseline)", 1)[1].split(". ", 1)[0]
        words = {}
        for malloc in self.mallocs:
            found = re.search(rf"under `{re.escape(malloc)}` (\d+\.\d\d)× {CI}: ([a-z ]+)", clause)
            self.assertIsNotNone(found, clause)
            self.assertAlmostEqual(float(found.group(1)), self.drop_in(base, malloc), delta=0.0051)
            words[malloc] = found.group(2)
        clear = [m for m in self.mallocs if self.drop_in(base, m) > 1.2]  # the fixture's big, tight gain
        even = [m for m in self.mallocs if abs(self.drop_in(base, m) - 1) < 0.05]  # noisy, about equal
        self.assertTrue(clear and even)
        self.assertEqual({words[m] for m in clear}, {"faster"})
        self.assertEqual({words[m] for m in even}, {"no measurable difference"})
        self.assertIn(f"The best drop-in for {code(base)} is {code(clear[0])}.", self.dfs)

    def test_the_reference_counted_policy_gets_its_drop_in_too(self):
        counted = self.roles["reference_counted"][0]
        clause = self.dfs.split(f"For {code(counted)} (reference-counted), against itself under glibc:", 1)[1]
        for malloc in self.mallocs:
            self.assertAlmostEqual(ratio_in(clause, f"under `{malloc}`"), self.drop_in(counted, malloc), delta=0.0051)

    def test_each_standard_library_policy_meets_the_hand_written_one_that_frees_alike(self):
        frees = set(self.roles["frees_per_node"])
        for policy in self.roles["standard_library"]:
            twin = next(h for h in self.roles["hand_written"] if (h in frees) == (policy in frees))
            with self.subTest(policy=policy):
                phrase = f"{code(policy)} runs at "
                found = re.search(rf"{re.escape(phrase)}(\d+\.\d\d)× the speed of the hand-written {code(twin)} {CI}",
                                  self.dfs)
                self.assertIsNotNone(found, self.dfs)
                self.assertAlmostEqual(float(found.group(1)),
                                       speed(self.cells, (DEFAULT_MALLOC, policy), (DEFAULT_MALLOC, twin)), delta=0.0051)

    def test_two_standard_resources_that_free_alike_are_compared(self):
        pools = [p for p in self.roles["standard_library"] if p in self.roles["frees_per_node"]]
        self.assertEqual(len(pools), 2, "the fixture has two standard per-node resources")
        first, second = pools
        found = re.search(rf"{re.escape(code(second))} runs at (\d+\.\d\d)× the speed of {re.escape(code(first))} {CI}",
                          self.dfs)
        self.assertIsNotNone(found, self.dfs)
        self.assertAlmostEqual(float(found.group(1)), speed(self.cells, (DEFAULT_MALLOC, second),
                                                            (DEFAULT_MALLOC, first)), delta=0.0051)

    def test_what_remains_is_each_hand_written_policy_against_the_best_drop_in(self):
        base = self.roles["baseline"]
        best = max(self.mallocs, key=lambda m: self.drop_in(base, m))
        clause = self.dfs.split("What remains for a custom allocator:", 1)[1]
        self.assertTrue(clause.startswith(f" under glibc, against {code(base)} under {code(best)} (the best drop-in)"))
        for policy in self.roles["hand_written"]:
            self.assertAlmostEqual(ratio_in(clause, code(policy)),
                                   speed(self.cells, (DEFAULT_MALLOC, policy), (best, base)), delta=0.0051)

    def test_noisy_cells_are_mentioned(self):
        self.assertIn("Some cells have a cv above 5%", self.dfs)

    def test_a_figure_without_interval_is_not_called_anything(self):
        text = practical.versus(Interval(1.3, note="one repetition"), "`a`", "`b`")
        self.assertEqual(text, "`a` runs at 1.30× the speed of `b` (no interval: one repetition, so not called "
                               "faster or slower)")
        self.assertEqual(practical.tail(Interval(0.9, 0.8, 0.95)), " (95% CI 0.80–0.95): slower")


class PracticalFallbacksTest(unittest.TestCase):
    def answer(self, edit=None, machines=(MACHINE,)):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=machines, with_bad_files=False)
            if edit is not None:
                write_edited(results, edit)
            process, report = run_report(results, Path(temp) / "out")
        self.assertEqual(process.returncode, 0, process.stderr)
        return section_text(report, SECTION)

    def test_without_the_kind_traits_std_pmr_is_not_compared(self):
        def forget_kinds(run):
            for kind in ("standard_library", "hand_written"):
                run.get("traits", {}).pop(kind, None)
        section = self.answer(forget_kinds)
        self.assertIn(practical.NO_KINDS, section)
        reference = fixture_roles(MATRIX_DFS)["no_alloc_reference"]
        remains = section.split("What remains for a custom allocator:", 1)[1].split(". ", 1)[0]
        self.assertIn(code(reference), remains)
        for policy in set(fixture_roles(MATRIX_DFS)["hand_written"]) - {reference}:
            self.assertNotIn(code(policy), remains)

    def test_without_traits_there_is_no_answer(self):
        section = self.answer(lambda run: run.pop("traits", None))
        self.assertIn("With `--topo dfs`: no answer: no role is known", section)

    def test_without_a_matrix_it_says_how_to_make_one(self):
        section = self.answer(machines=("machine_c",))
        self.assertIn(practical.NO_MATRIX, section)


README = """# A project

<!-- generated by scripts/compare.py: practical machine_m -->
stale
<!-- end -->

<!-- generated by scripts/compare.py: ceiling machine_m -->
stale
<!-- end -->
"""


class PracticalReadmeTest(unittest.TestCase):
    def test_the_blocks_are_generated_and_checked(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=(MACHINE,), with_bad_files=False)
            loaded, computed = load_quietly(results)
            text, count = readme.generate(complete_readme(README, MACHINE), loaded, computed, "README.md")
            self.assertEqual(count, len(readme.BLOCKS))
            paragraphs = practical.paragraphs(computed[MACHINE])
            self.assertIn("\n".join([paragraphs[0], "", paragraphs[1]]), text)
            self.assertIn("Without nodes, the same arithmetic takes", text)
            self.assertNotIn("stale", text)
            path = Path(temp) / "README.md"
            path.write_text(text)
            self.assertEqual(run_compare("--results", results, "--readme", path, "--check-readme").returncode, 0)
            path.write_text(text.replace(paragraphs[1], paragraphs[1].replace("faster", "slower", 1)))
            process = run_compare("--results", results, "--readme", path, "--check-readme")
            self.assertEqual(process.returncode, 1)
            self.assertIn("is not what results/ gives", process.stderr)


if __name__ == "__main__":
    unittest.main()
