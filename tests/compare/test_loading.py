"""scripts/mga_report/{loading,training,model}.py: reading results/ into machines and roles."""

import contextlib
import io
import json
import shutil
import tempfile
import unittest
from pathlib import Path

import helpers
from helpers import FIXTURES, fixture_order, fixture_roles, load, make_results_dir
from mga_report import loading, model, training


def quiet_load(results: Path):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        loaded = loading.load_results(results)
    return loaded, stderr.getvalue()


class MachineAssignmentTest(unittest.TestCase):
    def test_first_folder_names_the_machine_unless_it_groups_by_kind(self):
        results = Path("/r")
        cases = {
            "m1/bench_train.json": "m1", "m1/gbench/bench_alloc.json": "m1", "m1/sweep/embd16_layer1.json": "m1",
            "m1/a/b/c.json": "m1", "bench_train.json": None, "gbench/bench_alloc.json": None,
            "sweep/embd16_layer1.json": None, "callgrind/callgrind_x.txt": None, "crosslang/x.json": None,
        }
        for relative, machine in cases.items():
            with self.subTest(path=relative):
                self.assertEqual(loading.directory_machine(results / relative, results), machine)

    def test_other_shapes_and_sweep_folders_form_the_size_axis(self):
        results = Path("/r")
        default = {"n_embd": 16, "n_head": 4, "n_layer": 1, "block_size": 16, "topo": "creation"}
        size_axis = loading.is_size_axis_file
        self.assertFalse(size_axis(results / "m1" / "bench_train.json", results, default))
        self.assertFalse(size_axis(results / "m1" / "bench_train.json", results, {}))  # defaults assumed
        self.assertTrue(size_axis(results / "m1" / "bench_train.json", results, dict(default, n_layer=2)))
        self.assertTrue(size_axis(results / "m1" / "sweep" / "embd16_layer1.json", results, default))
        self.assertTrue(size_axis(results / "sweep" / "embd16_layer1.json", results, default))

    def test_top_level_sweep_folder_is_a_size_axis_not_a_machine(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_b",), with_bad_files=False)
            shutil.copytree(FIXTURES / "machine_c" / "sweep", results / "sweep")
            loaded, stderr = quiet_load(results)
        self.assertEqual(list(loaded.machines), ["machine_b"], stderr)
        self.assertEqual(len(loaded.machines["machine_b"].size_runs), 3)
        self.assertEqual(list(loaded.machines["machine_b"].policies), fixture_order(FIXTURES / "machine_b" / "bench_train.json"))

    def test_same_policy_twice_in_one_series_still_warns(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_c",), with_bad_files=False)
            shutil.copy(results / "machine_c" / "bench_train_dfs.json", results / "machine_c" / "again.json")
            _, stderr = quiet_load(results)
        first = fixture_order(FIXTURES / "machine_c" / "bench_train_dfs.json")[0]
        self.assertIn(f"'{first}' (topo dfs) on machine_c appears in", stderr)


class OrderAndRolesTest(unittest.TestCase):
    def test_policies_keep_the_order_of_the_runs_in_the_file(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_a",), with_bad_files=False)
            data = load(results / "machine_a" / "bench_train.json")
            data["runs"].reverse()  # any order the file gives is the order shown
            (results / "machine_a" / "bench_train.json").write_text(json.dumps(data))
            loaded, _ = quiet_load(results)
        self.assertEqual(loaded.policy_order, [r["allocator"] for r in data["runs"]])
        self.assertEqual(list(loaded.machines["machine_a"].policies), loaded.policy_order)
        self.assertEqual(loaded.order({"zz-unknown"} | set(loaded.policy_order[:2])),
                         loaded.policy_order[:2] + ["zz-unknown"])

    def test_roles_come_from_traits(self):
        with tempfile.TemporaryDirectory() as temp:
            loaded, _ = quiet_load(make_results_dir(Path(temp), machines=("flip",), with_bad_files=False))
        expected = fixture_roles(FIXTURES / "flip" / "bench_train.json")
        roles = model.machine_roles(loaded.machines["flip"], loaded.order)
        self.assertTrue(roles.known)
        self.assertEqual(roles.baseline, expected["baseline"])
        self.assertEqual(roles.no_alloc_reference, expected["no_alloc_reference"])
        self.assertEqual(list(roles.reference_counted), expected["reference_counted"])
        self.assertEqual(roles.problems, ())

    def test_results_without_traits_know_no_role(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_c",), with_bad_files=False)
            helpers.strip_traits(results)
            loaded, _ = quiet_load(results)
        roles = model.machine_roles(loaded.machines["machine_c"], loaded.order)
        self.assertEqual(roles, model.Roles())
        self.assertFalse(roles.known)

    def test_two_baselines_are_a_problem_not_a_guess(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_b",), with_bad_files=False)
            path = results / "machine_b" / "bench_train.json"
            data = load(path)
            for run in data["runs"]:
                run["traits"]["baseline"] = True
            path.write_text(json.dumps(data))
            loaded, _ = quiet_load(results)
        roles = model.machine_roles(loaded.machines["machine_b"], loaded.order)
        self.assertIsNone(roles.baseline)
        self.assertIn(f"{len(data['runs'])} runs are marked baseline", roles.problems[0])

    def test_bad_traits_are_warned_about_and_give_no_role(self):
        where = "f.json: run 'x'"
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            self.assertIsNone(training.parse_traits([True], where))
            self.assertIsNone(training.parse_traits({"baseline": "yes"}, where))
        self.assertEqual(stderr.getvalue().count("compare.py: warning: f.json: run 'x'"), 2)
        self.assertEqual(training.parse_traits({"control": True}, where), model.Traits(control=True))
        self.assertIsNone(training.parse_traits(None, where))


class MallocAndSeedTest(unittest.TestCase):
    def write_variant(self, results: Path, edit) -> None:
        source = results / "machine_c" / "bench_train_dfs.json"
        data = load(source)
        edit(data)
        (results / "machine_c" / "bench_train_variant.json").write_text(json.dumps(data))

    def test_runs_under_another_process_allocator_go_to_the_matrix_not_the_series(self):
        def other_malloc(data):
            for index, run in enumerate(data["runs"]):
                run["malloc"] = ["preloaded-malloc", "glibc-nofastbins"][index % 2]
                run["train_seconds"]["median"] /= 100  # were they merged, the series would change
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_c",), with_bad_files=False)
            self.write_variant(results, other_malloc)
            loaded, stderr = quiet_load(results)
        machine = loaded.machines["machine_c"]
        dfs = helpers.fixture_runs(FIXTURES / "machine_c" / "bench_train_dfs.json")
        self.assertNotIn("appears in", stderr)
        for policy, (_, summary) in dfs.items():
            self.assertEqual(machine.series["dfs"][policy].median_s, summary["median"])
        self.assertEqual(sorted(machine.matrix["dfs"]), ["glibc-nofastbins", "preloaded-malloc"])
        self.assertEqual(sum(len(cells) for cells in machine.matrix["dfs"].values()), len(dfs))
        self.assertEqual(machine.other_malloc, [])

    def test_a_config_level_malloc_counts_for_every_run(self):
        def config_malloc(data):
            data["config"]["malloc"] = "glibc-nofastbins"
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_c",), with_bad_files=False)
            self.write_variant(results, config_malloc)
            loaded, _ = quiet_load(results)
        self.assertEqual(list(loaded.machines["machine_c"].matrix["dfs"]), ["glibc-nofastbins"])

    def test_a_tape_under_another_malloc_is_kept_aside(self):
        def tape_malloc(data):
            data["config"]["engine"] = "tape"
            data["runs"] = [dict(data["runs"][0], allocator="tape", malloc="preloaded-malloc")]
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_c",), with_bad_files=False)
            self.write_variant(results, tape_malloc)
            loaded, _ = quiet_load(results)
        machine = loaded.machines["machine_c"]
        self.assertEqual([r.malloc for r in machine.other_malloc], ["preloaded-malloc"])
        self.assertNotIn("tape", machine.engines)
        self.assertEqual(machine.matrix, {})

    def test_any_integer_seed_is_read(self):
        for seed in (-7, 2 ** 64 + 5, 10 ** 400):
            with self.subTest(seed=seed), tempfile.TemporaryDirectory() as temp:
                results = make_results_dir(Path(temp), machines=("machine_c",), with_bad_files=False)
                path = results / "machine_c" / "bench_train_dfs.json"
                path.write_text(path.read_text().replace('"seed": 42', f'"seed": {seed}'))
                loaded, stderr = quiet_load(results)
                machine = loaded.machines["machine_c"]
                self.assertIn("dfs", machine.series, stderr)
                configs = {dict(r.output_config)["seed"] for r in machine.all_runs}
                self.assertIn(seed, configs)


class FileKindsTest(unittest.TestCase):
    def test_a_number_too_long_to_read_skips_the_file_in_one_line(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_b",), with_bad_files=False)
            path = results / "machine_b" / "bench_train.json"
            path.write_text(path.read_text().replace('"seed": 42', '"seed": ' + "9" * 5000))
            loaded, stderr = quiet_load(results)
        self.assertEqual(loaded.machines, {})
        self.assertEqual(len(stderr.splitlines()), 1, stderr)
        self.assertIn("bench_train.json: unreadable JSON", stderr)

    def test_schema_1_crosslang_file_is_skipped_with_one_line(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_b",), with_bad_files=False)
            shutil.copy(FIXTURES / "bad" / "crosslang_schema1.json", results / "machine_b" / "crosslang.json")
            loaded, stderr = quiet_load(results)
        lines = [line for line in stderr.splitlines() if "crosslang.json" in line]
        self.assertEqual(len(lines), 1, stderr)
        self.assertIn("schema-1 cross-language file of scripts/crosslang.sh, no longer read", lines[0])
        machine = loaded.machines["machine_b"]
        self.assertIsNone(machine.crosslang)
        self.assertEqual(list(machine.policies), fixture_order(FIXTURES / "machine_b" / "bench_train.json"))

    def test_crosslang_schema_2_is_read_per_machine(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_a",), with_bad_files=False)
            loaded, stderr = quiet_load(results)
        data = load(FIXTURES / "machine_a" / "crosslang.json")
        crosslang = loaded.machines["machine_a"].crosslang
        self.assertEqual(list(crosslang.runs), [r["runtime"] for r in data["runs"]], stderr)
        self.assertEqual(list(crosslang.chain), [c["runtime"] for c in data["chain"]])
        first = data["runs"][1]
        self.assertEqual(crosslang.runs[first["runtime"]].seconds,
                         tuple(r["train_seconds"] for r in first["repetitions"]))
        self.assertNotIn(first["runtime"], loaded.machines["machine_a"].policies)

    def test_files_below_a_machine_folder_belong_to_it(self):
        with tempfile.TemporaryDirectory() as temp:
            results = make_results_dir(Path(temp), machines=("machine_a", "machine_c"), with_bad_files=False)
            loaded, _ = quiet_load(results)
        self.assertEqual(sorted(loaded.machines), ["machine_a", "machine_c"])
        machine = loaded.machines["machine_c"]
        self.assertEqual({p.policy for p in machine.rate_points},
                         set(fixture_order(FIXTURES / "machine_c" / "bench_train_dfs.json")))
        self.assertEqual(sorted(machine.series), ["creation", "dfs", "hashset"])
        self.assertEqual(len(machine.size_runs), 3)
        self.assertEqual(machine.headline_topo, "dfs")
        self.assertEqual(loaded.machines["machine_a"].size_runs, {})


if __name__ == "__main__":
    unittest.main()
