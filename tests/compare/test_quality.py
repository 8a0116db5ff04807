"""Issue 23, the report side: repetitions with noise flags marked in the tables and listed under
Measurement quality (never left out of the statistics), the outcome of --repeat auto beside its
table, and any process allocator (built-in or user-named) in the matrix, its chart, the drop-in
bullet and the machines' libraries. fixtures/machine_n holds issue 23's fields; machine_m predates them."""

import json
import re
import tempfile
import unittest
from pathlib import Path

from helpers import (FIXTURES, SCRIPTS, code, fixture_cells, fixture_mallocs, fixture_roles, load, load_quietly,
                     make_results_dir, ms_per_step, report_of, report_row, run_report, section_text)
from mga_report import answer, charts, readme

DFS = FIXTURES / "machine_n" / "bench_train_dfs.json"
MATRIX = FIXTURES / "machine_n" / "bench_train_malloc_dfs.json"
TRAINING = "## How long does training take with each policy?"
DROP_IN = "## What does a drop-in process allocator buy?"


def flagged(path) -> dict:
    """(malloc, policy) -> [(round, flags)] of the repetitions with noise flags."""
    found = {}
    for run in load(path)["runs"]:
        for index, rep in enumerate(run["repetitions"], start=1):
            if rep["noise"]["flags"]:
                found.setdefault((run["malloc"], run["allocator"]), []).append((index, rep["noise"]["flags"]))
    return found


class IssueFieldsReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory()
        root = Path(cls.temp.name)
        cls.results = make_results_dir(root, machines=("machine_n",), with_bad_files=False)
        cls.out = root / "out"
        cls.process, cls.report = run_report(cls.results, cls.out)
        cls.loaded, cls.figures, _ = load_quietly(cls.results)

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def test_cells_with_flagged_repetitions_are_marked_and_stay_in_the_statistics(self):
        self.assertEqual(self.process.returncode, 0, self.process.stderr)
        section = section_text(self.report, TRAINING)
        data = {run["allocator"]: run for run in load(DFS)["runs"]}
        marks = flagged(DFS)
        self.assertTrue(marks, "the fixture has flagged repetitions")
        for policy, run in data.items():
            with self.subTest(policy=policy):
                row = report_row(section, "| policy", code(policy))
                self.assertEqual(row[2].split()[0], f"{run['train_seconds']['median']:.3f}", "the recorded median")
                count = len(marks.get(("glibc", policy), []))
                self.assertEqual(row[2].endswith(f"⚠{count}/{len(run['repetitions'])}"), count > 0, row)
        fig = self.figures["machine_n"]
        for (_, policy), found in marks.items():
            self.assertEqual(len(fig.machine.series["dfs"][policy].reps), len(data[policy]["repetitions"]))
        for sentence in {s for found in marks.values() for _, flags in found for s in flags}:
            self.assertIn(f"“{sentence}”", section)

    def test_the_readme_table_marks_them_too(self):
        block = "\n".join(readme.table_block(self.figures["machine_n"]))
        for (_, policy), found in flagged(DFS).items():
            runs = {run["allocator"]: run for run in load(DFS)["runs"]}
            self.assertIn(f"| {code(policy)} | {runs[policy]['train_seconds']['median']:.3f} "
                          f"⚠{len(found)}/{len(runs[policy]['repetitions'])} |", block)
        self.assertIn(load(DFS)["config"]["repeat_outcome_text"], block.splitlines()[-1])

    def test_measurement_quality_lists_every_flagged_repetition_and_the_machine_state(self):
        section = section_text(self.report, "## Measurement quality")
        context = load(DFS)["context"]
        for key, label in (("aslr", "ASLR"), ("cpu_governor", "CPU governor"), ("cpu_boost", "CPU boost"),
                           ("load_average_start", "load average at the start")):
            row = next(line for line in section.splitlines() if line.startswith(f"| {label}"))
            self.assertTrue(row.endswith(f"| {context[key]} |"), row)
        for path in (DFS, MATRIX):
            repetitions = {(r["malloc"], r["allocator"]): len(r["repetitions"]) for r in load(path)["runs"]}
            for (malloc, policy), found in flagged(path).items():
                for index, flags in found:
                    self.assertIn(f"| {code(policy)} | {malloc}, topo dfs | {path.name} | "
                                  f"{index} of {repetitions[(malloc, policy)]} | {'; '.join(flags)} |", section)
        total = sum(len(r["repetitions"]) for path in (DFS, MATRIX) for r in load(path)["runs"])
        count = sum(len(found) for path in (DFS, MATRIX) for found in flagged(path).values())
        self.assertIn(f"| repetitions with noise flags | {count} of {total} repetitions in 2 file(s) |", section)

    def test_the_repeat_auto_outcome_stands_under_its_table_only(self):
        outcome = load(DFS)["config"]["repeat_outcome_text"]
        self.assertIn(f"`--repeat auto` ({DFS.name}): {outcome}.", section_text(self.report, TRAINING))
        self.assertEqual(load(MATRIX)["config"]["repeat_mode"], "fixed")
        self.assertNotIn("--repeat auto", section_text(self.report, DROP_IN))

    def test_every_process_allocator_is_in_the_matrix_glibc_first_then_as_they_appear(self):
        mallocs = fixture_mallocs(MATRIX)
        self.assertNotEqual(mallocs[1:], sorted(mallocs[1:]), "the fixture's order is not alphabetical")
        users = {r["malloc"] for r in load(MATRIX)["runs"] if r["malloc_source"] == "user"}
        self.assertTrue(users)
        header = " | ".join(code(m) + " (user)" * (m in users) for m in mallocs)
        section = section_text(self.report, DROP_IN)
        self.assertIn(f"| policy | role | {header} |", section)
        cells, base = fixture_cells(MATRIX), fixture_roles(DFS)["baseline"]
        row = report_row(section, "| policy", code(base))
        for column, malloc in enumerate(mallocs, start=2):
            expected = ms_per_step(cells[("glibc", base)]) / ms_per_step(cells[(malloc, base)])
            self.assertTrue(row[column].startswith(f"{expected:.2f}×"), row)
        best = max(mallocs[1:], key=lambda m: ms_per_step(cells[("glibc", base)]) / ms_per_step(cells[(m, base)]))
        bullet, details = answer.drop_in_bullet(self.figures["machine_n"])
        self.assertTrue(bullet.startswith(code(best) + " (user)" * (best in users) + ", the best drop-in"), bullet)
        for malloc in mallocs[1:]:
            self.assertIn(code(malloc), details if malloc != best else bullet)
        plt = charts.import_pyplot()
        figure = charts.malloc_matrix(plt, self.figures["machine_n"])
        labels = [t.get_text() for legend in figure.legends for t in legend.get_texts()]
        plt.close(figure)
        self.assertEqual(labels, [m + " (user)" * (m in users) for m in mallocs])

    def test_the_machines_section_lists_each_library_with_its_sha256(self):
        section = section_text(self.report, "## Machines and builds")
        runs = load(MATRIX)["runs"]
        for run in runs:
            if run["malloc_sha256"]:
                source = "user" if run["malloc_source"] == "user" else "built-in name"
                self.assertRegex(section, re.escape(f"| {code(run['malloc'])} | {source}") + ".*" + re.escape(
                    f"| {code(run['malloc_library'])} | {code(run['malloc_sha256'])} |"))
        self.assertNotIn("malloc " + runs[-1]["malloc"] + " sha256", section, "not again among the fields")


class NotRecordedTest(unittest.TestCase):
    def test_files_before_issue_23_say_not_recorded(self):
        process, report = report_of("machine_m")
        self.assertEqual(process.returncode, 0, process.stderr)
        files = len(list((FIXTURES / "machine_m").glob("bench_train*.json")))
        self.assertIn(f"machine's state (ASLR, CPU governor and boost, load average): not recorded (the {files} "
                      "bench_train files predate them)", section_text(report, "## Measurement quality"))
        self.assertNotIn("⚠", report.split("## Measurement quality")[0])
        self.assertNotIn("--repeat auto", report)


class NoNamesTest(unittest.TestCase):
    def test_the_report_spells_no_process_allocator_but_the_default(self):
        # Every process allocator of the fixture matrices but the default, read from them.
        matrices = (MATRIX, FIXTURES / "machine_m" / "bench_train_malloc_dfs.json")
        names = {run["malloc"] for f in matrices for run in json.loads(f.read_text())["runs"]} - {"glibc"}
        self.assertGreaterEqual(len(names), 5, names)
        for path in sorted((SCRIPTS / "mga_report").glob("*.py")):
            text = path.read_text(encoding="utf-8")
            for name in names:
                self.assertIsNone(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), f"{path.name}: {name}")


if __name__ == "__main__":
    unittest.main()
