#!/usr/bin/env python3
"""scripts/crosslang.py with stand-in runtimes and programs: the JSON it writes
(schema 2, every field the report reads), round-robin order and progress lines,
a run whose output differs or that fails, the sha256 check of the programs, and
bad input (one line, exit 2, nothing written). The stand-ins answer the version
questions crosslang.py asks and print fixtures/*_output.txt (made-up outputs
in the programs' formats); CPython is the real interpreter running this test,
on a stand-in microgpt.py and the real scripts/chain.py.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FIXTURES = HERE / "fixtures"
CROSSLANG = REPO / "scripts" / "crosslang.py"
SHARED_PROGRAMS = REPO.parent / "shared" / "programs"
sys.path.insert(0, str(REPO / "scripts"))
import runtimes as rt  # noqa: E402

FAKE_RUNTIME = r"""#!/bin/sh
# Stand-in for {name}: answers crosslang.py's version questions, runs "programs".
case "$1" in
  -p) case "$2" in process.versions.webkit) echo 0123456789abcdef;; *) echo "v26.12.1 14.6.0-fake";; esac; exit 0;;
  --revision) echo "1.4.4+fake"; exit 0;;
  --version) printf 'deno 2.9.6 (stable, release, x86_64)\nv8 15.0.0-fake\ntypescript 6.0\n'; exit 0;;
esac
for program; do :; done  # the last argument
[ -f package.json ] || exit 8
case "$program" in
  bench-alloc.ts) printf '2000000 Value allocations in 0.250s\n8.0M allocs/sec\nresult: 0.5\n';;
  microgpt.ts)
    [ -s input.txt ] || exit 9
    grep -q "const numSteps = $FAKE_STEPS;" microgpt.ts || exit 10
    [ "$FAKE_FAIL" = {name} ] && {{ echo "stand-in failure" >&2; exit 3; }}
    if [ "$FAKE_DIFFERS" = {name} ]; then sed 's/loss 2.7342/loss 2.7343/' "$FAKE_TS_OUTPUT"; else cat "$FAKE_TS_OUTPUT"; fi;;
  *) exit 11;;
