#!/usr/bin/env python3
"""scripts/cachesim.py and scripts/callgrind_profile.py: the parser on a known
callgrind profile, --help, bad input (one line, exit 2), a failing run (exit 1,
nothing written), and a real run of three policies on a small shape whose JSON must be
whole and consistent. Policies are chosen by their traits, never by name.

Usage: check_cachesim.py BENCH_TRAIN DATASET
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "cachesim.py"
sys.path.insert(0, str(REPO / "scripts"))
sys.dont_write_bytecode = True
import callgrind_profile  # noqa: E402

# A callgrind.out with name compression, costs shorter than the event list, a call from
# the allocator into the allocator (counted once) and a callee whose file is its caller's.
PROFILE = """\
# callgrind format
version: 1
positions: line
events: Ir D1mr
summary: 1000 30

ob=(1) /b/bench_train
fl=(1) ???
fn=(1) mga::Trainer<P>::train_step(int)
0 10
cfn=(2) mga::Trainer<P>::forward_phase(int)
calls=1 0
0 700 20
cfn=(3) mga::Trainer<P>::release_phase(int)
calls=1 0
0 290 10

fn=(2)
0 100 1
cob=(2) /lib/libc.so.6
cfi=(2) ./malloc/./malloc/malloc.c
cfn=(4) malloc
calls=10 0
0 400 9
cfn=(5) mga::Graph<P>::make(double)
calls=5 0
0 200 10

fn=(5)
0 150 5
cfi=(2)
cfn=(4)
calls=2 0
0 50 5

fl=(2)
fn=(4)
0 420 12
cfn=(6) sysmalloc
calls=1 0
0 30 2

fn=(6)
0 30 2

fl=(1)
fn=(3)
0 100
cob=(3) /lib/libstdc++.so.6
cfi=(3) ???
cfn=(7) operator delete(void*)
calls=3 0
0 190 10

fl=(3)
fn=(7)
0 40 1
cob=(2)
cfi=(2)
cfn=(8) free
calls=3 0
0 150 9

