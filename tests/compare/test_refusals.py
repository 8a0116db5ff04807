"""Inputs compare.py must refuse in one line, and outputs it writes all or not at all
(issue 21: items 4, 6 and 10)."""

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from helpers import COMPARE, FIXTURES, leftovers, load, make_results_dir, run_compare

OLD_REPORT = "old report\n"


def limited_memory():
    """A child that reads /dev/zero into memory dies of MemoryError, not of the OOM killer."""
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def run_limited(*args):
    return subprocess.run([sys.executable, str(COMPARE), *map(str, args)], capture_output=True, text=True,
                          timeout=120, preexec_fn=limited_memory)


class RefusalTest(unittest.TestCase):
    def setUp(self):
        self.temp = tempfile.TemporaryDirectory()
        self.addCleanup(self.temp.cleanup)
        self.root = Path(self.temp.name)
        self.out = self.root / "out"
        self.out.mkdir()
        (self.out / "REPORT.md").write_text(OLD_REPORT)

    def only(self, data) -> Path:
        results = self.root / "results"
        (results / "machine").mkdir(parents=True, exist_ok=True)
        (results / "machine" / "bench_train.json").write_text(json.dumps(data))
        return results

    def assert_refused_and_nothing_written(self, process, *words):
        self.assertEqual(process.returncode, 2, process.stdout + process.stderr)
        self.assertIn("compare.py: error: no usable results", process.stderr)
        for word in words:
            self.assertIn(word, process.stderr)
        self.assertEqual((self.out / "REPORT.md").read_text(), OLD_REPORT)
        self.assertFalse((self.out / "charts").exists())
        self.assertEqual(leftovers(self.out), [])

    def test_only_rejected_files_write_nothing(self):
        data = load(FIXTURES / "machine_b" / "bench_train.json")
        del data["runs"]
        process = run_compare("--results", self.only(data), "--out", self.out)
        self.assert_refused_and_nothing_written(process, "no 'runs' list")

    def test_unknown_bench_train_schemas_are_refused(self):
        for schema in (99, None, "1", "anything"):
            with self.subTest(schema=schema):
                data = load(FIXTURES / "machine_b" / "bench_train.json")
                if schema is None:
                    del data["schema"]
                else:
                    data["schema"] = schema
                results = self.only(data)
                process = run_compare("--results", results, "--out", self.out)
                self.assert_refused_and_nothing_written(process, f"bench_train schema {schema!r} is not read")
                warnings = [line for line in process.stderr.splitlines() if "bench_train.json" in line]
                self.assertEqual(len(warnings), 1, process.stderr)
                shutil.rmtree(results)

    def test_fifos_devices_and_huge_files_are_refused_in_one_line(self):
        results = make_results_dir(self.root, machines=("machine_b",), with_bad_files=False)
        os.mkfifo(results / "machine_b" / "fifo.json")
        (results / "machine_b" / "zero.json").symlink_to("/dev/zero")
        os.mkfifo(results / "machine_b" / "callgrind_new.txt")
        with open(results / "machine_b" / "huge.json", "wb") as huge:
            huge.truncate(1 << 30)  # sparse: no disk space
        process = run_limited("--results", results, "--out", self.out)
        self.assertEqual(process.returncode, 0, process.stderr)
        for name, reason in (("fifo.json", "not a regular file"), ("zero.json", "not a regular file"),
                             ("callgrind_new.txt", "not a regular file"), ("huge.json", "larger than")):
            with self.subTest(file=name):
                lines = [line for line in process.stderr.splitlines() if name in line]
                self.assertEqual(len(lines), 1, process.stderr)
                self.assertIn(reason, lines[0])
        self.assertNotEqual((self.out / "REPORT.md").read_text(), OLD_REPORT)


class AllOrNothingTest(unittest.TestCase):
    def test_an_unwritable_report_leaves_the_old_charts(self):
        with tempfile.TemporaryDirectory() as temp:
            root = Path(temp)
            results = make_results_dir(root, machines=("machine_b",), with_bad_files=False)
            out = root / "out"
            self.assertEqual(run_compare("--results", results, "--out", out).returncode, 0)
            before = {p.name: p.read_bytes() for p in (out / "charts").iterdir()}
            (out / "REPORT.md").unlink()
            (out / "REPORT.md").mkdir()  # cannot be replaced by a file
            data = load(results / "machine_b" / "bench_train.json")
            for run in data["runs"]:
                run["train_seconds"]["median"] *= 2  # other data: every chart would change
            (results / "machine_b" / "bench_train.json").write_text(json.dumps(data))
            process = run_compare("--results", results, "--out", out)
            self.assertEqual(process.returncode, 2, process.stderr)
            self.assertIn("REPORT.md", process.stderr)
            self.assertEqual({p.name: p.read_bytes() for p in (out / "charts").iterdir()}, before)
            self.assertEqual(leftovers(out), [])


if __name__ == "__main__":
    unittest.main()