esac
"""

FAKE_MICROGPT_PY = """import os, random, sys
random.seed(42)
num_steps = 1000
assert os.path.getsize("input.txt") > 0
assert num_steps == int(os.environ["FAKE_STEPS"]), num_steps
sys.stdout.write(open(os.environ["FAKE_PY_OUTPUT"]).read())
"""

FAKE_MICROGPT_TS = "const rng = mulberry32(42);\n  const N_EMBD = 16;\n  const numSteps = 1000;\n"

PROGRESS = re.compile(r"^\[ ?\d+/\d+\] (cpython|node|bun|deno) (train|chain) ")


class CrosslangTest(unittest.TestCase):
    def setUp(self):
        temp = tempfile.TemporaryDirectory()
        self.addCleanup(temp.cleanup)
        self.root = Path(temp.name)
        self.programs = self.root / "programs"
        self.programs.mkdir()
        (self.programs / "microgpt.py").write_text(FAKE_MICROGPT_PY)
        (self.programs / "microgpt.ts").write_text(FAKE_MICROGPT_TS)
        (self.programs / "bench-alloc.ts").write_text("// stand-in\n")
        self.references = self.root / "reference"
        self.references.mkdir()
        for kind in ("ts", "py"):
            (self.references / f"microgpt_{kind}_seed42_steps3.txt").write_bytes(
                (FIXTURES / f"{kind}_output.txt").read_bytes())
        self.bin = self.root / "bin"
        self.bin.mkdir()
        for name in ("node", "bun", "deno"):
            path = self.bin / name
            path.write_text(FAKE_RUNTIME.format(name=name))
            path.chmod(0o755)
        self.out = self.root / "results" / "crosslang.json"

    def crosslang(self, *args, env=None, runtimes="node,bun,deno"):
        command = [sys.executable, str(CROSSLANG), "--programs", str(self.programs), "--allow-modified",
                   "--reference-dir", str(self.references), "--data", str(FIXTURES / "names.txt"),
                   "--out", str(self.out), "--steps", "3", "--runtimes", runtimes, "--python", sys.executable,
                   *(f"--{name}={self.bin / name}" for name in ("node", "bun", "deno")), *args]
        environment = dict(os.environ, FAKE_STEPS="3", FAKE_TS_OUTPUT=str(FIXTURES / "ts_output.txt"),
                           FAKE_PY_OUTPUT=str(FIXTURES / "py_output.txt"), **(env or {}))
        return subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment)

    def document(self):
        return json.loads(self.out.read_text())

    def test_every_runtime_in_schema_2(self):
        done = self.crosslang("--repeat", "2", "--python-repeat", "1", "--chain-repeat", "2",
                              runtimes="cpython,node,bun,deno")
        self.assertEqual(done.returncode, 0, done.stderr)
        data = self.document()
        self.assertEqual((data["tool"], data["schema"], data["producer"]), ("crosslang", 2, "scripts/crosslang.py"))
        self.assertLessEqual({"date", "host", "kernel", "cpu", "cores", "git_commit"}, set(data["context"]))
        self.assertLessEqual({"steps": 3, "seed": 42, "num_docs": 4, "train_repetitions": 2,
                              "chain_repetitions": 2}.items(), data["config"].items())
        self.assertEqual({p["name"]: p["modified"] for p in data["programs"]},
                         {"microgpt.py": True, "microgpt.ts": True, "bench-alloc.ts": True})
        for program in data["programs"]:
            self.assertEqual(program["expected_sha256"], rt.PROGRAMS[program["name"]][0])
            self.assertEqual(program["sha256"], rt.sha256_of(Path(program["path"])))

        runs = {run["runtime"]: run for run in data["runs"]}
        self.assertEqual(list(runs), ["cpython", "node", "bun", "deno"])
        self.assertEqual(runs["node"]["version"], "Node.js v26.12.1")
        self.assertEqual(runs["bun"]["version"], "Bun 1.4.4+fake")
        self.assertEqual(runs["deno"]["version"], "Deno 2.9.6")
        self.assertTrue(runs["cpython"]["version"].startswith("CPython 3."))
        for name, run in runs.items():
            with self.subTest(runtime=name):
                self.assertEqual(run["allocator"], name)
                self.assertEqual(run["program"], "microgpt.py" if name == "cpython" else "microgpt.ts")
                self.assertEqual(run["output"], "identical")
                self.assertIn("wall time of the whole program", run["timing"])
                self.assertEqual(run["train_seconds"]["repetitions"], 1 if name == "cpython" else 2)
                stats = run["train_seconds"]
                self.assertLessEqual(stats["min"], stats["median"])
                self.assertLessEqual(stats["median"], stats["max"])
                self.assertEqual(set(stats), {"median", "min", "max", "mean", "stddev", "cv", "repetitions"})
                for rep in run["repetitions"]:
                    self.assertEqual((rep["steps"], rep["reference"]), (3, "identical"))
                    self.assertAlmostEqual(rep["ms_per_step"], 1000 * rep["train_seconds"] / 3)
                    self.assertGreater(rep["peak_rss_kib"], 0)
                    self.assertEqual(rep["final_loss"], 2.7339 if name == "cpython" else 2.7342)

        chain = {run["runtime"]: run for run in data["chain"]}
        self.assertEqual(list(chain), ["cpython", "node", "bun", "deno"])
        self.assertEqual(chain["cpython"]["program"], "scripts/chain.py")
        self.assertEqual(chain["node"]["objects_per_alloc"], "a Value plus two arrays")
        self.assertEqual(chain["bun"]["allocs_per_second"]["median"], 8e6)  # 2M in 0.250 s
        self.assertEqual(chain["bun"]["repetitions"][0]["seconds"], 0.25)
        self.assertGreater(chain["cpython"]["allocs_per_second"]["min"], 0)
        self.assertEqual(chain["cpython"]["allocs_per_second"]["repetitions"], 2)

        # Round-robin: each round runs every runtime's chain, then every training.
        progress = [PROGRESS.match(line).groups() for line in done.stderr.splitlines() if PROGRESS.match(line)]
        each = ["cpython", "node", "bun", "deno"]
        self.assertEqual(progress, [(r, "chain") for r in each] + [(r, "train") for r in each]
                         + [(r, "chain") for r in each] + [(r, "train") for r in each[1:]])
        self.assertIn("] node train ", done.stderr)
        self.assertRegex(done.stderr, r"\] bun chain 8\.00M allocs/s \(0\.250 s\)")
        self.assertEqual([p.name for p in self.out.parent.iterdir()], ["crosslang.json"])  # atomic

    def test_a_run_that_differs_is_reported_and_left_out(self):
        done = self.crosslang("--repeat", "2", "--chain-repeat", "0", env={"FAKE_DIFFERS": "deno"})
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("deno: output DIFFERS from the reference: line 6", done.stderr)
        runs = {run["runtime"]: run for run in self.document()["runs"]}
        self.assertEqual(runs["deno"]["output"], "differs")
        self.assertIsNone(runs["deno"]["train_seconds"])
        self.assertEqual([rep["reference"] for rep in runs["deno"]["repetitions"]], ["differs"] * 2)
        self.assertEqual(runs["node"]["output"], "identical")
        self.assertEqual(self.document()["chain"], [])

    def test_a_failed_run_is_recorded(self):
        done = self.crosslang("--repeat", "1", "--chain-repeat", "1", env={"FAKE_FAIL": "bun"})
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("bun failed (exit 3): stand-in failure", done.stderr)
        runs = {run["runtime"]: run for run in self.document()["runs"]}
        self.assertEqual((runs["bun"]["output"], runs["bun"]["repetitions"][0]["exit_status"]), ("failed", 3))

    def test_without_a_reference_runs_are_compared_with_each_other(self):
        done = self.crosslang("--repeat", "1", "--chain-repeat", "0", "--reference-dir", str(self.root))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("no reference", done.stderr)
        run = self.document()["runs"][0]
        self.assertEqual((run["output"], run["train_seconds"]["repetitions"]), ("no reference", 1))
        done = self.crosslang("--repeat", "1", "--chain-repeat", "0", "--reference-dir", str(self.root),
                              env={"FAKE_DIFFERS": "bun"})
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("microgpt.ts's runs printed 2 different outputs", done.stderr)

    def assert_refused(self, done, *needles):
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
        self.assertTrue(done.stderr.startswith("crosslang.py: "), done.stderr)
        for needle in needles:
            self.assertIn(needle, done.stderr)
        self.assertFalse(self.out.exists())

    def test_modified_and_missing_programs_are_refused(self):
        command = [sys.executable, str(CROSSLANG), "--programs", str(self.programs), "--runtimes", "bun",
                   "--bun", str(self.bin / "bun"), "--out", str(self.out), "--data", str(FIXTURES / "names.txt")]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        self.assert_refused(done, "has sha256", "--allow-modified")
        (self.programs / "bench-alloc.ts").unlink()
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        self.assert_refused(done, "bench-alloc.ts not found", "kojiwakayama/microgpt-ts/8a375e9")

    def test_bad_input_is_one_line_and_exit_2(self):
        for args, needle in [(["--steps", "x"], "--steps"), (["--repeat", "-1"], "--repeat"),
                             (["--runtimes", "java"], "unknown runtime 'java'"), (["--frobnicate"], "unrecognized"),
                             (["--repeat", "0", "--chain-repeat", "0"], "nothing to run"),
                             (["--data", str(self.root / "none.txt")], "cannot read the dataset"),
                             (["--bun", str(self.root / "none")], "bun: "),
                             (["--machine", "../x"], "--machine")]:
            with self.subTest(args=args):
                self.assert_refused(self.crosslang(*args), needle)


class EditConstantsTest(unittest.TestCase):
    VALUES = {"seed": 7, "n_embd": 6, "n_head": 3, "n_layer": 2, "block_size": 5, "num_steps": 30}

    @unittest.skipUnless((SHARED_PROGRAMS / "microgpt.ts").is_file(), "../shared/programs is absent")
    def test_edits_exactly_the_six_lines_of_the_real_programs(self):
        for name, kind in (("microgpt.py", "py"), ("microgpt.ts", "ts")):
            original = (SHARED_PROGRAMS / name).read_text().splitlines()
            edited = rt.edit_constants("\n".join(original), kind, **self.VALUES).splitlines()
            changed = [(a, b) for a, b in zip(original, edited) if a != b]
            with self.subTest(program=name):
                self.assertEqual(len(original), len(edited))
                self.assertEqual(len(changed), 6, changed)
                for (_, line), value in zip(changed, [7, 6, 3, 2, 5, 30]):  # in file order
                    self.assertRegex(line, rf"\b{value}\b")

    def test_a_missing_line_is_an_error(self):
        with self.assertRaisesRegex(rt.Unavailable, "the n_head line is not there exactly once"):
            rt.edit_constants(FAKE_MICROGPT_TS, "ts", n_head=2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