fl=(2)
fn=(8)
0 150 9
"""


def check(condition: bool, message: str) -> None:
    if not condition:
        sys.exit(f"FAIL: {message}")


def check_parser() -> None:
    profile = callgrind_profile.parse(PROFILE.splitlines(keepends=True))
    check(profile.events == ["Ir", "D1mr"] and profile.totals == {"Ir": 1000, "D1mr": 30}, "events and totals")
    check(profile.allocator() == {"Ir": 640, "D1mr": 24},
          f"calls into the allocator from outside it, inclusive, once: {profile.allocator()}")
    forward = profile.inclusive(lambda name: "forward_phase" in name)
    check(forward == {"Ir": 700, "D1mr": 20}, f"a phase is its calls' inclusive cost: {forward}")
    check(profile.files["sysmalloc"] == "./malloc/./malloc/malloc.c", "a callee without cfi= is in the caller's file")
    check(callgrind_profile.is_allocator(profile.files["sysmalloc"], "sysmalloc"), "glibc's malloc.c is the allocator")
    check(not callgrind_profile.is_allocator("/x/allocators/arena_compact.hpp", "mga::ArenaCompactPolicy::grow()"),
          "a file name alone is no allocator")
    try:
        callgrind_profile.parse(["fn=(1)\n"])
        check(False, "a name used before it is defined is refused")
    except callgrind_profile.ProfileError:
        pass


def run(*args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def check_refused(args, fragment: str) -> None:
    done = run(*args)
    lines = done.stderr.strip().splitlines()
    check(done.returncode == 2, f"{args}: exit {done.returncode}, not 2 ({done.stderr.strip()})")
    check(len(lines) == 1 and lines[0].startswith("cachesim.py: error: ") and fragment in lines[0],
          f"{args}: stderr {done.stderr!r} lacks {fragment!r}")


def policies_by_trait(bench_train: str) -> dict:
    listing = json.loads(subprocess.run([bench_train, "--list-allocators", "--format=json"], capture_output=True,
                                        text=True, check=True).stdout)["policies"]
    return {trait: next(p["name"] for p in listing if p["traits"][trait])
            for trait in ("baseline", "no_alloc_reference", "scattered")}


def check_run(bench_train: str, data: str, names: dict, work: Path) -> None:
    build = Path(bench_train).parent
    out = work / "out"
    chosen = [names["baseline"], names["no_alloc_reference"], names["scattered"]]
    done = run("--build", build, "--data", data, "--shape", "8x1", "--steps", "2", "--jobs", "2",
               "--allocator", ",".join(chosen), "--out-dir", out)
    check(done.returncode == 0, f"a small run failed: {done.stderr}")
    check("[3/3]" in done.stderr and "per node" in done.stderr, f"progress lines: {done.stderr}")
    files = sorted(p.name for p in out.iterdir())
    check(files == ["embd8_layer1_dfs.json"], f"one file and no temporary ones: {files}")
    document = json.loads((out / files[0]).read_text())
    check(document["tool"] == "cachesim" and document["schema"] == 1, "tool and schema")
    check(document["caches"]["D1"] == {"bytes": 32768, "ways": 8, "line_bytes": 64}, "the fixed D1 cache")
    check(document["config"]["n_embd"] == 8 and document["config"]["steps"] == 2, "config")
    runs = {r["allocator"]: r for r in document["runs"]}
    check(list(runs) == chosen, f"runs in the order asked: {list(runs)}")
    nodes = {r["nodes"] for r in runs.values()}
    check(len(nodes) == 1 and next(iter(nodes)) > 0, f"every policy makes the same nodes: {nodes}")
    for name, r in runs.items():
        total = r["events"]["Ir"]
        phases = sum(p["Ir"] for p in r["phases"].values())
        check(0.95 * total <= phases <= total, f"{name}: phases {phases} of the step's {total} instructions")
        check(abs(r["per_node"]["instructions"] - total / r["nodes"]) < 1e-6, f"{name}: per node")
    share = {n: r["allocator_costs"]["Ir"] / r["events"]["Ir"] for n, r in runs.items()}
    check(share[names["baseline"]] > 0.2, f"the baseline spends instructions in malloc/free: {share}")
    # The reference's share is the model's own vectors of handles and the arena's first chunk.
    check(share[names["no_alloc_reference"]] < 0.05, f"the reference hardly allocates: {share}")
    d1 = {n: r["per_node"]["d1_misses"] for n, r in runs.items()}
    check(d1[names["scattered"]] > d1[names["no_alloc_reference"]], f"scattering costs misses: {d1}")

    empty = work / "empty.txt"
    empty.write_text("")
    failed = run("--build", build, "--data", empty, "--shape", "8x1", "--steps", "1", "--allocator",
                 names["no_alloc_reference"], "--out-dir", work / "failed")
    check(failed.returncode == 1 and "nothing written" in failed.stderr, f"a failing run: {failed.stderr}")
    check(not (work / "failed").exists() or not any((work / "failed").iterdir()), "a failing run writes nothing")


def main() -> None:
    bench_train, data = sys.argv[1], sys.argv[2]
    check_parser()
    helped = run("--help")
    check(helped.returncode == 0 and "simulated caches" in helped.stdout and "EMBDxLAYER" in helped.stdout,
          "--help names the caches and the shapes")
    build = Path(bench_train).parent
    for args, fragment in [
        (["--build", build, "--allocator", "no-such-policy"], "unknown policy 'no-such-policy'"),
        (["--build", build, "--shape", "huge"], "is not default, large or EMBDxLAYER"),
        (["--build", build, "--shape", "10x1"], "not a multiple of the 4 heads"),
        (["--build", build, "--d1", "1000,8,64"], "power of two"),
        (["--build", build, "--steps", "0"], "not in 1..1000000"),
        (["--build", "/nonexistent"], "is not an executable"),
        (["--build", build, "--machine", "a/b"], "not a plain directory name"),
        (["--build", build, "--data", "/nonexistent"], "is not a file"),
    ]:
        check_refused(args, fragment)
    with tempfile.TemporaryDirectory() as work:
        check_run(bench_train, data, policies_by_trait(bench_train), Path(work))
    print("cachesim.py: parser, --help, bad input, a failing run and a real run: OK")


if __name__ == "__main__":
    main()
