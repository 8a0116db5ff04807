"""scripts/mga_report/loading.py and model.py: reading results/ into machines and roles."""

import json
import shutil
import tempfile
import unittest
from pathlib import Path

import helpers
from helpers import FIXTURES, fixture_order, fixture_roles, load, load_quietly, make_results_dir
from mga_report import model

THREADS_FILE = FIXTURES / "threads" / "machine_a" / "bench_train_threads.json"


def quiet_load(results: Path):
    loaded, _, stderr = load_quietly(results)
    return loaded, stderr


def variant(results: Path, edit, name: str = "bench_train_variant.json", source: str = "bench_train_dfs.json"):
    """machine_c's dfs file, edited, written beside it."""
    data = load(results / "machine_c" / source)
    edit(data)
    (results / "machine_c" / name).write_text(json.dumps(data))
    return data


class MachinesTest(unittest.TestCase):
    def setUp(self):
        self.temp = tempfile.TemporaryDirectory()
        self.addCleanup(self.temp.cleanup)
        self.root = Path(self.temp.name)

    def test_files_below_a_machine_folder_belong_to_it(self):
        loaded, _ = quiet_load(make_results_dir(self.root, machines=("machine_a", "machine_c"), with_bad_files=False))
        self.assertEqual(sorted(loaded.machines), ["machine_a", "machine_c"])
        machine = loaded.machines["machine_c"]
        self.assertEqual({p.policy for p in machine.rate_points},
                         set(fixture_order(FIXTURES / "machine_c" / "bench_train_dfs.json")))
        self.assertEqual(sorted(machine.series), ["creation", "dfs", "hashset"])
        self.assertEqual(len(machine.size_runs), 3, "the sweep/ folder is the size axis")
        self.assertEqual(machine.headline_topo, "dfs")

    def test_a_machine_directory_given_as_results_is_that_machine(self):
        results = make_results_dir(self.root, machines=("machine_c",), with_bad_files=False)
        loaded, stderr = quiet_load(results / "machine_c")
        self.assertEqual(list(loaded.machines), ["machine_c"], stderr)
        self.assertEqual(len(loaded.machines["machine_c"].size_runs), 3)
        self.assertTrue(loaded.machines["machine_c"].rate_points)

    def test_a_file_outside_every_machine_directory_is_refused(self):
        results = make_results_dir(self.root, machines=("machine_c",), with_bad_files=False)
        shutil.copy(FIXTURES / "machine_a" / "crosslang.json", results / "crosslang.json")
        loaded, stderr = quiet_load(results)
        self.assertIn("crosslang.json: not inside a machine directory", stderr)
        self.assertIsNone(loaded.machines["machine_c"].crosslang)

    def test_a_machine_whose_every_file_is_refused_is_not_shown(self):
        results = make_results_dir(self.root, machines=("machine_b",), with_bad_files=False)
        (results / "empty").mkdir()
        (results / "empty" / "bench_train.json").write_text('{"tool": "bench_train", "schema": 1}')
        loaded, stderr = quiet_load(results)
        self.assertEqual(list(loaded.machines), ["machine_b"], stderr)

    def test_the_same_policy_twice_in_one_series_warns_and_keeps_the_newer(self):
        results = make_results_dir(self.root, machines=("machine_c",), with_bad_files=False)
        variant(results, lambda d: d["context"].update(date="2999-01-01T00:00:00Z"), "again.json")
        loaded, stderr = quiet_load(results)
        first = fixture_order(FIXTURES / "machine_c" / "bench_train_dfs.json")[0]
        self.assertIn(f"'{first}' (topo dfs) on machine_c appears in", stderr)
        self.assertTrue(loaded.machines["machine_c"].series["dfs"][first].source.endswith("again.json"))


