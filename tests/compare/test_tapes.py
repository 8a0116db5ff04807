"""scripts/mga_report/tapes.py and peers.py: both tapes in the Modes table, the no-node
ceiling (graph share = 1 - tape-exact / no-alloc reference with --topo creation), and
tape_vs_peers.json of scripts/bench_tape_peers.sh as a table."""

import contextlib
import io
import json
import re
import tempfile
import unittest
from pathlib import Path

from helpers import (FIXTURES, fixture_cells, fixture_roles, fixture_runs, load, make_results_dir, report_row,
                     run_report, section_text)
from mga_report import figures, loading, peers
from mga_report.model import DEFAULT_MALLOC

MACHINE = "machine_m"
DIRECTORY = FIXTURES / MACHINE
PEERS = DIRECTORY / "tape_vs_peers.json"


def engine_run(name: str):
    (entry,) = fixture_runs(DIRECTORY / name).values()
    return entry


def per_step(entry) -> float:
    repetition, summary = entry
    return summary["median"] / repetition["steps"]


class CeilingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        root = Path(cls.temp.name)
        cls.results = make_results_dir(root, machines=(MACHINE,), with_bad_files=False)
        cls.process, cls.report = run_report(cls.results, root / "out")
        cls.modes = section_text(cls.report, "## Modes")
        cls.exact = engine_run("bench_train_tape_exact.json")
        cls.fast = engine_run("bench_train_tape.json")
        reference = fixture_roles(DIRECTORY / "bench_train_malloc_creation.json")["no_alloc_reference"]
        cls.reference = reference
        cls.graph = fixture_cells(DIRECTORY / "bench_train_malloc_creation.json")[(DEFAULT_MALLOC, reference)]

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def test_exits_zero_and_reads_the_peers_file(self):
        self.assertEqual(self.process.returncode, 0, self.process.stderr)
        self.assertNotIn("tape_vs_peers.json", self.process.stderr)

    def test_the_modes_table_lists_both_tapes_with_their_output(self):
        for engine, entry in (("tape", self.fast), ("tape-exact", self.exact)):
            with self.subTest(engine=engine):
                row = report_row(self.modes, f"### {MACHINE}", f"`--engine {engine}`")
                self.assertEqual(row[5], f"{1000 * per_step(entry):.3f}")
                self.assertEqual(row[8], "identical to the config's other runs (no reference)")

    def test_the_ceiling_sentence_quotes_the_exact_tape_and_the_graph_share(self):
        self.assertIn(f"Without nodes, the same arithmetic takes {self.exact[1]['median']:.3f} s for 1000 steps "
                      "(`--engine tape-exact`, median of 3).", self.modes)
        share = 1 - per_step(self.exact) / per_step(self.graph)
        found = re.search(r"is (\d+\.\d)% \(95% CI (\d+\.\d)–(\d+\.\d)%\) of its time", self.modes)
        self.assertIsNotNone(found, self.modes)
        self.assertAlmostEqual(float(found.group(1)), 100 * share, delta=0.051)
        self.assertLess(float(found.group(2)), float(found.group(1)))
        self.assertGreater(float(found.group(3)), float(found.group(1)))
        self.assertIn(f"`{self.reference}` with `--topo creation` takes", self.modes)
        self.assertIn("printed the same bytes (equal output hashes)", self.modes)
        self.assertIn("`--engine tape` is", self.modes)

    def test_a_differing_output_hash_is_said_loudly(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=(MACHINE,), with_bad_files=False)
            path = results / MACHINE / "bench_train_tape_exact.json"
            data = load(path)
            for repetition in data["runs"][0]["repetitions"]:
                repetition["output_fnv1a64"] = "42"
            path.write_text(json.dumps(data))
            process, report = run_report(results, Path(temp) / "out")
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("**Its output differs from the", section_text(report, "## Modes"))

    def test_share_is_one_minus_the_ratio_with_the_interval_flipped(self):
        with contextlib.redirect_stderr(io.StringIO()):
            loaded = loading.load_results(self.results)
        ceiling = figures.compute_all(loaded)[MACHINE].ceiling
        self.assertAlmostEqual(ceiling.graph_share.point, 1 - per_step(self.exact) / per_step(self.graph), places=12)
        self.assertLessEqual(ceiling.graph_share.low, ceiling.graph_share.point)
        self.assertGreaterEqual(ceiling.graph_share.high, ceiling.graph_share.point)

    def test_without_an_exact_tape_it_says_so(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=(MACHINE,), with_bad_files=False)
            (results / MACHINE / "bench_train_tape_exact.json").unlink()
            process, report = run_report(results, Path(temp) / "out")
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("No `--engine tape-exact` run, so what the same arithmetic costs without nodes is not measured",
                      section_text(report, "## Modes"))


class PeersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        root = Path(cls.temp.name)
        cls.results = make_results_dir(root, machines=(MACHINE,), with_bad_files=False)
        cls.process, cls.report = run_report(cls.results, root / "out")
        cls.section = section_text(cls.report, "## The tapes beside a peer program")
        cls.data = load(PEERS)

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def test_every_program_is_a_row_and_ours_have_a_pair_ratio_per_peer_build(self):
        programs = self.data["programs"]
        builds = [p for p in programs if p["program"] == "peer"]
        self.assertEqual(len(builds), 2)
        for program in programs:
            with self.subTest(program=program["name"]):
                row = report_row(self.section, f"### {MACHINE}", program["name"])
                self.assertEqual(row[5], str(len(program["train_seconds"]["values"])))
                for index, build in enumerate(builds):
                    cell = row[6 + index]
                    if program["program"] == "peer":
                        self.assertEqual(cell, "–")
                        continue
                    pairs = sorted(a / b for a, b in zip(program["train_seconds"]["values"],
                                                        build["train_seconds"]["values"]))
                    self.assertEqual(cell, f"{pairs[len(pairs) // 2]:.2f}× ({pairs[0]:.2f}–{pairs[-1]:.2f})")

    def test_the_files_own_ratios_and_the_peer_commit_are_listed(self):
        for label, ratio in self.data["ratios"].items():
            self.assertIn(f"{label}: {ratio['median']:.2f}× ({ratio['min']:.2f}–{ratio['max']:.2f})", self.section)
        self.assertIn(f"at commit `{self.data['peer']['commit']}`", self.section)

    def test_unequal_repetitions_give_no_pair_ratio(self):
        first, second = (peers.parse_program(p) for p in self.data["programs"][:2])
        self.assertIsNotNone(peers.pair_ratio(first, second))
        shorter = peers.PeerProgram(**{**second.__dict__, "values": second.values[:-1]})
        self.assertIsNone(peers.pair_ratio(first, shorter))

    def test_a_peers_file_of_another_schema_is_skipped_with_one_warning(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=(MACHINE,), with_bad_files=False)
            path = results / MACHINE / "tape_vs_peers.json"
            data = load(path)
            data["schema"] = 7
            path.write_text(json.dumps(data))
            process, report = run_report(results, Path(temp) / "out")
        self.assertEqual(process.returncode, 0, process.stderr)
        warnings = [line for line in process.stderr.splitlines() if "tape_vs_peers.json" in line]
        self.assertEqual(len(warnings), 1, process.stderr)
        self.assertIn("schema 7 is not read", warnings[0])
        self.assertNotIn("## The tapes beside a peer program", report)


if __name__ == "__main__":
    unittest.main()
