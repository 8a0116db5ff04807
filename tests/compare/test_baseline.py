"""compare.py --baseline OLD NEW (issue 23, item 4): fixtures/baseline holds one machine's
bench_train files before (old.json) and after a change that made every cell faster, one within
noise, one 3% slower (measurable, but within the default 5% threshold), one with a cell 20%
slower and a flagged repetition, and a pair of files of 5 repetitions each."""

import json
import math
import shutil
import tempfile
import unittest
from pathlib import Path

from helpers import FIXTURES, load, run_compare
from mga_report import baseline

SETS = FIXTURES / "baseline"
OLD = SETS / "old.json"


def medians(path) -> dict:
    """(policy, malloc) -> median seconds per step of a fixture file."""
    return {(r["allocator"], r["malloc"]): r["train_seconds"]["median"] / r["repetitions"][0]["steps"]
            for r in load(path)["runs"]}


def row(stdout: str, policy: str, malloc: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith(f"{policy} ({malloc}, "))


def compare(new, *extra, old=OLD):
    return run_compare("--baseline", old, new, *extra)


class VerdictTest(unittest.TestCase):
    def assert_every_common_cell(self, process, new, verdict: str):
        old, found = medians(OLD), medians(new)
        for policy, malloc in (key for key in found if key in old):
            line = row(process.stdout, policy, malloc)
            self.assertIn(f"  {old[(policy, malloc)] / found[(policy, malloc)]:.2f}× (", line)
            self.assertTrue(line.endswith(verdict), line)

    def test_faster(self):
        process = compare(SETS / "faster.json")
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assert_every_common_cell(process, SETS / "faster.json", "faster")
        runs = len(load(OLD)["runs"][0]["repetitions"])
        self.assertIn(f"{2 / math.comb(2 * runs, runs):.1e}", process.stdout, "every new repetition below every old")
        self.assertEqual(process.stderr, "", "9 repetitions a side: no warning")

    def test_within_noise(self):
        process = compare(SETS / "within_noise.json")
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assert_every_common_cell(process, SETS / "within_noise.json", "no measurable difference")

    def test_measurable_but_within_the_threshold_is_no_measurable_difference(self):
        process = compare(SETS / "slower_3pct.json")
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assert_every_common_cell(process, SETS / "slower_3pct.json", "no measurable difference")
        process = compare(SETS / "slower_3pct.json", "--threshold", "2")
        self.assertEqual(process.returncode, 1, process.stderr)
        self.assert_every_common_cell(process, SETS / "slower_3pct.json", "slower")

    def test_slower_exits_1_and_marks_the_flagged_repetitions(self):
        new = SETS / "slower.json"
        process = compare(new)
        self.assertEqual(process.returncode, 1, process.stderr)
        data = {(r["allocator"], r["malloc"]): r for r in load(new)["runs"]}
        old = medians(OLD)
        slowed = [key for key in data if key in old and medians(new)[key] > 1.05 * old[key]]
        self.assertEqual(len(slowed), 1)
        flagged = sum(1 for rep in data[slowed[0]]["repetitions"] if rep["noise"]["flags"])
        self.assertTrue(row(process.stdout, *slowed[0]).endswith(
            f"slower ⚠ noisy new {flagged}/{len(data[slowed[0]]['repetitions'])}"))
        for rep in data[slowed[0]]["repetitions"]:
            for flag in rep["noise"]["flags"]:
                self.assertIn(flag, process.stdout)
        only_old = [key for key in old if key not in data]
        only_new = [key for key in data if key not in old]
        self.assertIn("Only in OLD (not compared): " + "; ".join(f"{p} ({m}, topo dfs)" for p, m in only_old),
                      process.stdout)
        self.assertIn("Only in NEW (not compared): " + "; ".join(f"{p} ({m}, topo dfs)" for p, m in only_new),
                      process.stdout)
        self.assertEqual(compare(new, "--threshold", "25").returncode, 0, "20% slower is within 25%")

    def test_json_for_machines(self):
        process = compare(SETS / "slower.json", "--format", "json")
        self.assertEqual(process.returncode, 1, process.stderr)
        found = json.loads(process.stdout)
        self.assertEqual(found["exit_status"], 1)
        self.assertEqual((found["threshold"], found["alpha"]), (0.05, baseline.ALPHA))
        old, new = medians(OLD), medians(SETS / "slower.json")
        data = {(r["allocator"], r["malloc"]): r for r in load(SETS / "slower.json")["runs"]}
        for cell in found["cells"]:
            key = (cell["policy"], cell["malloc"])
            self.assertAlmostEqual(cell["speed"]["ratio"], old[key] / new[key])
            self.assertLess(cell["speed"]["low"], cell["speed"]["ratio"])
            self.assertEqual(cell["verdict"], "slower" if new[key] > 1.05 * old[key] else "no measurable difference")
            self.assertEqual(cell["test"], "exact")
            self.assertEqual(cell["contender"]["seconds"], [r["train_seconds"] for r in data[key]["repetitions"]])
        self.assertIsNone(found["cells"][0]["baseline"]["noisy_repetitions"], "old.json predates noise flags")
        self.assertEqual([(c["policy"], c["malloc"]) for c in found["only_in_new"]],
                         [k for k in new if k not in old])

    def test_the_rule_is_what_help_says(self):
        process = run_compare("--help", python_args=("-S",))
        for words in ("slower                    p < 0.05 and speed < 1 / (1 + T)",
                      "faster                    p < 0.05 and speed > 1 + T", "no measurable difference  otherwise"):
            self.assertIn(words, process.stdout)
        for speed, p, expected in ((1 / 1.051, 0.01, "slower"), (1 / 1.049, 0.01, "no measurable difference"),
                                   (1.051, 0.01, "faster"), (0.5, 0.05, "no measurable difference"),
                                   (2.0, 0.049, "faster")):
            self.assertEqual(baseline.verdict(speed, p, 0.05), expected)