class RolesTest(unittest.TestCase):
    def load(self, edit=None):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_b",), with_bad_files=False)
            path = results / "machine_b" / "bench_train.json"
            data = load(path)
            if edit:
                edit(data)
            path.write_text(json.dumps(data))
            loaded, stderr = quiet_load(results)
        return loaded, stderr, data

    def test_policies_keep_the_order_of_the_runs_in_the_file(self):
        loaded, _, data = self.load(lambda d: d["runs"].reverse())
        self.assertEqual(loaded.policy_order, [r["allocator"] for r in data["runs"]])
        self.assertEqual(list(loaded.machines["machine_b"].policies), loaded.policy_order)
        self.assertEqual(loaded.order({"zz-unknown"} | set(loaded.policy_order[:2])),
                         loaded.policy_order[:2] + ["zz-unknown"])

    def test_roles_and_traits_come_from_the_runs_records(self):
        loaded, _, data = self.load()
        expected = fixture_roles(FIXTURES / "machine_b" / "bench_train.json")
        roles = model.machine_roles(loaded.machines["machine_b"], loaded.order)
        self.assertEqual((roles.baseline, roles.reference), (expected["baseline"], expected["no_alloc_reference"]))
        self.assertEqual(roles.having("reference_counted"), expected["reference_counted"])
        self.assertEqual(roles.traits, {r["allocator"]: r["traits"] for r in data["runs"]})
        self.assertEqual(roles.problems, [])

    def test_a_new_trait_is_carried_without_a_code_change(self):
        def add(data):
            data["runs"][0]["traits"]["some_new_trait"] = True
        loaded, _, data = self.load(add)
        roles = model.machine_roles(loaded.machines["machine_b"], loaded.order)
        self.assertEqual(roles.having("some_new_trait"), [data["runs"][0]["allocator"]])

    def test_two_baselines_are_a_problem_not_a_guess(self):
        def both(data):
            for run in data["runs"]:
                run["traits"]["baseline"] = True
        loaded, _, data = self.load(both)
        roles = model.machine_roles(loaded.machines["machine_b"], loaded.order)
        self.assertIsNone(roles.baseline)
        self.assertIn(f"{len(data['runs'])} runs are marked baseline", roles.problems[0])

    def test_runs_without_usable_traits_are_refused_in_one_line_each(self):
        def strip(data):
            del data["runs"][0]["traits"]
            data["runs"][1]["traits"] = {"baseline": "yes"}
        loaded, stderr, data = self.load(strip)
        for run in data["runs"][:2]:
            self.assertIn(f"skipping run '{run['allocator']}' has no \"traits\" object", stderr)
        self.assertEqual(list(loaded.machines["machine_b"].policies), [r["allocator"] for r in data["runs"][2:]])


class AxesTest(unittest.TestCase):
    def setUp(self):
        self.temp = tempfile.TemporaryDirectory()
        self.addCleanup(self.temp.cleanup)
        self.results = make_results_dir(Path(self.temp.name), machines=("machine_c",), with_bad_files=False)

    def test_runs_under_another_process_allocator_form_the_matrix_not_the_series(self):
        def other_malloc(data):
            for index, run in enumerate(data["runs"]):
                run["malloc"] = ["preloaded-malloc", "glibc-nofastbins"][index % 2]
                run["train_seconds"]["median"] /= 100  # were they merged, the series would change
        variant(self.results, other_malloc)
        loaded, stderr = quiet_load(self.results)
        machine = loaded.machines["machine_c"]
        for policy, (_, summary) in helpers.fixture_runs(FIXTURES / "machine_c" / "bench_train_dfs.json").items():
            self.assertEqual(machine.series["dfs"][policy].median_s, summary["median"])
        self.assertEqual(sorted(machine.matrix["dfs"]), ["glibc", "glibc-nofastbins", "preloaded-malloc"])
        self.assertNotIn("appears in", stderr)

    def test_a_matrix_without_glibc_takes_the_glibc_files_runs_of_its_policies(self):
        def without_glibc(data):
            data["config"]["malloc"] = "preloaded-malloc"
            data["runs"] = [dict(run, malloc="preloaded-malloc") for run in data["runs"][:2]]
        matrix = variant(self.results, without_glibc)
        loaded, stderr = quiet_load(self.results)
        machine = loaded.machines["machine_c"]
        policies = [run["allocator"] for run in matrix["runs"]]
        self.assertEqual(sorted(machine.matrix["dfs"]), ["glibc", "preloaded-malloc"], stderr)
        self.assertEqual(sorted(machine.matrix["dfs"]["glibc"]), sorted(policies), "only the matrix's policies")
        for policy in policies:
            self.assertIs(machine.matrix["dfs"]["glibc"][policy], machine.series["dfs"][policy])
        self.assertNotIn("creation", machine.matrix, "no matrix of an order the matrix files lack")

    def test_a_tape_under_another_malloc_is_left_out_with_a_warning(self):
        variant(self.results, lambda d: (d["config"].update(engine="tape"), d.update(
            runs=[dict(d["runs"][0], allocator="tape", malloc="preloaded-malloc")])))
        loaded, stderr = quiet_load(self.results)
        self.assertIn("run 'tape' under malloc preloaded-malloc outside a --malloc=all file is not shown", stderr)
        self.assertEqual((loaded.machines["machine_c"].engines, loaded.machines["machine_c"].matrix), ({}, {}))

    def test_thread_runs_stay_out_of_the_series(self):
        shutil.copy(THREADS_FILE, self.results / "machine_c" / THREADS_FILE.name)
        loaded, _ = quiet_load(self.results)
        machine = loaded.machines["machine_c"]
        self.assertEqual(len(machine.thread_runs), len(load(THREADS_FILE)["runs"]))
        self.assertEqual({r.source for s in machine.series.values() for r in s.values()} & {
            str(self.results / "machine_c" / THREADS_FILE.name)}, set())

    def test_any_integer_seed_is_read(self):
        for seed in (-7, 2 ** 64 + 5, 10 ** 400):
            with self.subTest(seed=seed):
                path = self.results / "machine_c" / "bench_train_dfs.json"
                path.write_text(json.dumps(dict(load(FIXTURES / "machine_c" / "bench_train_dfs.json"),
                                                config=dict(load(path)["config"], seed=seed))))
                loaded, stderr = quiet_load(self.results)
                self.assertIn(seed, {dict(r.output_config)["seed"] for r in loaded.machines["machine_c"].all_runs})


