"""scripts/mga_report/exactness.py: output hashes against each other and the references."""

import contextlib
import io
import json
import tempfile
import unittest
from pathlib import Path

from helpers import FIXTURES, load, make_results_dir
from mga_report import exactness, loading


def fnv1a64_reference(data: bytes) -> int:
    """FNV-1a 64 as bench_train computes it, written independently of exactness.py."""
    value = 0xCBF29CE484222325
    for byte in data:
        value ^= byte
        value = (value * 0x100000001B3) % (1 << 64)
    return value


def machines_of(results: Path):
    with contextlib.redirect_stderr(io.StringIO()):
        return list(loading.load_results(results).machines.values())


class HashTest(unittest.TestCase):
    def test_fnv1a64(self):
        for data in (b"", b"a", b"step    1 / 1000 | loss 3.3660\n", bytes(range(256))):
            self.assertEqual(exactness.fnv1a64(data), fnv1a64_reference(data))
        self.assertEqual(exactness.EMPTY_HASH, str(fnv1a64_reference(b"")))

    def test_reference_names_give_their_config(self):
        with tempfile.TemporaryDirectory() as temp:
            directory = Path(temp)
            (directory / "microgpt_py_seed42_steps1000.txt").write_bytes(b"python output\n")
            (directory / "microgpt_ts_seed42_steps1000.txt").write_bytes(b"ts output\n")
            (directory / "microgpt_py_embd8_head2_layer2_block8_seed-5_steps25.txt").write_bytes(b"small\n")
            (directory / "notes.txt").write_bytes(b"ignored")
            references = exactness.load_references(directory)
        self.assertEqual(len(references), 3)
        expected = ("microgpt_py_seed42_steps1000.txt", "microgpt.py", str(fnv1a64_reference(b"python output\n")))
        self.assertEqual(references[("python", 42, 1000, (16, 4, 1, 16), 20)], expected)
        self.assertEqual(references[("mulberry32", 42, 1000, (16, 4, 1, 16), 20)][1], "microgpt.ts")
        self.assertIn(("python", -5, 25, (8, 2, 2, 8), 20), references)
        self.assertIsNone(exactness.load_references(Path(temp) / "absent"))

    def test_an_output_config_is_hashable_whatever_the_file_holds(self):
        config = {"rng": "python", "seed": [1, 2], "n_embd": {"x": 1}, "samples": 20, "num_docs": 32033}
        found = dict(exactness.output_config(config, 1000))
        self.assertEqual((found["seed"], found["shape"][0], found["steps"]), ("[1, 2]", "{'x': 1}", 1000))
        hash(exactness.output_config(config, 1000))


