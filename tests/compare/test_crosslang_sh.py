"""scripts/crosslang.sh (the schema-1 cross-language runner): runs the reference
programs with stand-in runtimes. Skipped once the script is gone."""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from helpers import FIXTURES, REPO, leftovers
from mga_report import loading

CROSSLANG = REPO / "scripts" / "crosslang.sh"


FAKE_PYTHON_PROGRAM = r"""
# Prints FAKE_OUTPUT the way microgpt.py does: step lines end in \r.
import os, sys
assert os.path.getsize("input.txt") > 0, "no input.txt in the working directory"
for line in open(os.environ["FAKE_OUTPUT"]).read().splitlines():
    if line.startswith("step"):
        sys.stdout.write(line + "\r")
    elif line.startswith("--- inference"):
        sys.stdout.write("\n" + line + "\n")
    elif line:
        sys.stdout.write(line + "\n")
"""

FAKE_RUNTIME = """#!/bin/sh
# A stand-in for {name}: reports a version, or prints FAKE_TS_OUTPUT.
if [ "$1" = --version ]; then echo "{version}"; exit 0; fi
[ -s input.txt ] || exit 9
cat "$FAKE_TS_OUTPUT"
"""


@unittest.skipUnless(shutil.which("bash") and CROSSLANG.exists(), "needs bash and scripts/crosslang.sh")
class CrosslangTest(unittest.TestCase):
    def setUp(self):
        self.temp = tempfile.TemporaryDirectory()
        self.root = Path(self.temp.name)
        self.addCleanup(self.temp.cleanup)
        self.bin = self.root / "bin"
        self.bin.mkdir()
        self.program = self.root / "microgpt.py"
        self.program.write_text(FAKE_PYTHON_PROGRAM)
        (self.root / "microgpt.ts").write_text("// stand-in; the fake runtimes do not read it\n")
        self.out = self.root / "results" / "crosslang.json"

    def fake_runtime(self, name, version):
        path = self.bin / name
        path.write_text(FAKE_RUNTIME.format(name=name, version=version))
        path.chmod(0o755)

    def run_crosslang(self, py_output="microgpt_py_seed42_steps1000.txt"):
        reference = FIXTURES / "crosslang"
        env = dict(os.environ,
                   PATH=f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
                   MGA_PYTHON=sys.executable, MGA_DATA=str(reference / "names.txt"),
                   MGA_REFERENCE_DIR=str(reference), MGA_CROSSLANG_OUT=str(self.out),
                   FAKE_OUTPUT=str(reference / py_output),
                   FAKE_TS_OUTPUT=str(reference / "microgpt_ts_seed42_steps1000.txt"))
        return subprocess.run(["bash", str(CROSSLANG), str(self.program), str(self.root / "microgpt.ts")],
                              env=env, capture_output=True, text=True, timeout=60)

    def test_records_every_runtime_in_bench_train_format(self):
        self.fake_runtime("node", "v23.6.0")
        self.fake_runtime("bun", "1.1.38")
        self.fake_runtime("deno", "deno 2.1.4 (stable, release, x86_64-unknown-linux-gnu)")
        process = self.run_crosslang()
        self.assertEqual(process.returncode, 0, process.stderr)
        data = json.loads(self.out.read_text())
        self.assertEqual(data["tool"], "bench_train")
        runs = {run["allocator"]: run for run in data["runs"]}
        self.assertEqual(sorted(runs), ["bun", "cpython", "deno", "node"])
        self.assertEqual(runs["deno"]["description"], "Deno 2.1.4")
        for name, run in runs.items():
            with self.subTest(runtime=name):
                repetition = run["repetitions"][0]
                self.assertEqual(repetition["reference"], "identical")
                self.assertEqual(repetition["steps"], 3)
                self.assertGreater(run["train_seconds"]["median"], 0)
        self.assertEqual(leftovers(self.out.parent), [])
        self.assertEqual([p.name for p in self.out.parent.iterdir()], ["crosslang.json"])

        # compare.py no longer reads these schema-1 files (crosslang.json schema 2 replaces them).
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            results = loading.load_results(self.out.parent)
        self.assertEqual(results.machines, {})
        self.assertIn("no longer read", stderr.getvalue())

    def test_old_node_is_skipped_and_a_mismatch_is_flagged(self):
        self.fake_runtime("node", "v20.20.2")
        process = self.run_crosslang(py_output="microgpt_ts_seed42_steps1000.txt")
        self.assertEqual(process.returncode, 1, process.stderr)
        self.assertIn("needs >= 23.6", process.stderr)
        self.assertIn("DIFFERS", process.stderr)
        runs = json.loads(self.out.read_text())["runs"]
        self.assertEqual([run["allocator"] for run in runs], ["cpython"])
        self.assertEqual(runs[0]["repetitions"][0]["reference"], "differs")

    def test_nothing_to_run_leaves_the_output_alone(self):
        process = subprocess.run(["bash", str(CROSSLANG), "-", "-"], capture_output=True, text=True, timeout=60,
                                 env=dict(os.environ, MGA_CROSSLANG_OUT=str(self.out),
                                          MGA_DATA=str(FIXTURES / "crosslang" / "names.txt")))
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("skipping cpython", process.stderr)
        self.assertFalse(self.out.exists())


if __name__ == "__main__":
    unittest.main()