class FileKindsTest(unittest.TestCase):
    def setUp(self):
        self.temp = tempfile.TemporaryDirectory()
        self.addCleanup(self.temp.cleanup)
        self.results = make_results_dir(Path(self.temp.name), machines=("machine_b",), with_bad_files=False)

    def test_a_number_too_long_to_read_skips_the_file_in_one_line(self):
        path = self.results / "machine_b" / "bench_train.json"
        path.write_text(path.read_text().replace('"seed": 42', '"seed": ' + "9" * 5000))
        loaded, stderr = quiet_load(self.results)
        self.assertEqual(loaded.machines, {})
        self.assertEqual(len(stderr.splitlines()), 1, stderr)
        self.assertIn("bench_train.json: unreadable JSON", stderr)

    def test_old_and_unknown_schemas_are_refused(self):
        data = load(FIXTURES / "machine_a" / "crosslang.json")
        (self.results / "machine_b" / "crosslang.json").write_text(json.dumps(dict(data, schema=1)))
        shutil.copy(FIXTURES / "bad" / "crosslang_schema1.json", self.results / "machine_b" / "old.json")
        loaded, stderr = quiet_load(self.results)
        self.assertIn("crosslang.json: crosslang schema 1 is not read (this compare.py reads schema 2)", stderr)
        self.assertIn("old.json: no usable run", stderr)
        self.assertIsNone(loaded.machines["machine_b"].crosslang)
        self.assertEqual(list(loaded.machines["machine_b"].policies),
                         fixture_order(FIXTURES / "machine_b" / "bench_train.json"))

    def test_crosslang_is_read_per_machine(self):
        shutil.copy(FIXTURES / "machine_a" / "crosslang.json", self.results / "machine_b" / "crosslang.json")
        loaded, stderr = quiet_load(self.results)
        data = load(FIXTURES / "machine_a" / "crosslang.json")
        crosslang = loaded.machines["machine_b"].crosslang
        self.assertEqual(list(crosslang.runs), [r["runtime"] for r in data["runs"]], stderr)
        self.assertEqual(list(crosslang.chain), [c["runtime"] for c in data["chain"]])
        first = data["runs"][1]
        self.assertEqual(crosslang.runs[first["runtime"]].seconds,
                         tuple(r["train_seconds"] for r in first["repetitions"] if r["reference"] == "identical"))

    def test_benchmark_names_are_family_slash_policy(self):
        shutil.copytree(FIXTURES / "machine_a" / "gbench", self.results / "machine_b" / "gbench")
        loaded, stderr = quiet_load(self.results)
        points = loaded.machines["machine_b"].rate_points
        known = set(fixture_order(FIXTURES / "machine_b" / "bench_train.json"))
        self.assertEqual({p.policy for p in points}, {p for p in known if f"chain/{p}/" in json.dumps(
            load(FIXTURES / "machine_a" / "gbench" / "bench_alloc.json"))})
        self.assertIn("no policy of the bench_train files in", stderr)


if __name__ == "__main__":
    unittest.main()
