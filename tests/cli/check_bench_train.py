#!/usr/bin/env python3
"""Runs the real bench_train and checks what a user sees: the microgpt output
and summary of a single run, the --allocator=all table, the --json file and
the tape engine.

Usage: check_bench_train.py BENCH_TRAIN DATASET [REFERENCE_DIR]
"""
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PHASES = ["forward", "backward", "adam", "release"]
TRAITS = ["baseline", "no_alloc_reference", "frees_per_node", "reference_counted", "thread_safe",
          "cross_thread_release", "control", "scattered", "compact", "standard_library", "hand_written"]


def run(*args: str) -> str:
    result = subprocess.run([BENCH_TRAIN, *args], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        sys.exit(f"FAIL: bench_train {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result.stdout


def check(condition: bool, message: str) -> None:
    if not condition:
        sys.exit(f"FAIL: {message}")


def listed() -> dict:
    """bench_train's own list of policies (with their traits) and process allocators."""
    listing = json.loads(run("--list-allocators", "--format=json"))
    names = [p["name"] for p in listing["policies"]]
    text = [line.split()[0] for line in run("--list-allocators").splitlines()]
    check(names and text == names, "--list-allocators and --format=json list the same policies")
    for policy in listing["policies"]:
        check(list(policy["traits"]) == TRAITS, f"{policy['name']}: traits {list(policy['traits'])}")
        reason = policy["single_thread_release_reason"]
        check((reason is None) == policy["traits"]["cross_thread_release"] and reason != "",
              f"{policy['name']}: a reason exactly when it cannot release on another thread")
    for trait in ["baseline", "no_alloc_reference"]:
        check(sum(p["traits"][trait] for p in listing["policies"]) == 1, f"exactly one {trait}")
    return listing


def policy_with(trait: str) -> str:
    return next(p["name"] for p in LISTING["policies"] if p["traits"][trait])


def check_single_run() -> None:
    # A policy that is neither of the two special ones: any policy must do.
    ordinary = next(p["name"] for p in LISTING["policies"]
                    if not p["traits"]["baseline"] and not p["traits"]["no_alloc_reference"])
    out = run(f"--allocator={ordinary}", "--steps", "3", "--samples", "2", "--data", DATA)
    lines = out.splitlines()
    check(lines[0].startswith("num docs: ") and lines[2].startswith("num params: "), "microgpt header")
    check([l[:13] for l in lines[3:6]] == ["step    1 /  ", "step    2 /  ", "step    3 /  "], "step lines")
    check(lines[7] == "--- inference (new, hallucinated names) ---", "inference header")
    check(lines[8].startswith("sample  1: ") and lines[9].startswith("sample  2: "), "samples")
    summary = out[out.index("--- summary ---"):]
    for label in [f"allocator     {ordinary}", "wall time", "per step", "ns/node", "allocations",
                  "malloc        ", "peak RSS"]:
        check(label in summary, f"summary line '{label}'")
    malloc = summary.split("malloc        ")[1].split()[0]
    check(fnmatch.fnmatchcase(malloc, MALLOC), f"summary: malloc {malloc}, expected {MALLOC}")
    check(all(f"{phase} " in summary for phase in PHASES), "summary phases")


def check_tape_engine(directory: Path) -> None:
    graph = run(f"--allocator={policy_with('no_alloc_reference')}", "--steps", "5", "--samples", "2",
                "--data", DATA)
    for engine in ["tape", "tape-exact"]:
        tape = run(f"--engine={engine}", "--steps", "5", "--samples", "2", "--data", DATA)
        check(tape[:tape.index("--- summary ---")] == graph[:graph.index("--- summary ---")],
              f"the {engine} engine prints what the node graph prints")
        summary = tape[tape.index("--- summary ---"):]
        for label in [f"engine        {engine} (", "tape ops", "ns/op", "allocations   not counted"]:
            check(label in summary, f"{engine} summary line '{label}'")
    json_path = directory / "tape.json"
    run("--engine=tape", "--repeat", "2", "--steps", "3", "--samples", "0", "--quiet",
        "--data", DATA, "--json", str(json_path))
    report = json.loads(json_path.read_text())
    check(report["config"]["engine"] == "tape", "config.engine")
    check([r["allocator"] for r in report["runs"]] == ["tape"], "one tape run entry")
    for option, reason in [(f"--allocator={POLICIES[0]}", "no allocation policy"),
                           ("--topo=creation", "no graph to sort")]:
        refused = subprocess.run([BENCH_TRAIN, "--engine=tape", option],
                                 capture_output=True, text=True, timeout=60)
        check(refused.returncode == 2 and refused.stderr.count("\n") == 1
              and reason in refused.stderr,
              f"--engine=tape with {option} is refused in one line: {refused.stderr!r}")


def fnv1a64(data: bytes) -> str:
    value = 14695981039346656037
    for byte in data:
        value = ((value ^ byte) * 1099511628211) % 2**64
    return str(value)


def recorded_hashes(json_path: Path) -> dict[str, set[str]]:
    report = json.loads(json_path.read_text())
    return {r["allocator"]: {rep["output_fnv1a64"] for rep in r["repetitions"]} for r in report["runs"]}


def check_output_hashes(directory: Path, reference_dir: Path) -> None:
    """Every engine, backward order and policy records the hash of what it printed,
    and for a configuration microgpt.py was run with, that is the hash of its bytes."""
    empty = fnv1a64(b"")
    cases = [  # (reference file, bench_train arguments); both print microgpt.py's bytes
        ("microgpt_py_embd8_head2_layer2_block8_seed5_steps25.txt",
         ["--n-embd", "8", "--n-head", "2", "--n-layer", "2", "--block-size", "8", "--seed", "5",
          "--steps", "25"]),
        ("microgpt_py_seed42_steps1000.txt", ["--steps", "1000"]),
    ]
    for reference_name, config in cases:
        reference = reference_dir / reference_name
        if not reference.exists() or Path(DATA).name != "names.txt":
            print(f"skipped: output hashes against {reference} (reference or full dataset absent)")
            continue
        expected = fnv1a64(reference.read_bytes())
        runs = ([["--allocator=all", "--topo", topo] for topo in ["dfs", "creation"]]
                if "25" in config else [[f"--allocator={policy_with('no_alloc_reference')}",
                                         "--topo=creation", "--repeat", "2"]])
        runs += [["--engine=tape", "--repeat", "2"], ["--engine=tape-exact", "--repeat", "2"]]
        for index, extra in enumerate(runs):
            json_path = directory / f"hash{index}.json"
            run(*config, *extra, "--quiet", "--data", DATA, "--json", str(json_path))
            for name, hashes in recorded_hashes(json_path).items():
                check(empty not in hashes, f"{name} {extra}: recorded the hash of empty output")
                check(hashes == {expected},
                      f"{name} {extra}: output hash {sorted(hashes)} is not {reference_name}'s {expected}")


def check_all_table_and_json(directory: Path) -> None:
    json_path = directory / "all.json"
    out = run("--allocator=all", "--repeat", "2", "--steps", "3", "--samples", "1", "--quiet",
              "--data", DATA, "--json", str(json_path))
    rows = {}
    for line in out.splitlines():
        words = line.split()
        if words and words[0] in POLICIES:
            rows[words[0]] = words
    check(sorted(rows) == sorted(POLICIES), f"one table row per policy, got {sorted(rows)}")
    baseline = policy_with("baseline")
    header = next(line.split() for line in out.splitlines() if line.startswith("allocator "))
    check(f"vs_{baseline}" in header, f"the ratio column names the baseline: {header}")
    check(rows[baseline][header.index(f"vs_{baseline}")] == "1.00x", f"{baseline} is the 1.00x baseline")
    check("output: identical in every run" in out, "outputs compared across runs")
    report = json.loads(json_path.read_text())
    # A busy machine flags repetitions (bench_train's noise): then, and only then, a noisy column.
    flagged = any(rep["noise"]["flags"] for r in report["runs"] for rep in r["repetitions"])
    check(("noisy" in header) == flagged, f"a noisy column exactly when a repetition has noise flags: {header}")
    check(report["tool"] == "bench_train" and report["schema"] == 1, "JSON header")
    libraries = [m["name"] for m in LISTING["mallocs"] if not m["tunables"]]  # not glibc-nofastbins
    for key in ["date", "cpu", "cores", "compiler", "flags", "git_commit", *libraries]:
        check(bool(report["context"].get(key)), f"context.{key}")
    check(report["config"]["steps"] == 3 and report["config"]["topo"] == "dfs", "config")
    check([r["allocator"] for r in report["runs"]] == POLICIES, "runs in policy order")
    hashes = set()
    for r in report["runs"]:
        stats = r["train_seconds"]
        check(stats["repetitions"] == 2 and len(r["repetitions"]) == 2, f"{r['allocator']}: 2 repetitions")
        check(stats["min"] <= stats["median"] <= stats["max"], f"{r['allocator']}: min <= median <= max")
        traits = next(p["traits"] for p in LISTING["policies"] if p["name"] == r["allocator"])
        check(r["traits"] == traits, f"{r['allocator']}: the JSON's traits are the listed ones")
        check(fnmatch.fnmatchcase(r["malloc"], MALLOC) and r["malloc_library"].startswith("/"),
              f"{r['allocator']}: malloc {r['malloc']} in {r['malloc_library']}, expected {MALLOC}")
        for rep in r["repetitions"]:
            check(rep["nodes_per_step"] > 1000 and rep["peak_rss_kib"] > 0, f"{r['allocator']}: counts")
            check(set(rep["phases_seconds"]) == set(PHASES), f"{r['allocator']}: phases")
            hashes.add(rep["output_fnv1a64"])
    check(len(hashes) == 1, "every run printed the same output")
    per_node = {r["allocator"]: r["repetitions"][0]["allocations_per_step"] for r in report["runs"]}
    nodes = report["runs"][0]["repetitions"][0]["nodes_per_step"]
    check(per_node[baseline] == nodes and per_node[policy_with("no_alloc_reference")] * 1000 < nodes,
          "allocations per step: one per node for the baseline, a chunk now and then for the reference")


if __name__ == "__main__":
    BENCH_TRAIN, DATA = sys.argv[1], sys.argv[2]
    REFERENCE_DIR = Path(sys.argv[3]) if len(sys.argv) > 3 else Path(DATA).parent.parent / "reference"
    # The process allocator the runs must report (a pattern): glibc, or under
    # a sanitizer build its runtime (tests/cli/CMakeLists.txt says which).
    MALLOC = os.environ.get("MGA_EXPECTED_MALLOC", "glibc")
    LISTING = listed()
    POLICIES = [p["name"] for p in LISTING["policies"]]
    check_single_run()
    with tempfile.TemporaryDirectory() as directory:
        check_output_hashes(Path(directory), REFERENCE_DIR)
        check_all_table_and_json(Path(directory))
        check_tape_engine(Path(directory))
    print("bench_train console and JSON output: OK")