class WarningTest(unittest.TestCase):
    def test_too_few_repetitions_are_warned_about(self):
        process = compare(SETS / "few_new.json", old=SETS / "few_old.json")
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("too few repetitions for the test to mean much: 5; 9 or more recommended "
                      "(with 5 against 5 the smallest two-sided p is 0.0079)", process.stderr)
        self.assertTrue(row(process.stdout, *next(iter(medians(SETS / "few_new.json")))).endswith("faster"))
        process = compare(SETS / "few_new.json", "--format", "json", old=OLD)
        found = json.loads(process.stdout)
        self.assertIn("too few repetitions for the test to mean much: 5; 9 or more recommended (with 9 against 5 "
                      "the smallest two-sided p is 0.0010)", found["warnings"])

    def test_it_needs_no_matplotlib(self):
        process = run_compare("--baseline", OLD, SETS / "faster.json", python_args=("-S",))
        self.assertEqual(process.returncode, 0, process.stderr)


class DirectoryTest(unittest.TestCase):
    def test_two_directories_are_compared_file_by_file(self):
        with tempfile.TemporaryDirectory() as temp:
            old, new = Path(temp) / "before", Path(temp) / "after"
            for directory, source in ((old, OLD), (new, SETS / "slower.json")):
                (directory / "machine").mkdir(parents=True)
                shutil.copy(source, directory / "machine" / "bench_train_dfs.json")
                shutil.copy(FIXTURES / "machine_a" / "crosslang.json", directory / "machine")  # passed over
            process = run_compare("--baseline", old, new)
        self.assertEqual(process.returncode, 1, process.stderr)
        self.assertIn("machine/bench_train_dfs.json: ", process.stdout)
        self.assertIn("slower", process.stdout)


class BadInputTest(unittest.TestCase):
    def assert_refused(self, *args, words: str):
        process = run_compare(*args)
        self.assertEqual(process.returncode, 2, process.stdout + process.stderr)
        self.assertEqual(process.stdout, "")
        self.assertEqual(len(process.stderr.splitlines()), 1, process.stderr)
        self.assertIn(words, process.stderr)

    def test_bad_inputs_are_one_line_and_exit_2(self):
        with tempfile.TemporaryDirectory() as temp:
            self.assert_refused("--baseline", OLD, Path(temp) / "missing.json", words="does not exist")
            self.assert_refused("--baseline", OLD, FIXTURES / "bad" / "malformed.json", words="malformed JSON")
            self.assert_refused("--baseline", FIXTURES / "machine_a" / "crosslang.json", OLD,
                                words="not a bench_train --json file")
            self.assert_refused("--baseline", OLD, temp, words="must both be bench_train --json files or both")
            self.assert_refused("--baseline", temp, temp, words="no bench_train --json file")
        self.assert_refused("--baseline", OLD, FIXTURES / "tape" / "bench_train_tape.json",
                            words="no cell is in both")
        for threshold in ("-1", "100", "nan", "five"):
            self.assert_refused("--baseline", OLD, OLD, "--threshold", threshold, words="--threshold")
        self.assert_refused("--baseline", OLD, words="expected 2 arguments")
        self.assert_refused("--baseline", OLD, OLD, "--check-readme", words="takes no --check-readme")
        self.assert_refused("--format", "json", words="go with --baseline")


if __name__ == "__main__":
    unittest.main()
