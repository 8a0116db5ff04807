#!/usr/bin/env python3
"""bench_train's thread axis end to end (--threads, --release): the table, the JSON, and
that every replica printed what a separate single-threaded bench_train run of its seed
prints (each seed's hash from its own process, not from bench_train's own check).

Usage: check_threads.py BENCH_TRAIN DATASET
"""
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

STEPS = 3
SEED = -1  # the replicas' seeds -1 and 0 cross the sign: -1 is Python's seed 1, 0 its own


def run(*args: str) -> str:
    result = subprocess.run([BENCH_TRAIN, *args], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        sys.exit(f"FAIL: bench_train {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result.stdout


def check(condition: bool, message: str) -> None:
    if not condition:
        sys.exit(f"FAIL: {message}")


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6)


def single_thread_hash(directory: Path, seed: int) -> str:
    """The output hash of an ordinary single run (no thread option) of `seed`."""
    path = directory / f"single{seed}.json"
    run(f"--allocator={BASELINE}", f"--seed={seed}", "--steps", str(STEPS), "--samples", "1",
        "--quiet", "--data", DATA, "--json", str(path))
    report = json.loads(path.read_text())
    check(report["config"]["thread_axis"] is False and report["config"]["threads"] == [1]
          and report["config"]["release"] == ["inline"], "a plain run: no thread axis, one thread, inline")
    plain = report["runs"][0]
    check(plain["threads"] == 1 and plain["release"] == "inline" and "replicas" not in plain["repetitions"][0]
          and "scaling_efficiency" not in plain, "a plain run has no replicas and no thread figures")
    return plain["repetitions"][0]["output_fnv1a64"]


def check_axis(directory: Path) -> None:
    path = directory / "threads.json"
    out = run("--allocator=all", "--threads", "1,2", "--release=all", f"--seed={SEED}", "--steps", str(STEPS),
              "--samples", "1", "--quiet", "--data", DATA, "--json", str(path))
    report = json.loads(path.read_text())
    config = report["config"]
    check(config["thread_axis"] is True and config["threads"] == [1, 2]
          and config["release"] == ["inline", "background"], f"config: {config}")
    refused = {p["name"]: p["single_thread_release_reason"] for p in POLICIES
               if not p["traits"]["cross_thread_release"]}
    check(refused and config["background_left_out"] == refused, "config.background_left_out names each "
          f"policy that cannot release on another thread, with its reason: {config['background_left_out']}")
    for name, reason in refused.items():
        check(f"background release leaves out {name}: {reason}" in out, f"the note for {name}")
    expected_cells = [(p["name"], release, threads) for p in POLICIES for release in ("inline", "background")
                      if release == "inline" or p["traits"]["cross_thread_release"] for threads in (1, 2)]
    cells = [(r["allocator"], r["release"], r["threads"]) for r in report["runs"]]
    check(cells == expected_cells, f"one run per policy, release and thread count: {cells}")
    cores = int(report["context"]["cores"])
    hashes = {seed: single_thread_hash(directory, seed) for seed in (SEED, SEED + 1)}
    check(hashes[SEED] != hashes[SEED + 1], "two seeds, two outputs")
    medians = {(r["allocator"], r["release"], r["threads"]): r["train_seconds"]["median"] for r in report["runs"]}
    rows = [line.split() for line in out.splitlines()]
    for r in report["runs"]:
        name, release, threads = r["allocator"], r["release"], r["threads"]
        where = f"{name} x{threads} {release}"
        check(r["oversubscribed"] == (threads * (2 if release == "background" else 1) > cores),
              f"{where}: oversubscribed")
        check(close(r["scaling_efficiency"], medians[(name, release, 1)] / medians[(name, release, threads)]),
              f"{where}: scaling efficiency is the 1-thread median over this one")
        gain = r["background_gain"]
        check(gain is None if release == "inline" else
              close(gain, medians[(name, "inline", threads)] / medians[(name, release, threads)]),
              f"{where}: background gain")
        check(close(r["steps_per_second"], threads * STEPS / r["train_seconds"]["median"]), f"{where}: steps/s")
        rep = r["repetitions"][0]
        seeds = [replica["seed"] for replica in rep["replicas"]]
        check(seeds == [SEED + i for i in range(threads)], f"{where}: replica seeds {seeds}")
        for replica in rep["replicas"]:
            check(replica["output_fnv1a64"] == hashes[replica["seed"]],
                  f"{where}: replica of seed {replica['seed']} printed what a single-threaded run prints")
            check(replica["train_seconds"] <= rep["train_seconds"] * (1 + 1e-9),
                  f"{where}: the wall time covers each replica")
        check(rep["output_fnv1a64"] == hashes[SEED], f"{where}: the run's hash is its first replica's")
        if r["traits"]["frees_per_node"] and rep["allocations_per_step"] == rep["nodes_per_step"]:
            check(rep["frees_per_step"] == rep["allocations_per_step"],
                  f"{where}: every node freed, and counted after the release thread is done")
        label = f"{threads}*" if r["oversubscribed"] else str(threads)
        check([name, label, release] in [row[:3] for row in rows], f"{where}: a table row")
    check(f"replicas: each printed what a single-threaded run of its seed prints (seeds {SEED} to {SEED + 1})"
          in out, "the replicas line")


def check_tape(directory: Path) -> None:
    path = directory / "tape.json"
    run("--engine=tape-exact", "--threads", "2", f"--seed={SEED}", "--steps", str(STEPS), "--samples", "1",
        "--quiet", "--data", DATA, "--json", str(path))
    run_entry = json.loads(path.read_text())["runs"][0]
    check(run_entry["allocator"] == "tape-exact" and len(run_entry["repetitions"][0]["replicas"]) == 2,
          "the exact tape trains two replicas")


if __name__ == "__main__":
    BENCH_TRAIN, DATA = sys.argv[1], sys.argv[2]
    LISTING = json.loads(run("--list-allocators", "--format=json"))
    POLICIES = LISTING["policies"]
    BASELINE = next(p["name"] for p in POLICIES if p["traits"]["baseline"])
    with tempfile.TemporaryDirectory() as directory:
        check_axis(Path(directory))
        check_tape(Path(directory))
    print("bench_train --threads and --release: OK")
