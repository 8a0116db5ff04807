"""scripts/compare.py and scripts/mga_report/cli.py: options, failures, atomic writes,
and running under a Python that has matplotlib."""

import contextlib
import io
import os
import sys
import tempfile
import unittest
from pathlib import Path

from helpers import leftovers, make_results_dir, run_compare
from mga_report import charts, cli, files


class OptionsTest(unittest.TestCase):
    def test_help_describes_the_options_without_matplotlib(self):
        process = run_compare("--help", python_args=("-S",))
        self.assertEqual(process.returncode, 0, process.stderr)
        for text in ("--results", "--out", "--reference-dir", "--readme", "--check-readme", "REPORT.md",
                     "callgrind_", "traits", "bootstrap", "/usr/bin/python3", "Exit status"):
            self.assertIn(text, process.stdout)


class FailureTest(unittest.TestCase):
    def setUp(self):
        self.temp = tempfile.TemporaryDirectory()
        self.root = Path(self.temp.name)
        self.addCleanup(self.temp.cleanup)

    def test_nothing_usable_exits_2_and_keeps_the_old_report(self):
        results = make_results_dir(self.root, machines=())
        out = self.root / "out"
        out.mkdir()
        (out / "REPORT.md").write_text("old report\n")
        process = run_compare("--results", results, "--out", out)
        self.assertEqual(process.returncode, 2)
        self.assertIn("compare.py: error: no usable results", process.stderr)
        for name in ("empty.json", "malformed.json", "not_results.json", "crosslang_schema1.json"):
            self.assertIn(name, process.stderr)
        self.assertEqual((out / "REPORT.md").read_text(), "old report\n")
        self.assertEqual(leftovers(out), [])

    def test_missing_results_directory_is_a_clear_error(self):
        process = run_compare("--results", self.root / "nowhere", "--out", self.root / "out")
        self.assertEqual(process.returncode, 2)
        self.assertIn("does not exist", process.stderr)
        self.assertEqual(len(process.stderr.strip().splitlines()), 1)
        self.assertFalse((self.root / "out").exists())

    def test_interrupted_write_leaves_old_file_and_no_temporary(self):
        target = self.root / "REPORT.md"

        def write_half_then_fail(file):
            file.write(b"# half a rep")
            raise OSError("disk full")

        with self.assertRaises(OSError):
            files.write_atomically(target, write_half_then_fail)
        self.assertFalse(target.exists())
        target.write_text("old report\n")
        with self.assertRaises(OSError):
            files.write_atomically(target, write_half_then_fail)
        self.assertEqual(target.read_text(), "old report\n")
        self.assertEqual(leftovers(self.root), [])

    def test_failing_chart_writes_no_report(self):
        results = make_results_dir(self.root, machines=("machine_a",), with_bad_files=False)
        out = self.root / "out"
        original = charts.alloc_vs_train

        def broken_chart(*args):
            raise RuntimeError("chart failed")

        charts.alloc_vs_train = broken_chart
        self.addCleanup(setattr, charts, "alloc_vs_train", original)
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(RuntimeError):
            cli.main(["--results", str(results), "--out", str(out)])
        self.assertFalse((out / "REPORT.md").exists())
        self.assertEqual(leftovers(self.root), [])

    def test_a_chart_this_run_did_not_draw_is_removed_and_other_files_kept(self):
        results = make_results_dir(self.root, machines=("machine_b",), with_bad_files=False)
        out = self.root / "out"
        (out / "charts").mkdir(parents=True)
        (out / "charts" / "size.png").write_bytes(b"old")
        (out / "charts" / "someone_elses.png").write_bytes(b"kept")
        process = run_compare("--results", results, "--out", out)
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertEqual(sorted(p.name for p in (out / "charts").iterdir()), ["answer.png", "phases.png",
                                                                              "someone_elses.png"])


class MatplotlibFallbackTest(unittest.TestCase):
    """`python3 -S` cannot import matplotlib (no site-packages): compare.py must run
    itself again under MGA_FALLBACK_PYTHON, or fail in one line when that cannot either."""

    def setUp(self):
        self.temp = tempfile.TemporaryDirectory()
        self.root = Path(self.temp.name)
        self.addCleanup(self.temp.cleanup)
        self.results = make_results_dir(self.root, machines=("machine_b",), with_bad_files=False)

    def test_the_test_python_cannot_import_matplotlib_with_minus_S(self):
        import subprocess
        process = subprocess.run([sys.executable, "-S", "-c", "import matplotlib"], capture_output=True)
        self.assertNotEqual(process.returncode, 0)

    def test_reexec_under_the_fallback(self):
        env = dict(os.environ, MGA_FALLBACK_PYTHON=sys.executable)
        env.pop("MGA_COMPARE_REEXEC", None)
        out = self.root / "out"
        process = run_compare("--results", self.results, "--out", out, python_args=("-S",), env=env)
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertEqual(process.stderr.splitlines(),
                         [f"compare.py: {sys.executable} has no matplotlib; running under {sys.executable}"])
        self.assertTrue((out / "REPORT.md").exists())
        self.assertTrue((out / "charts" / "answer.png").exists())

    def test_neither_python_has_matplotlib(self):
        fallback = self.root / "python-without-matplotlib"
        fallback.write_text(f"#!/bin/sh\nexec {sys.executable} -S \"$@\"\n")
        fallback.chmod(0o755)
        env = dict(os.environ, MGA_FALLBACK_PYTHON=str(fallback))
        env.pop("MGA_COMPARE_REEXEC", None)
        out = self.root / "out"
        process = run_compare("--results", self.results, "--out", out, python_args=("-S",), env=env)
        self.assertEqual(process.returncode, 2)
        self.assertEqual(len(process.stderr.splitlines()), 1, process.stderr)
        self.assertIn(f"compare.py: error: matplotlib is installed neither for {sys.executable} nor for {fallback}",
                      process.stderr)
        self.assertFalse(out.exists())

    def test_no_fallback_program_at_all(self):
        env = dict(os.environ, MGA_FALLBACK_PYTHON=str(self.root / "missing-python"))
        env.pop("MGA_COMPARE_REEXEC", None)
        process = run_compare("--results", self.results, "--out", self.root / "out", python_args=("-S",), env=env)
        self.assertEqual(process.returncode, 2)
        self.assertEqual(len(process.stderr.splitlines()), 1, process.stderr)


if __name__ == "__main__":
    unittest.main()
