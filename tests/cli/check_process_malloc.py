#!/usr/bin/env python3
"""bench_train's process-allocator axis (--malloc), as a user meets it.

Usage: check_process_malloc.py BENCH_TRAIN CORE_TESTS DATASET

- The built-in list holds every library of issue 23 (tbbmalloc's proxy and
  LLVM's scudo beside mimalloc, jemalloc and tcmalloc), each installed.
- Each --malloc library, preloaded under core_tests: it is the process
  allocator (malloc, free, operator new), and the API policies still keep their
  nodes apart (mimalloc's in the policy's own heap, jemalloc's in the linked
  private copy's arena, tcmalloc's in tcmalloc, tbbmalloc's in tbbmalloc).
- --malloc=all --allocator=all: one run per cell, each verified in its worker,
  the same output in all of them, and each run's malloc and traits in the JSON.
- A single run restarts itself under --malloc and prints microgpt's output and
  the malloc it ran on.
- A worker that is not running on the malloc it was given fails loudly.
- Bad values and missing libraries: one stderr line, exit 2, the package named.
Processes and malloc names come from bench_train --list-allocators --format=json.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def check(condition: bool, message: str) -> None:
    if not condition:
        sys.exit(f"FAIL: {message}")


def run(args: list[str], env: dict | None = None, expect: int = 0) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=600,
                            env={**os.environ, **(env or {})})
    check(result.returncode == expect,
          f"{' '.join(args)} exited {result.returncode}, expected {expect}: {result.stderr[-2000:]}")
    return result


def refused(args: list[str], needles: list[str], env: dict | None = None) -> None:
    result = run(args, env, expect=2)
    check(result.stderr.startswith("bench_train: ") and result.stderr.count("\n") == 1,
          f"{args}: one stderr line, got {result.stderr!r}")
    for needle in needles:
        check(needle in result.stderr, f"{args}: '{needle}' missing from {result.stderr!r}")


def check_preloaded_core_tests() -> None:
    for malloc in PRELOADED:
        result = run([CORE_TESTS, "--gtest_filter=ProcessAllocator.*:ApiPolicies.*"],
                     {"LD_PRELOAD": malloc["path"], "MGA_TEST_PRELOADED": malloc["path"]})
        for test in ["ProcessAllocator.PreloadedLibraryIsTheProcessAllocator",
                     "ApiPolicies.MimallocNodesAreInThePolicysOwnHeap",
                     "ApiPolicies.TbbmallocNodesAreTbbmallocs"]:
            check(f"[       OK ] {test}" in result.stdout,
                  f"core_tests under {malloc['name']}: {test} ran\n{result.stdout[-3000:]}")
        print(f"core_tests with {malloc['path']} preloaded: OK")


def check_matrix(directory: Path) -> None:
    json_path = directory / "matrix.json"
    out = run([BENCH_TRAIN, "--malloc=all", "--allocator=all", "--steps", "2", "--samples", "1",
               "--quiet", "--data", DATA, "--json", str(json_path)]).stdout
    check("output: identical in every run" in out, "every cell prints the same output")
    report = json.loads(json_path.read_text())
    cells = [(r["malloc"], r["allocator"]) for r in report["runs"]]
    expected = [(m["name"], p["name"]) for m in MALLOCS for p in POLICIES]
    check(cells == expected, f"one run per cell in round-robin order, got {cells}")
    traits = {p["name"]: p["traits"] for p in POLICIES}
    for r in report["runs"]:
        malloc = next(m for m in MALLOCS if m["name"] == r["malloc"])
        library = Path(r["malloc_library"])
        if malloc["preload"]:
            check(library.name == malloc["preload"] and library.samefile(malloc["path"]),
                  f"{r['malloc']}: malloc_library {library}, listed {malloc['path']}")
        else:
            check(library.name.startswith("libc.so"), f"{r['malloc']}: malloc_library {library}")
        check(r["traits"] == traits[r["allocator"]], f"{r['allocator']}: traits in the JSON")
    check(report["config"]["malloc"] == "all", "config.malloc")
    header = out.splitlines()[1].split()
    check(header[:2] == ["allocator", "malloc"], f"the table shows the malloc: {header}")


def check_single_run() -> None:
    preloaded = PRELOADED[0]
    out = run([BENCH_TRAIN, f"--malloc={preloaded['name']}", "--steps", "2", "--samples", "1",
               "--data", DATA]).stdout
    check(out.startswith("num docs: ") and "step    2 /    2" in out, "microgpt's output")
    check(f"malloc        {preloaded['name']} (" in out, f"the summary's malloc line:\n{out}")


def check_worker_verifies() -> None:
    malloc = PRELOADED[0]["name"]
    result = run([BENCH_TRAIN, "--worker", f"--malloc={malloc}", "--steps", "1", "--samples", "0",
                  "--data", DATA], expect=1)
    check(result.stderr.startswith(f"bench_train: --malloc={malloc} is not in effect: malloc "
                                   "resolves into ") and "libc.so" in result.stderr,
          f"a worker not started under {malloc} says so: {result.stderr!r}")


def check_bad_values() -> None:
    refused([BENCH_TRAIN, "--malloc=tcmallocc"], ["unknown process allocator 'tcmallocc'",
                                                  *[m["name"] for m in MALLOCS]])
    refused([BENCH_TRAIN, "--malloc="], ["--malloc"])
    with tempfile.TemporaryDirectory() as empty:
        for malloc in (m for m in MALLOCS if m["preload"]):
            refused([BENCH_TRAIN, f"--malloc={malloc['name']}", "--data", DATA],
                    [malloc["preload"], f"apt-get install {malloc['package']}"],
                    {"MGA_MALLOC_LIBRARY_PATH": empty})
        refused([BENCH_TRAIN, "--malloc=all", "--data", DATA], ["not installed"],
                {"MGA_MALLOC_LIBRARY_PATH": empty})


if __name__ == "__main__":
    BENCH_TRAIN, CORE_TESTS, DATA = sys.argv[1:4]
    listing = json.loads(run([BENCH_TRAIN, "--list-allocators", "--format=json"]).stdout)
    POLICIES, MALLOCS = listing["policies"], listing["mallocs"]
    missing = [m["name"] for m in MALLOCS if m["path"] is None]
    check(not missing, f"not installed: {missing} (scripts/setup.sh installs them)")
    PRELOADED = [m for m in MALLOCS if m["preload"]]
    files = [m["preload"] for m in PRELOADED]
    check(files == ["libmimalloc.so.2", "libjemalloc.so.2", "libtcmalloc_minimal.so.4",
                    "libtbbmalloc_proxy.so.2", "libclang_rt.scudo_standalone-x86_64.so"],
          f"the preloaded libraries, in --malloc=all's order: {files}")
    check_bad_values()
    check_worker_verifies()
    check_single_run()
    check_preloaded_core_tests()
    with tempfile.TemporaryDirectory() as directory:
        check_matrix(Path(directory))
    print("bench_train --malloc: OK")
