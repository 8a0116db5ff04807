"""Shared by the tests of scripts/compare.py and its package, scripts/mga_report/.

Policy names are never spelled here or in the tests: they come from the fixtures,
by the roles their traits give them (fixture_roles), so the tests hold for any names.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCRIPTS = REPO / "scripts"
COMPARE = SCRIPTS / "compare.py"
FIXTURES = HERE / "fixtures"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

sys.dont_write_bytecode = True  # no __pycache__ inside scripts/
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))


def run_compare(*args, python: str | None = None, env: dict | None = None, python_args=()):
    return subprocess.run([python or sys.executable, *python_args, str(COMPARE), *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env)


def run_report(results, out, *extra):
    """compare.py on `results` into `out`: the process and REPORT.md's text ("" if none)."""
    process = run_compare("--results", results, "--out", out, *extra)
    report_path = Path(out) / "REPORT.md"
    return process, report_path.read_text(encoding="utf-8") if report_path.exists() else ""


def make_results_dir(root: Path, machines=("machine_a", "machine_b"), with_bad_files=True) -> Path:
    results = root / "results"
    results.mkdir()
    for machine in machines:
        shutil.copytree(FIXTURES / machine, results / Path(machine).name)
    if with_bad_files:
        (results / "empty.json").write_bytes(b"")
        for bad in (FIXTURES / "bad").iterdir():
            shutil.copy(bad, results / bad.name)
    return results


def leftovers(directory: Path) -> list[str]:
    """Temporary files a write left behind (compare.py's start with '.')."""
    return sorted(str(p) for p in directory.rglob(".*")) if directory.exists() else []


def load(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def median_repetition(run: dict) -> dict:
    ordered = sorted(run["repetitions"], key=lambda r: r["train_seconds"])
    return ordered[(len(ordered) - 1) // 2]


def fixture_runs(path) -> dict:
    """policy -> (median repetition, train_seconds summary) of a bench_train fixture."""
    return {run["allocator"]: (median_repetition(run), run["train_seconds"]) for run in load(path)["runs"]}


def fixture_cells(path) -> dict:
    """(malloc, policy) -> (median repetition, train_seconds summary) of a bench_train matrix fixture."""
    return {(run["malloc"], run["allocator"]): (median_repetition(run), run["train_seconds"])
            for run in load(path)["runs"]}


def fixture_mallocs(path) -> list[str]:
    """The process allocators of a matrix fixture, in the order its runs list them."""
    return list(dict.fromkeys(run["malloc"] for run in load(path)["runs"]))


def fixture_order(path) -> list[str]:
    return [run["allocator"] for run in load(path)["runs"]]


def fixture_roles(path) -> dict:
    """role -> policy name (the single one for baseline / no_alloc_reference, else a list)."""
    runs = load(path)["runs"]
    names = {role: list(dict.fromkeys(r["allocator"] for r in runs if r.get("traits", {}).get(role)))
             for role in ("baseline", "no_alloc_reference", "reference_counted", "control", "frees_per_node",
                          "standard_library", "hand_written")}
    for single in ("baseline", "no_alloc_reference"):
        names[single] = names[single][0] if names[single] else None
    return names


def ms_per_step(entry) -> float:
    repetition, summary = entry
    return 1000 * summary["median"] / repetition["steps"]


def report_row(report: str, section: str, first_cell: str) -> list[str]:
    """Cells of the first table row starting with first_cell after the heading `section`."""
    text = report[report.index(section):]
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} after {section!r}")


def section_text(report: str, heading: str) -> str:
    """The text of one '## ' section, without the next one."""
    return report.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def strip_traits(directory: Path) -> None:
    """Makes every bench_train file below directory one from before traits existed."""
    for path in directory.rglob("*.json"):
        data = load(path)
        if isinstance(data, dict) and data.get("tool") == "bench_train":
            for run in data.get("runs", []):
                run.pop("traits", None)
            path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def code(name: str) -> str:
    return f"`{name}`"


def complete_readme(text: str, machine: str) -> str:
    """text with a stale block of each kind --check-readme requires that it lacks."""
    from mga_report import readme

    return text + "".join(f"\n<!-- generated by scripts/compare.py: {block} {machine} -->\nstale\n<!-- end -->\n"
                          for block in readme.BLOCKS if f"compare.py: {block} " not in text)