class GroupTest(unittest.TestCase):
    """machine_c (three orders, a sweep) and the tape fixture of the same config."""

    def setUp(self):
        self.temp = tempfile.TemporaryDirectory()
        self.addCleanup(self.temp.cleanup)
        self.results = make_results_dir(Path(self.temp.name), machines=("machine_c",), with_bad_files=False)

    def write_reference(self, output_hash_of_runs: bytes) -> tuple[Path, str]:
        """A reference file for machine_c's 20-step config (made with 0 samples: adjust the configs)."""
        directory = Path(self.temp.name) / "reference"
        directory.mkdir()
        (directory / "microgpt_py_seed42_steps20.txt").write_bytes(output_hash_of_runs)
        for path in (self.results / "machine_c").glob("*.json"):
            data = load(path)
            if data.get("tool") == "bench_train":
                data["config"]["samples"] = 20
                path.write_text(json.dumps(data))
        return directory, str(fnv1a64_reference(output_hash_of_runs))

    def set_hashes(self, value: str, name: str = "bench_train_creation.json", runs=None):
        path = self.results / "machine_c" / name
        data = load(path)
        for run in data["runs"] if runs is None else [data["runs"][i] for i in runs]:
            for repetition in run["repetitions"]:
                repetition["output_fnv1a64"] = value
        path.write_text(json.dumps(data))

    def check(self, references=None):
        machines = machines_of(self.results)
        return machines, exactness.check(machines, "refdir", references)

    def test_identical_outputs_are_one_output(self):
        machines, checked = self.check()
        group = next(g for g in checked.groups if dict(g.config)["steps"] == 20)
        self.assertEqual(len(group.outputs()), 1)
        self.assertEqual(len(group.runs), 7, "3 policies x dfs and creation, 1 hashset")
        text = "\n".join(exactness.section(checked, machines))
        self.assertNotIn("**", text)
        self.assertIn("No reference directory `refdir`", text)
        self.assertIn("topo creation (3), topo dfs (3), topo hashset (1)", text)
        self.assertEqual(len(checked.groups), 4, "the default-shape config and three sweep shapes")

    def test_one_differing_run_is_shown_loudly(self):
        order = [r["allocator"] for r in load(self.results / "machine_c" / "bench_train_creation.json")["runs"]]
        self.set_hashes("12345", runs=[1])
        machines, checked = self.check()
        text = "\n".join(exactness.section(checked, machines))
        self.assertIn("**2 different outputs**", text)
        self.assertIn("|  | `12345`: topo creation (1) |", text)
        run = machines[0].series["creation"][order[1]]
        self.assertEqual(checked.status(run), "**differs from other runs**")

    def test_empty_output_hash_is_named(self):
        self.set_hashes(exactness.EMPTY_HASH, runs=[0])
        machines, checked = self.check()
        order = [r["allocator"] for r in load(self.results / "machine_c" / "bench_train_creation.json")["runs"]]
        self.assertIn("hashed nothing", checked.status(machines[0].series["creation"][order[0]]))

    def test_runs_equal_to_the_reference_say_so(self):
        recorded = load(self.results / "machine_c" / "bench_train_dfs.json")["runs"][0]["repetitions"][0]
        directory, value = self.write_reference(b"the output\n")
        for name in ("bench_train_dfs.json", "bench_train_creation.json", "bench_train_hashset_arena.json"):
            self.set_hashes(value, name)
        machines, checked = self.check(exactness.load_references(directory))
        text = "\n".join(exactness.section(checked, machines))
        self.assertIn("identical to microgpt.py's bytes (microgpt_py_seed42_steps20.txt)", text)
        self.assertNotIn("**", text)
        run = next(iter(machines[0].series["dfs"].values()))
        self.assertEqual(checked.status(run), "identical to microgpt.py's bytes")
        self.assertNotEqual(recorded["output_fnv1a64"], value, "the fixture's own hash is not this reference's")

    def test_runs_unlike_the_reference_are_shown_loudly(self):
        directory, _ = self.write_reference(b"another output\n")
        machines, checked = self.check(exactness.load_references(directory))
        text = "\n".join(exactness.section(checked, machines))
        self.assertIn("**7 of 7 runs differ from microgpt.py's bytes**", text)

    def test_tape_engine_and_other_malloc_runs_are_in_the_group(self):
        tape = load(FIXTURES / "tape" / "bench_train_tape.json")
        tape["config"]["steps"] = 20
        tape["config"]["samples"] = 0
        for repetition in tape["runs"][0]["repetitions"]:
            repetition["steps"] = 20
        (self.results / "machine_c" / "tape.json").write_text(json.dumps(tape))
        variant = load(self.results / "machine_c" / "bench_train_dfs.json")
        for run in variant["runs"]:
            run["malloc"] = "glibc-nofastbins"
        (self.results / "machine_c" / "malloc.json").write_text(json.dumps(variant))
        machines, checked = self.check()
        group = next(g for g in checked.groups if dict(g.config)["steps"] == 20)
        self.assertEqual(len(group.runs), 7 + 1 + 3)
        self.assertIn("engine tape", exactness.what_ran(group.runs))
        self.assertIn("topo dfs · malloc glibc-nofastbins", exactness.what_ran(group.runs))


if __name__ == "__main__":
    unittest.main()
