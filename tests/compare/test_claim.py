"""scripts/mga_report/{crosslang,claim}.py: crosslang.json (schema 2) and the section
"microgpt.ts's claim"."""

import contextlib
import io
import json
import statistics
import tempfile
import unittest
from pathlib import Path

from helpers import FIXTURES, load, make_results_dir, report_row, run_report, section_text
from mga_report import claim, crosslang, figures, loading
from mga_report.files import BadFile

CROSSLANG = FIXTURES / "machine_a" / "crosslang.json"


def fixture_runs():
    return {r["runtime"]: r for r in load(CROSSLANG)["runs"]}


def fixture_chain():
    return {c["runtime"]: c for c in load(CROSSLANG)["chain"]}


class ParseTest(unittest.TestCase):
    def test_fixture_follows_the_schema(self):
        data = load(CROSSLANG)
        self.assertEqual((data["tool"], data["schema"], data["producer"]), ("crosslang", 2, "scripts/crosslang.py"))
        for key in ("date", "host", "kernel", "cpu", "cores", "git_commit"):
            self.assertIn(key, data["context"])
        for key in ("steps", "seed", "data", "num_docs", "train_repetitions", "chain_repetitions"):
            self.assertIn(key, data["config"])
        self.assertEqual(sorted(r["runtime"] for r in data["runs"]), ["bun", "cpython", "deno", "node"])
        for run in data["runs"]:
            self.assertIn(run["output"], ("identical", "differs"))
            for key in ("median", "min", "max", "mean", "stddev", "cv", "repetitions"):
                self.assertIn(key, run["train_seconds"])

    def test_runs_and_chain_are_read(self):
        parsed = crosslang.parse_crosslang(load(CROSSLANG), "crosslang.json")
        runs, chain = fixture_runs(), fixture_chain()
        self.assertEqual(list(parsed.runs), list(runs))
        for name, run in runs.items():
            self.assertEqual(parsed.runs[name].summary.median, run["train_seconds"]["median"])
            self.assertEqual(parsed.runs[name].version, run["version"])
            self.assertTrue(parsed.runs[name].timed)
        for name, entry in chain.items():
            self.assertEqual(parsed.chain[name].rates, tuple(r["allocs_per_second"] for r in entry["repetitions"]))

    def test_a_differing_run_is_kept_but_not_timed(self):
        data = load(CROSSLANG)
        run = data["runs"][1]
        run["output"] = "differs"
        run["repetitions"][0]["reference"] = "differs"
        parsed = crosslang.parse_crosslang(data, "crosslang.json").runs[run["runtime"]]
        self.assertFalse(parsed.timed)
        self.assertEqual((parsed.differing, parsed.repetitions), (1, len(run["repetitions"])))
        self.assertEqual(len(parsed.seconds), len(run["repetitions"]) - 1, "identical repetitions only")

    def test_other_schemas_and_bad_runs(self):
        with self.assertRaisesRegex(BadFile, "schema 1 is not read"):
            crosslang.parse_crosslang({"tool": "crosslang", "schema": 1, "runs": []}, "x")
        data = load(CROSSLANG)
        data["runs"][0]["output"] = "maybe"
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            parsed = crosslang.parse_crosslang(data, "x.json")
        self.assertNotIn(data["runs"][0]["runtime"], parsed.runs)
        self.assertIn("'output' is neither", stderr.getvalue())


class SectionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        root = Path(cls.temp.name)
        cls.results = make_results_dir(root, machines=("machine_a",), with_bad_files=False)
        cls.process, cls.report = run_report(cls.results, root / "out")
        cls.section = section_text(cls.report, "## microgpt.ts's claim")

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def test_states_the_claim_and_what_an_allocation_is(self):
        self.assertEqual(self.process.returncode, 0, self.process.stderr)
        self.assertIn("12.8M allocs/s", self.section)
        self.assertIn("comes with two arrays", self.section)
        self.assertIn("one allocation is one node, a single object", self.section)

    def test_every_runtime_has_a_row(self):
        for name, run in fixture_runs().items():
            with self.subTest(runtime=name):
                row = report_row(self.section, "### machine_a", f"`{name}`")
                self.assertEqual(row[1], run["version"])
                self.assertEqual(row[4], str(run["train_seconds"]["repetitions"]))
                self.assertEqual(row[5], "identical")

    def test_pair_ratios_and_whether_they_agree(self):
        runs, chain = fixture_runs(), fixture_chain()
        for fast in ("bun", "deno"):
            with self.subTest(pair=fast):
                row = report_row(self.section, "### machine_a", f"{fast} / node")
                rate = chain[fast]["allocs_per_second"]["median"] / chain["node"]["allocs_per_second"]["median"]
                speed = runs["node"]["train_seconds"]["median"] / runs[fast]["train_seconds"]["median"]
                self.assertTrue(row[1].startswith(f"{rate:.2f}× ("), row)
                self.assertTrue(row[2].startswith(f"{speed:.2f}× ("), row)
                self.assertEqual(row[3], "yes" if (rate > 1) == (speed > 1) else "**no**")

    def test_conclusion_is_derived_from_the_pairs(self):
        self.assertIn("`deno` allocates faster than `node` and trains **slower**", self.section)
        self.assertIn("does **not** order the runtimes' training speeds", self.section)
        self.assertIn("Across the C++ policies", self.section)

    def test_a_run_whose_output_differs_is_not_timed(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_a",), with_bad_files=False)
            path = results / "machine_a" / "crosslang.json"
            data = load(path)
            deno = next(r for r in data["runs"] if r["runtime"] == "deno")
            deno["output"] = "differs"
            for rep in deno["repetitions"]:
                rep["reference"] = "differs"
            deno.pop("train_seconds")
            path.write_text(json.dumps(data))
            process, report = run_report(results, Path(temp) / "out")
        self.assertEqual(process.returncode, 0, process.stderr)
        section = section_text(report, "## microgpt.ts's claim")
        self.assertEqual(report_row(section, "### machine_a", "`deno`")[2], "**output differs: not timed**")
        self.assertEqual(report_row(section, "### machine_a", "deno / node")[2], "–")
        self.assertIn("| machine_a | `deno` | microgpt.ts | **DIFFERS** (0 of 3 repetitions identical) |",
                      section_text(report, "## Exactness"))

    def test_rates_with_one_repetition_give_no_interval(self):
        with contextlib.redirect_stderr(io.StringIO()):
            loaded = loading.load_results(self.results)
        machine = loaded.machines["machine_a"]
        node = machine.crosslang.chain["node"]
        machine.crosslang.chain["node"] = type(node)(node.runtime, node.version, node.program, node.objects_per_alloc,
                                                     node.rates[:1], type(node.summary)(
                                                         node.rates[0], node.rates[0], node.rates[0], None, None,
                                                         None, 1))
        rate, speed = claim.pair_figures(machine, "bun", "node")
        self.assertFalse(rate.available)
        self.assertTrue(speed.available)
        self.assertEqual(claim.agreement(rate, speed), "not measurable (an interval contains 1)")
        self.assertAlmostEqual(rate.point, statistics.median(fixture_chain()["bun"]["repetitions"][i]["allocs_per_second"]
                                                              for i in range(5)) / node.rates[0])
        self.assertIsNotNone(figures.compute_all(loaded)["machine_a"].throughput)


if __name__ == "__main__":
    unittest.main()
